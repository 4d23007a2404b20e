#!/usr/bin/env bash
# make test: runs make lint's checks (scripts/lint.sh), brings up the real stack (Postgres, the
# kbook-api pool under spawn-fcgi, nginx) on free ports in a temporary directory, runs the CUnit
# suites, a short fuzz pass and every tests/integration/t_*.sh, tears everything down (also on
# failure or Ctrl-C), scans the logs for sanitizer reports, and exits non-zero if anything failed
# (a lint finding too).
#
# usage: scripts/test.sh BIN_DIR FUZZ_DIR     (KEEP_TMP=1 keeps the temporary directory;
#        TESTS="t_api t_feed_core" runs only those integration tests, and no lint or fuzz pass,
#        for work on one part (LINT=1 adds the lint); the full run, what CI does, is with TESTS
#        unset)
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$1" && pwd)
fuzz=$2
# shellcheck source=scripts/stack.sh
. "$root/scripts/stack.sh"
# shellcheck source=tests/integration/lib.sh
. "$root/tests/integration/lib.sh"

start=$(date +%s)
tmp=$(mktemp -d /tmp/kbook-test.XXXXXX)
chmod 755 "$tmp"
stack=$tmp/stack
failed=()

teardown() {
	stack_stop "$stack"
	# Sanitizer reports anywhere in the logs fail the run, even when every test passed.
	local reports
	reports=$(grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' \
		-r "$tmp" --include='*.log' 2>/dev/null)
	if [ -n "$reports" ]; then
		echo "sanitizer reports found in:"
		for f in $reports; do
			echo "== $f"
			grep -A 30 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f" | head -60
		done
		failed+=("sanitizer-reports")
	fi
	echo
	echo "==== make test: $(($(date +%s) - start)) s"
	if [ ${#failed[@]} -eq 0 ]; then
		echo "==== ALL PASSED"
		[ "${KEEP_TMP:-0}" = 1 ] || rm -rf "$tmp"
		exit 0
	fi
	echo "==== FAILED: ${failed[*]}"
	echo "logs kept in $tmp"
	exit 1
}
trap teardown EXIT
trap 'failed+=("interrupted"); exit 1' INT TERM

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0

# The tests fire many requests from one address and one key; the flood limits are set where a
# test can still reach them on purpose (t_api's flood check).
export KBOOK_NGINX_IP_RATE=5000 KBOOK_NGINX_KEY_RATE=100
# The stack's kbook-billing sends overage 2 s after its bucket of 1 s closes rather than a minute
# after a bucket of a minute (docs/operations.md).
export KBOOK_BILLING_SETTLE_S=2 KBOOK_BILLING_BUCKET_S=1
# Lint first, while nothing else runs: ~2 min of CPU (cppcheck, then clang-tidy over every file).
if [ -z "${TESTS:-}" ] || [ "${LINT:-0}" = 1 ]; then
	echo "==== lint (cppcheck, clang-tidy, banned patterns)"
	t0=$(date +%s)
	if "$root/scripts/lint.sh" >"$tmp/lint.out" 2>&1; then
		cat "$tmp/lint.out"
		echo "---- lint passed ($(($(date +%s) - t0)) s)"
	else
		cat "$tmp/lint.out"
		echo "---- lint FAILED ($(($(date +%s) - t0)) s)"
		failed+=("lint")
	fi
fi

pg_port=$(free_port)
http_port=$(free_port)
echo "==== starting the stack in $stack (postgres socket port $pg_port, http $http_port)"
if ! stack_start "$stack" "$bin" "$pg_port" "$http_port"; then
	failed+=("stack-start")
	exit 1
fi

export TEST_BIN=$bin TEST_ROOT=$root TEST_STACK=$stack TEST_PGPORT=$pg_port TEST_HTTPPORT=$http_port
export TEST_URL=http://127.0.0.1:$http_port
export TEST_PG=$(stack_conninfo "$stack" "$pg_port")
if ! wait_port "$http_port" 20; then
	failed+=("nginx-not-listening")
	exit 1
fi

echo "==== unit tests (CUnit)"
if ! "$bin/unit-tests" 2>"$tmp/unit-stderr.log"; then
	failed+=("unit-tests")
fi

if [ -z "${TESTS:-}" ]; then
	echo "==== fuzz smoke (each target over its corpus, then briefly on new inputs)"
	if ! "$root/scripts/fuzz-smoke.sh" "$fuzz" 10 "$tmp/fuzz"; then
		failed+=("fuzz")
	fi
fi

for t in "$root"/tests/integration/t_*.sh; do
	name=$(basename "$t" .sh)
	if [ -n "${TESTS:-}" ] && [[ " $TESTS " != *" $name "* ]]; then
		continue
	fi
	export TEST_TMP=$tmp/$name
	mkdir -p "$TEST_TMP"
	chmod 755 "$TEST_TMP"
	echo "==== $name"
	t0=$(date +%s)
	if bash "$t" >"$TEST_TMP/output.log" 2>&1; then
		cat "$TEST_TMP/output.log"
		echo "---- $name passed ($(($(date +%s) - t0)) s)"
	else
		cat "$TEST_TMP/output.log"
		echo "---- $name FAILED ($(($(date +%s) - t0)) s)"
		failed+=("$name")
	fi
done
