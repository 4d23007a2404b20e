#!/usr/bin/env bash
# The Data API on generated history: orderbook at T, a deltas page and the market list, through
# nginx with wrk (random markets and instants, 16 accounts), against nginx serving a static file of
# the same size; first on 1 million deltas, then on 50 million, to show that the book at T costs
# the same whatever the length of the history.
#
# BENCH_DELTAS (default 50000000) and BENCH_MARKETS (default 20000) size the big dataset.
set -euo pipefail
bin=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"
big=${BENCH_DELTAS:-50000000}
nmk=${BENCH_MARKETS:-20000}
small=1000000
warm=${BENCH_API_WARMUP:-5}
runs=${BENCH_API_RUNS:-3}
bench_api_stack "$bin"

bench_accounts "$bin" bench project 2000000000 >"$tmp/keys"
export BENCH_KEYS=$tmp/keys

# paths PREFIX KIND FILE: 20 000 random request paths of one kind over the markets of PREFIX.
paths() {
	case $2 in
	orderbook) psql_ "SELECT '/v1/markets/' || ticker || '/orderbook?at=' ||
		(kb_us(first_ts) + (random() * (kb_us(last_ts) - kb_us(first_ts)))::bigint)
		FROM markets, generate_series(1, 3) WHERE ticker LIKE '$1-%' AND first_ts IS NOT NULL
		ORDER BY random() LIMIT 20000" ;;
	deltas) psql_ "SELECT '/v1/markets/' || ticker || '/deltas?limit=100&start=' ||
		(kb_us(first_ts) + (random() * (kb_us(last_ts) - kb_us(first_ts)))::bigint)
		FROM markets, generate_series(1, 3) WHERE ticker LIKE '$1-%' AND first_ts IS NOT NULL
		ORDER BY random() LIMIT 20000" ;;
	markets) psql_ "SELECT '/v1/markets?limit=100&event_ticker=' || event_ticker
		FROM markets WHERE ticker LIKE '$1-%' ORDER BY random() LIMIT 20000" ;;
	esac >"$3"
}

# cpu_ms TICKS REQUESTS: CPU milliseconds a request (clock ticks of 1/100 s)
cpu_ms() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.3f", (n > 0 ? t * 10 / n : 0) }'; }

# median V...: the middle value (the lower middle of an even count)
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }

# row LABEL KIND PREFIX: one table row per connection count, with the static limit of the same
# size. Each count makes $runs measured runs, static and API in alternation; the row gives the
# median of each figure and the API's req/s of every run.
row() {
	local label=$1 kind=$2 prefix=$3 c f size r a b d e s rps p50 p99 bad srps sp50 sp99 n pg api ng pg0 api0 ng0 pg1 api1 ng1
	f=$tmp/$kind-$prefix.paths
	paths "$prefix" "$kind" "$f"
	export BENCH_PATHS=$f
	# the static limit: a file as large as a typical answer of this kind
	size=$(head -50 "$f" | while read -r p; do
		curl -s -H "X-API-Key: $(head -1 "$tmp/keys")" "$url$p" | wc -c; done | sort -n | sed -n 25p)
	head -c "$size" /dev/urandom | base64 -w 0 | head -c "$size" >"$tmp/stack/app/static/limit.txt"
	chmod a+r "$tmp/stack/app/static/limit.txt"
	# warm-up, not measured: each worker prepares its statements once per day of history it reads
	# (cgi-bin/daypart.c), and the caches fill; a long-running service has done both
	BENCH_SECONDS=$warm run_wrk "$url" 16 "$root/scripts/bench/random.lua" >/dev/null
	for c in 1 16; do
		rps=() p50=() p99=() bad=0 srps=() sp50=() sp99=() n=0 pg=0 api=0 ng=0
		for ((r = 0; r < runs; r++)); do
			read -r a b d _ < <(run_wrk "$url/limit.txt" "$c")
			srps+=("$a") sp50+=("$b") sp99+=("$d")
			read -r pg0 api0 ng0 < <(python3 "$root/scripts/bench/cputicks.py" "$tmp/stack")
			read -r a b d e < <(run_wrk "$url" "$c" "$root/scripts/bench/random.lua")
			read -r pg1 api1 ng1 < <(python3 "$root/scripts/bench/cputicks.py" "$tmp/stack")
			rps+=("$a") p50+=("$b") p99+=("$d")
			bad=$((bad + e)) n=$((n + a * BENCH_SECONDS))
			pg=$((pg + pg1 - pg0)) api=$((api + api1 - api0)) ng=$((ng + ng1 - ng0))
		done
		a=$(median "${rps[@]}") s=$(median "${srps[@]}")
		echo "| $label | $c | $size | **$a** | $(median "${p50[@]}") | $(median "${p99[@]}") | ${rps[*]} | $bad | $s | $(median "${sp50[@]}") | $(median "${sp99[@]}") | $(awk -v a="$a" -v s="$s" 'BEGIN {printf "%.3f", a / s}') | $(cpu_ms "$pg" "$n") / $(cpu_ms "$api" "$n") / $(cpu_ms "$ng" "$n") |"
	done
}

gen() { # PREFIX DELTAS SPAN_DAYS
	"$bin/kbook-gen" --prefix "$1" --markets "$nmk" --deltas "$2" --span $(($3 * 86400)) \
		--start 2026-08-01T00:00:00Z --seed 5 2>/dev/null | tail -1
}

t0=$(date +%s)
g1=$(gen S1 "$small" 1)
# vacuumed, analysed and checkpointed: the measured runs do not share the machine with the
# generation's aftermath (autovacuum, a checkpoint writing the new pages out)
psql_ "VACUUM ANALYZE" >/dev/null
psql_ "CHECKPOINT" >/dev/null
echo "## Data API on generated history"
echo
echo "\`make bench\` section scripts/bench/20-api.sh: 4 API workers, requests"
echo "spread over 16 accounts' keys; each request picks a random market and a random instant within"
echo "its coverage. Each kind of request is first run for ${warm} s unmeasured (16 connections): every worker"
echo "prepares its statements once per day of history it reads, and the caches fill. The database is"
echo "vacuumed, analysed and checkpointed after each generation. The limit is nginx serving a static"
echo "file as large as the median answer (bytes). Each row is ${runs} runs of ${BENCH_SECONDS} s, static and API in"
echo "alternation; it gives the median of each figure, and the API's req/s of every run (on this"
echo "shared 2-core machine the same build moves by up to ~10 % from run to run)."
echo "Every API request authenticates, charges credits and records usage in Postgres. The last column is"
echo "the CPU time the stack's processes used during the API run, divided by the requests served (the"
echo "machine has $(nproc) cores: $(( $(nproc) * 1000 )) ms of CPU a second for wrk, nginx, kbook-api and Postgres together)."
echo
echo "| what | conn | bytes | API req/s | API p50 ms | API p99 ms | API req/s, each run | API non-2xx | static req/s | static p50 ms | static p99 ms | API / static | CPU ms/req: Postgres / kbook-api / nginx |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
row "orderbook at T, $small deltas" orderbook S1
g2=$(gen S50 "$((big - small))" 50)
psql_ "VACUUM ANALYZE" >/dev/null
psql_ "CHECKPOINT" >/dev/null
total=$(psql_ "SELECT count(*) FROM book_deltas")
row "orderbook at T, same markets, $total deltas in the database" orderbook S1
row "orderbook at T, $total deltas ($(( (big - small) / nmk )) per market)" orderbook S50
row "deltas page (100), $total deltas" deltas S50
row "market list (100 per page), $((2 * nmk)) markets" markets S50
echo
echo "Generation (kbook-gen, COPY): $g1"
echo
echo "$g2"
echo
echo "Total for this section: $(( $(date +%s) - t0 )) s; database size $(psql_ "SELECT pg_size_pretty(pg_database_size('kbook'))")."
