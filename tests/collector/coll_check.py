"""Checks what kbook-collector recorded in Postgres against kalshi-sim's ground truth.

usage: coll_check.py --pg CONNINFO --sim-port PORT [--samples N] [--seed S]

Loads every delta, checkpoint and gap, then at N random recorded instants (a delta of a market
whose next delta has a later exchange millisecond, so the sim's book at that millisecond's end is
exactly the book after the delta) rebuilds the book the way the API does (latest checkpoint at or
before T, then the deltas after it up to T; an instant inside a gap, or after a gap that began
after the checkpoint, is not comparable) and compares it with GET /_sim/book?at=. Prints
CHECK<TAB>name<TAB>expected<TAB>actual lines (tests/sim/sim_lib.sh's sim_record) and INFO lines.
"""
import argparse, bisect, http.client, json, random, subprocess, sys
from collections import defaultdict
from decimal import Decimal

ap = argparse.ArgumentParser()
ap.add_argument("--pg", required=True)
ap.add_argument("--sim-port", type=int, required=True)
ap.add_argument("--samples", type=int, default=1000)
ap.add_argument("--seed", type=int, default=1)
args = ap.parse_args()
rng = random.Random(args.seed)


def check(name, exp, act):
    print(f"CHECK\t{name}\t{exp}\t{act}")


def info(*a):
    print("INFO\t" + " ".join(str(x) for x in a))


def psql(sql):
    out = subprocess.run(["psql", "-X", "-q", "-tA", "-F", "|", "-d", args.pg, "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [l.split("|") for l in out.splitlines() if l]


def arr(s):
    s = s.strip("{}")
    return [int(x) for x in s.split(",")] if s else []


tickers = {int(i): t for i, t in psql("SELECT id, ticker FROM markets")}
deltas = defaultdict(list)  # id -> [(ts, ems, side, price, delta)]
for mid, ts, ems, side, price, d in psql(
        "SELECT market_id, kb_us(ts), coalesce(kb_us(exchange_ts) / 1000, -1), side, price, delta"
        " FROM book_deltas ORDER BY market_id, ts"):
    deltas[int(mid)].append((int(ts), int(ems), int(side), int(price), int(d)))
cps = defaultdict(list)  # id -> [(ts, source, yes{}, no{})]
for mid, ts, src, yp, ys, np_, ns in psql(
        "SELECT market_id, kb_us(ts), source, yes_prices, yes_sizes, no_prices, no_sizes"
        " FROM book_checkpoints ORDER BY market_id, ts"):
    cps[int(mid)].append((int(ts), src, dict(zip(arr(yp), arr(ys))), dict(zip(arr(np_), arr(ns)))))
gaps = defaultdict(list)
for mid, s, e, reason, div in psql(
        "SELECT market_id, kb_us(start_ts), coalesce(kb_us(end_ts), -1), reason, coalesce(diverged::text, '')"
        " FROM gaps ORDER BY market_id, start_ts"):
    gaps[int(mid)].append((int(s), int(e), reason, div))

ndeltas = sum(len(v) for v in deltas.values())
info("deltas", ndeltas, "checkpoints", sum(len(v) for v in cps.values()),
     "gaps", sum(len(v) for v in gaps.values()), "markets with data", len(deltas))

# ts strictly increasing per market (the unique index makes them distinct; order is by ts)
mono = all(all(a[0] < b[0] for a, b in zip(v, v[1:])) for v in deltas.values())
check("delta ts strictly increasing per market", True, mono)
check("every gap is closed", 0, sum(1 for v in gaps.values() for g in v if g[1] < 0))

cands = []
for mid, v in deltas.items():
    for i in range(len(v) - 1):
        if v[i][1] >= 0 and v[i + 1][1] > v[i][1]:
            cands.append((mid, i))
rng.shuffle(cands)


def book_at(mid, T):
    """The API's book at T, or None when T is not covered (no checkpoint, or a gap)."""
    cl = cps.get(mid, [])
    k = bisect.bisect_right([c[0] for c in cl], T) - 1
    if k < 0:
        return None
    cts, _, yes, no = cl[k]
    for s, e, _, _ in gaps.get(mid, []):
        if s <= T and (e < 0 or e > T or s >= cts):
            return None
    book = [dict(yes), dict(no)]
    for ts, _, side, price, d in deltas[mid]:
        if cts < ts <= T:
            n = book[side].get(price, 0) + d
            if n == 0:
                book[side].pop(price, None)
            else:
                book[side][price] = n
    return book


def sim_book(ticker, at):
    c = http.client.HTTPConnection("127.0.0.1", args.sim_port, timeout=10)
    c.request("GET", f"/_sim/book?ticker={ticker}&at={at}")
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200:
        return None
    o = json.loads(body)
    conv = lambda side: {int(Decimal(p) * 1000000): int(Decimal(s) * 100) for p, s in o[side]}
    return [conv("yes_dollars_fp"), conv("no_dollars_fp")]


compared = skipped = bad = gone = 0
for mid, i in cands:
    if compared >= args.samples:
        break
    ts, ems = deltas[mid][i][0], deltas[mid][i][1]
    mine = book_at(mid, ts)
    if mine is None:
        skipped += 1
        continue
    truth = sim_book(tickers[mid], ems * 1000 + 999)
    if truth is None:
        gone += 1
        continue
    compared += 1
    if mine != truth:
        bad += 1
        if bad <= 5:
            info("MISMATCH", tickers[mid], "ts", ts, "exchange ms", ems,
                 "yes diff", sorted(set(mine[0].items()) ^ set(truth[0].items()))[:6],
                 "no diff", sorted(set(mine[1].items()) ^ set(truth[1].items()))[:6])
info("compared", compared, "inside gaps", skipped, "history gone", gone)
check(f"at least {args.samples} instants compared", True, compared >= args.samples)
check("books rebuilt from Postgres equal the sim's ground truth", 0, bad)
reasons = sorted({g[2] for v in gaps.values() for g in v})
print("REASONS\t" + ",".join(reasons))
