#!/usr/bin/python3
"""The feed against ground truth through the whole path: kalshi-sim -> kbook-collector -> Postgres
-> kbook-feedd -> nginx -> this client (Debian's python3-websockets, which no one here wrote).

Subscribes to the N markets with the most recorded deltas, reads while the sim trades, then pauses
the sim, waits until the collector has written everything (the markets' last recorded ts stops
moving) and reads until it holds every recorded row. Then: seq contiguous per sid; ts strictly
increasing per market; every recorded delta after the snapshot received exactly once; the
snapshot + deltas, applied in order, equal the book rebuilt from Postgres (latest snapshot
checkpoint + deltas, as the API does) AND the sim's true book (GET /_sim/book).

usage: feed_collector.py WS_URL KEY PGCONN SIM_PORT N_MARKETS SECONDS
Prints CHECK<TAB>name<TAB>expected<TAB>actual lines and INFO lines (tests/sim/sim_lib.sh's sim_record).
"""
import asyncio
import http.client
import json
import subprocess
import sys
import time
from decimal import Decimal

import websockets

WS, KEY, PG, SIM_PORT, NMARKETS, SECONDS = sys.argv[1:7]
SIM_PORT, NMARKETS, SECONDS = int(SIM_PORT), int(NMARKETS), float(SECONDS)


def check(name, exp, act):
    print(f"CHECK\t{name}\t{exp}\t{act}", flush=True)


def info(*a):
    print("INFO\t" + " ".join(str(x) for x in a), flush=True)


def psql(sql):
    out = subprocess.run(["psql", "-X", "-q", "-tA", "-F", "|", "-d", PG, "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


def arr(s):
    s = s.strip("{}")
    return [int(x) for x in s.split(",")] if s else []


def fx(s, scale):
    return int(Decimal(s) * scale)


def sim(method, path):
    c = http.client.HTTPConnection("127.0.0.1", SIM_PORT, timeout=10)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def sim_book(ticker):
    status, body = sim("GET", f"/_sim/book?ticker={ticker}")
    o = json.loads(body)
    return [{fx(p, 1000000): fx(s, 100) for p, s in o[side]} for side in ("yes_dollars_fp", "no_dollars_fp")]


def pg_book(mid):
    """The book after every recorded row: latest snapshot checkpoint, then the deltas after it."""
    cp = psql(f"SELECT kb_us(ts), yes_prices, yes_sizes, no_prices, no_sizes FROM book_checkpoints"
              f" WHERE market_id = {mid} ORDER BY ts DESC LIMIT 1")
    if not cp:
        return None
    cts, yp, ys, np_, ns = cp[0]
    book = [dict(zip(arr(yp), arr(ys))), dict(zip(arr(np_), arr(ns)))]
    for side, price, d in psql(f"SELECT side, price, delta FROM book_deltas WHERE market_id = {mid}"
                               f" AND ts > kb_ts({cts}) ORDER BY ts"):
        side, price = int(side), int(price)
        n = book[side].get(price, 0) + int(d)
        if n == 0:
            book[side].pop(price, None)
        else:
            book[side][price] = n
    return book


class Market:
    def __init__(self):
        self.book = [{}, {}]
        self.snap_ts = None
        self.last_ts = 0
        self.deltas = []  # feed ts of each delta received
        self.increasing = True

    def apply(self, m):
        t, msg = m["type"], m["msg"]
        if m["ts"] <= self.last_ts:
            self.increasing = False
        self.last_ts = m["ts"]
        if t == "orderbook_snapshot":
            self.book = [{fx(p, 1000000): fx(s, 100) for p, s in msg.get(k, [])}
                         for k in ("yes_dollars_fp", "no_dollars_fp")]
            if self.snap_ts is None:
                self.snap_ts = m["ts"]
        elif t == "orderbook_delta":
            side = 0 if msg["side"] == "yes" else 1
            p = fx(msg["price_dollars"], 1000000)
            n = self.book[side].get(p, 0) + fx(msg["delta_fp"], 100)
            if n == 0:
                self.book[side].pop(p, None)
            else:
                self.book[side][p] = n
            self.deltas.append(m["ts"])


async def main():
    rows = psql(f"SELECT m.id, m.ticker FROM markets m JOIN LATERAL (SELECT count(*) n FROM book_deltas d"
                f" WHERE d.market_id = m.id) c ON true ORDER BY c.n DESC, m.id LIMIT {NMARKETS}")
    ids = {t: int(i) for i, t in rows}
    tickers = list(ids)
    mk = {t: Market() for t in tickers}
    seqs, seq_ok, others = {}, True, []
    async with websockets.connect(WS, extra_headers={"X-API-Key": KEY}, max_queue=None) as ws:
        await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_tickers": tickers}}))
        m = json.loads(await asyncio.wait_for(ws.recv(), 20))
        check("subscribed through nginx", "subscribed", m["type"])

        async def read_until(cond, limit):
            nonlocal seq_ok
            deadline = time.time() + limit
            while not cond() and time.time() < deadline:
                try:
                    m = json.loads(await asyncio.wait_for(ws.recv(), max(0.05, min(0.5, deadline - time.time()))))
                except asyncio.TimeoutError:
                    continue
                if "seq" in m:
                    if m["seq"] != seqs.get(m["sid"], 0) + 1:
                        seq_ok = False
                    seqs[m["sid"]] = m["seq"]
                if m["type"] in ("orderbook_snapshot", "orderbook_delta", "gap"):
                    mk[m["msg"]["market_ticker"]].apply(m)
                    if m["type"] == "gap":
                        others.append(m)
                else:
                    others.append(m)

        t0 = time.time()
        await read_until(lambda: time.time() - t0 >= SECONDS, SECONDS + 1)
        status, _ = sim("POST", "/_sim/flow?rate=0")
        check("the sim paused", 200, status)
        # the collector has written everything once the markets' last recorded ts stops moving
        idlist = ",".join(str(i) for i in ids.values())
        q = f"SELECT market_id, kb_us(max(ts)) FROM book_deltas WHERE market_id IN ({idlist}) GROUP BY 1"
        last, stable_since = None, time.time()
        deadline = time.time() + 60
        while time.time() < deadline:
            await read_until(lambda: False, 0.5)
            cur = sorted(psql(q))
            if cur != last:
                last, stable_since = cur, time.time()
            elif time.time() - stable_since >= 2:
                break
        final = {int(mid): int(ts) for mid, ts in last}
        by_id = {i: t for t, i in ids.items()}
        await read_until(lambda: all(mk[by_id[mid]].last_ts >= ts for mid, ts in final.items()), 30)

    info("markets", len(tickers), "deltas received", sum(len(x.deltas) for x in mk.values()),
         "other messages", len(others), "seconds", round(time.time() - t0, 1))
    check("a snapshot for every market", len(tickers), sum(1 for x in mk.values() if x.snap_ts is not None))
    check("seq contiguous per sid", True, seq_ok)
    check("ts strictly increasing per market", True, all(x.increasing for x in mk.values()))
    check("no gap announced (the sim ran without faults)", [], [o for o in others if o["type"] == "gap"])
    lost = dup = 0
    bad_pg, bad_sim = [], []
    for t in tickers:
        x = mk[t]
        rec = [int(ts) for (ts,) in psql(f"SELECT kb_us(ts) FROM book_deltas WHERE market_id = {ids[t]}"
                                         f" AND ts > kb_ts({x.snap_ts}) ORDER BY ts")]
        lost += len(set(rec) - set(x.deltas))
        dup += len(x.deltas) - len(set(x.deltas)) + len(set(x.deltas) - set(rec))
        if pg_book(ids[t]) != x.book:
            bad_pg.append(t)
        if sim_book(t) != x.book:
            bad_sim.append(t)
    check("every recorded delta after the snapshot received (none lost)", 0, lost)
    check("no delta received twice or unrecorded", 0, dup)
    check("snapshot + deltas = the book in Postgres, every market", [], bad_pg)
    check("snapshot + deltas = the sim's true book, every market", [], bad_sim)
    check("deltas flowed", True, sum(len(x.deltas) for x in mk.values()) > 10 * len(tickers))


asyncio.run(main())
