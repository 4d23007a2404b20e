-- 014: web accounts (issue 15): sign-up with a confirmed email, sessions, single-use links,
-- login throttling, the mail outbox, per-key monthly credit caps and the plans' prices.

-- Prices, for GET /v1/plans and the pricing page (the plans' other rules are sql/003's).
ALTER TABLE plans
	ADD COLUMN price_usd_month numeric(10, 2) NOT NULL DEFAULT 0 CHECK (price_usd_month >= 0),
	ADD COLUMN overage_usd_per_credit numeric(12, 6) CHECK (overage_usd_per_credit >= 0);
UPDATE plans SET price_usd_month = 30 WHERE name = 'project';
UPDATE plans SET overage_usd_per_credit = 0.008 WHERE name = 'payg';

-- An account made by sign-up starts unconfirmed (its keys are refused until the link of the
-- confirmation mail is followed); accounts made by an operator (kbook-admin) take the default
-- and count as confirmed. A deleted account keeps its row (usage history and credit periods stay
-- for the books) but loses its email, password, sessions and keys: deleted_at says when.
ALTER TABLE accounts
	ADD COLUMN email_confirmed boolean NOT NULL DEFAULT true,
	ADD COLUMN deleted_at timestamptz;

-- A key's optional monthly credit cap. cap_used counts the key's credits of the month cap_period
-- starts (the UTC calendar month, like credit_periods); only a capped key's charge keeps it, in
-- the same statement that charges the account (lib/charge.c).
ALTER TABLE api_keys
	ADD COLUMN monthly_cap integer CHECK (monthly_cap > 0),
	ADD COLUMN cap_period timestamptz,
	ADD COLUMN cap_used bigint NOT NULL DEFAULT 0 CHECK (cap_used >= 0);

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
-- with retries; the body (which may hold a link's token) is blanked once sent.
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

-- Wakes kbook-mailer when a mail is queued (it also polls, so a lost notification only delays).
CREATE FUNCTION mail_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('kbook_mail', '');
	RETURN NULL;
END $$;
CREATE TRIGGER mail_outbox_notify AFTER INSERT ON mail_outbox
	FOR EACH STATEMENT EXECUTE FUNCTION mail_outbox_notify();

-- api_refund, as in sql/003, also giving a capped key's count back.
CREATE OR REPLACE FUNCTION api_refund(p_account_id bigint, p_key_id bigint, cost integer, p_route text)
RETURNS void LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	pstart timestamptz := date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
BEGIN
	PERFORM set_config('synchronous_commit', 'off', true);
	UPDATE credit_periods c
	   SET overage = greatest(c.overage - cost, 0),
	       used = c.used - greatest(cost - c.overage, 0)
	 WHERE c.account_id = p_account_id AND c.period_start = pstart AND c.used + c.overage >= cost;
	UPDATE usage u SET credits = u.credits - cost
	 WHERE u.key_id = p_key_id AND u.route = p_route AND u.day = (now() AT TIME ZONE 'UTC')::date
	   AND u.credits >= cost;
	UPDATE api_keys k SET cap_used = k.cap_used - cost
	 WHERE k.id = p_key_id AND k.monthly_cap IS NOT NULL AND k.cap_period = pstart
	   AND k.cap_used >= cost;
END $$;
-- mailq_add counts the mails of an address in the last hour (a flood guard).
CREATE INDEX mail_outbox_to_idx ON mail_outbox (to_addr, created_at);

-- Grants (sql/012_roles.sql: each program's role, only what its statements need). kbook-api's
-- account routes (cgi-bin/h_account.c, h_keys.c, session.c, creds.c, mailq.c, h_usage.c): the
-- accounts and keys they make and change, sessions, single-use links, login throttling, and the
-- outbox they write (mailq_add counts an address's recent mail). lib/charge.c keeps a capped
-- key's count, for the API and for the feed. kbook-mailer reads and marks the outbox.
GRANT SELECT, INSERT, UPDATE ON accounts, api_keys TO kbook_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions, account_tokens, login_throttle TO kbook_api;
GRANT SELECT, INSERT ON mail_outbox TO kbook_api;
GRANT UPDATE (cap_period, cap_used) ON api_keys TO kbook_feedd;
GRANT SELECT, UPDATE ON mail_outbox TO kbook_mailer;
