#!/usr/bin/env bash
# The account routes end to end through nginx, the accounts pool of kbook-api, Postgres,
# kbook-mailer and the real SMTP sink of the stack (see accounts_check.py for the list).
set -u
. "$TEST_ROOT/tests/integration/lib.sh"
exec /usr/bin/python3 "$TEST_ROOT/tests/integration/accounts_check.py"
