# The local stack: Postgres, the kbook-api FastCGI pool, kbook-feedd and nginx, in one directory;
# make run adds kalshi-sim and the collector.
# Sourced by scripts/run.sh (make run) and scripts/test.sh (make test); bash.
#
# A stack directory holds pg/ (the cluster), run/ (sockets, pid files), log/, nginx/ (rendered
# config and temp dirs) and app/ (a copy of the binaries and static files, so the service user
# can reach them even when the checkout sits under a directory only root may enter).
#
# Services never run as root: as root they run as the system user "kbook" (created on first
# use); otherwise as the invoking user.

STACK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

stack_user() {
	if [ "$(id -u)" -eq 0 ]; then echo kbook; else id -un; fi
}

# as_svc CMD...: runs CMD as the service user, keeping the environment.
as_svc() {
	if [ "$(id -u)" -eq 0 ]; then
		# from /: the checkout may be a directory the service user cannot enter
		(cd / && runuser -u kbook -m -- "$@")
	else
		"$@"
	fi
}

stack_ensure_user() {
	[ "$(id -u)" -eq 0 ] || return 0
	id kbook >/dev/null 2>&1 ||
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin kbook
}

# stack_prepare DIR BIN: creates the layout and stages binaries and static files into DIR/app.
stack_prepare() {
	local dir=$1 bin=$2
	stack_ensure_user
	mkdir -p "$dir"/{pg,run,log,nginx,app/bin}
	chmod 755 "$dir"
	rm -rf "$dir/app/static"
	cp -a "$STACK_ROOT/static" "$dir/app/static"
	cp -a "$bin"/. "$dir/app/bin/"
	if [ "$(id -u)" -eq 0 ]; then
		chown -R kbook: "$dir"/{pg,run,log,nginx}
		chmod 700 "$dir/pg"
		chmod -R a+rX "$dir/app"
	fi
}

stack_conninfo() { # DIR PORT
	echo "host=$1/run port=$2 user=kbook dbname=kbook"
}

# pg_start DIR PORT: initialises the cluster on first use and starts it on a unix socket.
pg_start() {
	local dir=$1 port=$2
	if [ ! -f "$dir/pg/PG_VERSION" ]; then
		as_svc "$PG_BIN/initdb" -D "$dir/pg" -U kbook --auth=trust -E UTF8 --locale=C.UTF-8 \
			>"$dir/log/initdb.log" 2>&1 || { cat "$dir/log/initdb.log"; return 1; }
		cat >>"$dir/pg/postgresql.conf" <<CONF
# kbook local stack
listen_addresses = ''
unix_socket_permissions = 0777
fsync = on
max_connections = 200
# a quarter of the memory (at most 8 GB) keeps the indexes and the recent history in Postgres's
# own cache: reading a page from the kernel's cache instead costs a copy and a buffer eviction
shared_buffers = $(awk '/^MemTotal:/ { mb = int($2 / 4096); print (mb > 8192 ? 8192 : (mb < 128 ? 128 : mb)) "MB" }' /proc/meminfo)
CONF
	fi
	# Partition maintenance is the collector's (sql/011); a cluster made before then still names
	# pg_partman's background worker, which must not run beside it.
	if grep -q '^pg_partman_bgw\.' "$dir/pg/postgresql.conf"; then
		as_svc sed -i -e '/^shared_preload_libraries = .pg_partman_bgw.$/d' -e '/^pg_partman_bgw\./d' \
			"$dir/pg/postgresql.conf"
	fi
	# A crashed earlier run can leave postmaster.pid behind: remove it when no server owns it.
	if [ -f "$dir/pg/postmaster.pid" ] && ! as_svc "$PG_BIN/pg_ctl" -D "$dir/pg" status >/dev/null 2>&1; then
		rm -f "$dir/pg/postmaster.pid"
	fi
	rm -f "$dir/run/.s.PGSQL.$port" "$dir/run/.s.PGSQL.$port.lock"
	as_svc "$PG_BIN/pg_ctl" -D "$dir/pg" -l "$dir/log/postgres.log" -w -t 60 \
		-o "-p $port -k $dir/run" start >/dev/null || { tail -20 "$dir/log/postgres.log"; return 1; }
	if ! psql -X -q -d "$(stack_conninfo "$dir" "$port") dbname=postgres" -tAc \
		"SELECT 1 FROM pg_database WHERE datname = 'kbook'" | grep -q 1; then
		psql -X -q -d "$(stack_conninfo "$dir" "$port") dbname=postgres" -c "CREATE DATABASE kbook"
	fi
}

pg_stop() { # DIR
	[ -f "$1/pg/postmaster.pid" ] || return 0
	as_svc "$PG_BIN/pg_ctl" -D "$1/pg" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

# pid_alive PID: true while PID runs (a zombie, which kill -0 still finds, counts as gone).
pid_alive() {
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# pidfile_kill FILE: stops the process recorded in FILE (TERM, then KILL after 10 s).
pidfile_kill() {
	local f=$1 pid i
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if pid_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$f"
}

# api_start DIR: spawns the kbook-api pool on DIR/run/api.sock (env KBOOK_* is passed on).
api_start() {
	local dir=$1 owner=()
	rm -f "$dir/run/api.sock"
	[ "$(id -u)" -eq 0 ] && owner=(-u kbook -g kbook -U kbook -G kbook)
	spawn-fcgi -n -s "$dir/run/api.sock" -M 0660 "${owner[@]}" -- "$dir/app/bin/kbook-api" \
		>>"$dir/log/api.log" 2>&1 &
	echo $! >"$dir/run/api.pid"
	local i
	for ((i = 0; i < 100; i++)); do
		[ -S "$dir/run/api.sock" ] && return 0
		pid_alive "$(cat "$dir/run/api.pid")" || break
		sleep 0.1
	done
	echo "kbook-api did not start; see $dir/log/api.log" >&2
	tail -5 "$dir/log/api.log" >&2
	return 1
}

api_stop() { pidfile_kill "$1/run/api.pid"; rm -f "$1/run/api.sock"; }

# api_accounts_start DIR: the second kbook-api pool, for the account routes (nginx sends them to
# DIR/run/api-accounts.sock), so that password hashing never waits in line with data calls.
api_accounts_start() {
	local dir=$1 owner=() i
	rm -f "$dir/run/api-accounts.sock"
	[ "$(id -u)" -eq 0 ] && owner=(-u kbook -g kbook -U kbook -G kbook)
	KBOOK_API_WORKERS=${KBOOK_ACCOUNTS_WORKERS:-2} spawn-fcgi -n -s "$dir/run/api-accounts.sock" \
		-M 0660 "${owner[@]}" -- "$dir/app/bin/kbook-api" >>"$dir/log/api-accounts.log" 2>&1 &
	echo $! >"$dir/run/api-accounts.pid"
	for ((i = 0; i < 100; i++)); do
		[ -S "$dir/run/api-accounts.sock" ] && return 0
		pid_alive "$(cat "$dir/run/api-accounts.pid")" || break
		sleep 0.1
	done
	echo "kbook-api (accounts pool) did not start; see $dir/log/api-accounts.log" >&2
	tail -5 "$dir/log/api-accounts.log" >&2
	return 1
}

api_accounts_stop() { pidfile_kill "$1/run/api-accounts.pid"; rm -f "$1/run/api-accounts.sock"; }

# svc_spawn DIR NAME CMD...: starts CMD in the background as the service user (exec, so the pid
# file DIR/run/NAME.pid names the process that gets TERM; setpriv changes user without a fork),
# appending its output to DIR/log/NAME.log. The environment (KBOOK_*) is passed on.
svc_spawn() {
	local dir=$1 name=$2
	shift 2
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && exec setpriv --reuid=kbook --regid=kbook --init-groups "$@") \
			>>"$dir/log/$name.log" 2>&1 &
	else
		"$@" >>"$dir/log/$name.log" 2>&1 &
	fi
	echo $! >"$dir/run/$name.pid"
}

# feedd_start DIR: starts kbook-feedd on DIR/run/feed.sock (env KBOOK_* is passed on), when built.
feedd_start() {
	local dir=$1 i
	[ -x "$dir/app/bin/kbook-feedd" ] || return 0
	rm -f "$dir/run/feed.sock"
	KBOOK_FEEDD_LISTEN=$dir/run/feed.sock svc_spawn "$dir" feedd "$dir/app/bin/kbook-feedd"
	for ((i = 0; i < 100; i++)); do
		[ -S "$dir/run/feed.sock" ] && return 0
		pid_alive "$(cat "$dir/run/feedd.pid")" || break
		sleep 0.1
	done
	echo "kbook-feedd did not start; see $dir/log/feedd.log" >&2
	tail -5 "$dir/log/feedd.log" >&2
	return 1
}

feedd_stop() { pidfile_kill "$1/run/feedd.pid"; rm -f "$1/run/feed.sock"; }

# sim_start DIR PORT: kalshi-sim as the market source of make run when no Kalshi key is configured,
# with a key pair made once in DIR/kalshi-key. Prints the KBOOK_KALSHI_* settings that point a
# collector at it.
sim_start() {
	local dir=$1 port=$2 key=$1/kalshi-key
	[ -x "$dir/app/bin/kalshi-sim" ] || return 0
	if [ ! -f "$key/kalshi-key-id" ]; then
		"$STACK_ROOT/scripts/kalshi-keygen.sh" "$key" >/dev/null
		[ "$(id -u)" -eq 0 ] && chown -R kbook: "$key"
	fi
	svc_spawn "$dir" sim "$dir/app/bin/kalshi-sim" --port "$port" --pubkey "$key/kalshi-public.pem" \
		--key-id "$(cat "$key/kalshi-key-id")" --markets 2000 --rate 200 --lifecycle-ms 2000
}

sim_stop() { pidfile_kill "$1/run/sim.pid"; }

# collector_start DIR: kbook-collector with the environment's KBOOK_* settings, when built.
collector_start() {
	local dir=$1
	[ -x "$dir/app/bin/kbook-collector" ] || return 0
	mkdir -p "$dir/spool"
	[ "$(id -u)" -eq 0 ] && chown kbook: "$dir/spool"
	KBOOK_COLLECTOR_SPOOL_FILE=${KBOOK_COLLECTOR_SPOOL_FILE:-$dir/spool/collector.spool} \
		svc_spawn "$dir" collector "$dir/app/bin/kbook-collector"
}

collector_stop() { pidfile_kill "$1/run/collector.pid"; }

# stack_free_port: a TCP port on 127.0.0.1 that nothing listens on now.
stack_free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# smtp_start DIR PORT: the local SMTP server of make run and make test (scripts/smtp-sink.py,
# Debian's python3-aiosmtpd): every message it accepts becomes a file in DIR/mail/new.
smtp_start() {
	local dir=$1 port=$2 i
	mkdir -p "$dir/mail"
	chmod 755 "$dir/mail"
	cp "$STACK_ROOT/scripts/smtp-sink.py" "$dir/app/smtp-sink.py"
	chmod a+rx "$dir/app/smtp-sink.py"
	[ "$(id -u)" -eq 0 ] && chown kbook: "$dir/mail"
	echo "$port" >"$dir/run/smtp.port"
	svc_spawn "$dir" smtp /usr/bin/python3 "$dir/app/smtp-sink.py" --port "$port" --dir "$dir/mail"
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		pid_alive "$(cat "$dir/run/smtp.pid")" || break
		sleep 0.1
	done
	echo "smtp-sink did not start; see $dir/log/smtp.log" >&2
	tail -5 "$dir/log/smtp.log" >&2
	return 1
}

smtp_stop() { pidfile_kill "$1/run/smtp.pid"; }

# mailer_start DIR: kbook-mailer, which sends the queued mail (env KBOOK_SMTP_* is passed on).
mailer_start() {
	local dir=$1
	[ -x "$dir/app/bin/kbook-mailer" ] || return 0
	svc_spawn "$dir" mailer "$dir/app/bin/kbook-mailer"
}

mailer_stop() { pidfile_kill "$1/run/mailer.pid"; }

# nginx_start DIR PORT: renders nginx/nginx.conf.in into DIR/nginx and starts nginx there.
nginx_start() {
	local dir=$1 port=$2
	mkdir -p "$dir/nginx/tmp"
	local key_rate=${KBOOK_NGINX_KEY_RATE:-20} ip_rate=${KBOOK_NGINX_IP_RATE:-50}
	sed -e "s|@PREFIX@|$dir/nginx|g" -e "s|@PORT@|$port|g" -e "s|@RUN@|$dir/run|g" \
		-e "s|@KEY_RATE@|$key_rate|g" -e "s|@KEY_BURST@|$((key_rate * 2))|g" \
		-e "s|@IP_RATE@|$ip_rate|g" -e "s|@IP_BURST@|$((ip_rate * 2))|g" \
		-e "s|@LOG@|$dir/log|g" -e "s|@STATIC@|$dir/app/static|g" \
		"$STACK_ROOT/nginx/nginx.conf.in" >"$dir/nginx/nginx.conf"
	cp "$STACK_ROOT"/nginx/*.inc "$dir/nginx/"
	[ "$(id -u)" -eq 0 ] && chown -R kbook: "$dir/nginx"
	as_svc nginx -p "$dir/nginx" -e "$dir/log/nginx-error.log" -c "$dir/nginx/nginx.conf" \
		-g "pid $dir/run/nginx.pid;" || { tail -5 "$dir/log/nginx-error.log"; return 1; }
}

nginx_stop() { pidfile_kill "$1/run/nginx.pid"; }

# stack_start DIR BIN PGPORT HTTPPORT: the whole stack, in order, waiting for each part.
stack_start() {
	local dir=$1 bin=$2 pgport=$3 httpport=$4
	stack_stop "$dir"
	stack_prepare "$dir" "$bin"
	pg_start "$dir" "$pgport"
	KBOOK_DATABASE_URL=$(stack_conninfo "$dir" "$pgport") "$STACK_ROOT/scripts/migrate.sh"
	KBOOK_DATABASE_URL=$(stack_conninfo "$dir" "$pgport") api_start "$dir"
	KBOOK_PUBLIC_URL=${KBOOK_PUBLIC_URL:-http://127.0.0.1:$httpport} \
		KBOOK_DATABASE_URL=$(stack_conninfo "$dir" "$pgport") api_accounts_start "$dir"
	KBOOK_DATABASE_URL=$(stack_conninfo "$dir" "$pgport") feedd_start "$dir"
	# mail: through KBOOK_SMTP_URL when set, else through a local SMTP sink into $dir/mail/new
	local smtp_url=${KBOOK_SMTP_URL:-} smtp_tls=${KBOOK_SMTP_TLS:-try}
	if [ -z "$smtp_url" ]; then
		local smtpport
		smtpport=$(stack_free_port)
		smtp_start "$dir" "$smtpport"
		smtp_url=smtp://127.0.0.1:$smtpport
		smtp_tls=none
	fi
	KBOOK_SMTP_URL=$smtp_url KBOOK_SMTP_TLS=$smtp_tls \
		KBOOK_PUBLIC_URL=${KBOOK_PUBLIC_URL:-http://127.0.0.1:$httpport} \
		KBOOK_DATABASE_URL=$(stack_conninfo "$dir" "$pgport") mailer_start "$dir"
	nginx_start "$dir" "$httpport"
}

# stack_stop DIR: stops whatever of a stack runs (also after a crash), in reverse order.
stack_stop() {
	local dir=$1
	[ -d "$dir/run" ] || return 0
	nginx_stop "$dir"
	collector_stop "$dir"
	sim_stop "$dir"
	mailer_stop "$dir"
	smtp_stop "$dir"
	feedd_stop "$dir"
	api_accounts_stop "$dir"
	api_stop "$dir"
	pg_stop "$dir"
}
