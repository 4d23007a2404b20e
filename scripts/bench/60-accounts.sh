#!/usr/bin/env bash
# Password hashing beside the Data API: the book-at-T p99 at 16 connections alone, then with 20
# logins a second (argon2id, ~45 ms of CPU each) running beside it. The account routes go to their
# own pool of kbook-api workers (nginx location, KBOOK_ACCOUNTS_WORKERS), so a login never waits
# for a data worker nor a data call for a login; what they still share is the CPU.
set -euo pipefail
bin=$1
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
t0=$(date +%s)
bench_api_stack "$bin"

bench_accounts "$bin" bench project 2000000000 >"$tmp/keys"
export BENCH_KEYS=$tmp/keys
"$bin/kbook-gen" --prefix L --markets 200 --deltas 1000000 --span 86400 \
	--start 2026-08-01T00:00:00Z --seed 5 >/dev/null 2>&1
psql_ "VACUUM ANALYZE" >/dev/null
psql_ "SELECT '/v1/markets/' || ticker || '/orderbook?at=' ||
	(kb_us(first_ts) + (random() * (kb_us(last_ts) - kb_us(first_ts)))::bigint)
	FROM markets, generate_series(1, 100) WHERE first_ts IS NOT NULL ORDER BY random() LIMIT 20000" \
	>"$tmp/paths"
export BENCH_PATHS=$tmp/paths

# the login account: signed up through the API, confirmed as its mail's link would
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' "$url/v1/account/signup" \
	-d '{"email":"login@kbook.test","password":"bench pass phrase 1"}'
psql_ "UPDATE accounts SET email_confirmed = true WHERE email = 'login@kbook.test'" >/dev/null

# logins RATE SECONDS: RATE logins a second (each on its own thread, paced), prints
# "done p50_ms p99_ms non200"
logins() {
	/usr/bin/python3 - "$url" "$1" "$2" <<'PY'
import http.client, json, sys, threading, time, urllib.parse
url, rate, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
u = urllib.parse.urlsplit(url)
body = json.dumps({"email": "login@kbook.test", "password": "bench pass phrase 1"})
lat, bad, lock = [], [0], threading.Lock()
def one():
    t = time.monotonic()
    try:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        c.request("POST", "/v1/session", body, {"Content-Type": "application/json"})
        r = c.getresponse(); r.read(); c.close()
        ok = r.status == 200
    except OSError:  # no answer in 30 s counts as a failure, at 30 s
        ok = False
    with lock:
        lat.append((time.monotonic() - t) * 1000)
        if not ok: bad[0] += 1
ths, start, n = [], time.monotonic(), 0
while time.monotonic() - start < secs:
    th = threading.Thread(target=one); th.start(); ths.append(th); n += 1
    time.sleep(max(0, start + n / rate - time.monotonic()))
for th in ths: th.join()
lat.sort()
print("%d %.1f %.1f %d" % (len(lat), lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1], bad[0]))
PY
}

load=$(cut -d' ' -f1 /proc/loadavg)
BENCH_SECONDS=3 run_wrk "$url" 16 "$root/scripts/bench/random.lua" >/dev/null # warm the cache
read -r rps0 p500 p990 bad0 < <(run_wrk "$url" 16 "$root/scripts/bench/random.lua")
logins 20 "$BENCH_SECONDS" >"$tmp/logins" &
lp=$!
read -r rps1 p501 p991 bad1 < <(run_wrk "$url" 16 "$root/scripts/bench/random.lua")
wait "$lp"
read -r ln lp50 lp99 lbad <"$tmp/logins"
read -r lon lop50 lop99 lobad < <(logins 20 "$BENCH_SECONDS")

echo "## Logins beside the Data API"
echo
echo "\`make bench\` section scripts/bench/60-accounts.sh: ${BENCH_SECONDS} s per row. The book at T of"
echo "200 generated markets (1 000 000 deltas) at random instants with 16 accounts' keys, wrk at 16"
echo "connections through nginx to the data pool (4 workers), alone and with 20 logins a second"
echo "(POST /v1/session: argon2id m = 19 MiB, t = 2, then a new session row) going to the accounts"
echo "pool (2 workers, its own nginx location and FastCGI socket). Load average when the section"
echo "started: $load (above $(nproc), the cores are shared with other work and the figures show it)."
echo
echo "| load | book req/s | book p50 ms | book p99 ms | book non-2xx | logins done | login p50 ms | login p99 ms | login non-200 |"
echo "|---|---|---|---|---|---|---|---|---|"
echo "| book at T alone | $rps0 | $p500 | $p990 | $bad0 | | | | |"
echo "| book at T + 20 logins/s | $rps1 | $p501 | $p991 | $bad1 | $ln | $lp50 | $lp99 | $lbad |"
echo "| 20 logins/s alone | | | | | $lon | $lop50 | $lop99 | $lobad |"
echo
echo "Total for this section: $(( $(date +%s) - t0 )) s."
