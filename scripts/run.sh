#!/usr/bin/env bash
# make run: starts the local stack from var/ in the foreground; Ctrl-C stops all of it.
#
# usage: scripts/run.sh BIN_DIR
# The stack lives in var/ (Postgres data in var/pg survives between runs). When the service user
# cannot reach the checkout (a clone under /root, say), var/ is a link to /var/lib/kbook/<hash>.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$1" && pwd)
# shellcheck source=scripts/stack.sh
. "$root/scripts/stack.sh"

http_port=${KBOOK_HTTP_PORT:-8080}
pg_port=${KBOOK_PG_PORT:-5433}

stack_ensure_user
dir=$root/var
if [ "$(id -u)" -eq 0 ] && [ ! -L "$dir" ] && ! runuser -u kbook -- test -x "$root"; then
	alt=/var/lib/kbook/$(printf '%s' "$root" | sha256sum | cut -c1-12)
	mkdir -p "$alt"
	[ -d "$dir" ] && rmdir "$dir" 2>/dev/null || true
	[ -e "$dir" ] || ln -s "$alt" "$dir"
	echo "run: $root is not reachable by the kbook user; the stack lives in $alt (var/ links there)"
fi
[ -L "$dir" ] && dir=$(readlink -f "$dir")
mkdir -p "$dir"

stopping=0
cleanup() {
	[ $stopping -eq 1 ] && return
	stopping=1
	echo
	echo "run: stopping the stack"
	stack_stop "$dir"
	echo "run: stopped"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

stack_start "$dir" "$bin" "$pg_port" "$http_port"

# The market source: Kalshi when a key is configured, else kalshi-sim on a local port.
export KBOOK_DATABASE_URL=$(stack_conninfo "$dir" "$pg_port")
source_line="Kalshi at ${KBOOK_KALSHI_WS_URL:-the default production URL}"
if [ -z "${KBOOK_KALSHI_KEY_ID:-}" ]; then
	sim_port=${KBOOK_SIM_PORT:-9420}
	sim_start "$dir" "$sim_port"
	export KBOOK_KALSHI_WS_URL=ws://127.0.0.1:$sim_port/trade-api/ws/v2
	export KBOOK_KALSHI_REST_URL=http://127.0.0.1:$sim_port/trade-api/v2
	export KBOOK_KALSHI_KEY_ID=$(cat "$dir/kalshi-key/kalshi-key-id")
	export KBOOK_KALSHI_KEY_FILE=$dir/kalshi-key/kalshi-private.pem
	source_line="kalshi-sim on http://127.0.0.1:$sim_port (no KBOOK_KALSHI_KEY_ID set)"
fi
collector_start "$dir"

cat <<MSG

kbook is running: http://127.0.0.1:$http_port/
  health:   curl http://127.0.0.1:$http_port/v1/health
  docs:     http://127.0.0.1:$http_port/docs/   (API keys: build/rel/bin/kbook-admin, docs/operations.md)
  feed:     ws://127.0.0.1:$http_port/v1/feed
  markets:  $source_line
  database: psql "$(stack_conninfo "$dir" "$pg_port")"
  logs:     $dir/log/
  mail:     ${KBOOK_SMTP_URL:-the local SMTP sink: every mail is a file in $dir/mail/new/}
Press Ctrl-C to stop.
MSG

# Stay in the foreground until Ctrl-C, or until a part of the stack dies.
while :; do
	for pidf in "$dir"/run/{api,api-accounts,mailer,smtp,nginx,feedd,sim,collector}.pid; do
		[ -f "$pidf" ] || continue
		if ! pid_alive "$(cat "$pidf" 2>/dev/null)"; then
			echo "run: $(basename "$pidf" .pid) exited; see $dir/log/" >&2
			exit 1
		fi
	done
	sleep 1
done
