-- A small, hand-made recorded history for the Data API's golden tests (fixed instants in 2026-11).
-- KXT-A: snapshot, deltas, a periodic checkpoint, a gap with a diverged resync snapshot.
-- KXT-B: same event, two deltas at the very same instants as KXT-A's (ties across markets).
-- KXT-C: another event, nothing recorded.
INSERT INTO markets (ticker, event_ticker, series_ticker, title, yes_sub_title, status, open_time,
	close_time, price_level_structure, price_ranges, first_ts, last_ts)
VALUES
 ('KXT-A', 'KXT-EV1', 'KXT', 'Will A happen', 'A happens', 'active', '2026-11-01T00:00:00Z',
  '2026-12-01T00:00:00Z', 'linear_cent', '[{"start":"0.0000","end":"1.0000","step":"0.0100"}]',
  '2026-11-20T00:00:00Z', '2026-11-20T00:10:00Z'),
 ('KXT-B', 'KXT-EV1', 'KXT', 'Will B happen', 'B happens', 'closed', '2026-11-01T00:00:00Z',
  '2026-11-21T00:00:00Z', 'deci_cent', '[{"start":"0.0000","end":"1.0000","step":"0.0010"}]',
  '2026-11-20T00:00:00Z', '2026-11-20T00:03:00Z'),
 ('KXT-C', 'KXT-EV2', 'KXT', 'Will C happen', 'C happens', 'initialized', NULL, NULL, '', '[]',
  NULL, NULL);
-- Kalshi's objects (sql/001_baseline.sql); KXT-C has none, so its detail shows {}.
INSERT INTO market_raw (market_id, raw)
SELECT id, jsonb_build_object('ticker', ticker) FROM markets WHERE ticker IN ('KXT-A', 'KXT-B');

INSERT INTO book_checkpoints (market_id, ts, source, yes_prices, yes_sizes, no_prices, no_sizes)
SELECT id, '2026-11-20T00:00:00Z'::timestamptz, 'snapshot', '{450000,460000}'::int[], '{1000,250}'::bigint[],
       '{500000}'::int[], '{3300}'::bigint[]
  FROM markets WHERE ticker = 'KXT-A'
UNION ALL
SELECT id, '2026-11-20T00:02:30Z', 'periodic', '{450000}', '{1000}', '{500000,510000}', '{3300,47}'
  FROM markets WHERE ticker = 'KXT-A'
UNION ALL
SELECT id, '2026-11-20T00:06:00Z', 'snapshot', '{440000,470000}', '{500,100}', '{520000}', '{999}'
  FROM markets WHERE ticker = 'KXT-A'
UNION ALL
SELECT id, '2026-11-20T00:00:00Z', 'snapshot', '{}', '{}', '{305500}', '{12345}'
  FROM markets WHERE ticker = 'KXT-B';

INSERT INTO book_deltas (market_id, ts, exchange_ts, side, price, delta)
SELECT m.id, d.ts, d.xts, d.side, d.price, d.delta FROM markets m, (VALUES
 ('KXT-A', '2026-11-20T00:01:00Z'::timestamptz, '2026-11-20T00:00:59.999Z'::timestamptz, 0, 460000, -250),
 ('KXT-A', '2026-11-20T00:02:00.000001Z', NULL, 1, 510000, 47),
 ('KXT-A', '2026-11-20T00:03:00Z', NULL, 0, 470000, 100),
 ('KXT-A', '2026-11-20T00:04:00Z', NULL, 0, 470000, 5),
 ('KXT-A', '2026-11-20T00:07:00Z', NULL, 1, 520000, -999),
 ('KXT-B', '2026-11-20T00:01:00Z', NULL, 0, 300500, 1),
 ('KXT-B', '2026-11-20T00:03:00Z', NULL, 1, 305500, -345)
) AS d(ticker, ts, xts, side, price, delta) WHERE m.ticker = d.ticker;

INSERT INTO gaps (market_id, start_ts, end_ts, reason, detail, diverged, closed_by)
SELECT id, '2026-11-20T00:05:00Z'::timestamptz, '2026-11-20T00:06:00Z'::timestamptz, 'seq_gap',
       'sid 3: seq 7 then 9', true, 'snapshot'
  FROM markets WHERE ticker = 'KXT-A'
UNION ALL
-- a gap with no snapshot checkpoint after it: every book after it must say incomplete
SELECT id, '2026-11-20T00:02:00Z', '2026-11-20T00:02:10Z', 'disconnect', 'no resync recorded', NULL, 'market_closed'
  FROM markets WHERE ticker = 'KXT-B';
