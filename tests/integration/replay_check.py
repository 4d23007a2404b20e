"""Checks the API's book at T against kbook-gen's brute-force replay at many random instants.

usage: replay_check.py BASE_URL API_KEY KBOOK_GEN PREFIX N SEED
For every market of PREFIX: instants drawn uniformly over its coverage (widened on both sides),
plus every gap's bounds, exact delta instants and the microsecond before them. Prints one line
per disagreement and a summary; exits 1 if anything differs or nothing was compared.
"""
import http.client, json, os, random, subprocess, sys, tempfile, time, urllib.parse

base, key, gen, prefix, n, seed = sys.argv[1:7]
n, rng = int(n), random.Random(int(seed))
url = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
env = dict(os.environ)


def psql(sql):
    out = subprocess.run(["psql", "-X", "-q", "-tA", "-F", "|", "-d", env["KBOOK_DATABASE_URL"], "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [l.split("|") for l in out.splitlines() if l]


def api(path):
    for _ in range(20):  # a well-behaved client: wait out nginx's flood limit (429 + Retry-After)
        conn.request("GET", path, headers={"X-API-Key": key})
        r = conn.getresponse()
        body = r.read()
        if r.status != 429:
            break
        time.sleep(float(r.getheader("Retry-After", "1")) / 4)
    if r.status != 200:
        raise SystemExit(f"GET {path}: {r.status} {body[:200]!r}")
    return json.loads(body)


markets = psql(f"SELECT id, ticker, kb_us(first_ts), kb_us(last_ts) FROM markets "
               f"WHERE ticker LIKE '{prefix}-%' AND first_ts IS NOT NULL ORDER BY id")
if not markets:
    raise SystemExit("no markets with data for prefix " + prefix)
per = max(1, n // len(markets))
compared = complete_n = gap_n = bad = 0
for mid, ticker, first, last in markets:
    first, last = int(first), int(last)
    span = max(last - first, 1)
    ats = {rng.randint(first - span // 10, last + span // 10) for _ in range(per)}
    for s, e in psql(f"SELECT kb_us(start_ts), coalesce(kb_us(end_ts), 0) FROM gaps WHERE market_id = {mid}"):
        ats.update({int(s), int(s) - 1, int(e), int(e) - 1} - {-1})
    for (ts,) in psql(f"SELECT kb_us(ts) FROM book_deltas WHERE market_id = {mid} ORDER BY random() LIMIT 5"):
        ats.update({int(ts), int(ts) - 1})
    ats = sorted(a for a in ats if a > 0)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(str(a) for a in ats) + "\n")
    oracle = subprocess.run([gen, "--replay-all", ticker, "--at-list", f.name], check=True,
                            capture_output=True, text=True, env=env).stdout.splitlines()
    os.unlink(f.name)
    if len(oracle) != len(ats):
        raise SystemExit(f"{ticker}: oracle gave {len(oracle)} lines for {len(ats)} instants")
    for at, line in zip(ats, oracle):
        want = json.loads(line)
        got = api(f"/v1/markets/{urllib.parse.quote(ticker)}/orderbook?at={at}")
        compared += 1
        if got["complete"] != want["complete"]:
            bad += 1
            print(f"DIFF {ticker} at {at}: complete api={got['complete']} oracle={want['complete']}"
                  f" ({want.get('reason')}, api gap {got['gap']})")
            continue
        if not want["complete"]:
            gap_n += 1
            continue
        complete_n += 1
        if got["orderbook_fp"]["yes_dollars"] != want["yes"] or got["orderbook_fp"]["no_dollars"] != want["no"]:
            bad += 1
            print(f"DIFF {ticker} at {at}: api={json.dumps(got['orderbook_fp'])[:300]} "
                  f"oracle yes={json.dumps(want['yes'])[:150]} no={json.dumps(want['no'])[:150]}")
# The one-pass sampler must give, at every sample, what the replay gives at that instant.
samples_n = 0
for mid, ticker, first, last in markets[:6]:
    first, last = int(first), int(last)
    start_s = first // 1000000 - 5
    end_s = last // 1000000 + 5
    iv = max(1, (end_s - start_s) // 150)
    ats = list(range(start_s * 1000000, end_s * 1000000 + 1, iv * 1000000))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(str(a) for a in ats) + "\n")
    oracle = [json.loads(l) for l in subprocess.run([gen, "--replay-all", ticker, "--at-list", f.name],
              check=True, capture_output=True, text=True, env=env).stdout.splitlines()]
    os.unlink(f.name)
    got, cursor = [], ""
    while True:
        page = api(f"/v1/markets/{urllib.parse.quote(ticker)}/orderbooks?start={start_s}&end={end_s}"
                   f"&interval={iv}{'&cursor=' + cursor if cursor else ''}")
        got += page["samples"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    if len(got) != len(oracle):
        bad += 1
        print(f"DIFF {ticker}: {len(got)} samples, oracle {len(oracle)}")
        continue
    for g, w in zip(got, oracle):
        samples_n += 1
        if g["complete"] != w["complete"] or (w["complete"] and (
                g["orderbook_fp"]["yes_dollars"] != w["yes"] or g["orderbook_fp"]["no_dollars"] != w["no"])):
            bad += 1
            print(f"DIFF sample {ticker} at {g['at']}: complete {g['complete']}/{w['complete']}")
print(f"compared {samples_n} samples of /orderbooks with the replay")

# Paging through /deltas with small pages returns every row exactly once, in order, even where
# many rows (of this and other markets) share instants or consecutive microseconds.
paged_n = 0
for mid, ticker, first, last in markets[:8]:
    want = [(int(t), "yes" if s == "0" else "no", int(p), int(d)) for t, s, p, d in
            psql(f"SELECT kb_us(ts), side, price, delta FROM book_deltas WHERE market_id = {mid} ORDER BY ts")]
    got, cursor = [], ""
    while True:
        page = api(f"/v1/markets/{urllib.parse.quote(ticker)}/deltas?limit=7&start=0"
                   f"{'&cursor=' + cursor if cursor else ''}")
        got += [(d["ts"], d["side"], d["price_dollars"], d["delta_fp"]) for d in page["deltas"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    paged_n += len(got)
    to_us = lambda s: int(subprocess.run(["date", "-u", "-d", s, "+%s%6N"], capture_output=True, text=True).stdout)
    if len(got) != len(want) or len(set(g[0] for g in got)) != len(got) or \
            [g[0] for g in got] != sorted(g[0] for g in got) or \
            (got and to_us(got[0][0]) != want[0][0]) or (got and to_us(got[-1][0]) != want[-1][0]):
        bad += 1
        print(f"DIFF deltas paging {ticker}: {len(got)} rows paged, {len(want)} in the database")
print(f"paged {paged_n} deltas 7 at a time: every row once, in order")
print(f"compared {compared} instants over {len(markets)} markets: {complete_n} complete books equal "
      f"the replay, {gap_n} inside gaps or before coverage flagged incomplete by both, {bad} differ")
sys.exit(1 if bad or compared == 0 else 0)
