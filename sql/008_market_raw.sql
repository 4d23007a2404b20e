-- 008: Kalshi's REST object of a market moves from markets.raw to its own table, and markets is
-- stored so that the collector's coverage updates are HOT (heap-only: no new index entries).
--
-- kbook-collector sets markets.first_ts/last_ts of every market it recorded in each group commit,
-- thousands of row updates a second. raw was ~1 440 bytes of a ~1 800-byte row, inline (just
-- under the TOAST threshold), so every coverage update copied it and pages filled. Measured on
-- the feed benchmark's recording stack (2 350 markets, 10 000 changes/s, 2 minutes): 19 % of the
-- ~9 700 updates/s not HOT, markets 226 MB, the coverage UPDATE 17 % of a core (0.82 ms a call)
-- and 6 MB/s of WAL; after this migration 99.9 % HOT, 2.2 MB, 9 % (0.33 ms) and 2.6 MB/s.
--
-- market_raw gets a row for each market whose raw is not '{}', i.e. that Kalshi described; a
-- market known only by its ticker has none, and the API shows '{}' for it, as before. The
-- collector's and kbook-gen's upserts write both tables in one statement. The binaries of this
-- version name market_raw; those before it name markets.raw: deploy them together.
CREATE TABLE market_raw (
	market_id integer PRIMARY KEY REFERENCES markets (id) ON DELETE CASCADE,
	raw       jsonb NOT NULL DEFAULT '{}'
);
INSERT INTO market_raw (market_id, raw) SELECT id, raw FROM markets WHERE raw <> '{}';
ALTER TABLE markets DROP COLUMN raw;

-- fillfactor 50: new rows fill half a page, and the other half takes the new versions of its
-- rows. A group commit updates each recorded market once, so a whole round of updates of a
-- page's rows fits on the page even before Postgres prunes the old versions (which it does on a
-- later access, once no snapshot sees them), and the coverage updates stay HOT (first_ts and
-- last_ts are in no index). Without raw a row is ~370 bytes, so doubling the pages costs little
-- (2 350 markets: 280 pages, 2.2 MB). Pruning removes the old versions of HOT updates without
-- vacuum; autovacuum is for the others (a status change moves markets_status_idx). It looks at a
-- database once a minute: after 1 000 dead versions whatever the table's size (instead of 20 % of
-- the rows), it then vacuums markets at each look, without the cost-based sleeps (the table is a
-- few MB).
ALTER TABLE markets SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0,
	autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);

-- Dropping raw rewrites nothing, and fillfactor applies only to pages written from now on.
-- CLUSTER rewrites the table: live rows only (this drops the bloat), without the dropped column's
-- bytes, packed to fillfactor, indexes rebuilt. Unlike VACUUM FULL (and CLUSTER without a table)
-- it may run inside the migration's transaction. It holds an ACCESS EXCLUSIVE lock on markets
-- until the commit (this whole migration: 0.8 s on 20 000 markets in a 125 MB table). SET WITHOUT
-- CLUSTER forgets the index it was ordered by, which nothing needs.
CLUSTER markets USING markets_pkey;
ALTER TABLE markets SET WITHOUT CLUSTER;
