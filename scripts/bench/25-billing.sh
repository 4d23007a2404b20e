#!/usr/bin/env bash
# The Data API's book at T with pay-as-you-go accounts charging overage (every call past the
# allowance, so every charge also writes its billing_outbox row in the same statement, and
# kbook-billing sends them to stripe-sim meanwhile) against the same with free-plan accounts that
# stay within their allowance. The issue's bar: payg within 10 % of free.
set -euo pipefail
bin=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"
runs=${BENCH_BILLING_RUNS:-3}
# kbook-billing sends a row 1 s after its bucket of 1 s closes, so that it sends while wrk runs
# (the defaults, a minute and a minute, would leave every row for after the runs)
export KBOOK_BILLING_SETTLE_S=1 KBOOK_BILLING_BUCKET_S=1
bench_api_stack "$bin"

bench_accounts "$bin" free free 2000000000 >"$tmp/keys-free"
bench_accounts "$bin" payg payg 0 >"$tmp/keys-payg"
# the payg accounts' Stripe customers, so kbook-billing sends their rows while the bench runs
if [ -f "$tmp/stack/conf/stripe.port" ]; then
	sk=$(cat "$tmp/stack/conf/stripe/secret-key")
	for id in $(psql_ "SELECT id FROM accounts WHERE plan = 'payg'"); do
		cus=$(curl -s -u "$sk:" -d "metadata[account_id]=$id" "http://127.0.0.1:$(cat "$tmp/stack/conf/stripe.port")/v1/customers" |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
		psql_ "UPDATE accounts SET stripe_customer_id = '$cus' WHERE id = $id" >/dev/null
	done
fi
"$bin/kbook-gen" --prefix S1 --markets 20000 --deltas 1000000 --span 86400 \
	--start 2026-08-01T00:00:00Z --seed 5 >/dev/null 2>&1
psql_ "VACUUM ANALYZE" >/dev/null
psql_ "CHECKPOINT" >/dev/null
psql_ "SELECT '/v1/markets/' || ticker || '/orderbook?at=' ||
	(kb_us(first_ts) + (random() * (kb_us(last_ts) - kb_us(first_ts)))::bigint)
	FROM markets, generate_series(1, 3) WHERE first_ts IS NOT NULL ORDER BY random() LIMIT 20000" >"$tmp/paths"
export BENCH_PATHS=$tmp/paths
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }

echo "## Billing: overage in the charge"
echo
echo "\`make bench\` section scripts/bench/25-billing.sh: the book at T (1 million deltas, 20 000 markets)"
echo "through nginx with wrk, 16 connections, keys of 16 free accounts that stay within their"
echo "allowance, then of 16 pay-as-you-go accounts with an allowance of 0, so that every call is"
echo "overage: its charge also adds it to the account's billing_outbox row of the bucket in the same"
echo "statement (buckets of 1 s here, a minute by default), and kbook-billing sends the rows to"
echo "stripe-sim meanwhile. ${runs} runs of ${BENCH_SECONDS} s each, free and payg in alternation after"
echo "a warm-up; medians. The bar: payg within 10 % of free."
echo
BENCH_KEYS=$tmp/keys-free BENCH_SECONDS=5 run_wrk "$url" 16 "$root/scripts/bench/random.lua" >/dev/null
free=() payg=() fp99=() pp99=()
for ((r = 0; r < runs; r++)); do
	read -r a _ d _ < <(BENCH_KEYS=$tmp/keys-free run_wrk "$url" 16 "$root/scripts/bench/random.lua")
	free+=("$a") fp99+=("$d")
	read -r a _ d _ < <(BENCH_KEYS=$tmp/keys-payg run_wrk "$url" 16 "$root/scripts/bench/random.lua")
	payg+=("$a") pp99+=("$d")
done
f=$(median "${free[@]}") p=$(median "${payg[@]}")
rows=$(psql_ "SELECT count(*) || ' rows, ' || count(sent_at) || ' sent' FROM billing_outbox")
echo "| accounts | req/s (median) | p99 ms | req/s, each run | payg / free |"
echo "|---|---|---|---|---|"
echo "| free, within the allowance | **$f** | $(median "${fp99[@]}") | ${free[*]} | |"
echo "| payg, every call overage | **$p** | $(median "${pp99[@]}") | ${payg[*]} | $(awk -v p="$p" -v f="$f" 'BEGIN { printf "%.3f", p / f }') |"
echo
echo "Outbox after the runs: $rows. $(awk -v p="$p" -v f="$f" 'BEGIN { print (p >= 0.9 * f ? "Within 10 %." : "NOT within 10 %.") }')"
