-- 015: billing with Stripe (issue 16, shared/BILLING.md): the account's Stripe customer and
-- subscription, the webhook's event log (dedup) and per-subscription stale guard, and the outbox
-- of pay-as-you-go overage that kbook-billing sends to Stripe as meter events.

-- The account's side of Stripe. payg is the account's own choice (POST /v1/account/billing/payg):
-- its plan is payg instead of free whenever no project subscription is active.
ALTER TABLE accounts
	ADD COLUMN stripe_customer_id     text UNIQUE,
	ADD COLUMN stripe_subscription_id text,
	ADD COLUMN subscription_status    text,
	ADD COLUMN subscription_period_start timestamptz,
	ADD COLUMN subscription_period_end   timestamptz,
	ADD COLUMN payg boolean NOT NULL DEFAULT false;

-- A call's credits past the allowance, written by the charge (lib/charge.c) in the same
-- statement as the ledger, so the outbox row below can be made from it.
ALTER TABLE credit_periods ADD COLUMN call_overage integer NOT NULL DEFAULT 0;

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

-- The plan an account falls back to without an active project subscription.
CREATE FUNCTION billing_base_plan(p_payg boolean) RETURNS text
	LANGUAGE sql IMMUTABLE RETURN CASE WHEN p_payg THEN 'payg' ELSE 'free' END;

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

-- api_refund, as in sql/014, keeping the outbox true: credits refunded from the overage are taken
-- off the account's newest outbox row not yet claimed by the sender (the one this call just
-- made). When no such row can absorb them (already on its way to Stripe), nothing is refunded:
-- the overage was metered and stays billed, ledger and Stripe agreeing.
CREATE OR REPLACE FUNCTION api_refund(p_account_id bigint, p_key_id bigint, cost integer, p_route text)
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

-- Privileges (sql/012): the account pool of kbook-api verifies and applies Stripe's events and
-- runs the billing routes; kbook-api and kbook-feedd write an overage row with the charge
-- (lib/charge.c); kbook-billing sends the outbox and reads each row's customer.
GRANT SELECT, INSERT, UPDATE ON stripe_events, stripe_objects TO kbook_api;
GRANT SELECT, INSERT, UPDATE ON billing_outbox TO kbook_api, kbook_feedd;
GRANT SELECT, UPDATE ON billing_outbox TO kbook_billing;
GRANT SELECT (id, stripe_customer_id) ON accounts TO kbook_billing;
REVOKE EXECUTE ON FUNCTION billing_base_plan(boolean), billing_set_plan(bigint, text),
	billing_apply_event(jsonb, text), billing_set_payg(bigint, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing_base_plan(boolean), billing_set_plan(bigint, text),
	billing_apply_event(jsonb, text), billing_set_payg(bigint, boolean) TO kbook_api;
