#!/usr/bin/python3
"""N feed clients through a Postgres outage (t_feed_pgstop.sh): the heartbeat and the stream never
wait for the database.

Each client is a websocket of its own written here on asyncio streams (so that every ping frame is
seen and timed: python3-websockets answers pings out of sight), subscribed through nginx to
M_PER markets among the busiest the collector records from kalshi-sim. The script writes DIR/ready
once every client has its snapshots; t_feed_pgstop.sh then stops Postgres, starts it again, and
freezes it (SIGSTOP), writing DIR/frozen while it is frozen, then DIR/restored once it runs again.
While frozen, every tenth client asks for a snapshot (get_snapshot: a query) and one more client
opens a connection (the handshake's key check: a query): neither may hold up anyone's heartbeat.
After DIR/restored the sim is paused, and once the collector has written everything each client
must hold every recorded delta after its snapshot exactly once, in order, with no seq missing.

usage: feed_pgstop.py HOST PORT KEY PGCONN SIM_PORT N_CLIENTS M_PER PING_S DIR
Prints CHECK<TAB>name<TAB>expected<TAB>actual and INFO lines (tests/sim/sim_lib.sh's sim_record).
"""
import asyncio
import base64
import http.client
import json
import os
import struct
import subprocess
import sys
import time

HOST, PORT, KEY, PG = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
SIM_PORT, N, M_PER, PING_S, DIR = (int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]),
                                   float(sys.argv[8]), sys.argv[9])
# feedd's timers fire on whole seconds (server.c's feed_timer_arm): a period is PING_S +- 0.5 s
PING_LIMIT = PING_S + 1.5


def check(name, exp, act):
    print(f"CHECK\t{name}\t{exp}\t{act}", flush=True)


def info(*a):
    print("INFO\t" + " ".join(str(x) for x in a), flush=True)


def psql(sql):
    out = subprocess.run(["psql", "-X", "-q", "-tA", "-F", "|", "-d", PG, "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


def sim(method, path):
    c = http.client.HTTPConnection("127.0.0.1", SIM_PORT, timeout=10)
    c.request(method, path)
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def mask(payload, opcode):
    """A client frame (masked), FIN set."""
    key = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class Client:
    def __init__(self, i, tickers):
        self.i = i
        self.tickers = tickers
        self.pings = []            # monotonic time of each ping
        self.raw = []              # every text message, in order
        self.parsed = 0
        self.closed = None         # why the connection ended, if it did
        self.opened = None
        self.subscribed = asyncio.Event()
        self.snapshots = 0

    async def connect(self, extra=""):
        self.r, self.w = await asyncio.open_connection(HOST, PORT, limit=1 << 22)
        k = base64.b64encode(os.urandom(16)).decode()
        self.w.write((f"GET /v1/feed HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {k}\r\nSec-WebSocket-Version: 13\r\n"
                      f"X-API-Key: {KEY}\r\n{extra}\r\n").encode())
        head = await asyncio.wait_for(self.r.readuntil(b"\r\n\r\n"), 30)
        status = head.split(b" ", 2)[1].decode()
        self.opened = time.monotonic()
        return status

    def send(self, obj):
        self.w.write(mask(json.dumps(obj).encode(), 0x1))

    async def read(self):
        try:
            while True:
                h = await self.r.readexactly(2)
                op, n = h[0] & 0x0f, h[1] & 0x7f
                if n == 126:
                    n = struct.unpack(">H", await self.r.readexactly(2))[0]
                elif n == 127:
                    n = struct.unpack(">Q", await self.r.readexactly(8))[0]
                data = await self.r.readexactly(n)
                if op == 0x9:
                    self.pings.append(time.monotonic())
                    self.w.write(mask(data, 0xA))
                elif op == 0x8:
                    code = struct.unpack(">H", data[:2])[0] if len(data) >= 2 else None
                    self.closed = f"close {code} {data[2:].decode(errors='replace')}"
                    return
                elif op == 0x1:
                    # parsed at the end: parsing 60 000 catch-up messages as they come kept this
                    # process's loop 1.2 s late, and the pings it read with it
                    self.raw.append(data)
                    if b'"type":"orderbook_snapshot"' in data:
                        self.snapshots += 1
                        if self.snapshots == len(self.tickers):
                            self.subscribed.set()
        except (asyncio.IncompleteReadError, ConnectionError) as e:
            self.closed = f"dropped ({type(e).__name__})"
        except asyncio.CancelledError:
            pass

    @property
    def msgs(self):
        if self.parsed < len(self.raw):
            self._msgs = getattr(self, "_msgs", []) + [json.loads(d) for d in self.raw[self.parsed:]]
            self.parsed = len(self.raw)
        return getattr(self, "_msgs", [])

    def ping_gap(self, since):
        """The longest time without a ping from since to now, and when it began."""
        t = [since] + [p for p in self.pings if p >= since] + [time.monotonic()]
        return max((b - a, a) for a, b in zip(t, t[1:]))


def verify(clients, ids):
    """Every client's stream against the recorded rows."""
    rec_cache = {}
    seq_bad, order_bad, lost, dup, no_snap = [], [], 0, 0, 0
    for c in clients:
        seqs, last_ts, snap_ts, deltas = {}, {}, {}, {}
        for m in c.msgs:
            if "seq" in m:
                if m["seq"] != seqs.get(m["sid"], 0) + 1:
                    seq_bad.append((c.i, m["sid"], seqs.get(m["sid"], 0), m["seq"]))
                seqs[m["sid"]] = m["seq"]
            if m["type"] not in ("orderbook_snapshot", "orderbook_delta", "gap"):
                continue
            t = m["msg"]["market_ticker"]
            # (type, seq, ts) of both messages, so a failure says which kind went back
            if t in last_ts and m["ts"] < last_ts[t][2]:
                order_bad.append((c.i, t, last_ts[t], (m["type"], m.get("seq"), m["ts"])))
            last_ts[t] = (m["type"], m.get("seq"), m["ts"])
            if m["type"] == "orderbook_snapshot" and t not in snap_ts:
                snap_ts[t] = m["ts"]
            elif m["type"] == "orderbook_delta":
                deltas.setdefault(t, []).append(m["ts"])
        for t in c.tickers:
            if t not in snap_ts:
                no_snap += 1
                continue
            key = (t, snap_ts[t])
            if key not in rec_cache:
                rec_cache[key] = [int(ts) for (ts,) in psql(
                    f"SELECT kb_us(ts) FROM book_deltas WHERE market_id = {ids[t]}"
                    f" AND ts > kb_ts({snap_ts[t]}) ORDER BY ts")]
            rec, got = rec_cache[key], deltas.get(t, [])
            lost += len(set(rec) - set(got))
            dup += len(got) - len(set(got)) + len(set(got) - set(rec))
    return seq_bad, order_bad, lost, dup, no_snap


marks = {}
lag = [0.0]


async def wait_file(name, limit):
    deadline = time.time() + limit
    while not os.path.exists(os.path.join(DIR, name)):
        if time.time() > deadline:
            return False
        await asyncio.sleep(0.1)
    marks[name] = time.monotonic()
    return True


async def lag_meter():
    """How late this process's own loop runs (it reads 100 sockets): a ping it reads late was
    not necessarily sent late."""
    while True:
        t = time.monotonic()
        await asyncio.sleep(0.1)
        lag[0] = max(lag[0], time.monotonic() - t - 0.1)


async def main():
    n_mk = max(M_PER, min(40, N * M_PER // 5))
    rows = psql(f"SELECT m.id, m.ticker FROM markets m JOIN LATERAL (SELECT count(*) n FROM book_deltas d"
                f" WHERE d.market_id = m.id) c ON true ORDER BY c.n DESC, m.id LIMIT {n_mk}")
    ids = {t: int(i) for i, t in rows}
    tickers = list(ids)
    clients = [Client(i, [tickers[(i + k) % len(tickers)] for k in range(M_PER)]) for i in range(N)]
    readers = []
    statuses = []
    for c in clients:
        statuses.append(await c.connect())
        readers.append(asyncio.create_task(c.read()))
        c.send({"id": 1, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"],
                                                          "market_tickers": c.tickers}})
    check(f"{N} clients upgraded through nginx", ["101"] * N, statuses)
    try:
        await asyncio.wait_for(asyncio.gather(*(c.subscribed.wait() for c in clients)), 60)
    except asyncio.TimeoutError:
        pass
    check("every client has its snapshots", N, sum(c.subscribed.is_set() for c in clients))
    await asyncio.sleep(2 * PING_S)
    asyncio.create_task(lag_meter())
    t_ready = time.monotonic()
    open(os.path.join(DIR, "ready"), "w").close()
    wall_ready = os.path.getmtime(os.path.join(DIR, "ready"))
    info("clients", N, "markets", len(tickers), "per client", M_PER, "ping period", PING_S)

    # while Postgres is frozen: queries asked of feedd must not hold the loop
    probe, probe_task, probe_status = None, None, None
    if await wait_file("frozen", 120):
        await asyncio.sleep(1)
        for c in clients[::10]:
            c.send({"id": 2, "cmd": "update_subscription",
                    "params": {"sids": [1], "action": "get_snapshot", "market_tickers": c.tickers[:1]}})
        probe = Client(N, tickers[:1])

        async def open_probe():
            try:
                return await probe.connect()
            except (asyncio.TimeoutError, OSError) as e:
                return type(e).__name__
        probe_task = asyncio.create_task(open_probe())
    check("Postgres was restored (the script's marker)", True, await wait_file("restored", 240))
    if probe_task is not None:
        probe_status = await probe_task
        info("a handshake made while Postgres was frozen was answered", probe_status)
        check("... with 101, or 503 once the key check took too long", True,
              probe_status in ("101", "503"))
        probe.w.close()
    worst, at = max(c.ping_gap(t_ready) for c in clients)
    info("longest time without a ping over every client, through the outage:", round(worst, 2),
         "s, from", round(at - t_ready, 1), "s after ready; the script's marks at",
         {k: round(os.path.getmtime(os.path.join(DIR, k)) - wall_ready, 1) for k in sorted(os.listdir(DIR))},
         "; this client's own loop was late by up to",
         round(lag[0], 2), "s")
    # a ping this process read late (its own loop late) was not sent late: that much is allowed
    check(f"every client got a ping at least every {PING_LIMIT} s (+ this process's own lateness)"
          " through the outage", True, worst <= PING_LIMIT + lag[0])
    check("no client was dropped", [], [(c.i, c.closed) for c in clients if c.closed])

    status = sim("POST", "/_sim/flow?rate=0")
    check("the sim paused", 200, status)
    # the collector has written everything once the markets' last recorded ts stops moving
    idlist = ",".join(str(i) for i in ids.values())
    q = f"SELECT market_id, kb_us(max(ts)) FROM book_deltas WHERE market_id IN ({idlist}) GROUP BY 1"
    last, stable_since, deadline = None, time.time(), time.time() + 90
    while time.time() < deadline:
        await asyncio.sleep(0.5)
        try:
            cur = sorted(psql(q))
        except subprocess.CalledProcessError:
            continue
        if cur != last:
            last, stable_since = cur, time.time()
        elif time.time() - stable_since >= 2:
            break
    final = {int(mid): int(ts) for mid, ts in last}
    by_id = {i: t for t, i in ids.items()}

    def caught_up(c):
        seen = {}
        for m in c.msgs:
            if m["type"] in ("orderbook_snapshot", "orderbook_delta", "gap"):
                seen[m["msg"]["market_ticker"]] = m["ts"]
        return all(seen.get(t, 0) >= final.get(ids[t], 0) for t in c.tickers)
    deadline = time.time() + 60
    while time.time() < deadline and not all(caught_up(c) for c in clients):
        await asyncio.sleep(0.5)
    check("every client caught up with the recorded rows", N, sum(caught_up(c) for c in clients))
    seq_bad, order_bad, lost, dup, no_snap = verify(clients, ids)
    check("seq contiguous per sid, every client", [], seq_bad[:5])
    check("ts never decreasing per market, every client", [], order_bad[:5])
    check("a snapshot for every market of every client", 0, no_snap)
    check("every recorded delta after its snapshot received (none lost)", 0, lost)
    check("no delta received twice or unrecorded", 0, dup)
    info("deltas received over every client", sum(sum(m["type"] == "orderbook_delta" for m in c.msgs)
                                                 for c in clients))
    check("no client was dropped, to the end", [], [(c.i, c.closed) for c in clients if c.closed])
    for t in readers:
        t.cancel()
    for c in clients:
        c.w.close()


asyncio.run(main())
