-- 012: least privilege in the database (issue 14). The roles exist before any migration runs
-- (scripts/migrate.sh creates them, so that every migration can grant on what it creates):
--
--   kbook_owner      owns the schema; migrations after this one run as it (SET ROLE), and so
--                    does the partition maintenance (sql/011's SECURITY DEFINER functions, which
--                    the collector calls). NOLOGIN, not a superuser.
--   kbook_collector  writes what it records: markets, market_raw, gaps, deltas, checkpoints
--   kbook_api        reads the data, authenticates keys and writes the ledger (lib/charge.c)
--   kbook_feedd      reads the data; authenticates and charges a feed's handshake (lib/charge.c)
--   kbook_admin      kbook-admin: accounts, keys and their overrides
--   kbook_mailer     kbook-mailer: sends the mail outbox (its grants are sql/014's)
--   kbook_billing    a future billing sender: CONNECT only until it exists
--
-- None is a superuser, so none can run COPY ... TO PROGRAM or read server files; the cluster's
-- superuser (the role "kbook" of the local stack) is reached only by the operator.
--
-- How a new table gets its grants: in the migration that creates it, right after CREATE TABLE,
-- one GRANT per program that touches it, with only the privileges its statements need, e.g.
--   GRANT SELECT, INSERT, UPDATE ON sessions TO kbook_api;
-- (a function called by a program: REVOKE EXECUTE ... FROM PUBLIC, then GRANT EXECUTE to it).
-- Once this migration is applied, migrate.sh runs the next ones as kbook_owner, which so owns
-- what they create; on a new database the migrations before it run first, and this one hands
-- their objects to kbook_owner (the loop below).

-- The schema's owner: every object of public, also the partitions (pg_partman gives new
-- partitions their parent's owner). Identity sequences follow their table.
DO $$
DECLARE
	o record;
BEGIN
	FOR o IN
		SELECT c.oid::regclass AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
		   AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
		                WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
		                  AND d.deptype IN ('a', 'i')))
	LOOP
		EXECUTE format('ALTER TABLE %s OWNER TO kbook_owner', o.rel);
	END LOOP;
	FOR o IN
		SELECT p.oid::regprocedure AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		 WHERE n.nspname = 'public'
		   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
		                   AND d.objid = p.oid AND d.deptype = 'e')
	LOOP
		EXECUTE format('ALTER ROUTINE %s OWNER TO kbook_owner', o.fn);
	END LOOP;
	-- The database: nothing for PUBLIC (its default CONNECT and TEMPORARY); each role connects.
	EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
	EXECUTE format('GRANT CONNECT, CREATE, TEMPORARY ON DATABASE %I TO kbook_owner', current_database());
	EXECUTE format('GRANT CONNECT ON DATABASE %I TO kbook_collector, kbook_api, kbook_feedd,'
	    ' kbook_admin, kbook_mailer, kbook_billing', current_database());
	-- the collector's replay of a batch whose commit is unknown goes through temporary tables
	EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO kbook_collector', current_database());
END $$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO kbook_owner;

-- pg_partman as the schema's owner (its documented non-superuser set-up): the maintenance
-- functions of sql/011 run run_maintenance() as kbook_owner, and later migrations may partition
-- tables.
GRANT USAGE, CREATE ON SCHEMA partman TO kbook_owner;
GRANT ALL ON ALL TABLES IN SCHEMA partman TO kbook_owner;
GRANT ALL ON ALL SEQUENCES IN SCHEMA partman TO kbook_owner;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA partman TO kbook_owner;
GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA partman TO kbook_owner;

ALTER ROLE kbook_owner NOLOGIN;

-- Functions run with their caller's privileges; api_refund is the ledger's, not PUBLIC's.
REVOKE EXECUTE ON FUNCTION api_refund(bigint, bigint, integer, text) FROM PUBLIC;

-- kbook-collector (collector/writer.c, lock.c): upserts markets and their REST object (RETURNING
-- and ON CONFLICT read them), opens and closes gaps, copies deltas and checkpoints (its replay's
-- temporary tables are LIKE them, which reads their definition: SELECT). collector/partitions.c
-- runs the partition maintenance and the default-partition check (sql/011): the wrapper runs as
-- the collector and calls the owner's function.
GRANT SELECT, INSERT, UPDATE ON markets, market_raw, gaps TO kbook_collector;
GRANT SELECT, INSERT ON book_deltas, book_checkpoints TO kbook_collector;
GRANT EXECUTE ON FUNCTION kbook_partition_maintenance(), kbook_partition_maintenance_owner(),
	kbook_default_partitions() TO kbook_collector;

-- The recorded-through mark (sql/010): the collector commits it with its rows; the API and feedd
-- read it with the book at an instant.
GRANT SELECT, INSERT, UPDATE ON recorded_through TO kbook_collector;
GRANT SELECT ON recorded_through TO kbook_api, kbook_feedd;

-- kbook-api (cgi-bin/, lib/charge.c): reads the recorded data (also single day partitions:
-- cgi-bin/daypart.c) and the schema version (health); charges and refunds.
GRANT SELECT ON markets, market_raw, gaps, book_deltas, book_checkpoints, schema_migrations
	TO kbook_api;
GRANT SELECT ON plans, accounts, api_keys TO kbook_api;
GRANT UPDATE (last_used_at) ON api_keys TO kbook_api;
GRANT SELECT, INSERT, UPDATE ON credit_periods, usage TO kbook_api;
GRANT EXECUTE ON FUNCTION api_refund(bigint, bigint, integer, text) TO kbook_api;

-- kbook-feedd (feedd/, lib/charge.c): reads the recorded data and the feed limits; charges the
-- handshake as the API charges a call.
GRANT SELECT ON markets, gaps, book_deltas, book_checkpoints, feed_limits TO kbook_feedd;
GRANT SELECT ON plans, accounts, api_keys TO kbook_feedd;
GRANT UPDATE (last_used_at) ON api_keys TO kbook_feedd;
GRANT SELECT, INSERT, UPDATE ON credit_periods, usage TO kbook_feedd;
GRANT EXECUTE ON FUNCTION api_refund(bigint, bigint, integer, text) TO kbook_feedd;

-- kbook-admin (scripts/admin/main.c): accounts and their overrides, keys, the month's allowance.
GRANT SELECT, INSERT, UPDATE ON accounts, api_keys TO kbook_admin;
GRANT SELECT, UPDATE ON credit_periods TO kbook_admin;
GRANT SELECT ON plans, feed_limits TO kbook_admin;

-- Partitions: pg_partman copies the parent's grants and owner to each partition it creates from
-- now on (inherit_privileges); reapply_privileges does it for the partitions made so far.
UPDATE partman.part_config SET inherit_privileges = true
 WHERE parent_table IN ('public.book_deltas', 'public.book_checkpoints');
SELECT partman.reapply_privileges('public.book_deltas');
SELECT partman.reapply_privileges('public.book_checkpoints');
