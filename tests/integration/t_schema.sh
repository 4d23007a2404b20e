#!/usr/bin/env bash
# The schema: sql/schema.sql is what the migrations make (a throwaway database of the test
# cluster, migrated from nothing, dumped by scripts/schema.sh --dump), and scripts/migrate.sh
# applies files in numeric order with gaps, and refuses a database that its files did not make:
# one migrated with the files the baseline replaced, one whose recorded migration was renamed.
set -u
. "$TEST_ROOT/tests/integration/lib.sh"

db=t_schema_$$
old=t_schema_old_$$
conn="$TEST_PG dbname=$db"
sql() { psql -X -q -tA -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
cleanup() {
	sql "$TEST_PG" "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
	sql "$TEST_PG" "DROP DATABASE IF EXISTS $old" >/dev/null 2>&1
}
trap cleanup EXIT
sql "$TEST_PG" "CREATE DATABASE $db" >/dev/null
sql "$TEST_PG" "CREATE DATABASE $old" >/dev/null

echo "sql/schema.sql is what the migrations make"
out=$(KBOOK_DATABASE_URL=$conn "$TEST_ROOT/scripts/migrate.sh" 2>&1); rc=$?
check "a new database migrates" 0 "$rc"
"$TEST_ROOT/scripts/schema.sh" --dump "$conn" >"$TEST_TMP/schema.sql"
if diff -u "$TEST_ROOT/sql/schema.sql" "$TEST_TMP/schema.sql" >"$TEST_TMP/schema.diff"; then
	check "the dump matches sql/schema.sql" same same
else
	echo "sql/schema.sql differs from what the migrations make (- committed, + migrated):"
	cat "$TEST_TMP/schema.diff"
	echo "run make schema and commit sql/schema.sql"
	check "the dump matches sql/schema.sql" same differs
fi
check "the dump holds the tables" 1 "$(grep -c '^CREATE TABLE public.markets ' "$TEST_TMP/schema.sql")"
check "and no dated partition" 0 "$(grep -c '_p20[0-9][0-9]_' "$TEST_TMP/schema.sql")"
check "but the partitions exist" 8 "$(sql "$conn" "SELECT count(*) FROM partman.show_partitions('public.book_deltas')
	WHERE partition_tablename >= 'book_deltas_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM_DD')")"

echo "migrations in numeric order, gaps allowed"
mkdir -p "$TEST_TMP/sql"
cp "$TEST_ROOT"/sql/[0-9]*.sql "$TEST_TMP/sql/"
printf 'CREATE TABLE t_order_b (a int REFERENCES t_order_a (a));\n' >"$TEST_TMP/sql/9018_b.sql"
printf 'CREATE TABLE t_order_a (a int PRIMARY KEY);\n' >"$TEST_TMP/sql/906_a.sql"
out=$(KBOOK_DATABASE_URL=$conn "$TEST_ROOT/scripts/migrate.sh" "$TEST_TMP/sql" 2>&1); rc=$?
check "906 before 9018" "migrate: applied 906_a
migrate: applied 9018_b" "$out"
check "recorded" "906,9018" "$(sql "$conn" "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations WHERE version > 900")"

echo "a renamed or removed migration is refused"
mv "$TEST_TMP/sql/906_a.sql" "$TEST_TMP/sql/906_first.sql"
out=$(KBOOK_DATABASE_URL=$conn "$TEST_ROOT/scripts/migrate.sh" "$TEST_TMP/sql" 2>&1); rc=$?
check "renamed: exit 1" 1 "$rc"
check_match "renamed: says which" '906_a was applied but .* has no 906_a.sql \(it has 906_first.sql\)' "$out"
rm "$TEST_TMP/sql/906_first.sql"
out=$(KBOOK_DATABASE_URL=$conn "$TEST_ROOT/scripts/migrate.sh" "$TEST_TMP/sql" 2>&1); rc=$?
check "removed: exit 1" 1 "$rc"
check_match "removed: says which" '906_a was applied but .* has no 906_a.sql$' "$out"
printf 'CREATE TABLE t_order_a (a int PRIMARY KEY);\n' >"$TEST_TMP/sql/906_a.sql"
printf 'SELECT 1;\n' >"$TEST_TMP/sql/0906_again.sql"
out=$(KBOOK_DATABASE_URL=$conn "$TEST_ROOT/scripts/migrate.sh" "$TEST_TMP/sql" 2>&1); rc=$?
check "two files of one version: exit 1" 1 "$rc"
check_match "two files of one version: both named" \
	'^migrate: (0906_again.sql and 906_a|906_a.sql and 0906_again)\.sql have the same version 906$' "$out"

echo "a database migrated with the files the baseline replaced is refused"
sql "$TEST_PG dbname=$old" "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
	checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
	INSERT INTO schema_migrations (version, name, checksum) VALUES (1, '001_core', 'x'), (2, '002_partitions', 'y')"
out=$(KBOOK_DATABASE_URL="$TEST_PG dbname=$old" "$TEST_ROOT/scripts/migrate.sh" 2>&1); rc=$?
check "exit 1" 1 "$rc"
check_match "says it was made with the old files" 'migration files that sql/001_baseline.sql replaced' "$out"
check_match "and to remove var/pg" 'remove var/pg' "$out"
check "nothing applied" 0 "$(sql "$TEST_PG dbname=$old" "SELECT count(*) FROM pg_class WHERE relname = 'markets'")"
finish
