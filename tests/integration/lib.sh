# Shared helpers for the integration tests (sourced, bash).
#
# scripts/test.sh runs every tests/integration/t_*.sh with these variables set:
#   TEST_BIN       directory of the (sanitizer-built) binaries
#   TEST_ROOT      the repository root
#   TEST_TMP       this test's own scratch directory (removed afterwards)
#   TEST_URL       base URL of nginx in front of the stack, e.g. http://127.0.0.1:40123
#   TEST_STACK     the stack directory (pg/, run/, log/, nginx/)
#   TEST_PG        a libpq connection string for the stack's database
# (Not KBOOK_*: every KBOOK_* variable is program configuration, and the programs refuse
# ones they do not know.)
# A test exits 0 on success and non-zero on failure, printing what failed.

T_FAILS=0
T_CHECKS=0

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT [SECONDS]: waits until something accepts on 127.0.0.1:PORT.
wait_port() {
	local port=$1 limit=${2:-20} i
	for ((i = 0; i < limit * 10; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing listens on port $port after ${limit}s" >&2
	return 1
}

# check NAME EXPECTED ACTUAL: records one assertion.
check() {
	T_CHECKS=$((T_CHECKS + 1))
	if [ "$2" == "$3" ]; then
		echo "  ok   $1"
	else
		echo "  FAIL $1: expected [$2], got [$3]"
		T_FAILS=$((T_FAILS + 1))
	fi
}

# check_tsv LINE: a checker script's "name<TAB>expected<TAB>actual", checked. Split by hand:
# `IFS=$'\t' read` counts a tab as whitespace and merges an empty field into the next one, so an
# empty expected value was reported as the actual one (CI 2026-12-05: "expected [kb_live_...],
# got []"). A line without its three fields fails.
check_tsv() {
	local rest=${1#*$'\t'}

	if [[ $1 != *$'\t'*$'\t'* ]]; then
		check "a checker's line has a name, an expected and an actual value" "3 fields" "$1"
		return
	fi
	check "${1%%$'\t'*}" "${rest%%$'\t'*}" "${rest#*$'\t'}"
}

# check_lines: check_tsv on each line of stdin; a line named info is printed, not checked
check_lines() {
	local line

	while IFS= read -r line || [ -n "$line" ]; do
		if [[ $line == info$'\t'* ]]; then
			line=${line#info$'\t'}
			echo "  info ${line%%$'\t'*}"
		else
			check_tsv "$line"
		fi
	done
}

# check_match NAME REGEX ACTUAL
check_match() {
	T_CHECKS=$((T_CHECKS + 1))
	if [[ $3 =~ $2 ]]; then
		echo "  ok   $1"
	else
		echo "  FAIL $1: [$3] does not match /$2/"
		T_FAILS=$((T_FAILS + 1))
	fi
}

# finish: the test's exit status; call last.
finish() {
	echo "  $T_CHECKS checks, $T_FAILS failed"
	[ "$T_CHECKS" -gt 0 ] && [ "$T_FAILS" -eq 0 ]
}

# require_node_modules PKG...: exits the test with a failure naming `make deps` when an npm
# package of tests/package.json is not installed. Tests never install packages themselves:
# `make deps` runs `npm ci` from the lock file and shows its errors.
require_node_modules() {
	local p
	for p in "$@"; do
		if [ ! -f "${TEST_ROOT:-$KBOOK_ROOT}/tests/node_modules/$p/package.json" ]; then
			echo "  FAIL npm package $p is missing from tests/node_modules: run 'make deps'"
			exit 1
		fi
	done
}
