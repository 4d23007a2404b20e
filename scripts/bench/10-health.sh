#!/usr/bin/env bash
# /v1/health (nginx -> FastCGI -> one prepared query) against nginx serving the same bytes.
set -euo pipefail
bin=$1
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d /tmp/kbook-bench.XXXXXX)
chmod 755 "$tmp"
trap 'stack_stop "$tmp/stack"; rm -rf "$tmp"' EXIT
pg_port=$(free_port)
http_port=$(free_port)
KBOOK_NGINX_IP_RATE=1000000 stack_start "$tmp/stack" "$bin" "$pg_port" "$http_port" >/dev/null
wait_port "$http_port"
url=http://127.0.0.1:$http_port
curl -s "$url/v1/health" >"$tmp/stack/app/static/health.json"
chmod a+r "$tmp/stack/app/static/health.json"
echo "## /v1/health against nginx serving the same bytes"
echo
echo "\`make bench\` section scripts/bench/10-health.sh: ${BENCH_SECONDS} s per row, 4 API workers."
echo "The API answer (nginx, FastCGI, a kbook-api worker, one prepared query, JSON) against nginx"
echo "sending the identical $(wc -c <"$tmp/stack/app/static/health.json")-byte body from a file."
echo
echo "| connections | static req/s | static p50 ms | static p99 ms | API req/s | API p50 ms | API p99 ms | API / static |"
echo "|---|---|---|---|---|---|---|---|"
for c in 1 16; do
	read -r s_rps s_p50 s_p99 _ < <(run_wrk "$url/health.json" "$c")
	read -r a_rps a_p50 a_p99 _ < <(run_wrk "$url/v1/health" "$c")
	echo "| $c | $s_rps | $s_p50 | $s_p99 | $a_rps | $a_p50 | $a_p99 | $(awk -v a="$a_rps" -v s="$s_rps" 'BEGIN {printf "%.2f", a / s}') |"
done
