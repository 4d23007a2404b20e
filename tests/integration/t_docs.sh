#!/usr/bin/env bash
# The documentation matches the code: docs/configuration.md holds exactly the table that the
# config module prints, and every variable is in the example env file.
set -u
. "$TEST_ROOT/tests/integration/lib.sh"

table=$("$TEST_BIN/kbook-api" --config-help)
doc=$(sed -n '/<!-- config-table:begin -->/,/<!-- config-table:end -->/p' "$TEST_ROOT/docs/configuration.md" | sed '1d;$d')
check "docs/configuration.md lists exactly the config table" "$table" "$doc"
for v in $(grep -oE '^\| `KBOOK_[A-Z_]+`' <<<"$table" | tr -d '|` '); do
	check "$v in docs/kbook.env.example" 1 "$(grep -c "^#$v=" "$TEST_ROOT/docs/kbook.env.example")"
done
finish
