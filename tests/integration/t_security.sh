#!/usr/bin/env bash
# Privilege and secrets on the running stack (issue 14): every daemon reaches Postgres as a role
# of its own that is no superuser and cannot run programs; local connections are authenticated
# (peer, no trust) through a socket only the service user reaches; each role is refused what its
# program never does; logs are 0640 at most and hold no API key (header or query); errors nginx
# makes itself answer with the API's JSON envelope and a request id; root follows no link the
# service user plants and signals no pid a stale record names; kbook-admin says why it cannot
# connect.
set -u
. "$TEST_ROOT/tests/integration/lib.sh"
. "$TEST_ROOT/scripts/stack.sh"

S=$TEST_STACK
U=$TEST_URL
H=$TEST_TMP/headers
as_root=0
[ "$(id -u)" -eq 0 ] && as_root=1
conn() { stack_conninfo "$S" "$TEST_PGPORT" "$1"; }
sql() { psql -X -q -tA -d "$TEST_PG" -c "$1"; }
# role_sql ROLE SQL: SQL as ROLE, connecting as the OS user the stack maps to it; output and errors
role_sql() {
	case $1 in
	kbook_admin) psql -X -q -tA -d "$(conn "$1")" -c "$2" 2>&1 ;;
	*) as_svc psql -X -q -tA -d "$(conn "$1")" -c "$2" 2>&1 ;;
	esac
}

echo "the daemons' roles"
curl -s -o /dev/null "$U/v1/health"
curl -s -o /dev/null "$U/v1/health"
used=$(sql "SELECT string_agg(DISTINCT usename, ',' ORDER BY usename) FROM pg_stat_activity
	WHERE application_name = 'kbook' AND datname = 'kbook'")
check_match "kbook-api, kbook-feedd (and kbook-billing, kbook-mailer) connect as their roles" '^kbook_api,(kbook_billing,)?kbook_feedd(,kbook_mailer)?$' "$used"
check "no daemon connection is a superuser's" 0 "$(sql "SELECT count(*) FROM pg_stat_activity a
	JOIN pg_roles r ON r.rolname = a.usename WHERE a.application_name = 'kbook' AND r.rolsuper")"
for r in kbook_owner kbook_collector kbook_api kbook_feedd kbook_admin kbook_mailer kbook_billing; do
	check "$r exists, no superuser, creates no roles or databases" "f|f|f" \
		"$(sql "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = '$r'")"
done
for r in kbook_collector kbook_api kbook_feedd kbook_mailer kbook_billing kbook_admin; do
	out=$(role_sql "$r" "COPY (SELECT 1) TO PROGRAM 'touch $TEST_TMP/pwned-$r'")
	check_match "$r: COPY ... TO PROGRAM refused" 'must be superuser or have privileges of the pg_execute_server_program' "$out"
	check "$r: and nothing ran" no "$([ -e "$TEST_TMP/pwned-$r" ] && echo yes || echo no)"
	out=$(role_sql "$r" "SELECT pg_read_file('PG_VERSION')")
	check_match "$r: reading server files refused" 'permission denied' "$out"
done

echo "each role is refused what its program never does"
check_match "kbook_api reads markets" '^[0-9]+$' "$(role_sql kbook_api "SELECT count(*) FROM markets")"
check_match "kbook_api reads a day partition (cgi-bin/daypart.c)" '^[0-9]+$' \
	"$(role_sql kbook_api "SELECT count(*) FROM book_deltas_p$(date -u +%Y_%m_%d)")"
check_match "kbook_api cannot write deltas" 'permission denied' \
	"$(role_sql kbook_api "INSERT INTO book_deltas VALUES (1, now(), now(), 0, 1, 1)")"
check_match "kbook_api cannot delete accounts" 'permission denied' \
	"$(role_sql kbook_api "DELETE FROM accounts WHERE false")"
check_match "kbook_api cannot mark mail sent (kbook-mailer's)" 'permission denied' \
	"$(role_sql kbook_api "UPDATE mail_outbox SET sent_at = now() WHERE false")"
check_match "kbook_mailer cannot read accounts" 'permission denied' \
	"$(role_sql kbook_mailer "SELECT count(*) FROM accounts")"
check_match "kbook_feedd cannot make sessions" 'permission denied' \
	"$(role_sql kbook_feedd "INSERT INTO sessions (account_id, token_hash, csrf_token, expires_at) VALUES (1, '\\x00', '', now())")"
check_match "kbook_feedd cannot write markets" 'permission denied' \
	"$(role_sql kbook_feedd "UPDATE markets SET title = 'x'")"
check_match "kbook_collector cannot read accounts" 'permission denied' \
	"$(role_sql kbook_collector "SELECT count(*) FROM accounts")"
check_match "kbook_collector cannot read keys" 'permission denied' \
	"$(role_sql kbook_collector "SELECT count(*) FROM api_keys")"
check_match "kbook_billing cannot read keys" 'permission denied' \
	"$(role_sql kbook_billing "SELECT count(*) FROM api_keys")"
check_match "kbook_billing reads no account but its customer id" 'permission denied' \
	"$(role_sql kbook_billing "SELECT email FROM accounts")"
check_match "kbook_admin cannot read deltas" 'permission denied' \
	"$(role_sql kbook_admin "SELECT count(*) FROM book_deltas")"
check_match "no role creates tables in public" 'permission denied' \
	"$(role_sql kbook_api "CREATE TABLE t_sec_probe (x int)")"
check "the schema is kbook_owner's" "" "$(sql "SELECT string_agg(c.relname, ',') FROM pg_class c
	JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
	AND c.relkind IN ('r', 'p', 'v') AND c.relowner <> 'kbook_owner'::regrole")"
check "kbook_owner cannot log in" f "$(sql "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'kbook_owner'")"
check "the partition maintenance runs as kbook_owner (SECURITY DEFINER)" "kbook_owner|t" \
	"$(sql "SELECT proowner::regrole, prosecdef FROM pg_proc WHERE proname = 'kbook_partition_maintenance_owner'")"
check "which only the collector may call" "t|f|f" \
	"$(sql "SELECT has_function_privilege('kbook_collector', 'kbook_partition_maintenance()', 'EXECUTE'),
		has_function_privilege('kbook_api', 'kbook_partition_maintenance()', 'EXECUTE'),
		has_function_privilege('kbook_feedd', 'kbook_partition_maintenance_owner()', 'EXECUTE')")"
check_match "the collector's role runs it" 'public.book_deltas' \
	"$(role_sql kbook_collector "SELECT parent_table FROM kbook_partition_maintenance()")"
new=$(sql "SELECT partman.create_partition_time('public.book_deltas', ARRAY['2031-01-02'::timestamptz])")
check "a partition made later" t "$new"
check "gets the parent's owner and grants" "kbook_owner|t|f" \
	"$(sql "SELECT relowner::regrole, has_table_privilege('kbook_api', oid, 'SELECT'),
		has_table_privilege('kbook_api', oid, 'INSERT') FROM pg_class WHERE relname = 'book_deltas_p2031_01_02'")"
sql "DROP TABLE book_deltas_p2031_01_02" >/dev/null

echo "a migration after the baseline runs as kbook_owner and grants what it creates"
mkdir -p "$TEST_TMP/sql"
cp "$TEST_ROOT"/sql/[0-9][0-9][0-9]_*.sql "$TEST_TMP/sql/"
printf 'CREATE TABLE t_sec_later (x int);\nGRANT SELECT ON t_sec_later TO kbook_api;\n' >"$TEST_TMP/sql/950_sec_probe.sql"
out=$(KBOOK_DATABASE_URL=$TEST_PG "$TEST_ROOT/scripts/migrate.sh" "$TEST_TMP/sql" 2>&1)
check "applied" "migrate: applied 950_sec_probe" "$out"
check "its table is kbook_owner's" kbook_owner "$(sql "SELECT relowner::regrole FROM pg_class WHERE relname = 't_sec_later'")"
check "and granted as it says" "t|f" "$(sql "SELECT has_table_privilege('kbook_api', 't_sec_later', 'SELECT'),
	has_table_privilege('kbook_feedd', 't_sec_later', 'SELECT')")"
sql "DROP TABLE t_sec_later; DELETE FROM schema_migrations WHERE version = 950" >/dev/null

echo "local connections are authenticated"
check "pg_hba.conf has no trust rule" 0 "$(sql "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'trust'")"
check "only peer rules" peer "$(sql "SELECT string_agg(DISTINCT auth_method, ',') FROM pg_hba_file_rules")"
check "no TCP listener" "" "$(sql "SHOW listen_addresses")"
if [ $as_root -eq 1 ]; then
	out=$(as_svc psql -X -tA -d "$(conn kbook)" -c "SELECT 1" 2>&1)
	check_match "the service user cannot be the superuser" 'Peer authentication failed for user "kbook"' "$out"
	out=$(psql -X -tA -d "$(conn kbook_api)" -c "SELECT 1" 2>&1)
	check_match "root is not mapped to a daemon's role" 'Peer authentication failed for user "kbook_api"' "$out"
	out=$(runuser -u nobody -- psql -X -tA -d "$(conn kbook_api)" -c "SELECT 1" 2>&1)
	check_match "another local user cannot reach the socket" 'Permission denied' "$out"
	check "socket directory: the service user's, 0750" "kbook 750" "$(stat -c '%U %a' "$S/run")"
	check "cluster directory 0700" "700" "$(stat -c '%a' "$S/pg")"
	check "supervision records: root's, 0700" "root 700" "$(stat -c '%U %a' "$S/state")"
	check "pg_hba.conf is root's" "root" "$(stat -c '%U' "$S/conf/pg_hba.conf")"
else
	echo "  (not root: the other-user checks need root)"
fi

echo "nginx errors in the API's envelope, with a request id"
# raw REQUEST: sends REQUEST (printf escapes) on a fresh connection; prints the status line and
# the body
raw() {
	/usr/bin/python3 - "$TEST_HTTPPORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin1"))
s.settimeout(5)
d = b""
try:
    while True:
        c = s.recv(65536)
        if not c:
            break
        d += c
except OSError:
    pass
head, _, body = d.decode("latin1").partition("\r\n\r\n")
print(head.split("\r\n")[0].split(" ")[1] if head else "none")
print(body.strip())
PY
}
# envelope NAME STATUS CODE OUTPUT: OUTPUT is raw's (status, then body)
envelope() {
	local st body
	st=$(sed -n 1p <<<"$4")
	body=$(sed -n '2,$p' <<<"$4")
	check "$1: status" "$2" "$st"
	check "$1: code" "$3" "$(jq -r .error.code <<<"$body" 2>/dev/null)"
	check_match "$1: request id" '^[0-9a-f]{32}$' "$(jq -r .request_id <<<"$body" 2>/dev/null)"
}
envelope "bad request line" 400 bad_request "$(raw 'NONSENSE\r\n\r\n')"
envelope "TRACE" 405 method_not_allowed "$(raw 'TRACE /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')"
envelope "encoded traversal" 400 bad_request "$(raw 'GET /v1/..%2f..%2f..%2fetc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')"
envelope "traversal above the root" 400 bad_request "$(raw 'GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')"
envelope "a static page that is not there" 404 not_found "$(raw 'GET /nope.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')"
long=$(head -c 20000 /dev/zero | tr '\0' a)
envelope "URI too long" 414 uri_too_long "$(raw "GET /v1/markets?q=$long HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")"
envelope "headers too large" 431 headers_too_large "$(raw "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: $long\r\nConnection: close\r\n\r\n")"
big=$(head -c 70000 /dev/zero | tr '\0' a)
envelope "body too large (static)" 413 body_too_large "$(raw "POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\nConnection: close\r\n\r\n$big")"
envelope "body too large (API)" 413 body_too_large "$(raw "POST /v1/markets HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\nConnection: close\r\n\r\n$big")"
api_stop "$S"
envelope "the API's pool gone" 503 service_unavailable "$(raw 'GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')"
KBOOK_DATABASE_URL=$TEST_PG api_start "$S"
check "the pool back" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/health")"
# (a feedd whose database connection an earlier test's Postgres restart broke answers its first
# check 503 and reconnects: ask again)
for i in 1 2 3; do
	st=$(curl -s -o "$TEST_TMP/body" -D "$H" -w '%{http_code}' "$U/v1/feed?api_key=kb_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
		-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
		-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==')
	[ "$st" = 503 ] || break
	sleep 1
done
check "a refused feed handshake" 401 "$st"
check "carries the request id of its X-Request-Id" "$(grep -i '^x-request-id:' "$H" | cut -d' ' -f2 | tr -d '\r')" \
	"$(jq -r .request_id "$TEST_TMP/body")"
st=$(curl -s -o "$TEST_TMP/body" -w '%{http_code}' "$U/v1/feed")
check "a plain GET of the feed" 404 "$st"
check_match "carries one too" '^[0-9a-f]{32}$' "$(jq -r .request_id "$TEST_TMP/body")"

echo "no API key in any log"
k1=kb_live_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n")
k2=kb_live_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n")
k3=kb_live_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n")
k4=kb_live_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n")
ws=(-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==')
curl -s -o /dev/null "${ws[@]}" "$U/v1/feed?api_key=$k1"
curl -s -o /dev/null "${ws[@]}" -H "X-API-Key: $k2" "$U/v1/feed"
curl -s -o /dev/null "${ws[@]}" "$U/v1/feed?since=1&%61pi_key=$k3"
curl -s -o /dev/null -H "X-API-Key: $k4" "$U/v1/markets?api_key=$k4"
curl -s -o /dev/null "$U/confirm?token=$k1-link"
api_stop "$S"   # upstream errors are where nginx logs a request line
curl -s -o /dev/null "$U/v1/markets?api_key=$k4"
KBOOK_DATABASE_URL=$TEST_PG api_start "$S"
sleep 1.5       # the access log's buffer is flushed every second
check_match "the requests were logged" 'redacted' "$(cat "$S/log/nginx-access.log")"
for k in "$k1" "$k2" "$k3" "$k4"; do
	check "key ${k:0:12}... in no log" "" "$(grep -rl -- "${k#kb_live_}" "$S/log" 2>/dev/null)"
done
check "no log file readable by others or writable by the group" "" \
	"$(find "$S/log" -type f -perm /027 2>/dev/null)"

echo "root follows no link the service user plants, and signals no pid a stale record names"
if [ $as_root -eq 1 ]; then
	echo "root's file" >"$TEST_TMP/victim"
	chmod 644 "$TEST_TMP/victim"
	as_svc ln -sf "$TEST_TMP/victim" "$S/log/sec-probe.log"
	svc_spawn "$S" sec-probe /bin/echo appended
	sleep 0.5
	check "a log linked to root's file: not written" "root's file" "$(cat "$TEST_TMP/victim")"
	svc_stop "$S" sec-probe
	as_svc rm -f "$S/log/sec-probe.log"
fi
sleep 300 &
bystander=$!
echo "$bystander 12345" >"$S/state/sec-stale"    # a record whose pid was reused since
svc_stop "$S" sec-stale
check "a stale record's pid, now another process: left alone" yes "$(kill -0 "$bystander" 2>/dev/null && echo yes)"
check "and the record forgotten" no "$([ -e "$S/state/sec-stale" ] && echo yes || echo no)"
echo "$bystander $(proc_start_time "$bystander")" >"$S/state/sec-live"
svc_stop "$S" sec-live
wait "$bystander" 2>/dev/null
check "a record that matches its process: stopped" no "$(kill -0 "$bystander" 2>/dev/null && echo yes || echo no)"

echo "kbook-admin says why it cannot connect"
out=$(KBOOK_DATABASE_URL="host=$S/run port=1 user=kbook_admin dbname=kbook" "$TEST_BIN/kbook-admin" account show x@kbook.test 2>&1)
check "exit status 1" 1 "$?"
check_match "names the socket it tried" "$S/run/.s.PGSQL.1" "$out"
check_match "with libpq's reason" 'No such file or directory' "$out"
check_match "and where the right line is" 'make run' "$out"

finish
