-- The artifact store over a function's life: what plrust.functions shows, building on
-- demand (plrust.compile, plrust.recompile_all), and removing artifacts no function
-- uses (plrust.cleanup_artifacts), also against a concurrent CREATE.
-- Every body here is used by no other suite: identical functions share their artifact.

-- plrust.functions: one row per function and target, with the artifact it runs.
-- A one-line function's library is about 16,700 bytes on x86_64 (docs/benchmarks.md): it
-- links std and the trusted API dynamically, from the runtime. Over 40,000 means they
-- are linked into it again (statically, a library is over 140,000 bytes).
CREATE FUNCTION art_built(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x + 101)) $$;
SELECT function, target, built, bytes BETWEEN 8000 AND 40000 AS sized, build_ms > 0 AS timed,
       toolchain <> '' AS has_toolchain, length(build_id) AS build_id_length,
       key = plrust.artifact_key('art_built(int)'::regprocedure) AS key_matches
FROM plrust.functions WHERE function = 'art_built(int)'::regprocedure;

-- The object is stored lz4-compressed (read back at every backend's first call), and a
-- new session reads it back (an index scan of plrust.artifacts) instead of building it.
SELECT pg_column_compression(object) AS compression, octet_length(object) > pg_column_size(object) AS compressed
FROM plrust.artifacts WHERE key = plrust.artifact_key('art_built(int)'::regprocedure);
\c
SELECT art_built(1), plrust.session_builds() AS builds;

-- check_function_bodies = off (pg_dump sets it): not built, until plrust.compile.
SET check_function_bodies = off;
CREATE FUNCTION art_deferred(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x + 102)) $$;
RESET check_function_bodies;
SELECT built FROM plrust.functions WHERE function = 'art_deferred(int)'::regprocedure;
SELECT plrust.session_builds() AS builds_before \gset
SELECT plrust.compile('art_deferred(int)'::regprocedure) AS built_now;
SELECT plrust.compile('art_deferred(int)'::regprocedure) AS built_again;
SELECT plrust.session_builds() - :builds_before AS builds;
SELECT built FROM plrust.functions WHERE function = 'art_deferred(int)'::regprocedure;
SELECT art_deferred(1);

-- plrust.compile refuses what it cannot build.
SELECT plrust.compile('lower(text)'::regprocedure);
\echo :LAST_ERROR_SQLSTATE
SELECT plrust.compile(0);
\echo :LAST_ERROR_SQLSTATE
CREATE ROLE plrust_art_user;
REVOKE EXECUTE ON FUNCTION art_deferred(int) FROM PUBLIC;
SET ROLE plrust_art_user;
SELECT plrust.compile('art_deferred(int)'::regprocedure);
\echo :LAST_ERROR_SQLSTATE
-- Whole-database maintenance is for the owner.
SELECT plrust.cleanup_artifacts();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM plrust.recompile_all();
\echo :LAST_ERROR_SQLSTATE
-- The view is for everyone; the artifacts themselves are not.
SELECT built FROM plrust.functions WHERE function = 'art_built(int)'::regprocedure;
SELECT count(*) FROM plrust.artifacts;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE plrust_art_user;

-- plrust.recompile_all builds what is missing, and reports a body that does not build
-- without stopping at it.
SET check_function_bodies = off;
CREATE FUNCTION art_later() RETURNS text LANGUAGE plrust AS $$ Ok(Some("later".into())) $$;
CREATE FUNCTION art_broken() RETURNS int LANGUAGE plrust AS $$ Ok(Some("not an int")) $$;
RESET check_function_bodies;
SELECT function, built, error IS NOT NULL AS failed, left(error, 40) AS error
FROM plrust.recompile_all() WHERE built OR error IS NOT NULL ORDER BY function::text;
SELECT count(*) AS left_to_build FROM plrust.recompile_all() WHERE built;
SELECT art_later();
DROP FUNCTION art_broken();

-- A first call in a read-only transaction builds and runs, but cannot store the artifact;
-- plrust.compile (or a first call in a writable transaction) does.
SET check_function_bodies = off;
CREATE FUNCTION art_read_only() RETURNS text LANGUAGE plrust AS $$ Ok(Some("ro".into())) $$;
RESET check_function_bodies;
BEGIN READ ONLY;
SELECT art_read_only();
COMMIT;
SELECT built FROM plrust.functions WHERE function = 'art_read_only()'::regprocedure;
SELECT plrust.compile('art_read_only()'::regprocedure) AS built_now;

-- ALTER FUNCTION ... STRICT changes what is compiled (arguments are no longer Option):
-- the function gets a new artifact, built at its next first call.
CREATE FUNCTION art_strictness(x int) RETURNS text LANGUAGE plrust AS $$ Ok(Some(format!("{:?}", x))) $$;
SELECT art_strictness(7);
SELECT plrust.artifact_key('art_strictness(int)'::regprocedure) AS lax_key \gset
ALTER FUNCTION art_strictness(int) STRICT;
SELECT key <> :'lax_key' AS new_key, built FROM plrust.functions
WHERE function = 'art_strictness(int)'::regprocedure;
SELECT art_strictness(7);
SELECT built FROM plrust.functions WHERE function = 'art_strictness(int)'::regprocedure;

-- A rolled-back CREATE leaves no artifact behind.
BEGIN;
CREATE FUNCTION art_rolled_back() RETURNS int LANGUAGE plrust AS $$ Ok(Some(103)) $$;
SELECT plrust.artifact_key('art_rolled_back()'::regprocedure) AS rolled_back_key \gset
SELECT count(*) AS inside FROM plrust.artifacts WHERE key = :'rolled_back_key';
ROLLBACK;
SELECT count(*) AS after_rollback FROM plrust.artifacts WHERE key = :'rolled_back_key';

-- plrust.cleanup_artifacts removes what DROP and REPLACE left behind, and nothing in use.
CREATE FUNCTION art_dropped() RETURNS int LANGUAGE plrust AS $$ Ok(Some(104)) $$;
SELECT plrust.artifact_key('art_dropped()'::regprocedure) AS dropped_key \gset
CREATE FUNCTION art_replaced() RETURNS int LANGUAGE plrust AS $$ Ok(Some(105)) $$;
SELECT plrust.artifact_key('art_replaced()'::regprocedure) AS replaced_key \gset
CREATE OR REPLACE FUNCTION art_replaced() RETURNS int LANGUAGE plrust AS $$ Ok(Some(106)) $$;
DROP FUNCTION art_dropped();
SELECT count(*) FILTER (WHERE built) AS built_before FROM plrust.functions \gset
SELECT plrust.cleanup_artifacts() >= 2 AS cleaned;
SELECT count(*) AS dropped_and_replaced_left FROM plrust.artifacts
WHERE key IN (:'dropped_key', :'replaced_key');
SELECT count(*) FILTER (WHERE built) = :built_before AS every_function_still_built
FROM plrust.functions;
SELECT count(*) AS unused_left FROM plrust.artifacts a
WHERE NOT EXISTS (SELECT FROM plrust.functions f WHERE f.key = a.key);
SELECT plrust.cleanup_artifacts() AS second_cleanup;
SELECT art_replaced(), art_built(1);

-- At REPEATABLE READ the transaction's snapshot could miss a function another session
-- created since: refused.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT plrust.cleanup_artifacts();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- The race a sweep must not lose: a CREATE that reuses an artifact no committed function
-- uses (here: left by a DROP) while another session cleans up. The cleanup waits for the
-- CREATE's transaction, then sees the function and keeps the artifact.
CREATE EXTENSION dblink;
SELECT dblink_connect('sweeper', 'host=127.0.0.1 port=' || current_setting('port') ||
                                 ' dbname=' || current_database() || ' user=' || current_user);
CREATE FUNCTION art_raced() RETURNS int LANGUAGE plrust AS $$ Ok(Some(107)) $$;
SELECT plrust.artifact_key('art_raced()'::regprocedure) AS raced_key \gset
DROP FUNCTION art_raced();
BEGIN;
SELECT plrust.session_builds() AS builds_before \gset
CREATE FUNCTION art_raced_again() RETURNS int LANGUAGE plrust AS $$ Ok(Some(107)) $$;
SELECT plrust.session_builds() - :builds_before AS builds_for_reuse;
SELECT dblink_send_query('sweeper', 'SELECT plrust.cleanup_artifacts()');
-- Wait until the sweeper is blocked on the artifact table's lock.
DO $$
BEGIN
  FOR i IN 1..300 LOOP
    PERFORM pg_stat_clear_snapshot();
    EXIT WHEN EXISTS (SELECT FROM pg_stat_activity
                      WHERE wait_event_type = 'Lock' AND query LIKE '%cleanup_artifacts%');
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT count(*) AS sweeper_waiting FROM pg_stat_activity
WHERE wait_event_type = 'Lock' AND query LIKE '%cleanup_artifacts%';
COMMIT;
SELECT * FROM dblink_get_result('sweeper') AS t(deleted bigint);
SELECT count(*) AS raced_artifact_kept FROM plrust.artifacts WHERE key = :'raced_key';
SELECT art_raced_again();
SELECT dblink_disconnect('sweeper');
DROP EXTENSION dblink;
