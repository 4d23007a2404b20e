#!/usr/bin/env bash
# The harness's own helpers (lib.sh, sim_lib.sh): the checker scripts' "name<TAB>expected<TAB>actual"
# lines are split with empty fields kept in place, a line that lacks a field fails, and a failing
# line fails. Run in subshells with counters of their own, so only these checks count here.
set -u
. "$TEST_ROOT/tests/integration/lib.sh"
. "$TEST_ROOT/tests/sim/sim_lib.sh"

# run FUNC INPUT: FUNC's output on INPUT, then "checks/failed" of that run alone
run() {
	(T_CHECKS=0 T_FAILS=0; "$1" <<<"$2"; echo "$T_CHECKS/$T_FAILS")
}
tab=$'\t'

out=$(run check_lines "empty both$tab$tab")
check "two empty fields: equal, one check passed" "  ok   empty both|1/0" "$(paste -sd'|' <<<"$out")"
out=$(run check_lines "empty expected$tab${tab}kb_live_x")
check "an empty expected value stays the expected one" \
	"  FAIL empty expected: expected [], got [kb_live_x]|1/1" "$(paste -sd'|' <<<"$out")"
out=$(run check_lines "empty actual${tab}x$tab")
check "an empty actual value stays the actual one" \
	"  FAIL empty actual: expected [x], got []|1/1" "$(paste -sd'|' <<<"$out")"
out=$(run check_lines "spaces$tab a  b $tab a  b ")
check "spaces inside a field are kept" "  ok   spaces|1/0" "$(paste -sd'|' <<<"$out")"
out=$(run check_lines "two fields${tab}x")
check "a line without its third field fails" 1/1 "$(tail -1 <<<"$out")"
out=$(run check_lines "no tab at all")
check "a line without a tab fails" 1/1 "$(tail -1 <<<"$out")"
out=$(run check_lines "info${tab}a note$tab")
check "an info line is printed, not counted" "  info a note|0/0" "$(paste -sd'|' <<<"$out")"
out=$(run check_lines "$(printf 'a\t1\t1\nb\t2\t3\nc\t\t')")
check "several lines: each checked" "3/1" "$(tail -1 <<<"$out")"
out=$(run sim_record "$(printf 'CHECK\tsim\t\tgot\nINFO\tclients\t100')")
check "sim_record: CHECK lines the same way, other lines printed" \
	"  FAIL sim: expected [], got [got]|  | INFO clients 100|1/1" "$(paste -sd'|' <<<"$out")"
finish
