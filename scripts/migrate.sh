#!/usr/bin/env bash
# Applies sql/NNN_name.sql in numeric order of NNN (gaps allowed), each once, each in its own
# transaction together with the row that records it in schema_migrations (version, name, SHA-256).
# Re-running is a no-op. An advisory lock serialises concurrent runners.
#
# Refused, before anything is applied: a migration changed after it was applied (its checksum
# differs: write a new migration instead), a recorded migration whose file is gone or renamed, two
# files of one version, a file name other than NNN_[A-Za-z0-9_]+.sql. A database migrated with
# the files that sql/001_baseline.sql replaced (001_core ... 015_billing) is refused with what to
# do: nothing was deployed, so the local database is made afresh.
#
# Before the migrations it creates the programs' roles that do not exist yet (cluster-wide, so
# every migration may grant to them; what each may do is in sql/001_baseline.sql, "roles"). The
# baseline runs as the connecting role (it creates the pg_partman extension) and hands what it
# made to kbook_owner; every later migration runs as kbook_owner (SET ROLE), which owns what it
# creates.
#
# usage: scripts/migrate.sh [SQL_DIR]   (connects with $KBOOK_DATABASE_URL, a role that may
#        create roles and extensions: the stack's "kbook"; SQL_DIR defaults to sql/)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
sqldir=${1:-$root/sql}
conn=${KBOOK_DATABASE_URL:?KBOOK_DATABASE_URL is not set}
psql_=(psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc -d "$conn")

# The migrations: version -> file, in numeric order.
declare -A file_of=()
versions=()
for f in "$sqldir"/[0-9]*.sql; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .sql)
	if ! [[ $name =~ ^([0-9]+)_[A-Za-z0-9_]+$ ]]; then
		echo "migrate: $f: a migration is named NNN_name.sql (letters, digits, _)" >&2
		exit 1
	fi
	version=$((10#${BASH_REMATCH[1]}))
	if [ -n "${file_of[$version]:-}" ]; then
		echo "migrate: $(basename "${file_of[$version]}") and $name.sql have the same version $version" >&2
		exit 1
	fi
	file_of[$version]=$f
	versions+=("$version")
done
[ ${#versions[@]} -eq 0 ] || mapfile -t versions < <(printf '%s\n' "${versions[@]}" | sort -n)

"${psql_[@]}" -c "CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	checksum   text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now())" 2>&1 | grep -v 'already exists, skipping' || true

# What the database has applied must be these files, unchanged.
refuse=0
while IFS='|' read -r version name sum; do
	[ -n "$version" ] || continue
	if [ "$version" -eq 1 ] && [ "$name" = 001_core ]; then
		cat >&2 <<MSG
migrate: this database was migrated with the migration files that sql/001_baseline.sql replaced
  (001_core ... 015_billing). Nothing was deployed with them, so it is not upgraded: make it
  afresh. For the local stack (make run): stop it, remove var/pg (its Postgres data) and run
  make run again, which creates and migrates a new database. A test stack makes its own.
MSG
		exit 1
	fi
	f=${file_of[$version]:-}
	if [ -z "$f" ] || [ "$(basename "$f" .sql)" != "$name" ]; then
		echo "migrate: $name was applied but $sqldir has no $name.sql${f:+ (it has $(basename "$f"))}" >&2
		refuse=1
	elif [ "$(sha256sum "$f" | cut -d' ' -f1)" != "$sum" ]; then
		echo "migrate: $name was changed after it was applied (checksum differs): undo the change" \
			"and write a new migration instead" >&2
		refuse=1
	fi
done < <("${psql_[@]}" -t -A -c "SELECT version, name, checksum FROM schema_migrations ORDER BY version")
[ "$refuse" -eq 0 ] || exit 1

# The programs' roles: LOGIN (authenticated by pg_hba.conf), nothing else; kbook_owner, which
# owns the schema, not even that.
"${psql_[@]}" -c "DO \$\$
DECLARE r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['kbook_owner', 'kbook_collector', 'kbook_api', 'kbook_feedd',
	    'kbook_admin', 'kbook_billing', 'kbook_mailer'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I %s NOSUPERUSER NOCREATEDB NOCREATEROLE', r,
			    CASE WHEN r = 'kbook_owner' THEN 'NOLOGIN' ELSE 'LOGIN' END);
		END IF;
	END LOOP;
END \$\$"

applied=0
for version in "${versions[@]}"; do
	f=${file_of[$version]}
	name=$(basename "$f" .sql)
	sum=$(sha256sum "$f" | cut -d' ' -f1)
	# One transaction: take the lock, skip if already applied (a concurrent runner may have applied
	# it since the check above: the checksum is checked again), else apply the file and record it.
	if ! out=$("${psql_[@]}" --single-transaction -t -A <<SQL
SELECT pg_advisory_xact_lock(7270001);
SELECT coalesce((SELECT checksum FROM schema_migrations WHERE version = $version), '') AS have \gset
SELECT :'have' = '' AS pending, :'have' <> '' AND :'have' <> '$sum' AS edited \gset
\if :edited
\echo EDITED
\elif :pending
SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = 1) AS as_owner \gset
\if :as_owner
SET LOCAL ROLE kbook_owner;
\endif
\i '$f'
RESET ROLE;
INSERT INTO schema_migrations (version, name, checksum) VALUES ($version, '$name', '$sum');
\echo APPLIED
\endif
SQL
	); then
		echo "migrate: $name failed; nothing of it was applied" >&2
		exit 1
	fi
	case "$out" in
	*EDITED*) echo "migrate: $name was changed after it was applied (checksum differs)" >&2; exit 1 ;;
	*APPLIED*) echo "migrate: applied $name"; applied=$((applied + 1)) ;;
	esac
done
[ "$applied" -gt 0 ] || echo "migrate: schema up to date"
