#!/usr/bin/env bash
# make bench: runs every scripts/bench/NN-*.sh section in order and writes their Markdown to
# docs/benchmarks.md. Each section starts what it measures (in its own temporary directory),
# measures a limit in the same run, prints a Markdown section on stdout and stops everything.
#
# usage: scripts/bench.sh BIN_DIR [SECTION...]   (SECTION: a name such as 20-api; default all)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$1" && pwd)
shift
out=$root/docs/benchmarks.md
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

sections=("$@")
[ ${#sections[@]} -gt 0 ] || mapfile -t sections < <(ls "$root"/scripts/bench/ | sed -n 's/^\([0-9][0-9]-.*\)\.sh$/\1/p')
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` (scripts/bench.sh, one section per scripts/bench/*.sh) on"
	echo "$(date -u +%Y-%m-%d), $(nproc) cores ($cpu), release build. Every figure stands beside a"
	echo "limit measured in the same run. Latencies are from wrk (\`--latency\`), client side."
	echo
} >"$tmp"
for s in "${sections[@]}"; do
	echo "bench: $s" >&2
	# what the previous section wrote (and deleted: the Data API's 6 GB database) is on disk
	# before this one measures
	sync
	bash "$root/scripts/bench/$s.sh" "$bin" >>"$tmp"
	echo >>"$tmp"
done
# A partial run (named sections) keeps the other sections of the existing file.
if [ $# -gt 0 ] && [ -f "$out" ]; then
	/usr/bin/python3 - "$out" "$tmp" <<'PY'
import re, sys
old, new = open(sys.argv[1]).read(), open(sys.argv[2]).read()
def split(t):
    parts = re.split(r'(?m)^(?=## )', t)
    return parts[0], {p.splitlines()[0]: p for p in parts[1:]}
head, olds = split(old)
nhead, news = split(new)
olds.update(news)
open(sys.argv[1], "w").write(nhead + "".join(olds[k] for k in sorted(olds)))
PY
else
	cp "$tmp" "$out"
fi
echo "bench: wrote $out" >&2
