# The local stack: Postgres, the kbook-api FastCGI pool, kbook-feedd and nginx, in one directory;
# make run adds kalshi-sim and the collector.
# Sourced by scripts/run.sh (make run) and scripts/test.sh (make test); bash.
#
# A stack directory holds pg/ (the cluster), run/ (sockets), log/, nginx/ (rendered config and
# temp dirs), app/ (a copy of the binaries and static files, so the service user can reach them
# even when the checkout sits under a directory only root may enter), conf/ (pg_hba.conf and
# pg_ident.conf) and state/ (what was started: name, pid and start time).
#
# Services never run as root: as root they run as the system user "kbook" (created on first
# use); otherwise as the invoking user. Root never writes, follows or trusts a path the service
# user can change: the stack directory, conf/ and state/ are root's (0755, 0755, 0700); pg/,
# run/, log/ and nginx/ are the service user's, and what goes into them (logs, the rendered
# nginx configuration) is written by the service user itself. A pid is signalled only when the
# process that has it now started at the instant state/ recorded, so a stale record after a crash
# never reaches an unrelated process (docs/operations.md, "Security model").
#
# Each program reaches Postgres as a role of its own (sql/001_baseline.sql): the daemons' start
# functions take the database from KBOOK_DATABASE_URL and set its user to their role.

STACK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
# The pids of the processes this shell started, by name (make run waits on them).
declare -gA SVC_PIDS=()

stack_user() {
	if [ "$(id -u)" -eq 0 ]; then echo kbook; else id -un; fi
}

# The operating-system user that administers the stack (migrations, kbook-admin, psql): root
# when started as root, else the invoking user.
stack_operator() { id -un; }

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

# stack_dirs DIR: the layout (see above), with its owners and modes.
stack_dirs() {
	local dir=$1 d
	stack_ensure_user
	mkdir -p "$dir" "$dir/app/bin" "$dir/conf" "$dir/state"
	chmod 755 "$dir" "$dir/conf"
	chmod 700 "$dir/state"
	for d in pg run log nginx; do
		mkdir -p "$dir/$d"
		# not recursive: only the directory itself, whose name sits in root's DIR
		[ "$(id -u)" -eq 0 ] && chown kbook: "$dir/$d"
	done
	# The socket directory and the logs are the service user's alone (other local users reach
	# nginx's TCP port only); the group may read (0750).
	chmod 700 "$dir/pg"
	chmod 750 "$dir/run" "$dir/log" "$dir/nginx"
	# logs an older version left world-readable
	as_svc find "$dir/log" -maxdepth 1 -type f -perm /027 -exec chmod g-w,o-rwx {} +
}

# stack_prepare DIR BIN: creates the layout and stages binaries and static files into DIR/app.
stack_prepare() {
	local dir=$1 bin=$2
	stack_dirs "$dir"
	rm -rf "$dir/app/static"
	cp -a "$STACK_ROOT/static" "$dir/app/static"
	cp -a "$bin"/. "$dir/app/bin/"
	[ "$(id -u)" -eq 0 ] && chmod -R a+rX "$dir/app"
	return 0
}

# stack_conninfo DIR PORT [ROLE]: the database as ROLE; without ROLE, as the administering role
# "kbook" (the cluster's superuser: migrations, tests' fixtures, psql), which only the operator
# reaches (conf/pg_ident.conf).
stack_conninfo() {
	echo "host=$1/run port=$2 user=${3:-kbook} dbname=kbook"
}

# svc_db ROLE: KBOOK_DATABASE_URL with its user set to ROLE (libpq takes the last of a keyword).
svc_db() {
	echo "${KBOOK_DATABASE_URL:?KBOOK_DATABASE_URL is not set} user=$1"
}

# proc_start_time PID: the instant PID started (clock ticks since boot; /proc/PID/stat field 22).
proc_start_time() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	[ "$1" != Z ] || return 1
	echo "${20}"
}

# pid_alive PID: true while PID runs (a zombie, which kill -0 still finds, counts as gone).
pid_alive() {
	[ -n "$1" ] && proc_start_time "$1" >/dev/null
}

# svc_record DIR NAME PID: notes that NAME is PID, with its start time, in root's DIR/state.
svc_record() {
	local t
	t=$(proc_start_time "$3") || t=0
	echo "$3 $t" >"$1/state/$2"
	SVC_PIDS[$2]=$3
}

# svc_running DIR NAME: prints NAME's pid when the process recorded for it still runs, i.e. the
# pid exists and started at the recorded instant; fails otherwise.
svc_running() {
	local f=$1/state/$2 pid t now
	[ -f "$f" ] && [ ! -L "$f" ] || return 1
	read -r pid t <"$f" || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	now=$(proc_start_time "$pid") || return 1
	[ "$now" = "$t" ] || return 1
	echo "$pid"
}

# svc_stop DIR NAME [SIGNAL [SECONDS]]: stops NAME's recorded process (SIGNAL, default TERM, then
# KILL after SECONDS, default 10) and forgets it. A record whose pid now names another process
# (a crash, then pid reuse) is only forgotten.
svc_stop() {
	local dir=$1 name=$2 sig=${3:-TERM} secs=${4:-10} pid i
	if pid=$(svc_running "$dir" "$name"); then
		kill "-$sig" "$pid" 2>/dev/null || true
		for ((i = 0; i < secs * 10; i++)); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/state/$name"
	if [ -n "${SVC_PIDS[$name]:-}" ]; then
		wait "${SVC_PIDS[$name]}" 2>/dev/null || true
		unset "SVC_PIDS[$name]"
	fi
	return 0
}

# pidfile_kill DIR/run/NAME.pid: svc_stop DIR NAME (the name before records replaced pid files).
pidfile_kill() {
	local f=$1 name
	name=$(basename "$f" .pid)
	svc_stop "$(dirname "$(dirname "$f")")" "$name"
}

# svc_spawn DIR NAME CMD...: starts CMD in the background as the service user and records it as
# NAME. The service user opens its own log, DIR/log/NAME.log (appended, 0640), so root never
# writes through a link planted there; setpriv and sh exec, so the recorded pid is CMD's. The
# environment (KBOOK_*) is passed on.
svc_spawn() {
	local dir=$1 name=$2 pid
	shift 2
	local wrap=(/bin/sh -c 'log=$1; shift; umask 027; exec "$@" >>"$log" 2>&1' svc "$dir/log/$name.log" "$@")
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && exec setpriv --reuid=kbook --regid=kbook --init-groups -- "${wrap[@]}") </dev/null &
	else
		"${wrap[@]}" </dev/null &
	fi
	pid=$!
	svc_record "$dir" "$name" "$pid"
}

# svc_wait_socket DIR NAME SOCKET: waits up to 10 s for NAME to create SOCKET; fails (with its
# log's tail) if it does not or dies first.
svc_wait_socket() {
	local dir=$1 name=$2 sock=$3 i
	for ((i = 0; i < 100; i++)); do
		[ -S "$sock" ] && return 0
		svc_running "$dir" "$name" >/dev/null || break
		sleep 0.1
	done
	echo "$name did not start; see $dir/log/$name.log" >&2
	as_svc tail -n 5 "$dir/log/$name.log" >&2
	return 1
}

# pg_conf DIR: root's conf/pg_hba.conf and conf/pg_ident.conf. Unix socket only, peer
# authentication: the service user may be the daemons' roles, the operator the administering
# role and kbook_admin; anything else is refused (no trust).
pg_conf() {
	local dir=$1 svc op r
	svc=$(stack_user)
	op=$(stack_operator)
	cat >"$dir/conf/pg_hba.conf" <<HBA
# kbook stack (scripts/stack.sh): unix socket, peer authentication through the map "kbook"
local all all peer map=kbook
HBA
	{
		echo "# MAPNAME SYSTEM-USERNAME PG-USERNAME (scripts/stack.sh; roles: sql/001_baseline.sql)"
		for r in kbook_collector kbook_api kbook_feedd kbook_mailer kbook_billing; do
			echo "kbook $svc $r"
		done
		for r in kbook kbook_admin; do
			echo "kbook $op $r"
		done
	} >"$dir/conf/pg_ident.conf"
	chmod 644 "$dir/conf/pg_hba.conf" "$dir/conf/pg_ident.conf"
}

# pg_start DIR PORT: initialises the cluster on first use and starts it on a unix socket.
pg_start() {
	local dir=$1 port=$2 i
	if [ ! -f "$dir/pg/PG_VERSION" ]; then
		as_svc "$PG_BIN/initdb" -D "$dir/pg" -U kbook --auth-local=peer --auth-host=reject -E UTF8 \
			--locale=C.UTF-8 >/dev/null 2>"$dir/state/initdb.err" || { cat "$dir/state/initdb.err"; return 1; }
		as_svc tee -a "$dir/pg/postgresql.conf" >/dev/null <<CONF
# kbook local stack (scripts/stack.sh sets the socket and authentication at start)
fsync = on
max_connections = 200
# a quarter of the memory (at most 8 GB) keeps the indexes and the recent history in Postgres's
# own cache: reading a page from the kernel's cache instead costs a copy and a buffer eviction
shared_buffers = $(awk '/^MemTotal:/ { mb = int($2 / 4096); print (mb > 8192 ? 8192 : (mb < 128 ? 128 : mb)) "MB" }' /proc/meminfo)
CONF
	fi
	pg_conf "$dir"
	# Partition maintenance is the collector's (collector/partitions.c); a cluster made by an
	# older version still names pg_partman's background worker, which must not run beside it.
	if as_svc grep -q '^pg_partman_bgw\.' "$dir/pg/postgresql.conf"; then
		as_svc sed -i -e '/^shared_preload_libraries = .pg_partman_bgw.$/d' -e '/^pg_partman_bgw\./d' \
			"$dir/pg/postgresql.conf"
	fi
	# A crashed earlier run: stop its server if the record says it is ours. Then a postmaster.pid
	# whose pid is not a postgres of this data directory (the pid was reused) is stale: Postgres
	# would refuse to start beside it. A postgres of this directory without a record (started by
	# an older version of this script) is stopped by pg_ctl, as the service user.
	svc_stop "$dir" postgres INT 60
	local pmpid
	if pmpid=$(as_svc head -n 1 "$dir/pg/postmaster.pid" 2>/dev/null) && [[ $pmpid =~ ^[0-9]+$ ]]; then
		if pid_alive "$pmpid" && tr '\0' ' ' <"/proc/$pmpid/cmdline" 2>/dev/null | grep -qF -- "-D $dir/pg "; then
			as_svc "$PG_BIN/pg_ctl" -D "$dir/pg" -m fast -w -t 60 stop >/dev/null 2>&1 || true
		else
			as_svc rm -f "$dir/pg/postmaster.pid"
		fi
	fi
	as_svc rm -f "$dir/run/.s.PGSQL.$port" "$dir/run/.s.PGSQL.$port.lock"
	# Settings on the command line win over postgresql.conf (also over an older stack's, which
	# had unix_socket_permissions = 0777 and trust): unix socket only, in the service user's
	# 0750 directory, authentication by conf/.
	svc_spawn "$dir" postgres "$PG_BIN/postgres" -D "$dir/pg" -p "$port" -k "$dir/run" \
		-c listen_addresses= -c unix_socket_permissions=0700 \
		-c hba_file="$dir/conf/pg_hba.conf" -c ident_file="$dir/conf/pg_ident.conf"
	for ((i = 0; i < 600; i++)); do
		psql -X -q -d "$(stack_conninfo "$dir" "$port") dbname=postgres" -tAc "SELECT 1" >/dev/null 2>&1 && break
		if ! svc_running "$dir" postgres >/dev/null; then
			echo "postgres did not start; see $dir/log/postgres.log" >&2
			as_svc tail -n 20 "$dir/log/postgres.log" >&2
			return 1
		fi
		sleep 0.1
	done
	if ! psql -X -q -d "$(stack_conninfo "$dir" "$port") dbname=postgres" -tAc \
		"SELECT 1 FROM pg_database WHERE datname = 'kbook'" | grep -q 1; then
		psql -X -q -d "$(stack_conninfo "$dir" "$port") dbname=postgres" -c "CREATE DATABASE kbook"
	fi
}

# pg_stop DIR: a fast shutdown (SIGINT: sessions are ended, not waited for).
pg_stop() { svc_stop "$1" postgres INT 60; }

# pg_scratch_start DIR: a throwaway cluster in DIR (a new directory, the stack's layout), on a
# unix socket only, for make unit and make schema; prints the connection string of its database
# "kbook" as the administering role. pg_stop DIR stops it; the caller removes DIR.
pg_scratch_start() {
	local dir=$1 port
	stack_dirs "$dir"
	port=$(stack_free_port)
	pg_start "$dir" "$port" >&2 || return 1
	stack_conninfo "$dir" "$port"
}

# api_start DIR: spawns the kbook-api pool on DIR/run/api.sock as the role kbook_api of the
# database of KBOOK_DATABASE_URL. spawn-fcgi runs as the service user and execs kbook-api.
api_start() {
	local dir=$1
	as_svc rm -f "$dir/run/api.sock"
	KBOOK_DATABASE_URL=$(svc_db kbook_api) svc_spawn "$dir" api \
		spawn-fcgi -n -s "$dir/run/api.sock" -M 0600 -- "$dir/app/bin/kbook-api"
	svc_wait_socket "$dir" api "$dir/run/api.sock"
}

api_stop() { svc_stop "$1" api; as_svc rm -f "$1/run/api.sock"; }

# api_accounts_start DIR: the second kbook-api pool, for the account routes (nginx sends them to
# DIR/run/api-accounts.sock), so that password hashing never waits in line with data calls; as
# the role kbook_api, like the first.
api_accounts_start() {
	local dir=$1
	as_svc rm -f "$dir/run/api-accounts.sock"
	KBOOK_API_WORKERS=${KBOOK_ACCOUNTS_WORKERS:-2} KBOOK_DATABASE_URL=$(svc_db kbook_api) \
		svc_spawn "$dir" api-accounts \
		spawn-fcgi -n -s "$dir/run/api-accounts.sock" -M 0600 -- "$dir/app/bin/kbook-api"
	svc_wait_socket "$dir" api-accounts "$dir/run/api-accounts.sock"
}

api_accounts_stop() { svc_stop "$1" api-accounts; as_svc rm -f "$1/run/api-accounts.sock"; }

# feedd_start DIR: starts kbook-feedd on DIR/run/feed.sock as the role kbook_feedd (the database
# of KBOOK_DATABASE_URL), when built.
feedd_start() {
	local dir=$1
	[ -x "$dir/app/bin/kbook-feedd" ] || return 0
	as_svc rm -f "$dir/run/feed.sock"
	KBOOK_DATABASE_URL=$(svc_db kbook_feedd) KBOOK_FEEDD_LISTEN=$dir/run/feed.sock \
		svc_spawn "$dir" feedd "$dir/app/bin/kbook-feedd"
	svc_wait_socket "$dir" feedd "$dir/run/feed.sock"
}

feedd_stop() { svc_stop "$1" feedd; as_svc rm -f "$1/run/feed.sock"; }

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

sim_stop() { svc_stop "$1" sim; }

# stripe_start DIR HTTPPORT: stripe-sim as the Stripe of make run and the tests when no Stripe key
# is configured (KBOOK_STRIPE_SECRET_KEY_FILE unset): a test secret key and a webhook secret made
# in DIR/conf/stripe, the sim's webhook endpoint the stack's own /v1/stripe/webhook. Sets
# KBOOK_STRIPE_API_BASE, KBOOK_STRIPE_SECRET_KEY_FILE and KBOOK_STRIPE_WEBHOOK_SECRETS_FILE (for
# the account pool and kbook-billing) and writes the sim's port to DIR/conf/stripe.port. The
# secrets live in root's DIR/conf/stripe (readable by the service group), so root never writes
# into a directory the service user could plant a link in.
stripe_start() {
	local dir=$1 httpport=$2 port i
	[ -n "${KBOOK_STRIPE_SECRET_KEY_FILE:-}" ] && return 0
	[ -x "$dir/app/bin/stripe-sim" ] || return 0
	local sdir=$dir/conf/stripe
	rm -rf "$sdir"
	mkdir -m 750 "$sdir"
	(umask 027
	echo "sk_test_kbook_local_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$sdir/secret-key"
	echo "whsec_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$sdir/webhook-secrets")
	[ "$(id -u)" -eq 0 ] && chgrp -R kbook "$sdir"
	port=$(stack_free_port)
	echo "$port" >"$dir/conf/stripe.port"
	svc_spawn "$dir" stripe-sim "$dir/app/bin/stripe-sim" --port "$port" \
		--api-key "$(cat "$sdir/secret-key")" \
		--webhook-url "http://127.0.0.1:$httpport/v1/stripe/webhook" \
		--webhook-secret "$(head -1 "$sdir/webhook-secrets")" --retry-ms 500 --retry-max-ms 5000
	export KBOOK_STRIPE_API_BASE=http://127.0.0.1:$port
	export KBOOK_STRIPE_SECRET_KEY_FILE=$sdir/secret-key
	export KBOOK_STRIPE_WEBHOOK_SECRETS_FILE=$sdir/webhook-secrets
	for ((i = 0; i < 100; i++)); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/_sim/clock" && return 0
		sleep 0.1
	done
	echo "stripe-sim did not start; see $dir/log/stripe-sim.log" >&2
	return 1
}

stripe_stop() { svc_stop "$1" stripe-sim; }

# billing_start DIR: kbook-billing, the sender of pay-as-you-go overage to Stripe, when a Stripe
# key is configured, as the role kbook_billing of the database of KBOOK_DATABASE_URL; its /metrics
# port (free, unless KBOOK_BILLING_METRICS_PORT is set) is in DIR/conf/billing-metrics.port.
billing_start() {
	local dir=$1 port
	[ -x "$dir/app/bin/kbook-billing" ] && [ -n "${KBOOK_STRIPE_SECRET_KEY_FILE:-}" ] || return 0
	port=${KBOOK_BILLING_METRICS_PORT:-$(stack_free_port)}
	echo "$port" >"$dir/conf/billing-metrics.port"
	KBOOK_DATABASE_URL=$(svc_db kbook_billing) KBOOK_BILLING_METRICS_PORT=$port \
		svc_spawn "$dir" billing "$dir/app/bin/kbook-billing"
}

billing_stop() { svc_stop "$1" billing; }

# collector_start DIR: kbook-collector with the environment's KBOOK_* settings, as the role
# kbook_collector of the database of KBOOK_DATABASE_URL, when built.
collector_start() {
	local dir=$1
	[ -x "$dir/app/bin/kbook-collector" ] || return 0
	mkdir -p "$dir/spool"
	[ "$(id -u)" -eq 0 ] && chown kbook: "$dir/spool"
	KBOOK_DATABASE_URL=$(svc_db kbook_collector) \
	KBOOK_COLLECTOR_SPOOL_FILE=${KBOOK_COLLECTOR_SPOOL_FILE:-$dir/spool/collector.spool} \
		svc_spawn "$dir" collector "$dir/app/bin/kbook-collector"
}

collector_stop() { svc_stop "$1" collector; }

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
	echo "$port" | as_svc sh -c 'cat >"$1"' sh "$dir/run/smtp.port"
	svc_spawn "$dir" smtp /usr/bin/python3 "$dir/app/smtp-sink.py" --port "$port" --dir "$dir/mail"
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		svc_running "$dir" smtp >/dev/null || break
		sleep 0.1
	done
	echo "smtp-sink did not start; see $dir/log/smtp.log" >&2
	as_svc tail -n 5 "$dir/log/smtp.log" >&2
	return 1
}

smtp_stop() { svc_stop "$1" smtp; }

# mailer_start DIR: kbook-mailer, which sends the queued mail (env KBOOK_SMTP_* is passed on), as
# the role kbook_mailer of the database of KBOOK_DATABASE_URL.
mailer_start() {
	local dir=$1
	[ -x "$dir/app/bin/kbook-mailer" ] || return 0
	KBOOK_DATABASE_URL=$(svc_db kbook_mailer) svc_spawn "$dir" mailer "$dir/app/bin/kbook-mailer"
}

mailer_stop() { svc_stop "$1" mailer; }

# nginx_start DIR PORT: renders nginx/nginx.conf.in into DIR/nginx (written by the service user,
# whose directory it is) and starts nginx there in the foreground, waiting until it listens.
nginx_start() {
	local dir=$1 port=$2 f i
	as_svc mkdir -p "$dir/nginx/tmp"
	local key_rate=${KBOOK_NGINX_KEY_RATE:-20} ip_rate=${KBOOK_NGINX_IP_RATE:-50}
	for f in "$STACK_ROOT/nginx/nginx.conf.in" "$STACK_ROOT"/nginx/*.inc; do
		sed -e "s|@PREFIX@|$dir/nginx|g" -e "s|@PORT@|$port|g" -e "s|@RUN@|$dir/run|g" \
			-e "s|@KEY_RATE@|$key_rate|g" -e "s|@KEY_BURST@|$((key_rate * 2))|g" \
			-e "s|@IP_RATE@|$ip_rate|g" -e "s|@IP_BURST@|$((ip_rate * 2))|g" \
			-e "s|@LOG@|$dir/log|g" -e "s|@STATIC@|$dir/app/static|g" "$f" |
			as_svc sh -c 'cat >"$1"' sh "$dir/nginx/$(basename "$f" .in)"
	done
	svc_spawn "$dir" nginx nginx -p "$dir/nginx" -e "$dir/log/nginx-error.log" \
		-c "$dir/nginx/nginx.conf" -g "daemon off; pid $dir/nginx/nginx.pid;"
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		svc_running "$dir" nginx >/dev/null || break
		sleep 0.1
	done
	echo "nginx did not start; see $dir/log/nginx-error.log and $dir/log/nginx.log" >&2
	as_svc tail -n 5 "$dir/log/nginx-error.log" "$dir/log/nginx.log" >&2
	return 1
}

nginx_stop() { svc_stop "$1" nginx; }

# stack_start DIR BIN PGPORT HTTPPORT: the whole stack, in order, waiting for each part. The
# daemons' roles are set by their start functions; migrations run as the administering role.
stack_start() {
	local dir=$1 bin=$2 pgport=$3 httpport=$4
	stack_stop "$dir"
	stack_prepare "$dir" "$bin"
	pg_start "$dir" "$pgport" || return 1
	KBOOK_DATABASE_URL=$(stack_conninfo "$dir" "$pgport") "$STACK_ROOT/scripts/migrate.sh" || return 1
	KBOOK_DATABASE_URL=$(stack_conninfo "$dir" "$pgport") api_start "$dir" || return 1
	stripe_start "$dir" "$httpport" || return 1
	KBOOK_PUBLIC_URL=${KBOOK_PUBLIC_URL:-http://127.0.0.1:$httpport} \
		KBOOK_DATABASE_URL=$(stack_conninfo "$dir" "$pgport") api_accounts_start "$dir" || return 1
	KBOOK_DATABASE_URL=$(stack_conninfo "$dir" "$pgport") feedd_start "$dir" || return 1
	# mail: through KBOOK_SMTP_URL when set, else through a local SMTP sink into $dir/mail/new
	local smtp_url=${KBOOK_SMTP_URL:-} smtp_tls=${KBOOK_SMTP_TLS:-try}
	if [ -z "$smtp_url" ]; then
		local smtpport
		smtpport=$(stack_free_port)
		smtp_start "$dir" "$smtpport" || return 1
		smtp_url=smtp://127.0.0.1:$smtpport
		smtp_tls=none
	fi
	KBOOK_SMTP_URL=$smtp_url KBOOK_SMTP_TLS=$smtp_tls \
		KBOOK_PUBLIC_URL=${KBOOK_PUBLIC_URL:-http://127.0.0.1:$httpport} \
		KBOOK_DATABASE_URL=$(stack_conninfo "$dir" "$pgport") mailer_start "$dir"
	KBOOK_DATABASE_URL=$(stack_conninfo "$dir" "$pgport") billing_start "$dir"
	nginx_start "$dir" "$httpport"
}

# stack_stop DIR: stops whatever of a stack its records name (also after a crash), in reverse
# order, Postgres last.
stack_stop() {
	local dir=$1 f
	[ -d "$dir/state" ] || return 0
	nginx_stop "$dir"
	collector_stop "$dir"
	sim_stop "$dir"
	billing_stop "$dir"
	stripe_stop "$dir"
	mailer_stop "$dir"
	smtp_stop "$dir"
	feedd_stop "$dir"
	api_accounts_stop "$dir"
	api_stop "$dir"
	for f in "$dir"/state/*; do
		case ${f##*/} in postgres | initdb.err | '*') continue ;; esac
		svc_stop "$dir" "${f##*/}"
	done
	pg_stop "$dir"
}
