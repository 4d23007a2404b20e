-- 001: markets, the recorded book (deltas and checkpoints) and gaps (DESIGN.md section 3).
--
-- Times are timestamptz: Postgres stores them as int64 microseconds, so ts keeps the collector's
-- microsecond receive time exactly. Prices are integer micro-dollars (0..1 000 000), sizes integer
-- hundredths of a contract. side is 0 for YES bids and 1 for NO bids.

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
	raw            jsonb NOT NULL DEFAULT '{}',
	first_ts       timestamptz,           -- coverage: first recorded instant
	last_ts        timestamptz,           -- coverage: last recorded instant
	discovered_at  timestamptz NOT NULL DEFAULT now(),
	updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX markets_event_idx ON markets (event_ticker);
CREATE INDEX markets_series_idx ON markets (series_ticker);
CREATE INDEX markets_status_idx ON markets (status);

CREATE TABLE book_deltas (
	market_id    integer NOT NULL,
	ts           timestamptz NOT NULL,   -- collector receive time, strictly increasing per market
	exchange_ts  timestamptz,            -- Kalshi's ts_ms
	side         smallint NOT NULL CHECK (side IN (0, 1)),
	price        integer NOT NULL CHECK (price BETWEEN 0 AND 1000000),
	delta        bigint NOT NULL CHECK (delta <> 0)
) PARTITION BY RANGE (ts);
CREATE UNIQUE INDEX book_deltas_market_ts ON book_deltas (market_id, ts);

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

CREATE TABLE gaps (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	market_id   integer NOT NULL REFERENCES markets (id),
	start_ts    timestamptz NOT NULL,
	end_ts      timestamptz,             -- NULL while the gap is open
	reason      text NOT NULL CHECK (reason IN ('seq_gap', 'disconnect', 'restart',
	                'terminal_error', 'overflow', 'negative_level', 'takeover')),
	detail      text NOT NULL DEFAULT '',
	diverged    boolean,                 -- did the fresh snapshot differ from the book we held?
	CHECK (end_ts IS NULL OR end_ts >= start_ts)
);
CREATE INDEX gaps_market_idx ON gaps (market_id, start_ts);
