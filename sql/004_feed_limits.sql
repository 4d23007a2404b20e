-- 004: the live feed's limits per plan (docs/feed.md): websocket connections open at once per
-- API key, and markets subscribed at once per connection. They sit in the plans table next to the
-- credits and the rate they go with, and an operator can override them per account the way
-- 003 overrides credits and rate (NULL: the plan's value). kbook-feedd reads them with
-- the feed_limits view in the same statement that authenticates and charges the handshake; its
-- KBOOK_FEEDD_KEY_CONNS / KBOOK_FEEDD_MARKETS_MAX settings are a server-wide ceiling over these.

ALTER TABLE plans
	ADD COLUMN feed_conns_per_key integer NOT NULL DEFAULT 2 CHECK (feed_conns_per_key > 0),
	ADD COLUMN feed_markets_per_conn integer NOT NULL DEFAULT 25 CHECK (feed_markets_per_conn > 0);
UPDATE plans SET feed_conns_per_key = 2, feed_markets_per_conn = 25 WHERE name = 'free';
UPDATE plans SET feed_conns_per_key = 5, feed_markets_per_conn = 200 WHERE name = 'payg';
UPDATE plans SET feed_conns_per_key = 10, feed_markets_per_conn = 1000 WHERE name = 'project';

ALTER TABLE accounts
	ADD COLUMN feed_conns_override integer CHECK (feed_conns_override > 0),
	ADD COLUMN feed_markets_override integer CHECK (feed_markets_override > 0);

-- The feed limits of each account: its overrides, else its plan's.
CREATE VIEW feed_limits AS
SELECT a.id AS account_id,
       coalesce(a.feed_conns_override, p.feed_conns_per_key) AS conns_per_key,
       coalesce(a.feed_markets_override, p.feed_markets_per_conn) AS markets_per_conn
  FROM accounts a JOIN plans p ON p.name = a.plan;
