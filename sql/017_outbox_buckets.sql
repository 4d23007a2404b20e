-- 017: pay-as-you-go overage collects in one billing_outbox row per account and time bucket
-- (KBOOK_BILLING_BUCKET_S, a minute by default) instead of one row per call.
--
-- Why: a row per call cost every overage call a new heap tuple, three index entries and a
-- foreign-key check of its account (make bench, "Billing: overage in the charge": payg at 0.874
-- of free, past the 10 % the issue allows), and became a meter event per call: one payg account
-- at its 60 calls a minute was 60 POSTs to Stripe a minute, and Stripe takes 1 000 meter events a
-- second per Stripe account in live mode, which a few hundred busy accounts and one sequential
-- sender would never keep up with. Now the charge adds a call's overage to its account's open row
-- of the bucket (INSERT ... ON CONFLICT on the partial unique index below; the update changes
-- only credits, which no index holds, so it stays a heap-only update), and Stripe gets one meter
-- event per account and bucket. Stripe sums a month, so the bucket costs nothing in the invoice.
--
-- closes_at: the end of the row's bucket. The sender claims a row only KBOOK_BILLING_SETTLE_S
-- after it closes, so no charge adds to a claimed row and a call that fails after its charge
-- still finds its credits on an unclaimed row (api_refund). attempts = 0 (never claimed) is the
-- index's predicate: a claimed row leaves it, and a charge that meets one being claimed makes a
-- new row (ON CONFLICT re-checks the arbiter after the claim commits).
ALTER TABLE billing_outbox ADD COLUMN closes_at timestamptz;
UPDATE billing_outbox SET closes_at = created_at;
ALTER TABLE billing_outbox ALTER COLUMN closes_at SET NOT NULL;
CREATE UNIQUE INDEX billing_outbox_open_idx ON billing_outbox (account_id, closes_at)
	WHERE attempts = 0;
