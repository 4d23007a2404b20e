-- 013: key and account events for kbook-feedd. A key revoked (revoked_at set) or deleted, or an
-- account disabled or deleted, is announced with NOTIFY kbook_keys, 'key <id>' / 'account <id>',
-- in the transaction that does it, whatever does it (kbook-admin, the web account routes, an
-- operator's psql): feedd LISTENs on the channel and closes every connection opened with that
-- key or account within the second (docs/feed.md), instead of streaming until the next hourly
-- charge. pg_notify needs no privilege, and the function runs as the role that made the change.
CREATE FUNCTION kb_key_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('kbook_keys',
		CASE TG_TABLE_NAME WHEN 'api_keys' THEN 'key ' ELSE 'account ' END || OLD.id);
	RETURN NULL;
END $$;

CREATE TRIGGER api_keys_revoked AFTER UPDATE OF revoked_at ON api_keys FOR EACH ROW
	WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL) EXECUTE FUNCTION kb_key_event();
CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys FOR EACH ROW
	EXECUTE FUNCTION kb_key_event();
CREATE TRIGGER accounts_disabled AFTER UPDATE OF disabled ON accounts FOR EACH ROW
	WHEN (NOT OLD.disabled AND NEW.disabled) EXECUTE FUNCTION kb_key_event();
CREATE TRIGGER accounts_deleted AFTER DELETE ON accounts FOR EACH ROW
	EXECUTE FUNCTION kb_key_event();
