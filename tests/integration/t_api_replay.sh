#!/usr/bin/env bash
# The book at T from the API (checkpoint + deltas) equals a brute-force replay of every delta
# (kbook-gen's oracle, which ignores periodic checkpoints) at 1 000+ random instants of generated
# history across a midnight (with the midnight checkpoints), with gaps, ties and a checkpoint every
# 50 deltas; the one-pass sampler equals the replay at every sample. Through nginx. Then the same
# across midnight without the midnight checkpoints, and after a day's partition was dropped under
# the running API (its rows moved to the default partition).
set -u
. "$TEST_ROOT/tests/integration/lib.sh"
export KBOOK_DATABASE_URL=$TEST_PG
ADMIN=$TEST_BIN/kbook-admin

$ADMIN account create replay@kbook.test >/dev/null
$ADMIN account set replay@kbook.test rate 1000000 >/dev/null
$ADMIN account set replay@kbook.test credits 100000000 >/dev/null
KEY=$($ADMIN key create replay@kbook.test)

# replay PREFIX N SEED TAIL: compares the API with the replay at N instants of every market of
# PREFIX (tests/integration/replay_check.py); its output in $out (last TAIL lines shown), status in $rc.
replay() {
	out=$(/usr/bin/python3 "$TEST_ROOT/tests/integration/replay_check.py" "$TEST_URL" "$KEY" \
		"$TEST_BIN/kbook-gen" "$1" "$2" "$3" 2>&1)
	rc=$?
	echo "$out" | tail -"$4"
}

out=$("$TEST_BIN/kbook-gen" --prefix RPL --markets 60 --deltas 40000 --gaps 12 --ties \
	--checkpoint-every 50 --start 2026-09-30T23:00:00Z --span 7200 --seed 11 2>&1)
check_match "generated 40 000 deltas" '"deltas":40000' "$out"
replay RPL 1000 3 20
check "API books equal the brute-force replay" 0 "$rc"
check_match "at least 1 000 instants compared" 'compared [0-9]{4,} instants' "$out"
check_match "samples compared" 'compared [0-9]{3,} samples' "$out"
"$TEST_BIN/kbook-gen" --delete --prefix RPL >/dev/null 2>&1

# Across a midnight that is also a month's end, without the midnight checkpoints (as history
# recorded before them): checkpoints and instants on either side of the boundary (the API reads a
# day's partition directly only when the checkpoint and T share the day, and the checkpoint from
# the month's partition only when the month has one before T; else the parent).
out=$("$TEST_BIN/kbook-gen" --prefix RPM --markets 30 --deltas 20000 --gaps 4 --checkpoint-every 300 \
	--checkpoint-minutes 0 --start 2026-10-31T23:00:00Z --span 7200 --seed 12 2>&1)
check_match "generated 20 000 deltas across midnight" '"deltas":20000' "$out"
check "books on Nov 1 whose latest checkpoint is in October" t "$(psql -X -q -tA -d "$TEST_PG" -c \
	"SELECT count(*) >= 10 FROM markets m WHERE m.ticker LIKE 'RPM-%'
	AND NOT EXISTS (SELECT 1 FROM book_checkpoints c WHERE c.market_id = m.id AND c.ts < '2026-11-01T00:30:00Z'
	AND c.ts >= '2026-11-01')")"
replay RPM 600 4 3
check "across midnight: API books equal the replay" 0 "$rc"

# An operator moves a day's rows to the default partition (detach, re-insert through the parent,
# drop) while the API runs with that day's statement prepared: answers stay right.
day=book_deltas_p2026_11_01
sql_() { psql -X -q -tA -d "$TEST_PG" -c "$1"; }
check "the day's partition existed" t "$(sql_ "SELECT to_regclass('$day') IS NOT NULL")"
sql_ "ALTER TABLE book_deltas DETACH PARTITION $day; INSERT INTO book_deltas SELECT * FROM $day; DROP TABLE $day" >/dev/null
check "its rows are in the default partition" t \
	"$(sql_ "SELECT count(*) > 0 FROM book_deltas_default WHERE ts >= '2026-11-01' AND ts < '2026-11-02'")"
replay RPM 600 5 3
check "after the partition was dropped: API books equal the replay" 0 "$rc"
"$TEST_BIN/kbook-gen" --delete --prefix RPM >/dev/null 2>&1
finish
