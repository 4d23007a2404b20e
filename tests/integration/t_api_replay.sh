#!/usr/bin/env bash
# The book at T from the API (checkpoint + deltas) equals a brute-force replay of every delta
# (kbook-gen's oracle, which ignores periodic checkpoints) at 1 000+ random instants of generated
# history with gaps, ties and a checkpoint every 50 deltas; the one-pass sampler equals the replay
# at every sample. Through nginx.
set -u
. "$TEST_ROOT/tests/integration/lib.sh"
export KBOOK_DATABASE_URL=$TEST_PG
ADMIN=$TEST_BIN/kbook-admin

$ADMIN account create replay@kbook.test >/dev/null
$ADMIN account set replay@kbook.test rate 1000000 >/dev/null
$ADMIN account set replay@kbook.test credits 100000000 >/dev/null
KEY=$($ADMIN key create replay@kbook.test)

out=$("$TEST_BIN/kbook-gen" --prefix RPL --markets 60 --deltas 40000 --gaps 12 --ties \
	--checkpoint-every 50 --start 2026-10-01T00:00:00Z --span 7200 --seed 11 2>&1)
check_match "generated 40 000 deltas" '"deltas":40000' "$out"
out=$(/usr/bin/python3 "$TEST_ROOT/tests/integration/replay_check.py" "$TEST_URL" "$KEY" \
	"$TEST_BIN/kbook-gen" RPL 1000 3 2>&1)
rc=$?
echo "$out" | tail -20
check "API books equal the brute-force replay" 0 "$rc"
check_match "at least 1 000 instants compared" 'compared [0-9]{4,} instants' "$out"
check_match "samples compared" 'compared [0-9]{3,} samples' "$out"
"$TEST_BIN/kbook-gen" --delete --prefix RPL >/dev/null 2>&1
finish
