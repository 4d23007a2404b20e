#!/usr/bin/env bash
# make unit / make valgrind: runs the CUnit suites, under CMD when one is given (valgrind ...).
# The db suite needs a real Postgres: inside make test it uses the stack's (TEST_PG); run alone
# it gets a throwaway cluster in a temporary directory, on a unix socket only, stopped and
# removed on exit.
# usage: scripts/unit.sh UNIT_BIN [CMD...]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
unit=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
# shellcheck source=scripts/stack.sh
. "$root/scripts/stack.sh"
# shellcheck source=tests/integration/lib.sh
. "$root/tests/integration/lib.sh"

if [ -z "${TEST_PG:-}" ]; then
	tmp=$(mktemp -d /tmp/kbook-unit.XXXXXX)
	trap 'pg_stop "$tmp"; rm -rf "$tmp"' EXIT
	export TEST_PG
	TEST_PG=$(pg_scratch_start "$tmp") || { echo "unit: Postgres did not start" >&2; exit 1; }
fi
"$@" "$unit"
