#!/usr/bin/python3
"""Drives kbook-feedd with python3-websockets (Debian's, 10.4) and simulates the collector.

The collector is simulated exactly as docs/feed.md states its contract: rows inserted into
book_deltas in a transaction that ends with NOTIFY kbook_deltas, '<market_id>'. Prints one line per
check: name TAB expected TAB actual (tests/integration/t_feed_core.sh turns them into checks).

usage: feed_check.py SCENARIO WS_URL API_URL KEY PGCONN TICKER...
"""
import asyncio
import json
import random
import subprocess
import sys
import threading
import time
import urllib.request

import websockets

SCEN, WS, API, KEY, PG = sys.argv[1:6]
TICKERS = sys.argv[6:]


def out(name, expected, actual):
    print(f"{name}\t{expected}\t{actual}", flush=True)


def psql(sql):
    return subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", PG],
                          input=sql, capture_output=True, text=True, check=True).stdout


def market_ids():
    rows = psql("SELECT id, ticker FROM markets WHERE ticker IN (%s);" %
                ",".join("'%s'" % t for t in TICKERS))
    return {t: int(i) for i, t in (r.split("|") for r in rows.split())}


class Writer:
    """Inserts n random valid deltas over the markets, one transaction + NOTIFY each, keeping the
    markets' coverage (markets.last_ts) in the same transaction, as kbook-collector does."""

    def __init__(self, ids, n, seed, batch=1):
        self.ids, self.n, self.rng, self.batch = ids, n, random.Random(seed), batch
        self.added = {}  # (mid, side, price) -> hundredths we added (removable)
        self.last_ts = {}

    def sql(self):
        base = int(time.time() * 1e6)
        lines = []
        for i in range(self.n):
            t = self.rng.choice(list(self.ids))
            mid = self.ids[t]
            side = self.rng.randint(0, 1)
            price = self.rng.randint(1, 99) * 10000
            key = (mid, side, price)
            have = self.added.get(key, 0)
            if have > 0 and self.rng.random() < 0.4:
                delta = -self.rng.randint(1, have)
            else:
                delta = self.rng.randint(1, 5000)
            self.added[key] = have + delta
            ts = max(base + i * 10, self.last_ts.get(mid, 0) + 1)
            self.last_ts[mid] = ts
            if i % self.batch == 0:
                lines.append("BEGIN;")
            lines.append(f"INSERT INTO book_deltas VALUES ({mid}, kb_ts({ts}), "
                         f"kb_ts({ts - 2000}), {side}, {price}, {delta});")
            lines.append(f"UPDATE markets SET first_ts = coalesce(first_ts, kb_ts({ts})), "
                         f"last_ts = greatest(last_ts, kb_ts({ts})) WHERE id = {mid};")
            if i % self.batch == self.batch - 1 or i == self.n - 1:
                ids = ",".join(str(m) for m in sorted(self.ids.values()))
                lines.append(f"NOTIFY kbook_deltas, '{ids}'; COMMIT;")
        return "\n".join(lines) + "\n"

    def run(self, delay=0.0):
        sql = self.sql()
        th = threading.Thread(target=lambda: (time.sleep(delay), psql(sql)))
        th.start()
        return th


def fx_price(s):
    whole, _, frac = s.partition(".")
    return int(whole) * 1000000 + int((frac + "000000")[:6])


def fx_size(s):
    neg = s.startswith("-")
    whole, _, frac = s.lstrip("-").partition(".")
    v = int(whole) * 100 + int((frac + "00")[:2])
    return -v if neg else v


class Book:
    def __init__(self):
        self.sides = {"yes": {}, "no": {}}

    def snapshot(self, msg):
        self.sides = {"yes": {}, "no": {}}
        for side in ("yes", "no"):
            for p, s in msg.get(side + "_dollars_fp", []):
                self.sides[side][fx_price(p)] = fx_size(s)

    def delta(self, msg):
        lv = self.sides[msg["side"]]
        p = fx_price(msg["price_dollars"])
        lv[p] = lv.get(p, 0) + fx_size(msg["delta_fp"])
        if lv[p] == 0:
            del lv[p]
        return lv.get(p, 0) >= 0

    def levels(self):
        return {s: sorted(v.items()) for s, v in self.sides.items()}


def api_book(ticker, ts):
    req = urllib.request.Request(f"{API}/v1/markets/{ticker}/orderbook?at={ts}",
                                 headers={"X-API-Key": KEY})
    body = json.load(urllib.request.urlopen(req))["orderbook_fp"]
    return {s: sorted((fx_price(p), fx_size(z)) for p, z in body[s + "_dollars"])
            for s in ("yes", "no")}


async def recv_json(ws, timeout=10):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def collect(ws, want_deltas, books, seqs, last_ts, received, timeout=60):
    """Reads until want_deltas orderbook_delta messages arrived; checks seq per sid."""
    n = 0
    deadline = time.time() + timeout
    while n < want_deltas and time.time() < deadline:
        m = await recv_json(ws, max(0.1, deadline - time.time()))
        if "seq" in m:
            exp = seqs.get(m["sid"], 0) + 1
            if m["seq"] != exp:
                out("seq contiguous", exp, m["seq"])
            seqs[m["sid"]] = m["seq"]
        t = m.get("msg", {}).get("market_ticker") if isinstance(m.get("msg"), dict) else None
        if m["type"] == "orderbook_snapshot":
            books.setdefault(t, Book()).snapshot(m["msg"])
            last_ts[t] = m["ts"]
        elif m["type"] == "orderbook_delta":
            books[t].delta(m["msg"])
            last_ts[t] = m["ts"]
            received.append((t, m["ts"]))
            n += 1
    return n


async def subscribe_all(ws):
    """Subscribes ws to TICKERS and reads the reply and the snapshots: (books, seqs)."""
    await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_tickers": TICKERS}}))
    await recv_json(ws)
    books, seqs = {}, {}
    for _ in TICKERS:
        m = await recv_json(ws)
        books.setdefault(m["msg"]["market_ticker"], Book()).snapshot(m["msg"])
        seqs[m["sid"]] = m["seq"]
    return books, seqs


async def live():
    ids = market_ids()
    async with websockets.connect(WS, extra_headers={"X-API-Key": KEY}) as ws:
        await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_tickers": TICKERS}}))
        m = await recv_json(ws)
        out("subscribed reply", "subscribed 1 1", f"{m['type']} {m.get('id')} {m['msg'].get('sid')}")
        books, seqs, last_ts, received = {}, {}, {}, []
        snaps = []
        for _ in TICKERS:
            s = await recv_json(ws)
            snaps.append((s["type"], s["seq"]))
            books.setdefault(s["msg"]["market_ticker"], Book()).snapshot(s["msg"])
            seqs[s["sid"]] = s["seq"]
            last_ts[s["msg"]["market_ticker"]] = s["ts"]
        out("snapshots first, seq 1..n", [("orderbook_snapshot", i + 1) for i in range(len(TICKERS))], snaps)
        for t in TICKERS:
            out(f"snapshot {t} = API book at its ts", api_book(t, last_ts[t]), books[t].levels())
        w = Writer(ids, 300, 1)
        th = w.run(0.2)
        n = await collect(ws, 300, books, seqs, last_ts, received)
        th.join()
        out("all 300 deltas received", 300, n)
        for t in TICKERS:
            out(f"{t}: snapshot + deltas = API book at last ts", api_book(t, last_ts[t]), books[t].levels())
        order = all(received[i][1] <= received[i + 1][1] for i in range(len(received) - 1)
                    if received[i][0] == received[i + 1][0])
        out("deltas in ts order per market", True, order)
        # resume: disconnect, more rows are written, resubscribe with since
        cursor = max(last_ts.values())
    w2 = Writer(ids, 120, 2)
    w2.last_ts = dict(w.last_ts)
    w2.run().join()
    rows = psql("SELECT count(*) FROM book_deltas WHERE market_id IN (%s) AND ts > kb_ts(%d);" %
                (",".join(str(i) for i in ids.values()), cursor))
    async with websockets.connect(WS + "?api_key=" + KEY) as ws:
        await ws.send(json.dumps({"id": 2, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_tickers": TICKERS, "since": cursor}}))
        m = await recv_json(ws)
        out("resume: subscribed (api_key query parameter)", "subscribed", m["type"])
        seqs2, received2, last2 = {}, [], {}
        n = await collect(ws, int(rows), books, seqs2, last2, received2, timeout=20)
        out("resume: every change after since, once", int(rows), n)
        out("resume: no duplicate", len(received2), len(set(received2)))
        out("resume: nothing at or before since", True, all(ts > cursor for _, ts in received2))
        for t in TICKERS:
            out(f"{t}: after resume = API book", api_book(t, last2.get(t, last_ts[t])), books[t].levels())
        # live continues after the replay, on the same sid
        w3 = Writer(ids, 30, 3)
        w3.last_ts = dict(w2.last_ts)
        th = w3.run(0.1)
        n = await collect(ws, 30, books, seqs2, last2, received2, timeout=20)
        th.join()
        out("resume: live after the replay", 30, n)
        for t in TICKERS:
            out(f"{t}: final book = API book", api_book(t, last2[t]), books[t].levels())


async def commands():
    async with websockets.connect(WS, extra_headers={"X-API-Key": KEY}) as ws:
        async def ask(frame):
            await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
            return await recv_json(ws)
        cases = [
            ("not JSON", "hello", (1, None)),
            ("unknown command", {"id": 3, "cmd": "dance"}, (5, 3)),
            ("params missing", {"id": 4, "cmd": "subscribe"}, (2, 4)),
            ("channels wrong type", {"id": 5, "cmd": "subscribe", "params": {"channels": "x"}}, (11, 5)),
            ("unknown channel", {"id": 6, "cmd": "subscribe", "params": {"channels": ["trade"],
                                                                          "market_ticker": "X"}}, (8, 6)),
            ("tickers required", {"id": 7, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"]}},
             (14, 7)),
            ("unknown sid", {"id": 8, "cmd": "unsubscribe", "params": {"sids": [99]}}, (7, 8)),
            ("bad action", {"id": 9, "cmd": "update_subscription", "params": {
                "sids": [1], "market_ticker": TICKERS[0], "action": "x"}}, (13, 9)),
        ]
        for name, frame, (code, cid) in cases:
            m = await ask(frame)
            out(f"error {code}: {name}", f"error {code} {cid}", f"{m['type']} {m['msg'].get('code')} {m.get('id')}")
        m = await ask({"id": 10, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_tickers": [TICKERS[0], "NOPE-XYZ"]}})
        out("error 16 names the market", "16 NOPE-XYZ", f"{m['msg'].get('code')} {m['msg'].get('market_ticker')}")
        m = await ask({"id": 11, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_ticker": TICKERS[0]}})
        out("connection kept after errors: subscribe works", "subscribed 1", f"{m['type']} {m['msg']['sid']}")
        snap = await recv_json(ws)
        out("snapshot seq 1", "orderbook_snapshot 1", f"{snap['type']} {snap['seq']}")
        m = await ask({"id": 12, "cmd": "update_subscription", "params": {
            "sid": 1, "market_tickers": TICKERS[1:], "action": "add_markets"}})
        out("add_markets ok takes seq 2 and lists all", f"ok 2 {TICKERS}",
            f"{m['type']} {m.get('seq')} {m['msg']['market_tickers']}")
        for i, t in enumerate(TICKERS[1:]):
            s = await recv_json(ws)
            out(f"snapshot of added {t}", f"orderbook_snapshot {3 + i}", f"{s['type']} {s['seq']}")
        m = await ask({"id": 13, "cmd": "update_subscription", "params": {
            "sid": 1, "market_ticker": TICKERS[0], "action": "get_snapshot"}})
        out("get_snapshot", f"orderbook_snapshot {len(TICKERS) + 2}", f"{m['type']} {m['seq']}")
        m = await ask({"id": 14, "cmd": "update_subscription", "params": {
            "sid": 1, "market_ticker": TICKERS[0], "action": "delete_markets"}})
        out("delete_markets ok", f"ok {TICKERS[1:]}", f"{m['type']} {m['msg']['market_tickers']}")
        m = await ask({"id": 17, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_tickers": TICKERS}})
        out("too many markets for the plan: error 26 naming the limit",
            "error 26 more than 3 markets on one connection for this plan",
            f"{m['type']} {m['msg'].get('code')} {m['msg'].get('detail')}")
        m = await ask({"id": 15, "cmd": "list_subscriptions"})
        out("list_subscriptions", "ok [{'channel': 'orderbook_delta', 'sid': 1}]", f"{m['type']} {m['msg']}")
        m = await ask({"id": 16, "cmd": "unsubscribe", "params": {"sids": [1]}})
        out("unsubscribed takes the next seq", f"unsubscribed 1 {len(TICKERS) + 4}",
            f"{m['type']} {m['sid']} {m['seq']}")


def raw_upgrade(rcvbuf=None):
    """A websocket opened by hand (no library: nothing reads or answers pings for us), with the
    given receive buffer. Returns the socket and the HTTP status of the answer."""
    import base64
    import os
    import socket
    host, _, rest = WS[len("ws://"):].partition("/")
    h, _, port = host.partition(":")
    sock = socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect((h, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /{rest} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\nX-API-Key: {KEY}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    return sock, head.split(b" ")[1].decode()


def raw_send(sock, obj):
    """Sends obj as one masked text frame (a client's frames are masked: RFC 6455 5.3)."""
    frame = json.dumps(obj).encode()
    mask = b"\x01\x02\x03\x04"
    n = len(frame)
    head = bytes([0x81, 0x80 | n]) if n < 126 else (
        bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big") if n < 65536 else
        bytes([0x81, 0x80 | 127]) + n.to_bytes(8, "big"))
    sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(frame)))


async def slow():
    """A client that stops reading after it subscribed is dropped; a fast one on the same markets
    gets everything. Deterministic by construction, whatever the machine's load: the writer runs
    in lockstep with the fast client (batch k+1 is committed only once the fast client has received
    all of batch k), so the fast client never has more than one batch (~25 KB) queued in feedd,
    far below KBOOK_FEEDD_SEND_MAX (256 KiB in t_feed_core); the slow client never reads (a 4 KiB
    receive buffer), so everything written, ~20 times its send buffer, piles up for it."""
    ids = market_ids()
    s, status = raw_upgrade(rcvbuf=4096)
    out("slow client upgraded", "101", status)
    raw_send(s, {"id": 1, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_tickers": TICKERS}})
    batches, per = 200, 100
    async with websockets.connect(WS, extra_headers={"X-API-Key": KEY}, max_queue=None) as ws:
        await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_tickers": TICKERS}}))
        books, seqs, last_ts, received = {}, {}, {}, []
        await recv_json(ws)
        w = Writer(ids, batches * per, 4, batch=per)
        w.last_ts = {m: int(time.time() * 1e6) for m in ids.values()}
        sql = w.sql().split("\n")
        psql_ = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", PG],
                                 stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        t0 = time.time()
        n, k = 0, 0
        for b in range(batches):
            # one batch: BEGIN, its inserts, NOTIFY + COMMIT
            while True:
                line = sql[k]
                k += 1
                psql_.stdin.write(line + "\n")
                if line.endswith("COMMIT;"):
                    break
            psql_.stdin.flush()
            got = await collect(ws, per, books, seqs, last_ts, received, timeout=60)
            n += got
            if got != per:
                break
        psql_.stdin.close()
        psql_.wait()
        out(f"fast client got all {batches * per} deltas while the slow one stalled", batches * per, n)
        print(f"# fast client: {n} deltas in {time.time() - t0:.1f} s", file=sys.stderr)
    # the slow socket: drain what was buffered; the server closed it with 1008
    s.settimeout(10)
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except socket.timeout:
        pass
    out("slow client got error 25", True, b'"code":25' in data)
    out("slow client closed with 1008 and a reason", True,
        b"\x03\xf0send buffer overflow" in data)


async def burst():
    """A subscribe to many markets (TICKERS) whose snapshots together pass KBOOK_FEEDD_SEND_MAX
    (64 KiB on the feedd of this check) by far: the client asked for them all at once, so it is
    not dropped as slow while it reads them, even when it starts reading only a second later (a
    4 KiB receive buffer: the snapshots wait in feedd's queue meanwhile)."""
    sock, status = raw_upgrade(rcvbuf=4096)
    out("burst client upgraded", "101", status)
    raw_send(sock, {"id": 1, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_tickers": TICKERS}})
    time.sleep(1.5)
    frames, closed = raw_frames(sock, 8)
    msgs = [json.loads(p) for op, p in frames if op == 0x1]
    snaps = [m for m in msgs if m["type"] == "orderbook_snapshot"]
    size = sum(len(p) for op, p in frames if op == 0x1)
    out("the snapshots passed the 64 KiB send bound", True, size > 4 * 65536)
    out("every market's snapshot arrived", len(TICKERS), len({m["msg"]["market_ticker"] for m in snaps}))
    out("no error 25 (not dropped as slow)", [], [m for m in msgs if m["type"] == "error"])
    out("the connection stays open", False, closed)
    raw_send(sock, {"id": 2, "cmd": "list_subscriptions"})
    frames, closed = raw_frames(sock, 2)
    out("and answers a command", ["ok"], [json.loads(p)["type"] for op, p in frames if op == 0x1])
    sock.close()


async def stall():
    """feedd stopped (SIGSTOP, pid in FEEDD_PID) while 600 deltas are committed, then continued:
    it reads them in one pass and queues ~140 KB at once for a client that reads as fast as it can,
    more than this feedd's 64 KiB bound (and under four times it). The client is not dropped and
    gets every delta, in order."""
    import os
    import signal
    ids = market_ids()
    pid = int(os.environ["FEEDD_PID"])
    async with websockets.connect(WS, extra_headers={"X-API-Key": KEY}, max_queue=None) as ws:
        _, seqs = await subscribe_all(ws)
        w = Writer(ids, 600, 7, batch=50)
        os.kill(pid, signal.SIGSTOP)
        try:
            psql(w.sql())
        finally:
            os.kill(pid, signal.SIGCONT)
        size = 0
        n = 0
        deadline = time.time() + 30
        while n < 600 and time.time() < deadline:
            raw = await asyncio.wait_for(ws.recv(), 30)
            size += len(raw)
            m = json.loads(raw)
            if m["type"] == "error":
                out("no error during the catch-up", None, m)
                break
            if m["type"] == "orderbook_delta":
                out_of_order = m["seq"] != seqs.get(m["sid"], 0) + 1
                seqs[m["sid"]] = m["seq"]
                if out_of_order:
                    out("seq contiguous after the stall", True, False)
                n += 1
        out("every delta committed during the stall arrived", 600, n)
        out("they passed the 64 KiB bound", True, size > 65536)


async def gaps():
    """A gap opens on one market while a client is subscribed, a second client subscribes inside
    it, then the gap closes with a snapshot checkpoint (rows as kbook-collector writes them)."""
    ids = market_ids()
    t = TICKERS[0]
    mid = ids[t]
    w = Writer({t: mid}, 20, 7)
    async with websockets.connect(WS, extra_headers={"X-API-Key": KEY}) as ws:
        await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_ticker": t}}))
        await recv_json(ws)
        snap = await recv_json(ws)
        book = Book()
        book.snapshot(snap["msg"])
        w.run().join()
        for _ in range(20):
            book.delta((await recv_json(ws))["msg"])
        start = max(w.last_ts.values()) + 1000
        psql(f"BEGIN; INSERT INTO gaps (market_id, start_ts, reason, detail) VALUES ({mid}, "
             f"kb_ts({start}), 'disconnect', 'feed_check'); UPDATE markets SET last_ts = "
             f"greatest(last_ts, kb_ts({start})) WHERE id = {mid}; "
             f"NOTIFY kbook_deltas, '{mid}'; COMMIT;")
        g = await recv_json(ws)
        out("live: a gap message when the gap opens", ["gap", t, None, "disconnect", start],
            [g["type"], g["msg"]["market_ticker"], g["msg"]["end_ts"], g["msg"]["reason"], g["ts"]])
        async with websockets.connect(WS, extra_headers={"X-API-Key": KEY}) as ws2:
            await ws2.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
                "channels": ["orderbook_delta"], "market_ticker": t}}))
            await recv_json(ws2)
            s2 = await recv_json(ws2)
            g2 = await recv_json(ws2)
            out("subscribed inside the gap: snapshot, then the open gap",
                ["orderbook_snapshot", "gap", None, "disconnect", 2],
                [s2["type"], g2["type"], g2["msg"]["end_ts"], g2["msg"]["reason"], g2["seq"]])
            b2 = Book()
            b2.snapshot(s2["msg"])
            out("its snapshot is the book before the gap", book.levels(), b2.levels())
        # the gap closes: the collector writes the fresh book as a snapshot checkpoint at its end
        end = start + 5000
        fresh = {"yes": [(450000, 1300)], "no": [(510000, 47)]}
        psql(f"BEGIN; INSERT INTO book_checkpoints VALUES ({mid}, kb_ts({end}), 'snapshot', "
             f"'{{450000}}', '{{1300}}', '{{510000}}', '{{47}}'); UPDATE gaps SET end_ts = "
             f"kb_ts({end}), closed_by = 'snapshot', diverged = true WHERE market_id = {mid} "
             f"AND end_ts IS NULL; UPDATE markets SET last_ts = greatest(last_ts, kb_ts({end})) "
             f"WHERE id = {mid}; NOTIFY kbook_deltas, '{mid}'; COMMIT;")
        s3 = await recv_json(ws)
        book.snapshot(s3["msg"])
        out("the snapshot at the gap's end replaces the book", ["orderbook_snapshot", end, fresh],
            [s3["type"], s3["ts"], book.levels()])
        out("it is the API's book after the gap", api_book(t, end), book.levels())


async def reconnect():
    """feedd's LISTEN connection is killed while a client is subscribed; rows committed while it
    was away and after it came back all reach the client, in order, once."""
    ids = market_ids()
    async with websockets.connect(WS, extra_headers={"X-API-Key": KEY}) as ws:
        books, seqs = await subscribe_all(ws)
        last_ts, received = {}, []
        killed = psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                      "WHERE query = 'LISTEN kbook_deltas';").strip()
        out("feedd's LISTEN connection killed", "1", killed)
        w = Writer(ids, 60, 9, batch=10)
        th = w.run(0.2)
        n = await collect(ws, 60, books, seqs, last_ts, received, timeout=20)
        th.join()
        out("every change committed around the reconnect received", 60, n)
        out("none twice", len(received), len(set(received)))
        back = psql("SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN kbook_deltas';").strip()
        out("feedd listens again", "1", back)
        for t in TICKERS:
            if t in last_ts:
                out(f"{t}: book after the reconnect = API book", api_book(t, last_ts[t]), books[t].levels())


def raw_frames(sock, seconds):
    """The frames (opcode, payload) received within seconds, and whether the server closed."""
    sock.settimeout(0.2)
    buf, frames, closed = b"", [], False
    end = time.time() + seconds
    while time.time() < end and not closed:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:  # a reset: the connection is not open, whatever the caller checks
            closed = True
            break
        if not chunk:
            closed = True
            break
        buf += chunk
        while len(buf) >= 2:
            n, hl = buf[1] & 0x7f, 2
            if n == 126:
                n, hl = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                n, hl = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < hl + n:
                break
            frames.append((buf[0] & 0x0f, buf[hl:hl + n]))
            buf = buf[hl + n:]
            closed |= frames[-1][0] == 0x8
    return frames, closed


async def heartbeat():
    """KBOOK_FEEDD_PING_S=1: pings every second; a client that never answers is dropped after
    three periods without a pong, one that answers (python3-websockets does) stays."""
    async with websockets.connect(WS, extra_headers={"X-API-Key": KEY}) as ws:
        sock, status = await asyncio.to_thread(raw_upgrade)
        if status != "101":
            raise RuntimeError(f"upgrade answered {status}")
        frames, closed = await asyncio.to_thread(raw_frames, sock, 3.5)
        pings = [f for f in frames if f[0] == 0x9]
        out("pings every second, body heartbeat", [True, True],
            [len(pings) >= 2, all(p == b"heartbeat" for _, p in pings)])
        frames, closed = await asyncio.to_thread(raw_frames, sock, 6)
        out("a client that never answers pings is dropped", True, closed)
        sock.close()
        await asyncio.sleep(0.5)
        await ws.send(json.dumps({"id": 1, "cmd": "list_subscriptions"}))
        m = await recv_json(ws)
        out("a client that answers them stays", "ok", m["type"])


async def shutdown():
    """SIGTERM to feedd (pid in FEEDD_PID) with a subscribed client: it gets a close frame, 1001."""
    import os
    import signal
    async with websockets.connect(WS, extra_headers={"X-API-Key": KEY}) as ws:
        await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_ticker": TICKERS[0]}}))
        await recv_json(ws)
        os.kill(int(os.environ["FEEDD_PID"]), signal.SIGTERM)
        got = "no close frame"
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        except websockets.exceptions.ConnectionClosed as e:
            got = f"{e.code} {e.reason}"
        except asyncio.TimeoutError:
            pass
        out("a subscribed client gets a close frame at shutdown", "1001 server shutting down", got)


async def refused():
    for name, kwargs, status in [
        ("no key", {}, 401),
        ("malformed key", {"extra_headers": {"X-API-Key": "nope"}}, 401),
        ("unknown key", {"extra_headers": {"X-API-Key": "kb_live_" + "A" * 32}}, 401),
        ("revoked key", {"extra_headers": {"X-API-Key": KEY}}, 401),
    ]:
        try:
            async with websockets.connect(WS, **kwargs):
                got = 101
        except websockets.exceptions.InvalidStatusCode as e:
            got = e.status_code
        out(f"refused at the handshake: {name}", status, got)


asyncio.run({"live": live, "commands": commands, "slow": slow, "burst": burst, "stall": stall,
             "refused": refused,
             "gaps": gaps, "reconnect": reconnect, "heartbeat": heartbeat,
             "shutdown": shutdown}[SCEN]())
