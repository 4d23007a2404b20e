-- 002: partitions, created ahead and maintained by pg_partman (Debian postgresql-15-partman).
--
-- book_deltas: one partition per day, 7 days made ahead. book_checkpoints: one per month, 3 ahead.
-- Rows older than the first partition land in the default partition. Maintenance (creating the
-- partitions ahead as time passes) runs inside Postgres through the pg_partman_bgw background
-- worker configured in postgresql.conf (see docs/operations.md); no retention is set: history is
-- the product.

CREATE SCHEMA IF NOT EXISTS partman;
CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman;

SELECT partman.create_parent('public.book_deltas', 'ts', 'native', 'daily', p_premake := 7);
SELECT partman.create_parent('public.book_checkpoints', 'ts', 'native', 'monthly', p_premake := 3);
