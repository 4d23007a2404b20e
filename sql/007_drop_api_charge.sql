-- 007: lib/charge.c charges the REST API and the feed (sql/005); sql/003's api_charge and the
-- per-key rate window it kept in api_keys are no longer used.
DROP FUNCTION api_charge(bytea, integer, text);
ALTER TABLE api_keys DROP COLUMN rate_window, DROP COLUMN rate_calls;
