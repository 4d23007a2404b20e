#!/usr/bin/env bash
# Runs every fuzz target over its checked-in corpus (regressions), then for SECONDS on new inputs.
# usage: scripts/fuzz-smoke.sh FUZZ_DIR SECONDS [WORK_DIR]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$1 secs=$2 work=${3:-$(mktemp -d)}
rc=0
mkdir -p "$work"
for f in "$dir"/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus=$root/tests/fuzz/corpus/$name
	mkdir -p "$work/$name"
	[ -d "$corpus" ] && cp -r "$corpus"/. "$work/$name/"
	if "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/$name-" \
		"$work/$name" >"$work/$name.log" 2>&1; then
		echo "  ok   $name: $(grep -o 'Done [0-9]* runs' "$work/$name.log" | tail -1)"
	else
		echo "  FAIL $name (see below)"
		tail -40 "$work/$name.log"
		rc=1
	fi
done
exit $rc
