#!/usr/bin/env bash
# kbook-gen: bad flags exit 2 with a clear message; a generated dataset (30 markets, 20 000
# deltas, gaps, ties) has the right counts, unique (market_id, ts), prices on each market's grid,
# fractional sizes, valid gaps each ended by a snapshot, coverage, shared and clustered instants,
# and every periodic checkpoint equal to a replay (--verify-all); the same seed gives the same
# rows under another prefix; an existing prefix is refused unless --append; the replay oracle
# prints exact JSON on a hand-made market (before coverage, at and between deltas, inside a gap,
# at the snapshot that ends it), ignores periodic checkpoints, agrees with an independent SQL
# reconstruction on generated data, and --replay-all equals one --replay per instant. Every row
# of the test's prefixes is deleted at the end.
set -u
. "$TEST_ROOT/tests/integration/lib.sh"

GEN=$TEST_BIN/kbook-gen
export KBOOK_DATABASE_URL=$TEST_PG
ERR=$TEST_TMP/gen-stderr.log   # scanned for sanitizer reports with the other logs
P=TGEN$$                       # unique prefixes: other tests' rows are never touched
P1=${P}A P2=${P}B P3=${P}C P4=${P}D

q() { psql -X -tA -q -v ON_ERROR_STOP=1 -d "$TEST_PG" "$@"; }

# gen ARGS...: runs kbook-gen, stdout in $out, exit status in $rc; stderr appended to $ERR.
gen() {
	out=$("$GEN" "$@" 2>>"$ERR")
	rc=$?
}

cleanup() {
	for p in "$P1" "$P2" "$P3" "$P4"; do "$GEN" --delete --prefix "$p" >/dev/null 2>>"$ERR"; done
}
trap cleanup EXIT

echo "bad flags: exit 2 and a message naming the problem"
# bad_flag NAME REGEX ARGS...
bad_flag() {
	local name=$1 re=$2
	shift 2
	msg=$("$GEN" "$@" 2>&1 >/dev/null)
	rc=$?
	check "$name exits 2" 2 "$rc"
	check_match "$name says why" "$re" "$msg"
}
bad_flag "non-integer" '--markets: "abc" is not an integer in 1\.\.1000000' --markets abc
bad_flag "zero markets" '--markets: "0" is not an integer' --markets 0
bad_flag "negative deltas" '--deltas: "-5" is not an integer' --deltas -5
bad_flag "unknown flag" 'unknown flag --bogus' --bogus
bad_flag "missing argument" '--seed needs an argument' --seed
bad_flag "bad instant" '--start: "yesterday" is not an instant' --start yesterday
bad_flag "bad order" '"sideways" is not time or market' --order sideways
bad_flag "bad prefix" '--prefix "a b"' --prefix 'a b'
bad_flag "replay without --at" '--replay needs --at' --replay X-1
bad_flag "two modes" '--replay and --verify exclude each other' --replay X --verify Y
bad_flag "flag of another mode" '--markets does not apply to replay' --replay X --at 0 --markets 3
bad_flag "span too short" '--span 1 s is too short for 5000000 deltas' --deltas 5000000 --span 1 --prefix "$P1"
bad_flag "more events than markets" '--events: more events than markets' --markets 2 --events 3
bad_flag "stray argument" 'unexpected argument "extra"' --markets 2 extra
"$GEN" --help >"$TEST_TMP/help" 2>>"$ERR"
check "--help exits 0" 0 "$?"
check_match "--help documents --checkpoint-every" 'checkpoint-every N' "$(cat "$TEST_TMP/help")"

echo "generate: 30 markets, 20 000 deltas, 12 gaps, ties"
FLAGS=(--markets 30 --deltas 20000 --gaps 12 --ties --seed 7 --checkpoint-every 200
	--start 2024-05-01T00:00:00Z --span 7200)
gen "${FLAGS[@]}" --prefix "$P1"
check "generation exits 0" 0 "$rc"
check "summary counts the deltas" 20000 "$(jq -r .deltas <<<"$out")"
check "summary counts the gaps" 12 "$(jq -r .gaps <<<"$out")"
ids="(SELECT id FROM markets WHERE left(ticker, length('$P1-')) = '$P1-')"
check "markets" 30 "$(q -c "SELECT count(*) FROM markets WHERE id IN $ids")"
check "deltas" 20000 "$(q -c "SELECT count(*) FROM book_deltas WHERE market_id IN $ids")"
check "gaps" 12 "$(q -c "SELECT count(*) FROM gaps WHERE market_id IN $ids")"
check "checkpoints as the summary says" \
	"$(jq -r '.snapshots + .periodic' <<<"$out")" \
	"$(q -c "SELECT count(*) FROM book_checkpoints WHERE market_id IN $ids")"
check "a snapshot per recorded market and per gap" \
	"$(q -c "SELECT (SELECT count(*) FROM markets WHERE id IN $ids AND first_ts IS NOT NULL) + 12")" \
	"$(q -c "SELECT count(*) FROM book_checkpoints WHERE market_id IN $ids AND source = 'snapshot'")"
check "(market_id, ts) unique" 0 "$(q -c "SELECT count(*) FROM (SELECT market_id, ts FROM book_deltas
	WHERE market_id IN $ids GROUP BY 1, 2 HAVING count(*) > 1) x")"
check "prices on each market's grid, strictly inside 0..1" 0 "$(q -c "SELECT count(*) FROM book_deltas d
	JOIN markets m ON m.id = d.market_id WHERE m.id IN $ids AND (d.price <= 0 OR d.price >= 1000000
	OR (m.price_level_structure = 'linear_cent' AND d.price % 10000 <> 0)
	OR (m.price_level_structure = 'deci_cent' AND d.price % 1000 <> 0)
	OR (m.price_level_structure = 'tapered_deci_cent' AND d.price % 1000 <> 0)
	OR (m.price_level_structure = 'tapered_deci_cent' AND d.price BETWEEN 100000 AND 900000
	    AND d.price % 10000 <> 0))")"
check "both sides, adds and removals" "t" "$(q -c "SELECT count(DISTINCT side) = 2 AND bool_or(delta > 0)
	AND bool_or(delta < 0) FROM book_deltas WHERE market_id IN $ids")"
check "fractional sizes" "t" "$(q -c "SELECT count(*) > 100 FROM book_deltas WHERE market_id IN $ids
	AND delta % 100 <> 0")"
check "exchange_ts is in ms, a little before ts" 0 "$(q -c "SELECT count(*) FROM book_deltas
	WHERE market_id IN $ids AND (exchange_ts > ts OR exchange_ts < ts - interval '1 s'
	OR extract(microseconds FROM exchange_ts)::int % 1000 <> 0)")"
check "no delta inside a gap" 0 "$(q -c "SELECT count(*) FROM book_deltas d JOIN gaps g
	ON g.market_id = d.market_id WHERE g.market_id IN $ids AND d.ts >= g.start_ts AND d.ts < g.end_ts")"
check "every gap ends with a snapshot" 12 "$(q -c "SELECT count(*) FROM gaps g JOIN book_checkpoints c
	ON c.market_id = g.market_id AND c.ts = g.end_ts AND c.source = 'snapshot' WHERE g.market_id IN $ids")"
check "gaps with and without divergence" "t|t" "$(q -c "SELECT bool_or(diverged), bool_or(NOT diverged)
	FROM gaps WHERE market_id IN $ids")"
check "gap bounds ordered" 0 "$(q -c "SELECT count(*) FROM gaps WHERE market_id IN $ids
	AND NOT (end_ts > start_ts)")"
check "coverage: first_ts is the first snapshot, last_ts the last row" 0 "$(q -c "SELECT count(*)
	FROM markets m WHERE m.id IN $ids AND m.first_ts IS NOT NULL AND (
	m.first_ts <> (SELECT min(ts) FROM book_checkpoints c WHERE c.market_id = m.id) OR
	m.last_ts <> greatest((SELECT max(ts) FROM book_deltas d WHERE d.market_id = m.id),
	                      (SELECT max(ts) FROM book_checkpoints c WHERE c.market_id = m.id)))")"
check "at most N deltas between checkpoints" 0 "$(q -c "WITH r AS (
	SELECT market_id, ts, 1 AS d, 0 AS c FROM book_deltas WHERE market_id IN $ids
	UNION ALL SELECT market_id, ts, 0, 1 FROM book_checkpoints WHERE market_id IN $ids),
	s AS (SELECT market_id, d, sum(c) OVER (PARTITION BY market_id ORDER BY ts, c) AS seg FROM r)
	SELECT count(*) FROM (SELECT 1 FROM s WHERE d = 1 GROUP BY market_id, seg HAVING count(*) > 200) x")"
check "instants shared by several markets (--ties)" "t" "$(q -c "SELECT count(*) > 50 FROM (SELECT ts
	FROM book_deltas WHERE market_id IN $ids GROUP BY ts HAVING count(*) > 1) x")"
check "clusters of consecutive microseconds within a market" "t" "$(q -c "SELECT count(*) > 1000 FROM
	(SELECT ts - lag(ts) OVER (PARTITION BY market_id ORDER BY ts) AS step FROM book_deltas
	 WHERE market_id IN $ids) x WHERE step = interval '1 microsecond'")"
check "events, 4 per series" "6|2" "$(q -c "SELECT count(DISTINCT event_ticker), count(DISTINCT series_ticker)
	FROM markets WHERE id IN $ids")"
check "Kalshi statuses only" 0 "$(q -c "SELECT count(*) FROM markets WHERE id IN $ids AND status NOT IN
	('initialized', 'active', 'closed', 'determined', 'finalized')")"
check "price grid metadata" 0 "$(q -c "SELECT count(*) FROM markets WHERE id IN $ids AND (notional <> 1000000
	OR jsonb_typeof(price_ranges) <> 'array' OR price_ranges->0->>'step' IS NULL
	OR price_level_structure NOT IN ('linear_cent', 'deci_cent', 'tapered_deci_cent')
	OR title = '' OR (SELECT r.raw->>'ticker' FROM market_raw r WHERE r.market_id = markets.id)
	   IS DISTINCT FROM ticker)")"

echo "every periodic checkpoint and gap verified against a replay"
gen --verify-all --prefix "$P1"
check "--verify-all exits 0" 0 "$rc"
check "--verify-all: 30 markets, none failed, no mismatch" "30|0|0|0|20000" \
	"$(jq -r '[.markets, .failed, .mismatches, .errors, .deltas] | join("|")' <<<"$out")"

echo "determinism: the same seed under another prefix gives the same rows"
gen "${FLAGS[@]}" --prefix "$P2"
check "second generation exits 0" 0 "$rc"
# dump PREFIX: every row of the prefix with the prefix cut off, ordered; prints its md5
dump() {
	q -v p="$1-" <<'SQL' | md5sum | cut -d' ' -f1
SELECT substr(m.ticker, length(:'p')), d.ts, d.exchange_ts, d.side, d.price, d.delta
FROM book_deltas d JOIN markets m ON m.id = d.market_id WHERE left(m.ticker, length(:'p')) = :'p' ORDER BY 1, 2;
SELECT substr(m.ticker, length(:'p')), c.ts, c.source, c.yes_prices, c.yes_sizes, c.no_prices, c.no_sizes
FROM book_checkpoints c JOIN markets m ON m.id = c.market_id WHERE left(m.ticker, length(:'p')) = :'p' ORDER BY 1, 2;
SELECT substr(m.ticker, length(:'p')), g.start_ts, g.end_ts, g.reason, g.detail, g.diverged
FROM gaps g JOIN markets m ON m.id = g.market_id WHERE left(m.ticker, length(:'p')) = :'p' ORDER BY 1, 2;
SELECT substr(ticker, length(:'p')), substr(event_ticker, length(:'p')), substr(series_ticker, length(:'p')),
	title, subtitle, yes_sub_title, no_sub_title, status, open_time, close_time, expected_expiration_time,
	settled_time, result, price_level_structure, price_ranges, notional, first_ts, last_ts,
	r.raw - 'ticker' - 'event_ticker' - 'series_ticker'
FROM markets m LEFT JOIN market_raw r ON r.market_id = m.id WHERE left(ticker, length(:'p')) = :'p' ORDER BY 1;
SQL
}
d1=$(dump "$P1")
check "identical rows for the same seed" "$d1" "$(dump "$P2")"
"$GEN" --delete --prefix "$P2" >/dev/null 2>>"$ERR"
gen --markets 30 --deltas 20000 --gaps 12 --ties --seed 8 --checkpoint-every 200 \
	--start 2024-05-01T00:00:00Z --span 7200 --prefix "$P2"
d2=$(dump "$P2")
if [ "$d1" != "$d2" ]; then check "another seed gives other rows" differ differ
else check "another seed gives other rows" differ same; fi

echo "an existing prefix is refused unless --append"
msg=$("$GEN" --markets 2 --deltas 10 --prefix "$P1" 2>&1 >/dev/null)
check "refused: exit 2" 2 "$?"
check_match "refused: says why" "30 markets with prefix $P1 exist" "$msg"
gen --markets 5 --deltas 1000 --gaps 2 --append --prefix "$P1" --start 2024-05-01T03:00:00Z --span 600
check "--append exits 0" 0 "$rc"
check "--append adds markets" 35 "$(q -c "SELECT count(*) FROM markets WHERE id IN $ids")"
check "--append continues the event numbering" 7 "$(q -c "SELECT count(DISTINCT event_ticker) FROM markets
	WHERE id IN $ids")"
gen --verify-all --prefix "$P1"
check "--verify-all after --append" "35|0" "$(jq -r '[.markets, .failed] | join("|")' <<<"$out")"

echo "replay oracle: a hand-made market"
T0=2024-06-01T00:00
# Recorded to its settlement (final_ts): complete after its last row whatever the
# database-wide recorded-through mark, which other tests' collectors move.
mid=$(q -c "INSERT INTO markets (ticker, final_ts) VALUES ('$P3-HAND', '$T0:07Z') RETURNING id")
q -c "INSERT INTO book_checkpoints VALUES
	($mid, '$T0:01Z', 'snapshot', '{450000,460000}', '{1381566,500}', '{500000}', '{1000}'),
	($mid, '$T0:02.000001Z', 'periodic', '{450000}', '{1}', '{}', '{}'),
	($mid, '$T0:06Z', 'snapshot', '{440000}', '{700}', '{510000}', '{250}')"
q -c "INSERT INTO book_deltas VALUES
	($mid, '$T0:02Z', '$T0:01.990Z', 0, 460000, -500),
	($mid, '$T0:02.000001Z', '$T0:01.990Z', 1, 520000, 1234),
	($mid, '$T0:03Z', '$T0:02.990Z', 0, 450000, 25),
	($mid, '$T0:07Z', '$T0:06.990Z', 1, 510000, -250)"
q -c "INSERT INTO gaps (market_id, start_ts, end_ts, reason, diverged, closed_by) VALUES
	($mid, '$T0:04Z', '$T0:06Z', 'disconnect', true, 'snapshot')"
H="{\"ticker\":\"$P3-HAND\",\"at\":"
# replay_is NAME AT EXPECTED-TAIL: the line printed for AT is $H"AT-as-RFC3339",EXPECTED-TAIL
replay_is() {
	gen --replay "$P3-HAND" --at "$2"
	check "replay $1" "$H\"$4\",$3" "$out"
}
replay_is "before coverage" "$T0:00.5Z" '"complete":false,"reason":"no_coverage","yes":[],"no":[]}' \
	"$T0:00.500000Z"
replay_is "at the first snapshot" "$T0:01Z" \
	'"complete":true,"yes":[["0.4500","13815.66"],["0.4600","5.00"]],"no":[["0.5000","10.00"]]}' \
	"$T0:01.000000Z"
replay_is "at a delta's ts (inclusive)" "$T0:02Z" \
	'"complete":true,"yes":[["0.4500","13815.66"]],"no":[["0.5000","10.00"]]}' "$T0:02.000000Z"
replay_is "one microsecond later (periodic checkpoint ignored)" 1717200002000001 \
	'"complete":true,"yes":[["0.4500","13815.66"]],"no":[["0.5000","10.00"],["0.5200","12.34"]]}' \
	"$T0:02.000001Z"
replay_is "between deltas, unix ms" 1717200003500 \
	'"complete":true,"yes":[["0.4500","13815.91"]],"no":[["0.5000","10.00"],["0.5200","12.34"]]}' \
	"$T0:03.500000Z"
GAP='"complete":false,"reason":"gap","gap_start":"2024-06-01T00:00:04.000000Z","gap_end":"2024-06-01T00:00:06.000000Z","yes":[],"no":[]}'
replay_is "at a gap's start" "$T0:04Z" "$GAP" "$T0:04.000000Z"
replay_is "just before a gap's end" "$T0:05.999999Z" "$GAP" "$T0:05.999999Z"
replay_is "at the snapshot ending the gap" "2024-06-01T02:00:06+02:00" \
	'"complete":true,"yes":[["0.4400","7.00"]],"no":[["0.5100","2.50"]]}' "$T0:06.000000Z"
replay_is "a level emptied" 1717200100 '"complete":true,"yes":[["0.4400","7.00"]],"no":[]}' \
	"2024-06-01T00:01:40.000000Z"
gen --replay "$P3-NOPE" --at 1717200100
check "unknown ticker exits 1" 1 "$rc"
gen --verify "$P3-HAND"
check "--verify catches the wrong periodic checkpoint" "1|1|0" \
	"$(jq -r '[.mismatches, .periodic, .errors] | join("|")' <<<"$out")"
check "--verify exits 1 on a mismatch" 1 "$rc"

printf '%s\n' 1717200100 "$T0:01Z" "$T0:04Z" 1717200003500 "$T0:00.5Z" "$T0:02Z" >"$TEST_TMP/hand.at"
gen --replay-all "$P3-HAND" --at-list "$TEST_TMP/hand.at"
check "--replay-all exits 0" 0 "$rc"
want=$(while read -r t; do "$GEN" --replay "$P3-HAND" --at "$t" 2>>"$ERR"; done <"$TEST_TMP/hand.at")
check "--replay-all = one --replay per instant, in the list's order" "$want" "$out"
printf 'soon\n' >"$TEST_TMP/bad.at"
gen --replay-all "$P3-HAND" --at-list "$TEST_TMP/bad.at"
check "--replay-all refuses a bad instant" 2 "$rc"

echo "replay oracle on generated data against an independent SQL reconstruction"
busy=$(q -c "SELECT m.ticker FROM markets m JOIN gaps g ON g.market_id = m.id WHERE m.id IN $ids
	GROUP BY m.id, m.ticker ORDER BY count(*) DESC, (SELECT count(*) FROM book_deltas d WHERE d.market_id = m.id) DESC,
	m.ticker LIMIT 1")
q -c "SELECT (extract(epoch FROM first_ts) * 1000000)::int8 + (random_us % ((extract(epoch FROM last_ts -
	first_ts) * 1000000)::int8 + 1)) FROM markets, (SELECT (random() * 1e15)::int8 AS random_us
	FROM generate_series(1, 300)) r WHERE ticker = '$busy'" >"$TEST_TMP/gen.at"
q -c "SELECT (extract(epoch FROM ts) * 1000000)::int8 FROM book_deltas WHERE market_id =
	(SELECT id FROM markets WHERE ticker = '$busy') ORDER BY ts LIMIT 50" >>"$TEST_TMP/gen.at"
gen --replay-all "$busy" --at-list "$TEST_TMP/gen.at"
check "--replay-all on $busy exits 0" 0 "$rc"
check "one line per instant" "$(wc -l <"$TEST_TMP/gen.at")" "$(wc -l <<<"$out")"
paste -d' ' "$TEST_TMP/gen.at" <(printf '%s\n' "$out") >"$TEST_TMP/gen.pairs"
# sql_book US: the book at US from the last snapshot at or before it plus the deltas after it,
# as the oracle's JSON arrays, or "gap" / "none"
sql_book() {
	q -v m="$busy" -v t="$1" <<'SQL'
WITH mk AS (SELECT id FROM markets WHERE ticker = :'m'),
at AS (SELECT timestamptz 'epoch' + (:t::int8 / 1000000) * interval '1 second'
	+ (:t::int8 % 1000000) * interval '1 microsecond' AS t),
s AS (SELECT c.* FROM book_checkpoints c, mk, at WHERE c.market_id = mk.id AND c.source = 'snapshot'
	AND c.ts <= at.t ORDER BY c.ts DESC LIMIT 1),
lv AS (SELECT 0 AS side, p AS price, z AS size FROM s, unnest(s.yes_prices, s.yes_sizes) u(p, z)
	UNION ALL SELECT 1, p, z FROM s, unnest(s.no_prices, s.no_sizes) u(p, z)
	UNION ALL SELECT d.side, d.price, d.delta FROM book_deltas d, mk, at, s
	WHERE d.market_id = mk.id AND d.ts > s.ts AND d.ts <= at.t),
b AS (SELECT side, price, sum(size) AS size FROM lv GROUP BY 1, 2 HAVING sum(size) <> 0),
j AS (SELECT side, json_agg(json_build_array(
	to_char(price / 1e6, 'FM0.0000'), to_char(size / 100.0, 'FM999999999990.00')) ORDER BY price) AS a
	FROM b GROUP BY side)
SELECT CASE
	WHEN EXISTS (SELECT 1 FROM gaps g, mk, at WHERE g.market_id = mk.id AND g.start_ts <= at.t AND at.t < g.end_ts)
	THEN 'gap'
	WHEN NOT EXISTS (SELECT 1 FROM s) THEN 'none'
	ELSE coalesce((SELECT a::text FROM j WHERE side = 0), '[]') || '|' || coalesce((SELECT a::text FROM j WHERE side = 1), '[]')
END
SQL
}
agree=0 total=0 shown=0
while read -r t line; do
	want=$(sql_book "$t" | tr -d ' ')
	case "$want" in
	gap) got=$(jq -r 'if .complete then "complete" else .reason end' <<<"$line") ;;
	none) got=$(jq -r 'if .complete then "complete" else .reason end' <<<"$line"); want=no_coverage ;;
	*) got=$(jq -r '(.yes|tostring) + "|" + (.no|tostring)' <<<"$line") ;;
	esac
	total=$((total + 1))
	if [ "$want" = "$got" ]; then agree=$((agree + 1)); elif [ $shown -lt 3 ]; then
		shown=$((shown + 1)); echo "    at $t: sql [$want] oracle [$got]"; fi
done <"$TEST_TMP/gen.pairs"
check "oracle = SQL reconstruction at $total instants" "350|350" "$total|$agree"
check "the instants include gaps and complete books" true \
	"$(jq -s 'any(.[]; .reason == "gap") and any(.[]; .complete)' <<<"$out")"

echo "--delete removes every row of a prefix"
idlist=$(q -c "SELECT string_agg(id::text, ',') FROM markets WHERE id IN $ids")
gen --delete --prefix "$P1"
check "--delete exits 0" 0 "$rc"
check "--delete counts" "35|21000|14" "$(jq -r '[.deleted.markets, .deleted.deltas, .deleted.gaps] | join("|")' <<<"$out")"
check "nothing left of the prefix" 0 "$(q -c "SELECT count(*) FROM markets WHERE left(ticker, length('$P1-')) = '$P1-'")"
check "no delta or checkpoint left of its markets" 0 "$(q -c "SELECT (SELECT count(*) FROM book_deltas
	WHERE market_id IN ($idlist)) + (SELECT count(*) FROM book_checkpoints WHERE market_id IN ($idlist))")"

finish
