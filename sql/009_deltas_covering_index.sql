-- 009: book_deltas' unique index carries side, price and delta (INCLUDE), so that reading a
-- market's deltas since its checkpoint (the book at T, the feed's replays, the sampled books) is an
-- index-only scan: the leaf pages hold the rows in (market, ts) order, where the heap holds them in
-- arrival order, one market's rows of a day spread over as many pages as it has rows.
--
-- Measured on the dev stack (the long histories of the API bench: 2 450 deltas a market over 50
-- days, written in time order as the collector writes them), the book statement: 32 -> 10 buffers
-- and 0.103 -> 0.076 ms a call. The price is space: an index entry grows from 24 to 40 bytes. The
-- API bench's database of 50 million deltas, written in time order with the index in place, went
-- from 5.8 to 7.3 GB; rebuilt at once, the dev stack's index grew 16 % (241 -> 280 MB for 384 MB
-- of rows). exchange_ts stays out (only the deltas page reads it): it would add 8 bytes more.
--
-- Index-only scans need the visibility map: the partitions of past days are all-visible once
-- autovacuum has been through them (insert-driven vacuum, Postgres 13+); today's partition is read
-- from the heap for its newest pages, as before.
--
-- On an existing database this rebuilds the index of every partition under an exclusive lock, in
-- this migration's transaction: stop the collector first (docs/operations.md).
DROP INDEX book_deltas_market_ts;
CREATE UNIQUE INDEX book_deltas_market_ts ON book_deltas (market_id, ts) INCLUDE (side, price, delta);
