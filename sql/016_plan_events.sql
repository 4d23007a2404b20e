-- 016: plan events for kbook-feedd (issue 14). A change of an account's plan, of its payg choice
-- or Stripe subscription status (the billing webhook's billing_* functions set them), or of its
-- feed overrides (kbook-admin) is announced with NOTIFY kbook_keys, 'plan <account id>', in the
-- transaction that makes it, whatever makes it. feedd LISTENs on the channel (kb_key_event's, in
-- 001_baseline) and reads the account's limits again within the second: an open connection over
-- its plan's markets per connection, or a key over its connections, gets an error naming the
-- limit and is closed (docs/feed.md). A change of a plan's own limits announces every account of that plan.
-- pg_notify needs no privilege; the function runs as the role that made the change (it only
-- reads accounts when a plan changes, which only the owner and operators do).
CREATE FUNCTION kb_plan_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_TABLE_NAME = 'plans' THEN
		PERFORM pg_notify('kbook_keys', 'plan ' || a.id) FROM accounts a
		 WHERE a.plan = NEW.name AND NOT a.disabled;
	ELSE
		PERFORM pg_notify('kbook_keys', 'plan ' || NEW.id);
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER accounts_plan_changed
	AFTER UPDATE OF plan, payg, subscription_status, feed_conns_override, feed_markets_override
	ON accounts FOR EACH ROW
	WHEN (OLD.plan IS DISTINCT FROM NEW.plan OR OLD.payg IS DISTINCT FROM NEW.payg
	      OR OLD.subscription_status IS DISTINCT FROM NEW.subscription_status
	      OR OLD.feed_conns_override IS DISTINCT FROM NEW.feed_conns_override
	      OR OLD.feed_markets_override IS DISTINCT FROM NEW.feed_markets_override)
	EXECUTE FUNCTION kb_plan_event();
CREATE TRIGGER plans_limits_changed AFTER UPDATE OF feed_conns_per_key, feed_markets_per_conn
	ON plans FOR EACH ROW
	WHEN (OLD.feed_conns_per_key IS DISTINCT FROM NEW.feed_conns_per_key
	      OR OLD.feed_markets_per_conn IS DISTINCT FROM NEW.feed_markets_per_conn)
	EXECUTE FUNCTION kb_plan_event();
