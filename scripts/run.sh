#!/usr/bin/env bash
# make run: starts the local stack from var/ in the foreground; Ctrl-C stops all of it.
#
# usage: scripts/run.sh BIN_DIR
# The stack lives in var/ (Postgres data in var/pg survives between runs). When the service user
# cannot reach the checkout (a clone under /root, say), var/ is a link to /var/lib/kbook/<hash>.
#
# It supervises its parts directly: each is its child, known by the pid held here (never read
# back from a file). When one dies, it says which, with its exit status and its log's last line,
# stops the rest and exits 1; Ctrl-C (or SIGTERM) stops everything and exits 0. A local demo
# stops as a whole; production supervises each daemon on its own (systemd/, docs/operations.md).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$1" && pwd)
# shellcheck source=scripts/stack.sh
. "$root/scripts/stack.sh"

http_port=${KBOOK_HTTP_PORT:-8080}
pg_port=${KBOOK_PG_PORT:-5433}
sim_port=${KBOOK_SIM_PORT:-9420}
export KBOOK_COLLECTOR_METRICS_PORT=${KBOOK_COLLECTOR_METRICS_PORT:-9471}

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

# What a run killed outright left running (its records say what; only processes that match them)
stack_stop "$dir"

# Every port the stack takes, with the variable that moves it: a second stack on the machine
# needs other values for each, and says so before starting anything.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
busy=0
for pv in "$http_port KBOOK_HTTP_PORT" "$sim_port KBOOK_SIM_PORT" \
	"$KBOOK_COLLECTOR_METRICS_PORT KBOOK_COLLECTOR_METRICS_PORT"; do
	set -- $pv
	if [ "$1" != 0 ] && port_busy "$1"; then
		echo "run: port $1 is in use (another stack?); set $2 to a free port" >&2
		busy=1
	fi
done
[ $busy -eq 0 ] || exit 1


stopping=0
stop_stack() {
	[ $stopping -eq 1 ] && return
	stopping=1
	echo
	echo "run: stopping the stack"
	stack_stop "$dir"
	echo "run: stopped"
}
# Ctrl-C reaches every process of the terminal's group: the parts see it too and begin to stop,
# and stack_stop finishes the job. A signal during start-up stops what started and exits 0.
interrupted=0
trap 'interrupted=1' INT TERM
trap stop_stack EXIT

start_part() { # what to run, in order; stops at the first failure or on Ctrl-C
	"$@" && [ $interrupted -eq 0 ]
}
if ! start_part stack_start "$dir" "$bin" "$pg_port" "$http_port"; then
	[ $interrupted -eq 1 ] && exit 0
	echo "run: the stack did not start (above); logs in $dir/log/" >&2
	exit 1
fi

# The market source: Kalshi when a key is configured, else kalshi-sim on a local port.
export KBOOK_DATABASE_URL=$(stack_conninfo "$dir" "$pg_port")
source_line="Kalshi at ${KBOOK_KALSHI_WS_URL:-the default production URL}"
if [ -z "${KBOOK_KALSHI_KEY_ID:-}" ]; then
	sim_start "$dir" "$sim_port"
	export KBOOK_KALSHI_WS_URL=ws://127.0.0.1:$sim_port/trade-api/ws/v2
	export KBOOK_KALSHI_REST_URL=http://127.0.0.1:$sim_port/trade-api/v2
	export KBOOK_KALSHI_KEY_ID=$(cat "$dir/kalshi-key/kalshi-key-id")
	export KBOOK_KALSHI_KEY_FILE=$dir/kalshi-key/kalshi-private.pem
	source_line="kalshi-sim on http://127.0.0.1:$sim_port (no KBOOK_KALSHI_KEY_ID set)"
fi
collector_start "$dir"
if [ -f "$dir/conf/stripe.port" ] && [ "${KBOOK_STRIPE_SECRET_KEY_FILE:-}" = "$dir/conf/stripe/secret-key" ]; then
	stripe_line="stripe-sim on http://127.0.0.1:$(cat "$dir/conf/stripe.port") (test card 4242 4242 4242 4242); sender /metrics on 127.0.0.1:$(cat "$dir/conf/billing-metrics.port")"
else
	stripe_line="${KBOOK_STRIPE_API_BASE:-https://api.stripe.com}"
fi
[ $interrupted -eq 0 ] || exit 0

metrics="none (KBOOK_COLLECTOR_METRICS_PORT=0)"
[ "$KBOOK_COLLECTOR_METRICS_PORT" != 0 ] &&
	metrics="curl http://127.0.0.1:$KBOOK_COLLECTOR_METRICS_PORT/metrics"
cat <<MSG

kbook is running: http://127.0.0.1:$http_port/
  health:   curl http://127.0.0.1:$http_port/v1/health
  docs:     http://127.0.0.1:$http_port/docs/
  feed:     ws://127.0.0.1:$http_port/v1/feed
  markets:  $source_line
  collector metrics: $metrics
  database: psql "$(stack_conninfo "$dir" "$pg_port")"
  logs:     $dir/log/
  mail:     ${KBOOK_SMTP_URL:-the local SMTP sink: every mail is a file in $dir/mail/new/}
  stripe:   $stripe_line
API keys (kbook-admin, docs/operations.md), in another shell:
  export KBOOK_DATABASE_URL="$(stack_conninfo "$dir" "$pg_port" kbook_admin)"
  $bin/kbook-admin account create you@example.com
Press Ctrl-C to stop.
MSG

# Stay in the foreground until Ctrl-C, or until a part of the stack dies.
declare -A names=()
for n in "${!SVC_PIDS[@]}"; do names[${SVC_PIDS[$n]}]=$n; done
while :; do
	died=
	rc=0
	wait -n -p died "${!names[@]}" || rc=$?
	[ $interrupted -eq 1 ] && exit 0
	[ -n "$died" ] || continue
	# Ctrl-C reaches the parts too: one may end before this shell's trap has run
	sleep 0.3
	[ $interrupted -eq 1 ] && exit 0
	name=${names[$died]}
	unset "SVC_PIDS[$name]"
	rm -f "$dir/state/$name"
	if [ $rc -gt 128 ]; then
		how="was killed by signal $((rc - 128)) ($(kill -l $((rc - 128)) 2>/dev/null || echo ?))"
	else
		how="exited with status $rc"
	fi
	last=$(as_svc tail -n 1 "$dir/log/$name.log" 2>/dev/null || true)
	echo "run: $name $how; its last log line ($dir/log/$name.log):" >&2
	echo "  ${last:-(empty)}" >&2
	echo "run: a local stack stops as a whole when one part dies" >&2
	exit 1
done
