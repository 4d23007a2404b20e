#!/usr/bin/env bash
# Installs the Debian packages kbook needs, only those missing. Idempotent and quick when
# everything is present; works as root and as a user with sudo.
set -euo pipefail

PACKAGES=(
	build-essential pkg-config clang libclang-rt-14-dev cppcheck clang-tidy
	libpq-dev libjson-c-dev libcurl4-openssl-dev libwebsockets-dev libssl-dev libsodium-dev
	libfcgi-dev libcunit1-dev libev-dev
	postgresql-15 postgresql-client-15 postgresql-15-partman
	nginx-light spawn-fcgi
	curl jq wrk python3 python3-websockets python3-cryptography nodejs util-linux
	chromium python3-aiosmtpd systemd
)

missing=()
for p in "${PACKAGES[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $st == "install ok installed" ]] || missing+=("$p")
done
# npm may come from npm itself (a newer npm installed over Debian's): ask for the command.
command -v npm >/dev/null 2>&1 || missing+=(npm)
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
echo "deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
# policy-rc.d keeps the packages' own services (nginx, the system Postgres cluster) from being
# started: the stack runs its own instances.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
	"${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
	trap '"${sudo[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
fi
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages for the tests and the site (tests/package.json), exactly as the lock file pins
# them; installed again only when the lock file changed since the last install. Errors are
# shown and stop `make deps`.
root=$(cd "$(dirname "$0")/.." && pwd)
lock_sum=$(sha256sum "$root/tests/package-lock.json" | cut -d' ' -f1)
stamp=$root/tests/node_modules/.kbook-lock-sha256
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
	echo "deps: npm ci in tests/ (package-lock.json)"
	(cd "$root/tests" && npm ci --no-audit --no-fund)
	echo "$lock_sum" >"$stamp"
fi
