-- 006: how a collector gap ended (docs/collector.md, "Gaps").
--
-- 'snapshot': a fresh exchange snapshot replaced the book; end_ts is the instant of its snapshot
-- checkpoint and diverged says whether it differed from the book held.
-- 'market_closed': the market settled before any snapshot came (none will: the collector drops
-- settled markets); end_ts is when the collector learned it and diverged is NULL (unknown). The
-- market's recorded history ends at the gap's start.
-- NULL while the gap is open. Gaps closed before this migration were all closed by a snapshot.

ALTER TABLE gaps ADD COLUMN closed_by text CHECK (closed_by IN ('snapshot', 'market_closed'));
UPDATE gaps SET closed_by = 'snapshot' WHERE end_ts IS NOT NULL;
ALTER TABLE gaps ADD CONSTRAINT gaps_closed_by_check_end CHECK ((end_ts IS NULL) = (closed_by IS NULL));
