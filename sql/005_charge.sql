-- 005: the plan's rate limit counts the calls of the ACCOUNT (every key together), in the
-- account's credit period row, so that charging a data call updates one row for credits and rate
-- together. lib/charge.c charges with one statement (a conditional upsert of this row plus the
-- usage row) instead of api_charge's four; see docs/architecture.md.
ALTER TABLE credit_periods
	ADD COLUMN rate_window timestamptz,                 -- the calendar minute rate_calls counts
	ADD COLUMN rate_calls  integer NOT NULL DEFAULT 0 CHECK (rate_calls >= 0);
