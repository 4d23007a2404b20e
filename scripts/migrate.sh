#!/usr/bin/env bash
# Applies sql/NNN_*.sql in order, each once, each in its own transaction together with the row
# that records it in schema_migrations. Re-running is a no-op. An advisory lock serialises
# concurrent runners; a migration edited after it was applied (checksum mismatch) is an error.
#
# Before the migrations it creates the programs' roles that do not exist yet (cluster-wide, so
# every migration may grant to them; what each may do is in sql/012_roles.sql). Once 012 is
# applied, migrations run as kbook_owner (SET ROLE), which then owns what they create; before
# it they run as the connecting role, and 012 hands what they created to kbook_owner.
#
# usage: scripts/migrate.sh [SQL_DIR]   (connects with $KBOOK_DATABASE_URL, a role that may
#        create roles and extensions: the stack's "kbook"; SQL_DIR defaults to sql/)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
sqldir=${1:-$root/sql}
conn=${KBOOK_DATABASE_URL:?KBOOK_DATABASE_URL is not set}
psql_=(psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc -d "$conn")

"${psql_[@]}" -c "CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	checksum   text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now())" 2>&1 | grep -v 'already exists, skipping' || true

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
for f in "$sqldir"/[0-9][0-9][0-9]_*.sql; do
	name=$(basename "$f" .sql)
	version=$((10#${name%%_*}))
	sum=$(sha256sum "$f" | cut -d' ' -f1)
	# One transaction: take the lock, skip if already applied (checking the checksum), else apply
	# the file and record it.
	if ! out=$("${psql_[@]}" --single-transaction -t -A <<SQL
SELECT pg_advisory_xact_lock(7270001);
SELECT coalesce((SELECT checksum FROM schema_migrations WHERE version = $version), '') AS have \gset
SELECT :'have' = '' AS pending, :'have' <> '' AND :'have' <> '$sum' AS edited \gset
\if :edited
\echo EDITED
\elif :pending
SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = 12) AS as_owner \gset
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
