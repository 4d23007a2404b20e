#!/usr/bin/env bash
# make lint: cppcheck and clang-tidy over every tracked C file, and a grep that bans PQexec( and
# SQL assembled with printf-family functions. Exits non-zero on any finding.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mapfile -t srcs < <(git ls-files '*.c')
mapfile -t hdrdirs < <(git ls-files '*.h' | xargs -r -n1 dirname | sort -u)
incs=()
for d in "${hdrdirs[@]}"; do incs+=(-I "$d"); done
pkgflags=$(pkg-config --cflags libpq json-c libcurl libwebsockets openssl libsodium fcgi)
rc=0

echo "lint: banned patterns"
if grep -n 'PQexec(' "${srcs[@]}" $(git ls-files '*.h'); then
	echo "lint: PQexec( is banned: use db_exec (prepared) or PQexecParams"
	rc=1
fi
# SQL keywords inside a printf-family format string: SQL must be a constant with $n parameters.
if grep -nE '(s?n?printf|asprintf|FCGX_FPrintF)\([^;]*"[^"]*\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP)\b' "${srcs[@]}"; then
	echo "lint: SQL built with printf is banned: use a constant statement with \$n parameters"
	rc=1
fi

echo "lint: cppcheck"
cppcheck --quiet --enable=warning,style,performance,portability --std=c11 --error-exitcode=1 \
	--inline-suppr --suppress=missingIncludeSystem --suppress=unusedFunction \
	-D_GNU_SOURCE -I lib "${incs[@]}" "${srcs[@]}" || rc=1

echo "lint: clang-tidy"
# (valist.Uninitialized is off: clang 14 reports every va_list handed to a v*printf wrapper.)
clang-tidy --quiet -checks='-*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,-clang-analyzer-optin.*,-clang-analyzer-valist.Uninitialized' \
	--warnings-as-errors='*' "${srcs[@]}" -- -std=c11 -D_GNU_SOURCE -I lib "${incs[@]}" $pkgflags 2>&1 |
	grep -vE '^[0-9]+ warnings? generated|^Suppressed|^Use -header-filter|^$' | tee /tmp/kbook-tidy.$$ 
[ -s /tmp/kbook-tidy.$$ ] && rc=1
rm -f /tmp/kbook-tidy.$$

[ $rc -eq 0 ] && echo "lint: clean"
exit $rc
