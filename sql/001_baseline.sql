-- 001: the schema as a whole (issue 17). It folds the migrations 001 to 015 written while nothing
-- was deployed into what they left: a column added and dropped again, or a function created and
-- replaced, appears here once, as it ended. The database it makes is the one those files made,
-- object for object (pg_dump --schema-only, grants, role memberships and pg_partman's part_config
-- compared when it was written); sql/schema.sql is that dump, kept current by `make schema`.
--
-- The areas, in order: conversions, core data (the recorded book), partitions, accounts, keys,
-- billing (the credit ledger and Stripe), roles (owner and each program's grants).
--
-- It runs as the role that scripts/migrate.sh connects with (a superuser: the stack's "kbook"),
-- which the extension needs; the roles section then hands every object to kbook_owner. Later
-- migrations (002 on) run as kbook_owner (migrate.sh SETs ROLE), which so owns what they create;
-- each grants in the same file what it creates (see "Roles" below), and `make schema` refreshes
-- sql/schema.sql, which tests/integration/t_schema.sh compares with a freshly migrated database.
--
-- Times are timestamptz: Postgres stores them as int64 microseconds, so ts keeps the collector's
-- microsecond receive time exactly. Prices are integer micro-dollars (0..1 000 000), sizes integer
-- hundredths of a contract. side is 0 for YES bids and 1 for NO bids.

-- ==== conversions ==================================================================================

-- Exact conversions between timestamptz and integer microseconds since the epoch. The bodies use
-- only immutable functions (timestamp without time zone arithmetic, AT TIME ZONE 'UTC'), so the
-- planner inlines them: called through the SQL-function machinery instead, they cost ~1 us a row,
-- and the API converts every delta it reads. date_part gives the seconds as a double: the
-- microsecond count (below 2^53) divided by 10^6, correctly rounded, so multiplying back and
-- rounding restores it exactly (tests/integration/t_api.sh checks 200 000 random instants).
CREATE FUNCTION kb_ts(us bigint) RETURNS timestamptz
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	RETURN ('1970-01-01 00:00:00'::timestamp + us * interval '1 microsecond') AT TIME ZONE 'UTC';
CREATE FUNCTION kb_us(t timestamptz) RETURNS bigint
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	RETURN round(date_part('epoch', t AT TIME ZONE 'UTC') * 1000000)::bigint;

-- ==== core data: markets, the recorded book, gaps (DESIGN.md section 3) ============================

-- The markets. kbook-collector sets first_ts/last_ts (coverage) of every market it recorded in
-- each group commit, thousands of row updates a second; they are in no index, and fillfactor 50
-- leaves half of each page for the new versions of its rows, so those updates are HOT (heap-only:
-- no new index entries, old versions pruned on the page without vacuum). Kalshi's REST object is
-- in market_raw, not here: inline (~1 440 bytes of a ~1 800-byte row) it made every coverage
-- update copy it. Measured on the feed benchmark's recording stack (2 350 markets, 10 000
-- changes/s, 2 minutes) with raw inline and fillfactor 100: 19 % of the ~9 700 updates/s not HOT,
-- markets 226 MB, the coverage UPDATE 17 % of a core (0.82 ms a call), 6 MB/s of WAL; as here:
-- 99.9 % HOT, 2.2 MB, 9 % (0.33 ms), 2.6 MB/s. Autovacuum (for the updates that are not HOT: a
-- status change moves markets_status_idx) looks at a database once a minute: after 1 000 dead
-- versions whatever the table's size (instead of 20 % of the rows), it vacuums markets at each
-- look, without the cost-based sleeps (the table is a few MB).
--
-- final_ts: the instant the collector learned that a market it was recording without an open gap
-- settled ('finalized'): its book does not change after that, so every later instant stays
-- complete whatever recorded_through says. NULL otherwise (a market that settled inside a gap
-- ends its record at the gap's start: gaps.closed_by = 'market_closed'). Not indexed: setting it
-- is a HOT update.
CREATE TABLE markets (
	id             integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	ticker         text NOT NULL UNIQUE CHECK (ticker <> '' AND length(ticker) <= 200),
	event_ticker   text NOT NULL DEFAULT '',
	series_ticker  text NOT NULL DEFAULT '',
	market_type    text NOT NULL DEFAULT 'binary',
	title          text NOT NULL DEFAULT '',
	subtitle       text NOT NULL DEFAULT '',
	yes_sub_title  text NOT NULL DEFAULT '',
	no_sub_title   text NOT NULL DEFAULT '',
	status         text NOT NULL DEFAULT 'initialized',
	open_time      timestamptz,
	close_time     timestamptz,
	expected_expiration_time timestamptz,
	settled_time   timestamptz,
	result         text NOT NULL DEFAULT '',
	price_level_structure text NOT NULL DEFAULT '',
	price_ranges   jsonb NOT NULL DEFAULT '[]',
	notional       bigint NOT NULL DEFAULT 1000000 CHECK (notional > 0),
	use_yes_price  boolean NOT NULL DEFAULT false,
	first_ts       timestamptz,           -- coverage: first recorded instant
	last_ts        timestamptz,           -- coverage: last recorded instant
	discovered_at  timestamptz NOT NULL DEFAULT now(),
	updated_at     timestamptz NOT NULL DEFAULT now(),
	final_ts       timestamptz            -- recorded to its settlement (above)
) WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0,
	autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
CREATE INDEX markets_event_idx ON markets (event_ticker);
CREATE INDEX markets_series_idx ON markets (series_ticker);
CREATE INDEX markets_status_idx ON markets (status);

-- Kalshi's REST object of each market it described; a market known only by its ticker has no row,
-- and the API shows '{}' for it. The collector's and kbook-gen's upserts write both tables in one
-- statement.
CREATE TABLE market_raw (
	market_id integer PRIMARY KEY REFERENCES markets (id) ON DELETE CASCADE,
	raw       jsonb NOT NULL DEFAULT '{}'
);

-- The deltas. The unique index carries side, price and delta (INCLUDE), so that reading a
-- market's deltas since its checkpoint (the book at T, the feed's replays, the sampled books) is
-- an index-only scan: the leaf pages hold the rows in (market, ts) order, where the heap holds
-- them in arrival order, one market's rows of a day spread over as many pages as it has rows.
-- Measured on the dev stack (2 450 deltas a market over 50 days, written in time order as the
-- collector writes them), the book statement: 32 -> 10 buffers and 0.103 -> 0.076 ms a call
-- against the index without INCLUDE. The price is space: an index entry grows from 24 to 40 bytes
-- (the API bench's 50 million deltas: 5.8 -> 7.3 GB). exchange_ts stays out (only the deltas page
-- reads it): it would add 8 bytes more. Index-only scans need the visibility map: the partitions
-- of past days are all-visible once autovacuum has been through them (insert-driven vacuum);
-- today's partition is read from the heap for its newest pages.
CREATE TABLE book_deltas (
	market_id    integer NOT NULL,
	ts           timestamptz NOT NULL,   -- collector receive time, strictly increasing per market
	exchange_ts  timestamptz,            -- Kalshi's ts_ms
	side         smallint NOT NULL CHECK (side IN (0, 1)),
	price        integer NOT NULL CHECK (price BETWEEN 0 AND 1000000),
	delta        bigint NOT NULL CHECK (delta <> 0)
) PARTITION BY RANGE (ts);
CREATE UNIQUE INDEX book_deltas_market_ts ON book_deltas (market_id, ts) INCLUDE (side, price, delta);

CREATE TABLE book_checkpoints (
	market_id   integer NOT NULL,
	ts          timestamptz NOT NULL,
	source      text NOT NULL CHECK (source IN ('snapshot', 'periodic')),
	yes_prices  integer[] NOT NULL,
	yes_sizes   bigint[] NOT NULL,
	no_prices   integer[] NOT NULL,
	no_sizes    bigint[] NOT NULL,
	CHECK (cardinality(yes_prices) = cardinality(yes_sizes)),
	CHECK (cardinality(no_prices) = cardinality(no_sizes))
) PARTITION BY RANGE (ts);
CREATE UNIQUE INDEX book_checkpoints_market_ts ON book_checkpoints (market_id, ts);

-- Gaps in a market's record (docs/collector.md, "Gaps"). closed_by says how one ended, NULL while
-- it is open: 'snapshot': a fresh exchange snapshot replaced the book; end_ts is the instant of
-- its snapshot checkpoint and diverged says whether it differed from the book held.
-- 'market_closed': the market settled before any snapshot came (none will: the collector drops
-- settled markets); end_ts is when the collector learned it and diverged is NULL (unknown). The
-- market's recorded history ends at the gap's start.
CREATE TABLE gaps (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	market_id   integer NOT NULL REFERENCES markets (id),
	start_ts    timestamptz NOT NULL,
	end_ts      timestamptz,             -- NULL while the gap is open
	reason      text NOT NULL CHECK (reason IN ('seq_gap', 'disconnect', 'restart',
	                'terminal_error', 'overflow', 'negative_level', 'takeover')),
	detail      text NOT NULL DEFAULT '',
	diverged    boolean,                 -- did the fresh snapshot differ from the book we held?
	closed_by   text CHECK (closed_by IN ('snapshot', 'market_closed')),
	CHECK (end_ts IS NULL OR end_ts >= start_ts),
	CONSTRAINT gaps_closed_by_check_end CHECK ((end_ts IS NULL) = (closed_by IS NULL))
);
CREATE INDEX gaps_market_idx ON gaps (market_id, start_ts);

-- How far the record is known to be complete (docs/collector.md "Recorded through", docs/api.md):
-- one row, the instant through which the active collector has committed everything it received.
-- kbook-collector sets it in the same transaction as the rows it covers: the receive time of the
-- last frame its socket thread had processed (every event of those frames queued) when the writer
-- took the batch, so a mark never claims a row not yet committed. It is committed at least once a
-- second, quiet markets included (the collector pings an idle connection every second, and a pong
-- is a frame). For every market the collector has recorded and that has no open gap, the book at
-- any instant up to greatest(through, markets.last_ts) is exact; an instant after it is "not yet
-- recorded" (complete: false) until the collector gets there, or until a restart or takeover gap
-- covers it (that gap starts just after the same instant, so an answer never turns from complete
-- to incomplete after the fact).
--
-- One row for the one active collector (the advisory lock elects it): the API's book at T reads
-- it in the same statement as the market, checkpoint and gap, one more buffer hit. The row is
-- updated once a commit; fillfactor 10 leaves room for its versions on its one page (HOT, pruned
-- without vacuum).
CREATE TABLE recorded_through (
	id      smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
	through timestamptz NOT NULL
) WITH (fillfactor = 10);

-- ==== partitions (pg_partman, Debian postgresql-15-partman) ========================================
--
-- book_deltas: one partition per day, 7 days made ahead. book_checkpoints: one per month, 3 ahead.
-- Rows older than the first partition land in the default partition. No retention is set: history
-- is the product.
--
-- The collector runs the maintenance (collector/partitions.c: at start, then every hour) through
-- the functions below, whatever the order in which the cluster, the database and the migrations
-- were made, and on any Postgres (no shared_preload_libraries, no restart, no database name fixed
-- at start-up). pg_partman's background worker is not used: configured in postgresql.conf at
-- initdb, before the kbook database existed, its first run failed ("database "kbook" does not
-- exist") and it never ran again until Postgres restarted, so nothing made partitions ahead.
--
-- Partitions are made ahead of now, not of the newest row (infinite_time_partitions): while
-- recording the two are the same; and pg_partman's other way reads max(ts) of the newest
-- partition at every run, which book_deltas's (market_id, ts) index cannot answer without a scan.
-- pg_partman gives each partition it makes its parent's owner and grants (inherit_privileges).

CREATE SCHEMA IF NOT EXISTS partman;
CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman;

SELECT partman.create_parent('public.book_deltas', 'ts', 'native', 'daily', p_premake := 7);
SELECT partman.create_parent('public.book_checkpoints', 'ts', 'native', 'monthly', p_premake := 3);
UPDATE partman.part_config SET infinite_time_partitions = true, inherit_privileges = true
 WHERE parent_table IN ('public.book_deltas', 'public.book_checkpoints');

-- Makes the partitions that are due (pg_partman's run_maintenance, which takes an advisory lock
-- so that concurrent runs skip), then returns, per partitioned table, the end of its newest
-- partition and pg_partman's premake. SECURITY DEFINER: the caller needs EXECUTE only, not the
-- ownership of the tables that creating and attaching partitions takes. Called through
-- kbook_partition_maintenance() below, never directly.
CREATE FUNCTION kbook_partition_maintenance_owner()
RETURNS TABLE (parent_table text, made_until timestamptz, premake int)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM partman.run_maintenance(p_analyze := false, p_jobmon := false);
	RETURN QUERY
	SELECT c.parent_table, i.child_end_time, c.premake
	  FROM partman.part_config c
	 CROSS JOIN LATERAL (SELECT p.partition_schemaname || '.' || p.partition_tablename AS child
	                       FROM partman.show_partitions(c.parent_table, 'DESC') p LIMIT 1) l
	 CROSS JOIN LATERAL partman.show_partition_info(l.child, c.partition_interval,
	                                                c.parent_table) i
	 ORDER BY c.parent_table;
END $$;

-- The maintenance, for the collector and operators. run_maintenance ends by setting search_path
-- back, for the session, to what it found, which inside the function above is that function's
-- own "pg_catalog, pg_temp": the caller's session would keep it (the collector's next statement
-- did not find kbook's functions). This wrapper, running as the caller, puts the caller's back.
CREATE FUNCTION kbook_partition_maintenance()
RETURNS TABLE (parent_table text, made_until timestamptz, premake int)
LANGUAGE plpgsql AS $$
DECLARE
	caller_path text := current_setting('search_path');
BEGIN
	RETURN QUERY SELECT * FROM public.kbook_partition_maintenance_owner();
	PERFORM set_config('search_path', caller_path, false);
END $$;

-- The default partitions that hold rows (pg_partman's check_default without its exact count: a
-- default partition must be empty, and counting one that is not would read all of it). Rows
-- there mean partitions were missing when they were written; the collector warns and counts them
-- in /metrics; operators run the same check (docs/operations.md).
CREATE FUNCTION kbook_default_partitions()
RETURNS TABLE (parent_table text, default_table text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT h.inhparent::regclass::text, d.default_table
	  FROM partman.check_default(false) d
	  JOIN pg_inherits h ON h.inhrelid = d.default_table::regclass
	 ORDER BY 1
$$;

-- ==== accounts: plans, accounts, sessions, single-use links, login throttling, mail ================

-- The plans (BILLING.md), read by the charge (lib/charge.c) and shown by GET /v1/plans and the
-- pricing page. overage: past the allowance, keep serving and meter (payg), or answer 429. The
-- live feed's limits (docs/feed.md): websocket connections open at once per API key, markets
-- subscribed at once per connection; kbook-feedd's KBOOK_FEEDD_KEY_CONNS / KBOOK_FEEDD_MARKETS_MAX
-- are a server-wide ceiling over them.
CREATE TABLE plans (
	name            text PRIMARY KEY,
	monthly_credits integer NOT NULL CHECK (monthly_credits >= 0),
	rate_per_min    integer NOT NULL CHECK (rate_per_min > 0),
	overage         boolean NOT NULL,
	feed_conns_per_key    integer NOT NULL DEFAULT 2 CHECK (feed_conns_per_key > 0),
	feed_markets_per_conn integer NOT NULL DEFAULT 25 CHECK (feed_markets_per_conn > 0),
	price_usd_month        numeric(10, 2) NOT NULL DEFAULT 0 CHECK (price_usd_month >= 0),
	overage_usd_per_credit numeric(12, 6) CHECK (overage_usd_per_credit >= 0)
);
INSERT INTO plans VALUES
	('free', 1000, 30, false, 2, 25, 0, NULL),
	('payg', 1000, 60, true, 5, 200, 0, 0.008),
	('project', 4000, 120, false, 10, 1000, 30, NULL);

-- The accounts. The *_override columns are set by an operator (kbook-admin) for internal,
-- benchmark or negotiated accounts (NULL: the plan's value). An account made by sign-up starts
-- unconfirmed (its keys are refused until the link of the confirmation mail is followed);
-- accounts made by an operator take the default and count as confirmed. A deleted account keeps
-- its row (usage history and credit periods stay for the books) but loses its email, password,
-- sessions and keys: deleted_at says when.
--
-- The Stripe side (shared/BILLING.md): the customer and subscription, set by the webhook's events
-- (billing_apply_event below). payg is the account's own choice (POST /v1/account/billing/payg):
-- its plan is payg instead of free whenever no project subscription is active.
CREATE TABLE accounts (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email         text NOT NULL UNIQUE CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+$'),
	password_hash text,                    -- argon2id; NULL for accounts made with kbook-admin
	plan          text NOT NULL DEFAULT 'free' REFERENCES plans (name),
	disabled      boolean NOT NULL DEFAULT false,
	monthly_credits_override integer CHECK (monthly_credits_override >= 0),
	rate_per_min_override    integer CHECK (rate_per_min_override > 0),
	created_at    timestamptz NOT NULL DEFAULT now(),
	feed_conns_override   integer CHECK (feed_conns_override > 0),
	feed_markets_override integer CHECK (feed_markets_override > 0),
	email_confirmed boolean NOT NULL DEFAULT true,
	deleted_at      timestamptz,
	stripe_customer_id     text UNIQUE,
	stripe_subscription_id text,
	subscription_status    text,
	subscription_period_start timestamptz,
	subscription_period_end   timestamptz,
	payg boolean NOT NULL DEFAULT false
);

-- The feed limits of each account: its overrides, else its plan's. kbook-feedd reads them in the
-- same statement that authenticates and charges a feed's handshake.
CREATE VIEW feed_limits AS
SELECT a.id AS account_id,
       coalesce(a.feed_conns_override, p.feed_conns_per_key) AS conns_per_key,
       coalesce(a.feed_markets_override, p.feed_markets_per_conn) AS markets_per_conn
  FROM accounts a JOIN plans p ON p.name = a.plan;

-- Browser and script sessions: the token (32 random bytes) is stored only as its SHA-256.
-- A session ends at expires_at (absolute) or after the idle timeout since last_seen_at.
CREATE TABLE sessions (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id   bigint NOT NULL REFERENCES accounts (id),
	token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	csrf_token   text NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT now(),
	last_seen_at timestamptz NOT NULL DEFAULT now(),
	expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_account_idx ON sessions (account_id);

-- The single-use links of the confirmation and password-reset mails, stored as SHA-256.
CREATE TABLE account_tokens (
	token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
	account_id bigint NOT NULL REFERENCES accounts (id),
	purpose    text NOT NULL CHECK (purpose IN ('confirm', 'reset')),
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	used_at    timestamptz
);
CREATE INDEX account_tokens_account_idx ON account_tokens (account_id);

-- Failed logins per email address ('email:...', whether or not it has an account) and per client
-- address ('addr:...'). Past a number of failures each further one blocks the subject for twice
-- as long as the last (1 s, 2 s, ... at most 15 min); an hour without failures starts afresh.
CREATE TABLE login_throttle (
	subject         text PRIMARY KEY,
	failures        integer NOT NULL DEFAULT 0,
	last_failure_at timestamptz NOT NULL DEFAULT now(),
	blocked_until   timestamptz
);

-- Mail to send (kbook-mailer): written by the request in its own transaction, sent afterwards
-- with retries; the body (which may hold a link's token) is blanked once sent. mailq_add counts
-- the mails of an address in the last hour (a flood guard: mail_outbox_to_idx).
CREATE TABLE mail_outbox (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	to_addr         text NOT NULL,
	subject         text NOT NULL,
	body            text NOT NULL,
	kind            text NOT NULL,
	created_at      timestamptz NOT NULL DEFAULT now(),
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	sent_at         timestamptz,
	last_error      text
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX mail_outbox_to_idx ON mail_outbox (to_addr, created_at);

-- Wakes kbook-mailer when a mail is queued (it also polls, so a lost notification only delays).
CREATE FUNCTION mail_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('kbook_mail', '');
	RETURN NULL;
END $$;
CREATE TRIGGER mail_outbox_notify AFTER INSERT ON mail_outbox
	FOR EACH STATEMENT EXECUTE FUNCTION mail_outbox_notify();

-- ==== keys ===========================================================================================

-- API keys: only the SHA-256 of the whole key is stored. A key's optional monthly credit cap:
-- cap_used counts the key's credits of the month cap_period starts (the UTC calendar month, like
-- credit_periods); only a capped key's charge keeps it, in the same statement that charges the
-- account (lib/charge.c).
CREATE TABLE api_keys (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id   bigint NOT NULL REFERENCES accounts (id),
	name         text NOT NULL DEFAULT '' CHECK (length(name) <= 100),
	prefix       text NOT NULL,            -- the first characters of the key, for display
	hash         bytea NOT NULL UNIQUE CHECK (length(hash) = 32),   -- SHA-256 of the whole key
	created_at   timestamptz NOT NULL DEFAULT now(),
	last_used_at timestamptz,
	revoked_at   timestamptz,
	monthly_cap  integer CHECK (monthly_cap > 0),
	cap_period   timestamptz,
	cap_used     bigint NOT NULL DEFAULT 0 CHECK (cap_used >= 0)
);
CREATE INDEX api_keys_account_idx ON api_keys (account_id);

-- Key and account events for kbook-feedd. A key revoked (revoked_at set) or deleted, or an
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

-- ==== billing: the credit ledger, usage, Stripe =====================================================

-- One row per account and credit period (kb_period_start below: the calendar month in UTC, or a
-- project subscription's billing period); used never exceeds allowance (BILLING.md).
-- lib/charge.c charges a data call (REST API or feed) with one statement: a conditional upsert of
-- this row, which also counts the plan's rate limit (calls of the ACCOUNT, every key together, per
-- calendar minute: rate_window, rate_calls), plus the usage row; see docs/architecture.md.
-- overage: payg credits past the allowance; call_overage: the last call's share of them, from
-- which the same statement makes the billing_outbox row.
CREATE TABLE credit_periods (
	account_id   bigint NOT NULL REFERENCES accounts (id),
	period_start timestamptz NOT NULL,
	period_end   timestamptz NOT NULL,
	allowance    integer NOT NULL CHECK (allowance >= 0),
	used         integer NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= allowance),
	overage      bigint NOT NULL DEFAULT 0 CHECK (overage >= 0),
	rate_window  timestamptz,                 -- the calendar minute rate_calls counts
	rate_calls   integer NOT NULL DEFAULT 0 CHECK (rate_calls >= 0),
	call_overage integer NOT NULL DEFAULT 0,
	PRIMARY KEY (account_id, period_start)
);

-- Usage per key, route and day.
CREATE TABLE usage (
	key_id   bigint NOT NULL REFERENCES api_keys (id),
	route    text NOT NULL,
	day      date NOT NULL,
	calls    bigint NOT NULL DEFAULT 0,
	credits  bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (key_id, route, day)
);

-- The credit period of an account, written once here for every statement that needs it
-- (lib/charge.h SQL_PERIOD_START/END, kb_account_period, the functions below). A project
-- subscription's credits follow its own billing period at Stripe (items.data[0].
-- current_period_start/end, kept on accounts by billing_apply_event): its renewal opens a new
-- period with a fresh allowance and the 1st of a month does nothing; had both reset it, a
-- subscription renewing on the 15th would get 4 000 credits twice a month. Every other plan (and
-- project before its subscription's period is known) uses the calendar month in UTC.
CREATE FUNCTION kb_period_start(p_plan text, p_sub_start timestamptz) RETURNS timestamptz
	LANGUAGE sql STABLE PARALLEL SAFE
	RETURN CASE WHEN p_plan = 'project' AND p_sub_start IS NOT NULL THEN p_sub_start
		ELSE date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' END;

CREATE FUNCTION kb_period_end(p_plan text, p_sub_start timestamptz, p_sub_end timestamptz)
	RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE
	RETURN CASE WHEN p_plan = 'project' AND p_sub_start IS NOT NULL AND p_sub_end > p_sub_start
		THEN p_sub_end
		ELSE date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 month' END;

-- The period start of one account, for statements that do not join its row.
CREATE FUNCTION kb_account_period(p_account bigint) RETURNS timestamptz
	LANGUAGE sql STABLE PARALLEL SAFE
	RETURN (SELECT kb_period_start(a.plan, a.subscription_period_start) FROM accounts a
		 WHERE a.id = p_account);

-- Every webhook event applied (or seen stale/ignored), by Stripe's id: a redelivery finds its row
-- and changes nothing.
CREATE TABLE stripe_events (
	id          text PRIMARY KEY,
	type        text NOT NULL,
	created     bigint NOT NULL,       -- the event's created (Stripe's clock, unix seconds)
	outcome     text NOT NULL,         -- applied, stale or ignored
	received_at timestamptz NOT NULL DEFAULT now()
);

-- The created of the last event applied per subscription (or other object): an older event
-- about it arriving late changes nothing.
CREATE TABLE stripe_objects (
	object_id    text PRIMARY KEY,
	last_created bigint NOT NULL
);

-- Pay-as-you-go overage, one row per charged call that went past the allowance, inserted by the
-- charge in the same transaction. kbook-billing sends each as a meter event whose identifier is
-- the row's id (Stripe dedups it), then sets sent_at; failed_at marks a row Stripe refused as
-- invalid (never retried; last_error says why).
CREATE TABLE billing_outbox (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id      bigint NOT NULL REFERENCES accounts (id),
	credits         integer NOT NULL CHECK (credits >= 0),
	created_at      timestamptz NOT NULL DEFAULT now(),
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	sent_at         timestamptz,
	failed_at       timestamptz,
	last_error      text
);
CREATE INDEX billing_outbox_due_idx ON billing_outbox (next_attempt_at, id)
	WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX billing_outbox_account_idx ON billing_outbox (account_id);

-- api_refund: gives back the credits of a charged call that failed (4xx/5xx after charging): in
-- the credit period, the key's usage and a capped key's count. Credits refunded from the overage
-- are taken off the account's newest outbox row not yet claimed by the sender (the one this call
-- just made). When no such row can absorb them (already on its way to Stripe), nothing is
-- refunded: the overage was metered and stays billed, ledger and Stripe agreeing.
CREATE FUNCTION api_refund(p_account_id bigint, p_key_id bigint, cost integer, p_route text)
RETURNS void LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	pstart timestamptz := kb_account_period(p_account_id);
	ov bigint;
	x integer;
BEGIN
	PERFORM set_config('synchronous_commit', 'off', true);
	SELECT c.overage INTO ov FROM credit_periods c
	 WHERE c.account_id = p_account_id AND c.period_start = pstart FOR UPDATE;
	x := least(cost, coalesce(ov, 0));
	IF x > 0 THEN
		UPDATE billing_outbox o SET credits = o.credits - x
		 WHERE o.id = (SELECT b.id FROM billing_outbox b WHERE b.account_id = p_account_id
		    AND b.sent_at IS NULL AND b.attempts = 0 AND b.credits >= x
		  ORDER BY b.id DESC LIMIT 1 FOR UPDATE SKIP LOCKED);
		IF NOT FOUND THEN
			RETURN;
		END IF;
	END IF;
	UPDATE credit_periods c
	   SET overage = c.overage - x, used = c.used - (cost - x)
	 WHERE c.account_id = p_account_id AND c.period_start = pstart AND c.used >= cost - x;
	UPDATE usage u SET credits = u.credits - cost
	 WHERE u.key_id = p_key_id AND u.route = p_route AND u.day = (now() AT TIME ZONE 'UTC')::date
	   AND u.credits >= cost;
	UPDATE api_keys k SET cap_used = k.cap_used - cost
	 WHERE k.id = p_key_id AND k.monthly_cap IS NOT NULL AND k.cap_period = pstart
	   AND k.cap_used >= cost;
END $$;

-- The plan an account falls back to without an active project subscription.
CREATE FUNCTION billing_base_plan(p_payg boolean) RETURNS text
	LANGUAGE sql IMMUTABLE RETURN CASE WHEN p_payg THEN 'payg' ELSE 'free' END;

-- Sets the account's plan and makes its period's allowance the new plan's (never below what is
-- already used, so the ledger's used <= allowance holds). A renewal needs nothing of its own: its
-- subscription event moves the period, whose row starts afresh.
CREATE FUNCTION billing_set_plan(p_account bigint, p_plan text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	credits integer;
	pstart timestamptz;
	pend timestamptz;
BEGIN
	UPDATE accounts SET plan = p_plan WHERE id = p_account;
	SELECT coalesce(a.monthly_credits_override, p.monthly_credits),
	       kb_period_start(a.plan, a.subscription_period_start),
	       kb_period_end(a.plan, a.subscription_period_start, a.subscription_period_end)
	  INTO credits, pstart, pend
	  FROM accounts a JOIN plans p ON p.name = a.plan WHERE a.id = p_account;
	INSERT INTO credit_periods AS c (account_id, period_start, period_end, allowance)
	VALUES (p_account, pstart, pend, credits)
	ON CONFLICT (account_id, period_start) DO UPDATE SET
		allowance = greatest(credits, c.used), period_end = excluded.period_end;
END $$;

-- Applies one verified webhook event (the whole event as Stripe sent it) in the caller's one
-- statement, so all of it or nothing: the dedup row, the stale guard and the change. Returns
-- 'duplicate', 'stale', 'ignored' or 'applied'. project_price is the Stripe price of the project
-- plan (configuration). Raises on a malformed event of a handled type (the caller answers 5xx,
-- nothing is kept, and Stripe delivers it again).
CREATE FUNCTION billing_apply_event(ev jsonb, project_price text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	etype text := ev->>'type';
	v_created bigint := (ev->>'created')::bigint;
	obj jsonb := ev->'data'->'object';
	guard text;
	acc bigint;
	a record;
	status text;
	price text;
	v_outcome text := 'applied';
BEGIN
	INSERT INTO stripe_events (id, type, created, outcome) VALUES (ev->>'id', etype, v_created, 'applied')
	ON CONFLICT (id) DO NOTHING;
	IF NOT FOUND THEN
		RETURN 'duplicate';
	END IF;
	IF etype NOT IN ('checkout.session.completed', 'customer.subscription.created',
	    'customer.subscription.updated', 'customer.subscription.deleted', 'invoice.paid',
	    'invoice.payment_failed') THEN
		v_outcome := 'ignored';
	ELSE
		-- the account: the session's client_reference_id, else the customer kbook made for it
		IF etype = 'checkout.session.completed' THEN
			acc := (SELECT id FROM accounts WHERE id::text = obj->>'client_reference_id');
			guard := obj->>'subscription';
		ELSIF etype LIKE 'customer.subscription.%' THEN
			guard := obj->>'id';
		ELSE
			guard := obj->'parent'->'subscription_details'->>'subscription';
		END IF;
		IF acc IS NULL THEN
			acc := (SELECT id FROM accounts WHERE stripe_customer_id = obj->>'customer');
		END IF;
		IF acc IS NULL THEN
			v_outcome := 'ignored';
		ELSIF guard IS NOT NULL AND EXISTS (SELECT 1 FROM stripe_objects
		    WHERE object_id = guard AND last_created > v_created) THEN
			v_outcome := 'stale';
		ELSE
			IF guard IS NOT NULL THEN
				INSERT INTO stripe_objects VALUES (guard, v_created)
				ON CONFLICT (object_id) DO UPDATE SET last_created = excluded.last_created;
			END IF;
			SELECT * INTO a FROM accounts WHERE id = acc FOR UPDATE;
			IF etype = 'checkout.session.completed' THEN
				UPDATE accounts SET stripe_customer_id = coalesce(stripe_customer_id, obj->>'customer'),
				    stripe_subscription_id = coalesce(obj->>'subscription', stripe_subscription_id)
				 WHERE id = acc;
			ELSIF etype LIKE 'customer.subscription.%' THEN
				status := CASE WHEN etype = 'customer.subscription.deleted' THEN 'canceled'
				    ELSE obj->>'status' END;
				price := obj->'items'->'data'->0->'price'->>'id';
				UPDATE accounts SET stripe_subscription_id = obj->>'id', subscription_status = status,
				    subscription_period_start = to_timestamp((obj->'items'->'data'->0->>'current_period_start')::bigint),
				    subscription_period_end = to_timestamp((obj->'items'->'data'->0->>'current_period_end')::bigint)
				 WHERE id = acc;
				PERFORM billing_set_plan(acc, CASE WHEN price = project_price
				    AND status IN ('active', 'trialing') THEN 'project' ELSE billing_base_plan(a.payg) END);
			ELSIF etype = 'invoice.paid' THEN
				IF guard IS NULL THEN
					v_outcome := 'ignored';   -- a one-off invoice: no plan in it
				ELSE
					UPDATE accounts SET stripe_subscription_id = guard, subscription_status = 'active'
					 WHERE id = acc;
					-- the first invoice opens the project period (a renewal's is opened by
					-- its subscription event moving the period)
					PERFORM billing_set_plan(acc, 'project');
				END IF;
			ELSE -- invoice.payment_failed: back to the base plan until a payment succeeds
				IF guard IS NULL THEN
					v_outcome := 'ignored';
				ELSE
					UPDATE accounts SET subscription_status = 'past_due' WHERE id = acc;
					PERFORM billing_set_plan(acc, billing_base_plan(a.payg));
				END IF;
			END IF;
		END IF;
	END IF;
	IF v_outcome <> 'applied' THEN
		UPDATE stripe_events SET outcome = v_outcome WHERE id = ev->>'id';
	END IF;
	RETURN v_outcome;
END $$;

-- POST /v1/account/billing/payg: the account's choice, and its plan unless a project
-- subscription is active (then the choice takes effect when it ends).
CREATE FUNCTION billing_set_payg(p_account bigint, p_on boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	cur text;
BEGIN
	UPDATE accounts SET payg = p_on WHERE id = p_account RETURNING plan INTO cur;
	IF cur IS DISTINCT FROM 'project' THEN
		PERFORM billing_set_plan(p_account, billing_base_plan(p_on));
	END IF;
END $$;

-- ==== roles: least privilege in the database (issue 14) =============================================
--
-- The roles exist before any migration runs (scripts/migrate.sh creates them, so that every
-- migration can grant on what it creates):
--
--   kbook_owner      owns the schema; migrations after this one run as it (SET ROLE), and so
--                    does the partition maintenance (the SECURITY DEFINER function above, which
--                    the collector calls). NOLOGIN, not a superuser.
--   kbook_collector  writes what it records: markets, market_raw, gaps, deltas, checkpoints
--   kbook_api        reads the data, authenticates keys and writes the ledger (lib/charge.c);
--                    its account pool runs the account, key and billing routes
--   kbook_feedd      reads the data; authenticates and charges a feed's handshake (lib/charge.c)
--   kbook_admin      kbook-admin: accounts, keys and their overrides
--   kbook_mailer     kbook-mailer: sends the mail outbox
--   kbook_billing    kbook-billing: sends the overage outbox to Stripe
--
-- None is a superuser, so none can run COPY ... TO PROGRAM or read server files; the cluster's
-- superuser (the role "kbook" of the local stack) is reached only by the operator.
--
-- How a new table gets its grants: in the migration that creates it, right after CREATE TABLE,
-- one GRANT per program that touches it, with only the privileges its statements need, e.g.
--   GRANT SELECT, INSERT, UPDATE ON sessions TO kbook_api;
-- (a function called by a program: REVOKE EXECUTE ... FROM PUBLIC, then GRANT EXECUTE to it).

-- The schema's owner: every object of public, also the partitions (pg_partman gives later
-- partitions their parent's owner) and schema_migrations (made by migrate.sh before this file).
-- Identity sequences follow their table; pg_partman's own objects stay the extension's.
DO $$
DECLARE
	o record;
BEGIN
	FOR o IN
		SELECT c.oid::regclass AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
		   AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
		                WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
		                  AND d.deptype IN ('a', 'i')))
	LOOP
		EXECUTE format('ALTER TABLE %s OWNER TO kbook_owner', o.rel);
	END LOOP;
	FOR o IN
		SELECT p.oid::regprocedure AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		 WHERE n.nspname = 'public'
		   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
		                   AND d.objid = p.oid AND d.deptype = 'e')
	LOOP
		EXECUTE format('ALTER ROUTINE %s OWNER TO kbook_owner', o.fn);
	END LOOP;
	-- The database: nothing for PUBLIC (its default CONNECT and TEMPORARY); each role connects.
	EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
	EXECUTE format('GRANT CONNECT, CREATE, TEMPORARY ON DATABASE %I TO kbook_owner', current_database());
	EXECUTE format('GRANT CONNECT ON DATABASE %I TO kbook_collector, kbook_api, kbook_feedd,'
	    ' kbook_admin, kbook_mailer, kbook_billing', current_database());
	-- the collector's replay of a batch whose commit is unknown goes through temporary tables
	EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO kbook_collector', current_database());
END $$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO kbook_owner;

-- pg_partman as the schema's owner (its documented non-superuser set-up): the maintenance runs
-- run_maintenance() as kbook_owner, and later migrations may partition tables.
GRANT USAGE, CREATE ON SCHEMA partman TO kbook_owner;
GRANT ALL ON ALL TABLES IN SCHEMA partman TO kbook_owner;
GRANT ALL ON ALL SEQUENCES IN SCHEMA partman TO kbook_owner;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA partman TO kbook_owner;
GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA partman TO kbook_owner;

ALTER ROLE kbook_owner NOLOGIN;

-- Functions run with their caller's privileges; these are their programs', not PUBLIC's.
REVOKE ALL ON FUNCTION kbook_partition_maintenance_owner(), kbook_partition_maintenance(),
	kbook_default_partitions() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION api_refund(bigint, bigint, integer, text),
	billing_base_plan(boolean), billing_set_plan(bigint, text),
	billing_apply_event(jsonb, text), billing_set_payg(bigint, boolean) FROM PUBLIC;

-- kbook-collector (collector/writer.c, lock.c): upserts markets and their REST object (RETURNING
-- and ON CONFLICT read them), opens and closes gaps, copies deltas and checkpoints (its replay's
-- temporary tables are LIKE them, which reads their definition: SELECT), commits the
-- recorded-through mark with its rows. collector/partitions.c runs the partition maintenance and
-- the default-partition check: the wrapper runs as the collector and calls the owner's function.
GRANT SELECT, INSERT, UPDATE ON markets, market_raw, gaps TO kbook_collector;
GRANT SELECT, INSERT ON book_deltas, book_checkpoints TO kbook_collector;
GRANT EXECUTE ON FUNCTION kbook_partition_maintenance(), kbook_partition_maintenance_owner(),
	kbook_default_partitions() TO kbook_collector;
GRANT SELECT, INSERT, UPDATE ON recorded_through TO kbook_collector;

-- kbook-api (cgi-bin/, lib/charge.c): reads the recorded data (also single day partitions:
-- cgi-bin/daypart.c), the recorded-through mark and the schema version (health); charges and
-- refunds, writing an overage row with the charge. Its account routes (cgi-bin/h_account.c,
-- h_keys.c, session.c, creds.c, mailq.c, h_usage.c): the accounts and keys they make and change,
-- sessions, single-use links, login throttling, and the outbox they write (mailq_add counts an
-- address's recent mail); its billing routes and webhook (h_billing.c, h_webhook.c) verify and
-- apply Stripe's events. (The column UPDATE on api_keys predates the account routes' UPDATE of
-- the whole row; both are granted.)
GRANT SELECT ON recorded_through TO kbook_api, kbook_feedd;
GRANT SELECT ON markets, market_raw, gaps, book_deltas, book_checkpoints, schema_migrations
	TO kbook_api;
GRANT SELECT, INSERT, UPDATE ON accounts, api_keys TO kbook_api;
GRANT UPDATE (last_used_at) ON api_keys TO kbook_api;
GRANT SELECT ON plans TO kbook_api;
GRANT SELECT, INSERT, UPDATE ON credit_periods, usage TO kbook_api;
GRANT EXECUTE ON FUNCTION api_refund(bigint, bigint, integer, text) TO kbook_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions, account_tokens, login_throttle TO kbook_api;
GRANT SELECT, INSERT ON mail_outbox TO kbook_api;
GRANT SELECT, INSERT, UPDATE ON stripe_events, stripe_objects TO kbook_api;
GRANT SELECT, INSERT, UPDATE ON billing_outbox TO kbook_api;
GRANT EXECUTE ON FUNCTION billing_base_plan(boolean), billing_set_plan(bigint, text),
	billing_apply_event(jsonb, text), billing_set_payg(bigint, boolean) TO kbook_api;

-- kbook-feedd (feedd/, lib/charge.c): reads the recorded data and the feed limits; charges the
-- handshake as the API charges a call, keeping a capped key's count and writing an overage row.
GRANT SELECT ON markets, gaps, book_deltas, book_checkpoints, feed_limits TO kbook_feedd;
GRANT SELECT ON plans, accounts, api_keys TO kbook_feedd;
GRANT UPDATE (last_used_at, cap_period, cap_used) ON api_keys TO kbook_feedd;
GRANT SELECT, INSERT, UPDATE ON credit_periods, usage TO kbook_feedd;
GRANT EXECUTE ON FUNCTION api_refund(bigint, bigint, integer, text) TO kbook_feedd;
GRANT SELECT, INSERT, UPDATE ON billing_outbox TO kbook_feedd;

-- kbook-admin (tools/admin/main.c): accounts and their overrides, keys, the month's allowance.
GRANT SELECT, INSERT, UPDATE ON accounts, api_keys TO kbook_admin;
GRANT SELECT, UPDATE ON credit_periods TO kbook_admin;
GRANT SELECT ON plans, feed_limits TO kbook_admin;

-- kbook-mailer (mailer/): reads and marks the outbox.
GRANT SELECT, UPDATE ON mail_outbox TO kbook_mailer;

-- kbook-billing (billing/): sends the overage outbox and reads each row's customer.
GRANT SELECT, UPDATE ON billing_outbox TO kbook_billing;
GRANT SELECT (id, stripe_customer_id) ON accounts TO kbook_billing;

-- Partitions: pg_partman copies the parent's grants and owner to each partition it creates from
-- now on (inherit_privileges, set above); reapply_privileges does it for the partitions made so
-- far.
SELECT partman.reapply_privileges('public.book_deltas');
SELECT partman.reapply_privileges('public.book_checkpoints');
