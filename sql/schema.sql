-- The schema that sql/NNN_*.sql make, as pg_dump --schema-only shows it, without
-- pg_partman's dated partitions. Written by make schema (scripts/schema.sh): do not edit.

--
-- Name: partman; Type: SCHEMA; Schema: -; Owner: kbook
--

CREATE SCHEMA partman;

ALTER SCHEMA partman OWNER TO kbook;

--
-- Name: pg_partman; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pg_partman WITH SCHEMA partman;

--
-- Name: EXTENSION pg_partman; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION pg_partman IS 'Extension to manage partitioned tables by time or ID';

--
-- Name: api_refund(bigint, bigint, integer, text); Type: FUNCTION; Schema: public; Owner: kbook_owner
--

CREATE FUNCTION public.api_refund(p_account_id bigint, p_key_id bigint, cost integer, p_route text) RETURNS void
    LANGUAGE plpgsql
    AS $$
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

ALTER FUNCTION public.api_refund(p_account_id bigint, p_key_id bigint, cost integer, p_route text) OWNER TO kbook_owner;

--
-- Name: billing_apply_event(jsonb, text); Type: FUNCTION; Schema: public; Owner: kbook_owner
--

CREATE FUNCTION public.billing_apply_event(ev jsonb, project_price text) RETURNS text
    LANGUAGE plpgsql
    AS $$
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

ALTER FUNCTION public.billing_apply_event(ev jsonb, project_price text) OWNER TO kbook_owner;

--
-- Name: billing_base_plan(boolean); Type: FUNCTION; Schema: public; Owner: kbook_owner
--

CREATE FUNCTION public.billing_base_plan(p_payg boolean) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN CASE WHEN p_payg THEN 'payg'::text ELSE 'free'::text END;

ALTER FUNCTION public.billing_base_plan(p_payg boolean) OWNER TO kbook_owner;

--
-- Name: billing_set_payg(bigint, boolean); Type: FUNCTION; Schema: public; Owner: kbook_owner
--

CREATE FUNCTION public.billing_set_payg(p_account bigint, p_on boolean) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
	cur text;
BEGIN
	UPDATE accounts SET payg = p_on WHERE id = p_account RETURNING plan INTO cur;
	IF cur IS DISTINCT FROM 'project' THEN
		PERFORM billing_set_plan(p_account, billing_base_plan(p_on));
	END IF;
END $$;

ALTER FUNCTION public.billing_set_payg(p_account bigint, p_on boolean) OWNER TO kbook_owner;

--
-- Name: billing_set_plan(bigint, text); Type: FUNCTION; Schema: public; Owner: kbook_owner
--

CREATE FUNCTION public.billing_set_plan(p_account bigint, p_plan text) RETURNS void
    LANGUAGE plpgsql
    AS $$
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

ALTER FUNCTION public.billing_set_plan(p_account bigint, p_plan text) OWNER TO kbook_owner;

--
-- Name: kb_period_start(text, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: kbook_owner
--

CREATE FUNCTION public.kb_period_start(p_plan text, p_sub_start timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE WHEN ((p_plan = 'project'::text) AND (p_sub_start IS NOT NULL)) THEN p_sub_start ELSE (date_trunc('month'::text, (now() AT TIME ZONE 'UTC'::text)) AT TIME ZONE 'UTC'::text) END;

ALTER FUNCTION public.kb_period_start(p_plan text, p_sub_start timestamp with time zone) OWNER TO kbook_owner;

--
-- Name: accounts; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.accounts (
    id bigint NOT NULL,
    email text NOT NULL,
    password_hash text,
    plan text DEFAULT 'free'::text NOT NULL,
    disabled boolean DEFAULT false NOT NULL,
    monthly_credits_override integer,
    rate_per_min_override integer,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    feed_conns_override integer,
    feed_markets_override integer,
    email_confirmed boolean DEFAULT true NOT NULL,
    deleted_at timestamp with time zone,
    stripe_customer_id text,
    stripe_subscription_id text,
    subscription_status text,
    subscription_period_start timestamp with time zone,
    subscription_period_end timestamp with time zone,
    payg boolean DEFAULT false NOT NULL,
    CONSTRAINT accounts_email_check CHECK (((email = lower(email)) AND (email ~ '^[^@\s]+@[^@\s]+$'::text))),
    CONSTRAINT accounts_feed_conns_override_check CHECK ((feed_conns_override > 0)),
    CONSTRAINT accounts_feed_markets_override_check CHECK ((feed_markets_override > 0)),
    CONSTRAINT accounts_monthly_credits_override_check CHECK ((monthly_credits_override >= 0)),
    CONSTRAINT accounts_rate_per_min_override_check CHECK ((rate_per_min_override > 0))
);

ALTER TABLE public.accounts OWNER TO kbook_owner;

--
-- Name: kb_account_period(bigint); Type: FUNCTION; Schema: public; Owner: kbook_owner
--

CREATE FUNCTION public.kb_account_period(p_account bigint) RETURNS timestamp with time zone
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (SELECT public.kb_period_start(a.plan, a.subscription_period_start) AS kb_period_start FROM public.accounts a WHERE (a.id = kb_account_period.p_account));

ALTER FUNCTION public.kb_account_period(p_account bigint) OWNER TO kbook_owner;

--
-- Name: kb_key_event(); Type: FUNCTION; Schema: public; Owner: kbook_owner
--

CREATE FUNCTION public.kb_key_event() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
	PERFORM pg_notify('kbook_keys',
		CASE TG_TABLE_NAME WHEN 'api_keys' THEN 'key ' ELSE 'account ' END || OLD.id);
	RETURN NULL;
END $$;

ALTER FUNCTION public.kb_key_event() OWNER TO kbook_owner;

--
-- Name: kb_period_end(text, timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: kbook_owner
--

CREATE FUNCTION public.kb_period_end(p_plan text, p_sub_start timestamp with time zone, p_sub_end timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE WHEN ((p_plan = 'project'::text) AND (p_sub_start IS NOT NULL) AND (p_sub_end > p_sub_start)) THEN p_sub_end ELSE ((date_trunc('month'::text, (now() AT TIME ZONE 'UTC'::text)) AT TIME ZONE 'UTC'::text) + '1 mon'::interval) END;

ALTER FUNCTION public.kb_period_end(p_plan text, p_sub_start timestamp with time zone, p_sub_end timestamp with time zone) OWNER TO kbook_owner;

--
-- Name: kb_plan_event(); Type: FUNCTION; Schema: public; Owner: kbook_owner
--

CREATE FUNCTION public.kb_plan_event() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
	IF TG_TABLE_NAME = 'plans' THEN
		PERFORM pg_notify('kbook_keys', 'plan ' || a.id) FROM accounts a
		 WHERE a.plan = NEW.name AND NOT a.disabled;
	ELSE
		PERFORM pg_notify('kbook_keys', 'plan ' || NEW.id);
	END IF;
	RETURN NULL;
END $$;

ALTER FUNCTION public.kb_plan_event() OWNER TO kbook_owner;

--
-- Name: kb_ts(bigint); Type: FUNCTION; Schema: public; Owner: kbook_owner
--

CREATE FUNCTION public.kb_ts(us bigint) RETURNS timestamp with time zone
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (('1970-01-01 00:00:00'::timestamp without time zone + ((us)::double precision * '00:00:00.000001'::interval)) AT TIME ZONE 'UTC'::text);

ALTER FUNCTION public.kb_ts(us bigint) OWNER TO kbook_owner;

--
-- Name: kb_us(timestamp with time zone); Type: FUNCTION; Schema: public; Owner: kbook_owner
--

CREATE FUNCTION public.kb_us(t timestamp with time zone) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (round((date_part('epoch'::text, (t AT TIME ZONE 'UTC'::text)) * (1000000)::double precision)))::bigint;

ALTER FUNCTION public.kb_us(t timestamp with time zone) OWNER TO kbook_owner;

--
-- Name: kbook_default_partitions(); Type: FUNCTION; Schema: public; Owner: kbook_owner
--

CREATE FUNCTION public.kbook_default_partitions() RETURNS TABLE(parent_table text, default_table text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
	SELECT h.inhparent::regclass::text, d.default_table
	  FROM partman.check_default(false) d
	  JOIN pg_inherits h ON h.inhrelid = d.default_table::regclass
	 ORDER BY 1
$$;

ALTER FUNCTION public.kbook_default_partitions() OWNER TO kbook_owner;

--
-- Name: kbook_partition_maintenance(); Type: FUNCTION; Schema: public; Owner: kbook_owner
--

CREATE FUNCTION public.kbook_partition_maintenance() RETURNS TABLE(parent_table text, made_until timestamp with time zone, premake integer)
    LANGUAGE plpgsql
    AS $$
DECLARE
	caller_path text := current_setting('search_path');
BEGIN
	RETURN QUERY SELECT * FROM public.kbook_partition_maintenance_owner();
	PERFORM set_config('search_path', caller_path, false);
END $$;

ALTER FUNCTION public.kbook_partition_maintenance() OWNER TO kbook_owner;

--
-- Name: kbook_partition_maintenance_owner(); Type: FUNCTION; Schema: public; Owner: kbook_owner
--

CREATE FUNCTION public.kbook_partition_maintenance_owner() RETURNS TABLE(parent_table text, made_until timestamp with time zone, premake integer)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.kbook_partition_maintenance_owner() OWNER TO kbook_owner;

--
-- Name: mail_outbox_notify(); Type: FUNCTION; Schema: public; Owner: kbook_owner
--

CREATE FUNCTION public.mail_outbox_notify() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
	PERFORM pg_notify('kbook_mail', '');
	RETURN NULL;
END $$;

ALTER FUNCTION public.mail_outbox_notify() OWNER TO kbook_owner;

--
-- Name: template_public_book_checkpoints; Type: TABLE; Schema: partman; Owner: kbook
--

CREATE TABLE partman.template_public_book_checkpoints (
    market_id integer NOT NULL,
    ts timestamp with time zone NOT NULL,
    source text NOT NULL,
    yes_prices integer[] NOT NULL,
    yes_sizes bigint[] NOT NULL,
    no_prices integer[] NOT NULL,
    no_sizes bigint[] NOT NULL
);

ALTER TABLE partman.template_public_book_checkpoints OWNER TO kbook;

--
-- Name: template_public_book_deltas; Type: TABLE; Schema: partman; Owner: kbook
--

CREATE TABLE partman.template_public_book_deltas (
    market_id integer NOT NULL,
    ts timestamp with time zone NOT NULL,
    exchange_ts timestamp with time zone,
    side smallint NOT NULL,
    price integer NOT NULL,
    delta bigint NOT NULL
);

ALTER TABLE partman.template_public_book_deltas OWNER TO kbook;

--
-- Name: account_tokens; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.account_tokens (
    token_hash bytea NOT NULL,
    account_id bigint NOT NULL,
    purpose text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    CONSTRAINT account_tokens_purpose_check CHECK ((purpose = ANY (ARRAY['confirm'::text, 'reset'::text]))),
    CONSTRAINT account_tokens_token_hash_check CHECK ((length(token_hash) = 32))
);

ALTER TABLE public.account_tokens OWNER TO kbook_owner;

--
-- Name: accounts_id_seq; Type: SEQUENCE; Schema: public; Owner: kbook_owner
--

ALTER TABLE public.accounts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.accounts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: api_keys; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.api_keys (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    prefix text NOT NULL,
    hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    monthly_cap integer,
    cap_period timestamp with time zone,
    cap_used bigint DEFAULT 0 NOT NULL,
    CONSTRAINT api_keys_cap_used_check CHECK ((cap_used >= 0)),
    CONSTRAINT api_keys_hash_check CHECK ((length(hash) = 32)),
    CONSTRAINT api_keys_monthly_cap_check CHECK ((monthly_cap > 0)),
    CONSTRAINT api_keys_name_check CHECK ((length(name) <= 100))
);

ALTER TABLE public.api_keys OWNER TO kbook_owner;

--
-- Name: api_keys_id_seq; Type: SEQUENCE; Schema: public; Owner: kbook_owner
--

ALTER TABLE public.api_keys ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.api_keys_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: billing_outbox; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.billing_outbox (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    credits integer NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    failed_at timestamp with time zone,
    last_error text,
    closes_at timestamp with time zone NOT NULL,
    CONSTRAINT billing_outbox_credits_check CHECK ((credits >= 0))
);

ALTER TABLE public.billing_outbox OWNER TO kbook_owner;

--
-- Name: billing_outbox_id_seq; Type: SEQUENCE; Schema: public; Owner: kbook_owner
--

ALTER TABLE public.billing_outbox ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.billing_outbox_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: book_checkpoints; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.book_checkpoints (
    market_id integer NOT NULL,
    ts timestamp with time zone NOT NULL,
    source text NOT NULL,
    yes_prices integer[] NOT NULL,
    yes_sizes bigint[] NOT NULL,
    no_prices integer[] NOT NULL,
    no_sizes bigint[] NOT NULL,
    CONSTRAINT book_checkpoints_check CHECK ((cardinality(yes_prices) = cardinality(yes_sizes))),
    CONSTRAINT book_checkpoints_check1 CHECK ((cardinality(no_prices) = cardinality(no_sizes))),
    CONSTRAINT book_checkpoints_source_check CHECK ((source = ANY (ARRAY['snapshot'::text, 'periodic'::text])))
)
PARTITION BY RANGE (ts);

ALTER TABLE public.book_checkpoints OWNER TO kbook_owner;

--
-- Name: book_checkpoints_default; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.book_checkpoints_default (
    market_id integer NOT NULL,
    ts timestamp with time zone NOT NULL,
    source text NOT NULL,
    yes_prices integer[] NOT NULL,
    yes_sizes bigint[] NOT NULL,
    no_prices integer[] NOT NULL,
    no_sizes bigint[] NOT NULL,
    CONSTRAINT book_checkpoints_check CHECK ((cardinality(yes_prices) = cardinality(yes_sizes))),
    CONSTRAINT book_checkpoints_check1 CHECK ((cardinality(no_prices) = cardinality(no_sizes))),
    CONSTRAINT book_checkpoints_source_check CHECK ((source = ANY (ARRAY['snapshot'::text, 'periodic'::text])))
);

ALTER TABLE public.book_checkpoints_default OWNER TO kbook_owner;

--
-- Name: book_deltas; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.book_deltas (
    market_id integer NOT NULL,
    ts timestamp with time zone NOT NULL,
    exchange_ts timestamp with time zone,
    side smallint NOT NULL,
    price integer NOT NULL,
    delta bigint NOT NULL,
    CONSTRAINT book_deltas_delta_check CHECK ((delta <> 0)),
    CONSTRAINT book_deltas_price_check CHECK (((price >= 0) AND (price <= 1000000))),
    CONSTRAINT book_deltas_side_check CHECK ((side = ANY (ARRAY[0, 1])))
)
PARTITION BY RANGE (ts);

ALTER TABLE public.book_deltas OWNER TO kbook_owner;

--
-- Name: book_deltas_default; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.book_deltas_default (
    market_id integer NOT NULL,
    ts timestamp with time zone NOT NULL,
    exchange_ts timestamp with time zone,
    side smallint NOT NULL,
    price integer NOT NULL,
    delta bigint NOT NULL,
    CONSTRAINT book_deltas_delta_check CHECK ((delta <> 0)),
    CONSTRAINT book_deltas_price_check CHECK (((price >= 0) AND (price <= 1000000))),
    CONSTRAINT book_deltas_side_check CHECK ((side = ANY (ARRAY[0, 1])))
);

ALTER TABLE public.book_deltas_default OWNER TO kbook_owner;

--
-- Name: credit_periods; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.credit_periods (
    account_id bigint NOT NULL,
    period_start timestamp with time zone NOT NULL,
    period_end timestamp with time zone NOT NULL,
    allowance integer NOT NULL,
    used integer DEFAULT 0 NOT NULL,
    overage bigint DEFAULT 0 NOT NULL,
    rate_window timestamp with time zone,
    rate_calls integer DEFAULT 0 NOT NULL,
    call_overage integer DEFAULT 0 NOT NULL,
    CONSTRAINT credit_periods_allowance_check CHECK ((allowance >= 0)),
    CONSTRAINT credit_periods_check CHECK (((used >= 0) AND (used <= allowance))),
    CONSTRAINT credit_periods_overage_check CHECK ((overage >= 0)),
    CONSTRAINT credit_periods_rate_calls_check CHECK ((rate_calls >= 0))
);

ALTER TABLE public.credit_periods OWNER TO kbook_owner;

--
-- Name: plans; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.plans (
    name text NOT NULL,
    monthly_credits integer NOT NULL,
    rate_per_min integer NOT NULL,
    overage boolean NOT NULL,
    feed_conns_per_key integer DEFAULT 2 NOT NULL,
    feed_markets_per_conn integer DEFAULT 25 NOT NULL,
    price_usd_month numeric(10,2) DEFAULT 0 NOT NULL,
    overage_usd_per_credit numeric(12,6),
    CONSTRAINT plans_feed_conns_per_key_check CHECK ((feed_conns_per_key > 0)),
    CONSTRAINT plans_feed_markets_per_conn_check CHECK ((feed_markets_per_conn > 0)),
    CONSTRAINT plans_monthly_credits_check CHECK ((monthly_credits >= 0)),
    CONSTRAINT plans_overage_usd_per_credit_check CHECK ((overage_usd_per_credit >= (0)::numeric)),
    CONSTRAINT plans_price_usd_month_check CHECK ((price_usd_month >= (0)::numeric)),
    CONSTRAINT plans_rate_per_min_check CHECK ((rate_per_min > 0))
);

ALTER TABLE public.plans OWNER TO kbook_owner;

--
-- Name: feed_limits; Type: VIEW; Schema: public; Owner: kbook_owner
--

CREATE VIEW public.feed_limits AS
 SELECT a.id AS account_id,
    COALESCE(a.feed_conns_override, p.feed_conns_per_key) AS conns_per_key,
    COALESCE(a.feed_markets_override, p.feed_markets_per_conn) AS markets_per_conn
   FROM (public.accounts a
     JOIN public.plans p ON ((p.name = a.plan)));

ALTER TABLE public.feed_limits OWNER TO kbook_owner;

--
-- Name: gaps; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.gaps (
    id bigint NOT NULL,
    market_id integer NOT NULL,
    start_ts timestamp with time zone NOT NULL,
    end_ts timestamp with time zone,
    reason text NOT NULL,
    detail text DEFAULT ''::text NOT NULL,
    diverged boolean,
    closed_by text,
    CONSTRAINT gaps_check CHECK (((end_ts IS NULL) OR (end_ts >= start_ts))),
    CONSTRAINT gaps_closed_by_check CHECK ((closed_by = ANY (ARRAY['snapshot'::text, 'market_closed'::text]))),
    CONSTRAINT gaps_closed_by_check_end CHECK (((end_ts IS NULL) = (closed_by IS NULL))),
    CONSTRAINT gaps_reason_check CHECK ((reason = ANY (ARRAY['seq_gap'::text, 'disconnect'::text, 'restart'::text, 'terminal_error'::text, 'overflow'::text, 'negative_level'::text, 'takeover'::text])))
);

ALTER TABLE public.gaps OWNER TO kbook_owner;

--
-- Name: gaps_id_seq; Type: SEQUENCE; Schema: public; Owner: kbook_owner
--

ALTER TABLE public.gaps ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.gaps_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: login_throttle; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.login_throttle (
    subject text NOT NULL,
    failures integer DEFAULT 0 NOT NULL,
    last_failure_at timestamp with time zone DEFAULT now() NOT NULL,
    blocked_until timestamp with time zone
);

ALTER TABLE public.login_throttle OWNER TO kbook_owner;

--
-- Name: mail_outbox; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.mail_outbox (
    id bigint NOT NULL,
    to_addr text NOT NULL,
    subject text NOT NULL,
    body text NOT NULL,
    kind text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    last_error text
);

ALTER TABLE public.mail_outbox OWNER TO kbook_owner;

--
-- Name: mail_outbox_id_seq; Type: SEQUENCE; Schema: public; Owner: kbook_owner
--

ALTER TABLE public.mail_outbox ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.mail_outbox_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: market_raw; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.market_raw (
    market_id integer NOT NULL,
    raw jsonb DEFAULT '{}'::jsonb NOT NULL
);

ALTER TABLE public.market_raw OWNER TO kbook_owner;

--
-- Name: markets; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.markets (
    id integer NOT NULL,
    ticker text NOT NULL,
    event_ticker text DEFAULT ''::text NOT NULL,
    series_ticker text DEFAULT ''::text NOT NULL,
    market_type text DEFAULT 'binary'::text NOT NULL,
    title text DEFAULT ''::text NOT NULL,
    subtitle text DEFAULT ''::text NOT NULL,
    yes_sub_title text DEFAULT ''::text NOT NULL,
    no_sub_title text DEFAULT ''::text NOT NULL,
    status text DEFAULT 'initialized'::text NOT NULL,
    open_time timestamp with time zone,
    close_time timestamp with time zone,
    expected_expiration_time timestamp with time zone,
    settled_time timestamp with time zone,
    result text DEFAULT ''::text NOT NULL,
    price_level_structure text DEFAULT ''::text NOT NULL,
    price_ranges jsonb DEFAULT '[]'::jsonb NOT NULL,
    notional bigint DEFAULT 1000000 NOT NULL,
    use_yes_price boolean DEFAULT false NOT NULL,
    first_ts timestamp with time zone,
    last_ts timestamp with time zone,
    discovered_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    final_ts timestamp with time zone,
    CONSTRAINT markets_notional_check CHECK ((notional > 0)),
    CONSTRAINT markets_ticker_check CHECK (((ticker <> ''::text) AND (length(ticker) <= 200)))
)
WITH (fillfactor='50', autovacuum_vacuum_scale_factor='0', autovacuum_vacuum_threshold='1000', autovacuum_vacuum_cost_delay='0');

ALTER TABLE public.markets OWNER TO kbook_owner;

--
-- Name: markets_id_seq; Type: SEQUENCE; Schema: public; Owner: kbook_owner
--

ALTER TABLE public.markets ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.markets_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: recorded_through; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.recorded_through (
    id smallint DEFAULT 1 NOT NULL,
    through timestamp with time zone NOT NULL,
    CONSTRAINT recorded_through_id_check CHECK ((id = 1))
)
WITH (fillfactor='10');

ALTER TABLE public.recorded_through OWNER TO kbook_owner;

--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE public.schema_migrations OWNER TO kbook_owner;

--
-- Name: sessions; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.sessions (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    token_hash bytea NOT NULL,
    csrf_token text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT sessions_token_hash_check CHECK ((length(token_hash) = 32))
);

ALTER TABLE public.sessions OWNER TO kbook_owner;

--
-- Name: sessions_id_seq; Type: SEQUENCE; Schema: public; Owner: kbook_owner
--

ALTER TABLE public.sessions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.sessions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: stripe_events; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.stripe_events (
    id text NOT NULL,
    type text NOT NULL,
    created bigint NOT NULL,
    outcome text NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE public.stripe_events OWNER TO kbook_owner;

--
-- Name: stripe_objects; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.stripe_objects (
    object_id text NOT NULL,
    last_created bigint NOT NULL
);

ALTER TABLE public.stripe_objects OWNER TO kbook_owner;

--
-- Name: usage; Type: TABLE; Schema: public; Owner: kbook_owner
--

CREATE TABLE public.usage (
    key_id bigint NOT NULL,
    route text NOT NULL,
    day date NOT NULL,
    calls bigint DEFAULT 0 NOT NULL,
    credits bigint DEFAULT 0 NOT NULL
);

ALTER TABLE public.usage OWNER TO kbook_owner;

--
-- Name: book_checkpoints_default; Type: TABLE ATTACH; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.book_checkpoints ATTACH PARTITION public.book_checkpoints_default DEFAULT;

--
-- Name: book_deltas_default; Type: TABLE ATTACH; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.book_deltas ATTACH PARTITION public.book_deltas_default DEFAULT;

--
-- Name: account_tokens account_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.account_tokens
    ADD CONSTRAINT account_tokens_pkey PRIMARY KEY (token_hash);

--
-- Name: accounts accounts_email_key; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_email_key UNIQUE (email);

--
-- Name: accounts accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);

--
-- Name: accounts accounts_stripe_customer_id_key; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_stripe_customer_id_key UNIQUE (stripe_customer_id);

--
-- Name: api_keys api_keys_hash_key; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_hash_key UNIQUE (hash);

--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);

--
-- Name: billing_outbox billing_outbox_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.billing_outbox
    ADD CONSTRAINT billing_outbox_pkey PRIMARY KEY (id);

--
-- Name: credit_periods credit_periods_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.credit_periods
    ADD CONSTRAINT credit_periods_pkey PRIMARY KEY (account_id, period_start);

--
-- Name: gaps gaps_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.gaps
    ADD CONSTRAINT gaps_pkey PRIMARY KEY (id);

--
-- Name: login_throttle login_throttle_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.login_throttle
    ADD CONSTRAINT login_throttle_pkey PRIMARY KEY (subject);

--
-- Name: mail_outbox mail_outbox_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.mail_outbox
    ADD CONSTRAINT mail_outbox_pkey PRIMARY KEY (id);

--
-- Name: market_raw market_raw_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.market_raw
    ADD CONSTRAINT market_raw_pkey PRIMARY KEY (market_id);

--
-- Name: markets markets_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.markets
    ADD CONSTRAINT markets_pkey PRIMARY KEY (id);

--
-- Name: markets markets_ticker_key; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.markets
    ADD CONSTRAINT markets_ticker_key UNIQUE (ticker);

--
-- Name: plans plans_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.plans
    ADD CONSTRAINT plans_pkey PRIMARY KEY (name);

--
-- Name: recorded_through recorded_through_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.recorded_through
    ADD CONSTRAINT recorded_through_pkey PRIMARY KEY (id);

--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);

--
-- Name: sessions sessions_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_token_hash_key UNIQUE (token_hash);

--
-- Name: stripe_events stripe_events_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.stripe_events
    ADD CONSTRAINT stripe_events_pkey PRIMARY KEY (id);

--
-- Name: stripe_objects stripe_objects_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.stripe_objects
    ADD CONSTRAINT stripe_objects_pkey PRIMARY KEY (object_id);

--
-- Name: usage usage_pkey; Type: CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.usage
    ADD CONSTRAINT usage_pkey PRIMARY KEY (key_id, route, day);

--
-- Name: account_tokens_account_idx; Type: INDEX; Schema: public; Owner: kbook_owner
--

CREATE INDEX account_tokens_account_idx ON public.account_tokens USING btree (account_id);

--
-- Name: api_keys_account_idx; Type: INDEX; Schema: public; Owner: kbook_owner
--

CREATE INDEX api_keys_account_idx ON public.api_keys USING btree (account_id);

--
-- Name: billing_outbox_account_idx; Type: INDEX; Schema: public; Owner: kbook_owner
--

CREATE INDEX billing_outbox_account_idx ON public.billing_outbox USING btree (account_id);

--
-- Name: billing_outbox_due_idx; Type: INDEX; Schema: public; Owner: kbook_owner
--

CREATE INDEX billing_outbox_due_idx ON public.billing_outbox USING btree (next_attempt_at, id) WHERE ((sent_at IS NULL) AND (failed_at IS NULL));

--
-- Name: billing_outbox_open_idx; Type: INDEX; Schema: public; Owner: kbook_owner
--

CREATE UNIQUE INDEX billing_outbox_open_idx ON public.billing_outbox USING btree (account_id, closes_at) WHERE (attempts = 0);

--
-- Name: book_checkpoints_market_ts; Type: INDEX; Schema: public; Owner: kbook_owner
--

CREATE UNIQUE INDEX book_checkpoints_market_ts ON ONLY public.book_checkpoints USING btree (market_id, ts);

--
-- Name: book_checkpoints_default_market_id_ts_idx; Type: INDEX; Schema: public; Owner: kbook_owner
--

CREATE UNIQUE INDEX book_checkpoints_default_market_id_ts_idx ON public.book_checkpoints_default USING btree (market_id, ts);

--
-- Name: book_deltas_market_ts; Type: INDEX; Schema: public; Owner: kbook_owner
--

CREATE UNIQUE INDEX book_deltas_market_ts ON ONLY public.book_deltas USING btree (market_id, ts) INCLUDE (side, price, delta);

--
-- Name: book_deltas_default_market_id_ts_side_price_delta_idx; Type: INDEX; Schema: public; Owner: kbook_owner
--

CREATE UNIQUE INDEX book_deltas_default_market_id_ts_side_price_delta_idx ON public.book_deltas_default USING btree (market_id, ts) INCLUDE (side, price, delta);

--
-- Name: gaps_market_idx; Type: INDEX; Schema: public; Owner: kbook_owner
--

CREATE INDEX gaps_market_idx ON public.gaps USING btree (market_id, start_ts);

--
-- Name: mail_outbox_due_idx; Type: INDEX; Schema: public; Owner: kbook_owner
--

CREATE INDEX mail_outbox_due_idx ON public.mail_outbox USING btree (next_attempt_at) WHERE (sent_at IS NULL);

--
-- Name: mail_outbox_to_idx; Type: INDEX; Schema: public; Owner: kbook_owner
--

CREATE INDEX mail_outbox_to_idx ON public.mail_outbox USING btree (to_addr, created_at);

--
-- Name: markets_event_idx; Type: INDEX; Schema: public; Owner: kbook_owner
--

CREATE INDEX markets_event_idx ON public.markets USING btree (event_ticker);

--
-- Name: markets_series_idx; Type: INDEX; Schema: public; Owner: kbook_owner
--

CREATE INDEX markets_series_idx ON public.markets USING btree (series_ticker);

--
-- Name: markets_status_idx; Type: INDEX; Schema: public; Owner: kbook_owner
--

CREATE INDEX markets_status_idx ON public.markets USING btree (status);

--
-- Name: sessions_account_idx; Type: INDEX; Schema: public; Owner: kbook_owner
--

CREATE INDEX sessions_account_idx ON public.sessions USING btree (account_id);

--
-- Name: book_checkpoints_default_market_id_ts_idx; Type: INDEX ATTACH; Schema: public; Owner: kbook_owner
--

ALTER INDEX public.book_checkpoints_market_ts ATTACH PARTITION public.book_checkpoints_default_market_id_ts_idx;

--
-- Name: book_deltas_default_market_id_ts_side_price_delta_idx; Type: INDEX ATTACH; Schema: public; Owner: kbook_owner
--

ALTER INDEX public.book_deltas_market_ts ATTACH PARTITION public.book_deltas_default_market_id_ts_side_price_delta_idx;

--
-- Name: accounts accounts_deleted; Type: TRIGGER; Schema: public; Owner: kbook_owner
--

CREATE TRIGGER accounts_deleted AFTER DELETE ON public.accounts FOR EACH ROW EXECUTE FUNCTION public.kb_key_event();

--
-- Name: accounts accounts_disabled; Type: TRIGGER; Schema: public; Owner: kbook_owner
--

CREATE TRIGGER accounts_disabled AFTER UPDATE OF disabled ON public.accounts FOR EACH ROW WHEN (((NOT old.disabled) AND new.disabled)) EXECUTE FUNCTION public.kb_key_event();

--
-- Name: accounts accounts_plan_changed; Type: TRIGGER; Schema: public; Owner: kbook_owner
--

CREATE TRIGGER accounts_plan_changed AFTER UPDATE OF plan, payg, subscription_status, feed_conns_override, feed_markets_override ON public.accounts FOR EACH ROW WHEN (((old.plan IS DISTINCT FROM new.plan) OR (old.payg IS DISTINCT FROM new.payg) OR (old.subscription_status IS DISTINCT FROM new.subscription_status) OR (old.feed_conns_override IS DISTINCT FROM new.feed_conns_override) OR (old.feed_markets_override IS DISTINCT FROM new.feed_markets_override))) EXECUTE FUNCTION public.kb_plan_event();

--
-- Name: api_keys api_keys_deleted; Type: TRIGGER; Schema: public; Owner: kbook_owner
--

CREATE TRIGGER api_keys_deleted AFTER DELETE ON public.api_keys FOR EACH ROW EXECUTE FUNCTION public.kb_key_event();

--
-- Name: api_keys api_keys_revoked; Type: TRIGGER; Schema: public; Owner: kbook_owner
--

CREATE TRIGGER api_keys_revoked AFTER UPDATE OF revoked_at ON public.api_keys FOR EACH ROW WHEN (((old.revoked_at IS NULL) AND (new.revoked_at IS NOT NULL))) EXECUTE FUNCTION public.kb_key_event();

--
-- Name: mail_outbox mail_outbox_notify; Type: TRIGGER; Schema: public; Owner: kbook_owner
--

CREATE TRIGGER mail_outbox_notify AFTER INSERT ON public.mail_outbox FOR EACH STATEMENT EXECUTE FUNCTION public.mail_outbox_notify();

--
-- Name: plans plans_limits_changed; Type: TRIGGER; Schema: public; Owner: kbook_owner
--

CREATE TRIGGER plans_limits_changed AFTER UPDATE OF feed_conns_per_key, feed_markets_per_conn ON public.plans FOR EACH ROW WHEN (((old.feed_conns_per_key IS DISTINCT FROM new.feed_conns_per_key) OR (old.feed_markets_per_conn IS DISTINCT FROM new.feed_markets_per_conn))) EXECUTE FUNCTION public.kb_plan_event();

--
-- Name: account_tokens account_tokens_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.account_tokens
    ADD CONSTRAINT account_tokens_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);

--
-- Name: accounts accounts_plan_fkey; Type: FK CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_plan_fkey FOREIGN KEY (plan) REFERENCES public.plans(name);

--
-- Name: api_keys api_keys_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);

--
-- Name: billing_outbox billing_outbox_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.billing_outbox
    ADD CONSTRAINT billing_outbox_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);

--
-- Name: credit_periods credit_periods_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.credit_periods
    ADD CONSTRAINT credit_periods_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);

--
-- Name: gaps gaps_market_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.gaps
    ADD CONSTRAINT gaps_market_id_fkey FOREIGN KEY (market_id) REFERENCES public.markets(id);

--
-- Name: market_raw market_raw_market_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.market_raw
    ADD CONSTRAINT market_raw_market_id_fkey FOREIGN KEY (market_id) REFERENCES public.markets(id) ON DELETE CASCADE;

--
-- Name: sessions sessions_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);

--
-- Name: usage usage_key_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: kbook_owner
--

ALTER TABLE ONLY public.usage
    ADD CONSTRAINT usage_key_id_fkey FOREIGN KEY (key_id) REFERENCES public.api_keys(id);

--
-- Name: SCHEMA partman; Type: ACL; Schema: -; Owner: kbook
--

GRANT ALL ON SCHEMA partman TO kbook_owner;

--
-- Name: SCHEMA public; Type: ACL; Schema: -; Owner: pg_database_owner
--

GRANT ALL ON SCHEMA public TO kbook_owner;

--
-- Name: FUNCTION apply_cluster(p_parent_schema text, p_parent_tablename text, p_child_schema text, p_child_tablename text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.apply_cluster(p_parent_schema text, p_parent_tablename text, p_child_schema text, p_child_tablename text) TO kbook_owner;

--
-- Name: FUNCTION apply_constraints(p_parent_table text, p_child_table text, p_analyze boolean, p_job_id bigint); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.apply_constraints(p_parent_table text, p_child_table text, p_analyze boolean, p_job_id bigint) TO kbook_owner;

--
-- Name: FUNCTION apply_foreign_keys(p_parent_table text, p_child_table text, p_job_id bigint, p_debug boolean); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.apply_foreign_keys(p_parent_table text, p_child_table text, p_job_id bigint, p_debug boolean) TO kbook_owner;

--
-- Name: FUNCTION apply_privileges(p_parent_schema text, p_parent_tablename text, p_child_schema text, p_child_tablename text, p_job_id bigint); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.apply_privileges(p_parent_schema text, p_parent_tablename text, p_child_schema text, p_child_tablename text, p_job_id bigint) TO kbook_owner;

--
-- Name: FUNCTION apply_publications(p_parent_table text, p_child_schema text, p_child_tablename text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.apply_publications(p_parent_table text, p_child_schema text, p_child_tablename text) TO kbook_owner;

--
-- Name: FUNCTION autovacuum_off(p_parent_schema text, p_parent_tablename text, p_source_schema text, p_source_tablename text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.autovacuum_off(p_parent_schema text, p_parent_tablename text, p_source_schema text, p_source_tablename text) TO kbook_owner;

--
-- Name: FUNCTION autovacuum_reset(p_parent_schema text, p_parent_tablename text, p_source_schema text, p_source_tablename text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.autovacuum_reset(p_parent_schema text, p_parent_tablename text, p_source_schema text, p_source_tablename text) TO kbook_owner;

--
-- Name: FUNCTION check_automatic_maintenance_value(p_automatic_maintenance text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.check_automatic_maintenance_value(p_automatic_maintenance text) TO kbook_owner;

--
-- Name: FUNCTION check_control_type(p_parent_schema text, p_parent_tablename text, p_control text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.check_control_type(p_parent_schema text, p_parent_tablename text, p_control text) TO kbook_owner;

--
-- Name: FUNCTION check_default(p_exact_count boolean); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.check_default(p_exact_count boolean) TO kbook_owner;

--
-- Name: FUNCTION check_epoch_type(p_type text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.check_epoch_type(p_type text) TO kbook_owner;

--
-- Name: FUNCTION check_name_length(p_object_name text, p_suffix text, p_table_partition boolean); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.check_name_length(p_object_name text, p_suffix text, p_table_partition boolean) TO kbook_owner;

--
-- Name: FUNCTION check_partition_type(p_type text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.check_partition_type(p_type text) TO kbook_owner;

--
-- Name: FUNCTION check_subpart_sameconfig(p_parent_table text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.check_subpart_sameconfig(p_parent_table text) TO kbook_owner;

--
-- Name: FUNCTION check_subpartition_limits(p_parent_table text, p_type text, OUT sub_min text, OUT sub_max text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.check_subpartition_limits(p_parent_table text, p_type text, OUT sub_min text, OUT sub_max text) TO kbook_owner;

--
-- Name: FUNCTION create_function_id(p_parent_table text, p_job_id bigint); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.create_function_id(p_parent_table text, p_job_id bigint) TO kbook_owner;

--
-- Name: FUNCTION create_function_time(p_parent_table text, p_job_id bigint); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.create_function_time(p_parent_table text, p_job_id bigint) TO kbook_owner;

--
-- Name: FUNCTION create_parent(p_parent_table text, p_control text, p_type text, p_interval text, p_constraint_cols text[], p_premake integer, p_automatic_maintenance text, p_start_partition text, p_inherit_fk boolean, p_epoch text, p_upsert text, p_publications text[], p_trigger_return_null boolean, p_template_table text, p_jobmon boolean, p_date_trunc_interval text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.create_parent(p_parent_table text, p_control text, p_type text, p_interval text, p_constraint_cols text[], p_premake integer, p_automatic_maintenance text, p_start_partition text, p_inherit_fk boolean, p_epoch text, p_upsert text, p_publications text[], p_trigger_return_null boolean, p_template_table text, p_jobmon boolean, p_date_trunc_interval text) TO kbook_owner;

--
-- Name: FUNCTION create_partition_id(p_parent_table text, p_partition_ids bigint[], p_analyze boolean, p_start_partition text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.create_partition_id(p_parent_table text, p_partition_ids bigint[], p_analyze boolean, p_start_partition text) TO kbook_owner;

--
-- Name: FUNCTION create_partition_time(p_parent_table text, p_partition_times timestamp with time zone[], p_analyze boolean, p_start_partition text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.create_partition_time(p_parent_table text, p_partition_times timestamp with time zone[], p_analyze boolean, p_start_partition text) TO kbook_owner;

--
-- Name: FUNCTION create_sub_parent(p_top_parent text, p_control text, p_type text, p_interval text, p_native_check text, p_constraint_cols text[], p_premake integer, p_start_partition text, p_inherit_fk boolean, p_epoch text, p_upsert text, p_trigger_return_null boolean, p_jobmon boolean, p_date_trunc_interval text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.create_sub_parent(p_top_parent text, p_control text, p_type text, p_interval text, p_native_check text, p_constraint_cols text[], p_premake integer, p_start_partition text, p_inherit_fk boolean, p_epoch text, p_upsert text, p_trigger_return_null boolean, p_jobmon boolean, p_date_trunc_interval text) TO kbook_owner;

--
-- Name: FUNCTION create_trigger(p_parent_table text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.create_trigger(p_parent_table text) TO kbook_owner;

--
-- Name: FUNCTION drop_constraints(p_parent_table text, p_child_table text, p_debug boolean); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.drop_constraints(p_parent_table text, p_child_table text, p_debug boolean) TO kbook_owner;

--
-- Name: FUNCTION drop_partition_column(p_parent_table text, p_column text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.drop_partition_column(p_parent_table text, p_column text) TO kbook_owner;

--
-- Name: FUNCTION drop_partition_id(p_parent_table text, p_retention bigint, p_keep_table boolean, p_keep_index boolean, p_retention_schema text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.drop_partition_id(p_parent_table text, p_retention bigint, p_keep_table boolean, p_keep_index boolean, p_retention_schema text) TO kbook_owner;

--
-- Name: FUNCTION drop_partition_time(p_parent_table text, p_retention interval, p_keep_table boolean, p_keep_index boolean, p_retention_schema text, p_reference_timestamp timestamp with time zone); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.drop_partition_time(p_parent_table text, p_retention interval, p_keep_table boolean, p_keep_index boolean, p_retention_schema text, p_reference_timestamp timestamp with time zone) TO kbook_owner;

--
-- Name: FUNCTION dump_partitioned_table_definition(p_parent_table text, p_ignore_template_table boolean); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.dump_partitioned_table_definition(p_parent_table text, p_ignore_template_table boolean) TO kbook_owner;

--
-- Name: FUNCTION inherit_template_properties(p_parent_table text, p_child_schema text, p_child_tablename text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.inherit_template_properties(p_parent_table text, p_child_schema text, p_child_tablename text) TO kbook_owner;

--
-- Name: FUNCTION partition_data_id(p_parent_table text, p_batch_count integer, p_batch_interval bigint, p_lock_wait numeric, p_order text, p_analyze boolean, p_source_table text, p_ignored_columns text[]); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.partition_data_id(p_parent_table text, p_batch_count integer, p_batch_interval bigint, p_lock_wait numeric, p_order text, p_analyze boolean, p_source_table text, p_ignored_columns text[]) TO kbook_owner;

--
-- Name: PROCEDURE partition_data_proc(IN p_parent_table text, IN p_interval text, IN p_batch integer, IN p_wait integer, IN p_source_table text, IN p_order text, IN p_lock_wait integer, IN p_lock_wait_tries integer, IN p_quiet boolean, IN p_ignored_columns text[]); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON PROCEDURE partman.partition_data_proc(IN p_parent_table text, IN p_interval text, IN p_batch integer, IN p_wait integer, IN p_source_table text, IN p_order text, IN p_lock_wait integer, IN p_lock_wait_tries integer, IN p_quiet boolean, IN p_ignored_columns text[]) TO kbook_owner;

--
-- Name: FUNCTION partition_data_time(p_parent_table text, p_batch_count integer, p_batch_interval interval, p_lock_wait numeric, p_order text, p_analyze boolean, p_source_table text, p_ignored_columns text[]); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.partition_data_time(p_parent_table text, p_batch_count integer, p_batch_interval interval, p_lock_wait numeric, p_order text, p_analyze boolean, p_source_table text, p_ignored_columns text[]) TO kbook_owner;

--
-- Name: FUNCTION partition_gap_fill(p_parent_table text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.partition_gap_fill(p_parent_table text) TO kbook_owner;

--
-- Name: PROCEDURE reapply_constraints_proc(IN p_parent_table text, IN p_drop_constraints boolean, IN p_apply_constraints boolean, IN p_wait integer, IN p_dryrun boolean); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON PROCEDURE partman.reapply_constraints_proc(IN p_parent_table text, IN p_drop_constraints boolean, IN p_apply_constraints boolean, IN p_wait integer, IN p_dryrun boolean) TO kbook_owner;

--
-- Name: FUNCTION reapply_privileges(p_parent_table text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.reapply_privileges(p_parent_table text) TO kbook_owner;

--
-- Name: PROCEDURE run_analyze(IN p_skip_locked boolean, IN p_quiet boolean, IN p_parent_table text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON PROCEDURE partman.run_analyze(IN p_skip_locked boolean, IN p_quiet boolean, IN p_parent_table text) TO kbook_owner;

--
-- Name: FUNCTION run_maintenance(p_parent_table text, p_analyze boolean, p_jobmon boolean); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.run_maintenance(p_parent_table text, p_analyze boolean, p_jobmon boolean) TO kbook_owner;

--
-- Name: PROCEDURE run_maintenance_proc(IN p_wait integer, IN p_analyze boolean, IN p_jobmon boolean); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON PROCEDURE partman.run_maintenance_proc(IN p_wait integer, IN p_analyze boolean, IN p_jobmon boolean) TO kbook_owner;

--
-- Name: FUNCTION show_partition_info(p_child_table text, p_partition_interval text, p_parent_table text, OUT child_start_time timestamp with time zone, OUT child_end_time timestamp with time zone, OUT child_start_id bigint, OUT child_end_id bigint, OUT suffix text); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.show_partition_info(p_child_table text, p_partition_interval text, p_parent_table text, OUT child_start_time timestamp with time zone, OUT child_end_time timestamp with time zone, OUT child_start_id bigint, OUT child_end_id bigint, OUT suffix text) TO kbook_owner;

--
-- Name: FUNCTION show_partition_name(p_parent_table text, p_value text, OUT partition_schema text, OUT partition_table text, OUT suffix_timestamp timestamp with time zone, OUT suffix_id bigint, OUT table_exists boolean); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.show_partition_name(p_parent_table text, p_value text, OUT partition_schema text, OUT partition_table text, OUT suffix_timestamp timestamp with time zone, OUT suffix_id bigint, OUT table_exists boolean) TO kbook_owner;

--
-- Name: FUNCTION show_partitions(p_parent_table text, p_order text, p_include_default boolean); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.show_partitions(p_parent_table text, p_order text, p_include_default boolean) TO kbook_owner;

--
-- Name: FUNCTION stop_sub_partition(p_parent_table text, p_jobmon boolean); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.stop_sub_partition(p_parent_table text, p_jobmon boolean) TO kbook_owner;

--
-- Name: FUNCTION undo_partition(p_parent_table text, p_batch_count integer, p_batch_interval text, p_keep_table boolean, p_lock_wait numeric, p_target_table text, p_ignored_columns text[], p_drop_cascade boolean, OUT partitions_undone integer, OUT rows_undone bigint); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON FUNCTION partman.undo_partition(p_parent_table text, p_batch_count integer, p_batch_interval text, p_keep_table boolean, p_lock_wait numeric, p_target_table text, p_ignored_columns text[], p_drop_cascade boolean, OUT partitions_undone integer, OUT rows_undone bigint) TO kbook_owner;

--
-- Name: PROCEDURE undo_partition_proc(IN p_parent_table text, IN p_interval text, IN p_batch integer, IN p_wait integer, IN p_target_table text, IN p_keep_table boolean, IN p_lock_wait integer, IN p_lock_wait_tries integer, IN p_quiet boolean, IN p_ignored_columns text[], IN p_drop_cascade boolean); Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON PROCEDURE partman.undo_partition_proc(IN p_parent_table text, IN p_interval text, IN p_batch integer, IN p_wait integer, IN p_target_table text, IN p_keep_table boolean, IN p_lock_wait integer, IN p_lock_wait_tries integer, IN p_quiet boolean, IN p_ignored_columns text[], IN p_drop_cascade boolean) TO kbook_owner;

--
-- Name: FUNCTION api_refund(p_account_id bigint, p_key_id bigint, cost integer, p_route text); Type: ACL; Schema: public; Owner: kbook_owner
--

REVOKE ALL ON FUNCTION public.api_refund(p_account_id bigint, p_key_id bigint, cost integer, p_route text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.api_refund(p_account_id bigint, p_key_id bigint, cost integer, p_route text) TO kbook_api;
GRANT ALL ON FUNCTION public.api_refund(p_account_id bigint, p_key_id bigint, cost integer, p_route text) TO kbook_feedd;

--
-- Name: FUNCTION billing_apply_event(ev jsonb, project_price text); Type: ACL; Schema: public; Owner: kbook_owner
--

REVOKE ALL ON FUNCTION public.billing_apply_event(ev jsonb, project_price text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.billing_apply_event(ev jsonb, project_price text) TO kbook_api;

--
-- Name: FUNCTION billing_base_plan(p_payg boolean); Type: ACL; Schema: public; Owner: kbook_owner
--

REVOKE ALL ON FUNCTION public.billing_base_plan(p_payg boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION public.billing_base_plan(p_payg boolean) TO kbook_api;

--
-- Name: FUNCTION billing_set_payg(p_account bigint, p_on boolean); Type: ACL; Schema: public; Owner: kbook_owner
--

REVOKE ALL ON FUNCTION public.billing_set_payg(p_account bigint, p_on boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION public.billing_set_payg(p_account bigint, p_on boolean) TO kbook_api;

--
-- Name: FUNCTION billing_set_plan(p_account bigint, p_plan text); Type: ACL; Schema: public; Owner: kbook_owner
--

REVOKE ALL ON FUNCTION public.billing_set_plan(p_account bigint, p_plan text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.billing_set_plan(p_account bigint, p_plan text) TO kbook_api;

--
-- Name: TABLE accounts; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE public.accounts TO kbook_api;
GRANT SELECT ON TABLE public.accounts TO kbook_feedd;
GRANT SELECT,INSERT,UPDATE ON TABLE public.accounts TO kbook_admin;

--
-- Name: COLUMN accounts.id; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT(id) ON TABLE public.accounts TO kbook_billing;

--
-- Name: COLUMN accounts.stripe_customer_id; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT(stripe_customer_id) ON TABLE public.accounts TO kbook_billing;

--
-- Name: FUNCTION kbook_default_partitions(); Type: ACL; Schema: public; Owner: kbook_owner
--

REVOKE ALL ON FUNCTION public.kbook_default_partitions() FROM PUBLIC;
GRANT ALL ON FUNCTION public.kbook_default_partitions() TO kbook_collector;

--
-- Name: FUNCTION kbook_partition_maintenance(); Type: ACL; Schema: public; Owner: kbook_owner
--

REVOKE ALL ON FUNCTION public.kbook_partition_maintenance() FROM PUBLIC;
GRANT ALL ON FUNCTION public.kbook_partition_maintenance() TO kbook_collector;

--
-- Name: FUNCTION kbook_partition_maintenance_owner(); Type: ACL; Schema: public; Owner: kbook_owner
--

REVOKE ALL ON FUNCTION public.kbook_partition_maintenance_owner() FROM PUBLIC;
GRANT ALL ON FUNCTION public.kbook_partition_maintenance_owner() TO kbook_collector;

--
-- Name: TABLE custom_time_partitions; Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON TABLE partman.custom_time_partitions TO kbook_owner;

--
-- Name: TABLE part_config; Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON TABLE partman.part_config TO kbook_owner;

--
-- Name: TABLE part_config_sub; Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON TABLE partman.part_config_sub TO kbook_owner;

--
-- Name: TABLE table_privs; Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON TABLE partman.table_privs TO kbook_owner;

--
-- Name: TABLE template_public_book_checkpoints; Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON TABLE partman.template_public_book_checkpoints TO kbook_owner;

--
-- Name: TABLE template_public_book_deltas; Type: ACL; Schema: partman; Owner: kbook
--

GRANT ALL ON TABLE partman.template_public_book_deltas TO kbook_owner;

--
-- Name: TABLE account_tokens; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.account_tokens TO kbook_api;

--
-- Name: TABLE api_keys; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE public.api_keys TO kbook_api;
GRANT SELECT ON TABLE public.api_keys TO kbook_feedd;
GRANT SELECT,INSERT,UPDATE ON TABLE public.api_keys TO kbook_admin;

--
-- Name: COLUMN api_keys.last_used_at; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT UPDATE(last_used_at) ON TABLE public.api_keys TO kbook_api;
GRANT UPDATE(last_used_at) ON TABLE public.api_keys TO kbook_feedd;

--
-- Name: COLUMN api_keys.cap_period; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT UPDATE(cap_period) ON TABLE public.api_keys TO kbook_feedd;

--
-- Name: COLUMN api_keys.cap_used; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT UPDATE(cap_used) ON TABLE public.api_keys TO kbook_feedd;

--
-- Name: TABLE billing_outbox; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE public.billing_outbox TO kbook_api;
GRANT SELECT,INSERT,UPDATE ON TABLE public.billing_outbox TO kbook_feedd;
GRANT SELECT,UPDATE ON TABLE public.billing_outbox TO kbook_billing;

--
-- Name: TABLE book_checkpoints; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT ON TABLE public.book_checkpoints TO kbook_collector;
GRANT SELECT ON TABLE public.book_checkpoints TO kbook_api;
GRANT SELECT ON TABLE public.book_checkpoints TO kbook_feedd;

--
-- Name: TABLE book_checkpoints_default; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT ON TABLE public.book_checkpoints_default TO kbook_api;
GRANT SELECT,INSERT ON TABLE public.book_checkpoints_default TO kbook_collector;
GRANT SELECT ON TABLE public.book_checkpoints_default TO kbook_feedd;

--
-- Name: TABLE book_deltas; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT ON TABLE public.book_deltas TO kbook_collector;
GRANT SELECT ON TABLE public.book_deltas TO kbook_api;
GRANT SELECT ON TABLE public.book_deltas TO kbook_feedd;

--
-- Name: TABLE book_deltas_default; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT ON TABLE public.book_deltas_default TO kbook_api;
GRANT SELECT,INSERT ON TABLE public.book_deltas_default TO kbook_collector;
GRANT SELECT ON TABLE public.book_deltas_default TO kbook_feedd;

--
-- Name: TABLE credit_periods; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE public.credit_periods TO kbook_api;
GRANT SELECT,INSERT,UPDATE ON TABLE public.credit_periods TO kbook_feedd;
GRANT SELECT,UPDATE ON TABLE public.credit_periods TO kbook_admin;

--
-- Name: TABLE plans; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT ON TABLE public.plans TO kbook_api;
GRANT SELECT ON TABLE public.plans TO kbook_feedd;
GRANT SELECT ON TABLE public.plans TO kbook_admin;

--
-- Name: TABLE feed_limits; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT ON TABLE public.feed_limits TO kbook_feedd;
GRANT SELECT ON TABLE public.feed_limits TO kbook_admin;

--
-- Name: TABLE gaps; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE public.gaps TO kbook_collector;
GRANT SELECT ON TABLE public.gaps TO kbook_api;
GRANT SELECT ON TABLE public.gaps TO kbook_feedd;

--
-- Name: TABLE login_throttle; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.login_throttle TO kbook_api;

--
-- Name: TABLE mail_outbox; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT ON TABLE public.mail_outbox TO kbook_api;
GRANT SELECT,UPDATE ON TABLE public.mail_outbox TO kbook_mailer;

--
-- Name: TABLE market_raw; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE public.market_raw TO kbook_collector;
GRANT SELECT ON TABLE public.market_raw TO kbook_api;

--
-- Name: TABLE markets; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE public.markets TO kbook_collector;
GRANT SELECT ON TABLE public.markets TO kbook_api;
GRANT SELECT ON TABLE public.markets TO kbook_feedd;

--
-- Name: TABLE recorded_through; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE public.recorded_through TO kbook_collector;
GRANT SELECT ON TABLE public.recorded_through TO kbook_api;
GRANT SELECT ON TABLE public.recorded_through TO kbook_feedd;

--
-- Name: TABLE schema_migrations; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT ON TABLE public.schema_migrations TO kbook_api;

--
-- Name: TABLE sessions; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.sessions TO kbook_api;

--
-- Name: TABLE stripe_events; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE public.stripe_events TO kbook_api;

--
-- Name: TABLE stripe_objects; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE public.stripe_objects TO kbook_api;

--
-- Name: TABLE usage; Type: ACL; Schema: public; Owner: kbook_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE public.usage TO kbook_api;
GRANT SELECT,INSERT,UPDATE ON TABLE public.usage TO kbook_feedd;
