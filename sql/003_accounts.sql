-- 003: accounts, API keys, plans, credits and usage (BILLING.md), and the one function that
-- authenticates a data request and charges it.

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

-- The plans: one table, read by the charging function and shown by the docs.
CREATE TABLE plans (
	name            text PRIMARY KEY,
	monthly_credits integer NOT NULL CHECK (monthly_credits >= 0),
	rate_per_min    integer NOT NULL CHECK (rate_per_min > 0),
	overage         boolean NOT NULL   -- past the allowance: keep serving and meter, or 429
);
INSERT INTO plans VALUES
	('free', 1000, 30, false),
	('payg', 1000, 60, true),
	('project', 4000, 120, false);

CREATE TABLE accounts (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email         text NOT NULL UNIQUE CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+$'),
	password_hash text,                    -- argon2id; NULL for accounts made with kbook-admin
	plan          text NOT NULL DEFAULT 'free' REFERENCES plans (name),
	disabled      boolean NOT NULL DEFAULT false,
	-- set by an operator (kbook-admin) for internal, benchmark or negotiated accounts
	monthly_credits_override integer CHECK (monthly_credits_override >= 0),
	rate_per_min_override    integer CHECK (rate_per_min_override > 0),
	created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id   bigint NOT NULL REFERENCES accounts (id),
	name         text NOT NULL DEFAULT '' CHECK (length(name) <= 100),
	prefix       text NOT NULL,            -- the first characters of the key, for display
	hash         bytea NOT NULL UNIQUE CHECK (length(hash) = 32),   -- SHA-256 of the whole key
	created_at   timestamptz NOT NULL DEFAULT now(),
	last_used_at timestamptz,
	revoked_at   timestamptz,
	rate_window  timestamptz,              -- the calendar minute rate_calls counts
	rate_calls   integer NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_account_idx ON api_keys (account_id);

-- One row per account and calendar month (UTC); used never exceeds allowance.
CREATE TABLE credit_periods (
	account_id   bigint NOT NULL REFERENCES accounts (id),
	period_start timestamptz NOT NULL,
	period_end   timestamptz NOT NULL,
	allowance    integer NOT NULL CHECK (allowance >= 0),
	used         integer NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= allowance),
	overage      bigint NOT NULL DEFAULT 0 CHECK (overage >= 0),   -- payg credits past allowance
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

-- api_charge: authenticates the key with SHA-256 hash key_hash, applies the plan's rate limit
-- (calls per calendar minute, counted in the key's row together with last_used_at: a HOT update),
-- and charges cost credits for route, all in the caller's one statement; four statements on the
-- common path (the credit period row is created only when the UPDATE finds none). Returns one row; code is
-- 'ok' or the error code the API answers with ('invalid_api_key', 'revoked_api_key',
-- 'account_disabled', 'rate_limited', 'credits_exhausted'). The deduction is the conditional
-- UPDATE of BILLING.md, so concurrent requests never overdraw. It commits with
-- synchronous_commit off: still atomic, but a crash may forget the last instant of usage.
CREATE FUNCTION api_charge(key_hash bytea, cost integer, route text,
	OUT code text, OUT account_id bigint, OUT key_id bigint, OUT plan text,
	OUT allowance integer, OUT used integer, OUT overage bigint, OUT period_end timestamptz,
	OUT rate_limit integer, OUT rate_remaining integer, OUT rate_reset timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	k record;
	now_ timestamptz := now();
	pstart timestamptz := date_trunc('month', now_ AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
	wstart timestamptz := date_trunc('minute', now_);
	calls_ integer;
BEGIN
	PERFORM set_config('synchronous_commit', 'off', true);
	SELECT ak.id, ak.account_id, ak.revoked_at, a.plan, a.disabled,
	       coalesce(a.monthly_credits_override, p.monthly_credits) AS credits,
	       coalesce(a.rate_per_min_override, p.rate_per_min) AS rate, p.overage AS overage_ok
	  INTO k
	  FROM api_keys ak JOIN accounts a ON a.id = ak.account_id JOIN plans p ON p.name = a.plan
	 WHERE ak.hash = key_hash;
	IF NOT FOUND THEN
		code := 'invalid_api_key';
		RETURN;
	END IF;
	account_id := k.account_id;
	key_id := k.id;
	plan := k.plan;
	IF k.revoked_at IS NOT NULL THEN
		code := 'revoked_api_key';
		RETURN;
	END IF;
	IF k.disabled THEN
		code := 'account_disabled';
		RETURN;
	END IF;
	rate_limit := k.rate;
	rate_reset := wstart + interval '1 minute';
	UPDATE api_keys ak
	   SET rate_calls = CASE WHEN ak.rate_window = wstart THEN ak.rate_calls + 1 ELSE 1 END,
	       rate_window = wstart, last_used_at = now_
	 WHERE ak.id = k.id
	RETURNING ak.rate_calls INTO calls_;
	rate_remaining := greatest(k.rate - calls_, 0);
	IF calls_ > k.rate THEN
		code := 'rate_limited';
		SELECT c.allowance, c.used, c.overage, c.period_end INTO allowance, used, overage, period_end
		  FROM credit_periods c WHERE c.account_id = k.account_id AND c.period_start = pstart;
		RETURN;
	END IF;
	FOR attempt IN 1..2 LOOP
		UPDATE credit_periods c SET used = c.used + cost
		 WHERE c.account_id = k.account_id AND c.period_start = pstart AND c.used + cost <= c.allowance
		RETURNING c.allowance, c.used, c.overage, c.period_end INTO allowance, used, overage, period_end;
		EXIT WHEN FOUND;
		-- no room, or no period row yet this month
		INSERT INTO credit_periods AS c (account_id, period_start, period_end, allowance)
		  VALUES (k.account_id, pstart, pstart + interval '1 month', k.credits)
		  ON CONFLICT DO NOTHING;
		EXIT WHEN NOT FOUND;   -- the row existed: the allowance is really spent
	END LOOP;
	IF allowance IS NULL THEN
		IF k.overage_ok THEN
			UPDATE credit_periods c
			   SET overage = c.overage + cost - (c.allowance - c.used), used = c.allowance
			 WHERE c.account_id = k.account_id AND c.period_start = pstart
			RETURNING c.allowance, c.used, c.overage, c.period_end
			  INTO allowance, used, overage, period_end;
		ELSE
			code := 'credits_exhausted';
			SELECT c.allowance, c.used, c.overage, c.period_end INTO allowance, used, overage, period_end
			  FROM credit_periods c WHERE c.account_id = k.account_id AND c.period_start = pstart;
			RETURN;
		END IF;
	END IF;
	INSERT INTO usage AS u VALUES (k.id, route, (now_ AT TIME ZONE 'UTC')::date, 1, cost)
	  ON CONFLICT (key_id, route, day) DO UPDATE SET calls = u.calls + 1, credits = u.credits + cost;
	code := 'ok';
END $$;

-- api_refund: gives back the credits of a charged call that failed (4xx/5xx after charging).
CREATE FUNCTION api_refund(p_account_id bigint, p_key_id bigint, cost integer, p_route text)
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
END $$;
