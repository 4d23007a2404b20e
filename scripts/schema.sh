#!/usr/bin/env bash
# make schema: writes sql/schema.sql, the whole schema as pg_dump --schema-only shows a database
# freshly migrated with sql/NNN_*.sql, so that every change to the schema is reviewed as a diff of
# one file. Run it after adding or changing a migration, and commit the result;
# tests/integration/t_schema.sh fails while sql/schema.sql differs from what the migrations make.
#
# The migrations run in a throwaway Postgres (a temporary directory, unix socket only, stopped and
# removed on exit), whose superuser is named "kbook" like the stack's. The dump is normalised so
# that it depends on the migrations only: no pg_dump version comments, SET lines or \restrict
# keys, and none of pg_partman's time partitions (their names and bounds are dates: the day the
# database was migrated); the default partitions and everything else stay.
#
# usage: scripts/schema.sh              rewrites sql/schema.sql
#        scripts/schema.sh --dump CONN  prints the normalised dump of the database CONN (a libpq
#                                       connection string of a superuser), for t_schema.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

# schema_dump CONN: the normalised dump, on stdout.
schema_dump() {
	local conn=$1 t
	local -a skip=()
	# pg_partman's time partitions of every table it manages (show_partitions leaves out the
	# default partition).
	while IFS= read -r t; do
		[ -n "$t" ] && skip+=(--exclude-table="$t")
	done < <(psql -X -q -t -A -v ON_ERROR_STOP=1 -d "$conn" -c "
		SELECT format('%I.%I', p.partition_schemaname, p.partition_tablename)
		  FROM partman.part_config c CROSS JOIN LATERAL partman.show_partitions(c.parent_table) p
		 ORDER BY 1")
	echo "-- The schema that sql/NNN_*.sql make, as pg_dump --schema-only shows it, without"
	echo "-- pg_partman's dated partitions. Written by make schema (scripts/schema.sh): do not edit."
	# The preamble (up to pg_dump's search_path line) goes, then the SET lines and the closing
	# comment and \unrestrict.
	pg_dump --schema-only "${skip[@]}" -d "$conn" | sed -E \
		-e "1,/^SELECT pg_catalog.set_config\('search_path', '', false\);$/d" \
		-e '/^SET [a-z_]+ = /d' \
		-e '/^-- PostgreSQL database dump complete$/,$d' | cat -s |
		awk '{ l[NR] = $0 } END { n = NR; while (n > 0 && (l[n] == "" || l[n] == "--")) n--
			for (i = 1; i <= n; i++) print l[i] }'
}

if [ "${1:-}" = --dump ]; then
	schema_dump "${2:?usage: scripts/schema.sh --dump CONNINFO}"
	exit 0
fi

# shellcheck source=scripts/stack.sh
. "$root/scripts/stack.sh"
tmp=$(mktemp -d /tmp/kbook-schema.XXXXXX)
trap 'pg_stop "$tmp"; rm -rf "$tmp"' EXIT
conn=$(pg_scratch_start "$tmp") || { echo "schema: Postgres did not start" >&2; exit 1; }
KBOOK_DATABASE_URL=$conn "$root/scripts/migrate.sh" >/dev/null
schema_dump "$conn" >"$tmp/schema.sql"
if cmp -s "$tmp/schema.sql" "$root/sql/schema.sql"; then
	echo "schema: sql/schema.sql is up to date"
else
	cp "$tmp/schema.sql" "$root/sql/schema.sql"
	echo "schema: wrote sql/schema.sql ($(wc -l <"$root/sql/schema.sql") lines); commit it with the migration"
fi
