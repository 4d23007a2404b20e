-- 010: how far the record is known to be complete (DESIGN.md section 3, docs/collector.md
-- "Recorded through", docs/api.md).
--
-- recorded_through: one row, the instant through which the active collector has committed
-- everything it received. kbook-collector sets it in the same transaction as the rows it covers:
-- the receive time of the last frame its socket thread had processed (every event of those frames
-- queued) when the writer took the batch, so a mark never claims a row not yet committed. It is
-- committed at least once a second, quiet markets included (the collector pings an idle
-- connection every second, and a pong is a frame). For every market the collector has recorded
-- and that has no open gap, the book at any instant up to greatest(through, markets.last_ts) is
-- exact; an instant after it is "not yet recorded" (complete: false) until the collector gets
-- there, or until a restart or takeover gap covers it (that gap starts just after the same
-- instant, so an answer never turns from complete to incomplete after the fact).
--
-- One row for the one active collector (the advisory lock elects it): the API's book at T reads
-- it in the same statement as the market, checkpoint and gap, one more buffer hit. The row is
-- updated once a commit; fillfactor 10 leaves room for its versions on its one page (HOT, pruned
-- without vacuum).
CREATE TABLE recorded_through (
	id      smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
	through timestamptz NOT NULL
) WITH (fillfactor = 10);

-- markets.final_ts: the instant the collector learned that a market it was recording without an
-- open gap settled ('finalized'): its book does not change after that, so every later instant
-- stays complete whatever the mark. NULL otherwise (a market that settled inside a gap ends its
-- record at the gap's start: gaps.closed_by = 'market_closed', sql/006). Not indexed: setting it is
-- a HOT update (sql/008).
ALTER TABLE markets ADD COLUMN final_ts timestamptz;

-- Markets recorded before this migration that are settled and whose record did not end in a gap
-- were recorded to their settlement: they stay complete. The others recorded so far are complete
-- through their last recorded instant; a collector of this version opens a restart gap just after
-- it for each of them when it starts.
UPDATE markets m SET final_ts = coalesce(m.settled_time, m.updated_at, m.last_ts)
 WHERE m.status IN ('finalized', 'settled') AND m.last_ts IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM gaps g WHERE g.market_id = m.id
                   AND (g.end_ts IS NULL OR g.closed_by = 'market_closed'));
