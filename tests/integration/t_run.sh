#!/usr/bin/env bash
# make run's supervision (scripts/run.sh), on a copy of the scripts in the test's directory (so
# its var/ is there) with free ports: when a part dies it says which, with its exit status and
# its log's last line, stops the rest and exits 1; Ctrl-C (SIGINT to its process group, as a
# terminal sends it) stops everything cleanly and exits 0; a run killed outright leaves processes
# that the next run stops, and a stale record never stops an unrelated process.
set -u
. "$TEST_ROOT/tests/integration/lib.sh"
. "$TEST_ROOT/scripts/stack.sh"

R=$TEST_TMP/root
mkdir -p "$R"
cp -a "$TEST_ROOT"/{scripts,sql,nginx,static} "$R/"
chmod -R a+rX "$R"
out=$TEST_TMP/run.out
export KBOOK_HTTP_PORT=$(free_port) KBOOK_PG_PORT=$(free_port) KBOOK_SIM_PORT=$(free_port)
export KBOOK_COLLECTOR_METRICS_PORT=$(free_port)
RUN_PID=

# run_start: scripts/run.sh in a session of its own (its process group gets the signal a
# terminal's Ctrl-C sends); waits until it says the stack is running.
run_start() {
	: >"$out"
	# A background command of a script starts with SIGINT ignored, which a shell cannot undo:
	# python restores its default before it execs, as a terminal's foreground job has it.
	/usr/bin/python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execv(sys.argv[1], sys.argv[1:])' "$R/scripts/run.sh" "$TEST_BIN" >"$out" 2>&1 </dev/null &
	RUN_PID=$!
	local i
	for ((i = 0; i < 1200; i++)); do
		grep -q 'Press Ctrl-C to stop' "$out" && return 0
		kill -0 "$RUN_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "  | run.sh did not come up:"
	sed 's/^/  | /' "$out"
	return 1
}
# run_wait SECONDS: waits for run.sh to exit; sets RUN_RC to its exit status ("running" if it
# did not exit)
run_wait() {
	local i
	RUN_RC=running
	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$RUN_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$RUN_PID" 2>/dev/null && return
	wait "$RUN_PID"
	RUN_RC=$?
}
leftovers() { pgrep -f "$R/var/(app/bin|pg)" | wc -l; }
cleanup() {
	[ -n "$RUN_PID" ] && kill -TERM "$RUN_PID" 2>/dev/null && sleep 3
	stack_stop "$R/var"
}
trap cleanup EXIT

echo "the README's quick start: the database line to copy, the flood limit and what to do on 429"
readme=$(sed -n '/^## The two commands/,/^## Layout/p' "$TEST_ROOT/README.md")
check_match "kbook-admin's line comes from make run" 'copy this line from what make run prints' "$readme"
check_match "with the admin role" 'user=kbook_admin' "$readme"
rate=$(sed -n 's/.*KBOOK_NGINX_KEY_RATE:-\([0-9]*\).*/\1/p' "$TEST_ROOT/scripts/stack.sh")
check_match "the per-key flood limit the stack sets ($rate/s)" "limits each API key to $rate requests a second" "$readme"
check_match "429 and Retry-After" '429 too_many_requests.*Retry-After: 1' "$(tr '\n' ' ' <<<"$readme")"

echo "a part that dies stops the stack and is named"
run_start
check "make run came up" 0 $?
check_match "prints the collector's metrics port" "collector metrics: curl http://127.0.0.1:$KBOOK_COLLECTOR_METRICS_PORT/metrics" "$(cat "$out")"
check_match "prints kbook-admin's database line" "export KBOOK_DATABASE_URL=\"host=$R/var/run port=$KBOOK_PG_PORT user=kbook_admin dbname=kbook\"" "$(cat "$out")"
check "health through it" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$KBOOK_HTTP_PORT/v1/health")"
# the collector records as kbook_collector: its grants are enough for everything it writes
db=$(stack_conninfo "$R/var" "$KBOOK_PG_PORT")
for ((i = 0; i < 300; i++)); do
	n=$(psql -X -tA -d "$db" -c "SELECT count(*) FROM book_deltas" 2>/dev/null)
	[ "${n:-0}" -gt 0 ] && break
	sleep 0.1
done
check_match "the collector records deltas (as kbook_collector)" '^[1-9][0-9]*$' "$n"
check "as that role" kbook_collector "$(psql -X -tA -d "$db" -c "SELECT DISTINCT usename FROM pg_stat_activity
	WHERE application_name = 'kbook' AND usename LIKE '%collector%'")"
check "no permission error in its log" 0 "$(grep -c 'permission denied\|42501' "$R/var/log/collector.log")"
read -r cpid _ <"$R/var/state/collector"
kill -KILL "$cpid"
run_wait 60
check "run.sh exits 1" 1 "$RUN_RC"
check_match "names the part and how it ended" 'run: collector was killed by signal 9 \(KILL\)' "$(cat "$out")"
check_match "shows its log's last line" 'its last log line \(.*/log/collector.log\):' "$(cat "$out")"
check_match "says the stack stopped" 'run: stopped' "$(cat "$out")"
check "nothing of the stack left running" 0 "$(leftovers)"

echo "Ctrl-C on a terminal is a clean stop, also for the command that started it (make)"
check "make run hands the terminal to run.sh" 1 \
	"$(grep -c '^	@scripts/foreground.py scripts/run.sh \$(BIN)$' "$TEST_ROOT/Makefile")"
# bash -c stands for make: a parent in the terminal's foreground group, which Ctrl-C would kill
/usr/bin/python3 "$TEST_ROOT/tests/integration/term.py" bash -c \
	'"$0/scripts/foreground.py" "$0/scripts/run.sh" "$1"; echo "parent-status=$?"' "$R" "$TEST_BIN" \
	>"$out" 2>&1
check_match "came up and stopped" 'run: stopped' "$(cat "$out")"
check "run.sh exits 0 and its parent lives on to say so" 1 "$(grep -c 'parent-status=0' "$out")"
check "no part named as dead" "" "$(grep -E 'exited with|killed by' "$out")"
check "nothing of the stack left running" 0 "$(leftovers)"

echo "a run killed outright: the next one stops what it left, and only that"
run_start
kill -KILL "$RUN_PID"
wait "$RUN_PID" 2>/dev/null
check "its parts outlive it" yes "$([ "$(leftovers)" -gt 0 ] && echo yes)"
sleep 300 &
bystander=$!
# a record naming a process that is not the part's (the pid reused after a crash)
echo "$bystander 1" >"$R/var/state/smtp"
run_start
check "the next run comes up" 0 $?
check "the unrelated process is alive" yes "$(kill -0 "$bystander" 2>/dev/null && echo yes)"
kill -INT -- "-$RUN_PID"
run_wait 60
check "and stops with 0" 0 "$RUN_RC"
check "nothing of the stack left running" 0 "$(leftovers)"
kill "$bystander"
wait "$bystander" 2>/dev/null

echo "a port in use is named with its variable"
(exec /usr/bin/python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(30)' "$KBOOK_COLLECTOR_METRICS_PORT") &
blocker=$!
wait_port "$KBOOK_COLLECTOR_METRICS_PORT" 10
o=$("$R/scripts/run.sh" "$TEST_BIN" 2>&1)
check "refused with 1" 1 "$?"
check_match "naming the variable" "port $KBOOK_COLLECTOR_METRICS_PORT is in use.*set KBOOK_COLLECTOR_METRICS_PORT" "$o"
kill "$blocker"
wait "$blocker" 2>/dev/null

finish
