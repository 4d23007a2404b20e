-- 011: partition maintenance run by the collector, and the check for rows in a default partition.
--
-- pg_partman's background worker (pg_partman_bgw) was configured in postgresql.conf at initdb,
-- before the kbook database existed: its first run failed ("database "kbook" does not exist",
-- then "Could not start dynamic pg_partman background process") and it never ran again until
-- Postgres restarted, so nothing made partitions ahead, and after 7 days rows would have gone to
-- the default partition. The collector, which writes the rows, now runs the maintenance itself
-- (collector/partitions.c: at start, then every hour), through the functions below, whatever the
-- order in which the cluster, the database and the migrations were made, and on any Postgres
-- (no shared_preload_libraries, no restart, no database name fixed at start-up). The worker is
-- no longer configured: two mechanisms would only race for the same advisory lock.
--
-- Partitions are made ahead of now, not of the newest row (infinite_time_partitions): while
-- recording the two are the same; and pg_partman's other way reads max(ts) of the newest
-- partition at every run, which book_deltas's (market_id, ts) index cannot answer without a scan.

UPDATE partman.part_config SET infinite_time_partitions = true
 WHERE parent_table IN ('public.book_deltas', 'public.book_checkpoints');

-- Makes the partitions that are due (pg_partman's run_maintenance, which takes an advisory lock
-- so that concurrent runs skip), then returns, per partitioned table, the end of its newest
-- partition and pg_partman's premake. SECURITY DEFINER: the caller needs EXECUTE only, not the
-- ownership of the tables that creating and attaching partitions takes. Called through
-- kbook_partition_maintenance() below, never directly.
CREATE FUNCTION kbook_partition_maintenance_owner()
RETURNS TABLE (parent_table text, made_until timestamptz, premake int)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM partman.run_maintenance(p_analyze := false, p_jobmon := false);
	RETURN QUERY
	SELECT c.parent_table, i.child_end_time, c.premake
	  FROM partman.part_config c
	 CROSS JOIN LATERAL (SELECT p.partition_schemaname || '.' || p.partition_tablename AS child
	                       FROM partman.show_partitions(c.parent_table, 'DESC') p LIMIT 1) l
	 CROSS JOIN LATERAL partman.show_partition_info(l.child, c.partition_interval,
	                                                c.parent_table) i
	 ORDER BY c.parent_table;
END $$;
REVOKE ALL ON FUNCTION kbook_partition_maintenance_owner() FROM PUBLIC;

-- The maintenance, for the collector and operators. run_maintenance ends by setting search_path
-- back, for the session, to what it found, which inside the function above is that function's
-- own "pg_catalog, pg_temp": the caller's session would keep it (the collector's next statement
-- did not find kbook's functions). This wrapper, running as the caller, puts the caller's back.
CREATE FUNCTION kbook_partition_maintenance()
RETURNS TABLE (parent_table text, made_until timestamptz, premake int)
LANGUAGE plpgsql AS $$
DECLARE
	caller_path text := current_setting('search_path');
BEGIN
	RETURN QUERY SELECT * FROM public.kbook_partition_maintenance_owner();
	PERFORM set_config('search_path', caller_path, false);
END $$;
REVOKE ALL ON FUNCTION kbook_partition_maintenance() FROM PUBLIC;

-- The default partitions that hold rows (pg_partman's check_default without its exact count: a
-- default partition must be empty, and counting one that is not would read all of it). Rows
-- there mean partitions were missing when they were written; the collector warns and counts them
-- in /metrics; operators run the same check (docs/operations.md).
CREATE FUNCTION kbook_default_partitions()
RETURNS TABLE (parent_table text, default_table text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT h.inhparent::regclass::text, d.default_table
	  FROM partman.check_default(false) d
	  JOIN pg_inherits h ON h.inhrelid = d.default_table::regclass
	 ORDER BY 1
$$;
REVOKE ALL ON FUNCTION kbook_default_partitions() FROM PUBLIC;
