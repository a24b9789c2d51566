-- The object cache: a committed artifact is kept as a file under plrust.work_dir, named by
-- its key, and every later session maps that file instead of reading plrust.artifacts.
-- Every body here is used by no other suite: identical functions share their artifact.
-- One directory per database of this cluster (test_object_cache_dir: language.sql).
SELECT test_object_cache_dir() AS cache_dir \gset
-- Whether this session has artifact :key mapped from the cache, and from a private
-- staging file (deleted at once, so its name ends in "(deleted)").
SELECT $q$SELECT
  EXISTS (SELECT FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\n') l
          WHERE l LIKE '%%/plrust-objects-pg%%/plrust-' || %L || '.so') AS from_cache,
  EXISTS (SELECT FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\n') l
          WHERE l LIKE '%%/plrust-' || %L || '-%%.so (deleted)') AS staged$q$ AS mapped_fmt \gset

CREATE FUNCTION oc_shared(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x + 201)) $$;
SELECT plrust.artifact_key('oc_shared(int)'::regprocedure) AS key \gset
SELECT :'cache_dir' || '/plrust-' || :'key' || '.so' AS path \gset
-- Not at CREATE: the row is not committed yet (this transaction might still roll back).
SELECT count(*) AS files_after_create FROM pg_ls_dir(:'cache_dir') f WHERE f LIKE '%' || :'key' || '%';

-- The first load after the commit writes the file, from the stored bytes exactly.
\c
SELECT oc_shared(1);
SELECT (pg_stat_file(:'path')).size = (SELECT octet_length(object) FROM plrust.artifacts
                                        WHERE key = :'key') AS whole_object;
SELECT (pg_stat_file(:'path')).modification AS written_at \gset
-- (Modification times are in whole seconds: a rewrite below would show.)
SELECT pg_sleep(1.1);
SELECT format(:'mapped_fmt', :'key', :'key') AS mapped \gset
:mapped;

-- The next session maps the same file; nothing is built or written again.
\c
SELECT oc_shared(2), plrust.session_builds() AS builds;
:mapped;
SELECT (pg_stat_file(:'path')).modification = :'written_at' AS not_rewritten;

-- A function created and called in one transaction runs from a private staging file, and a
-- rollback leaves nothing in the cache.
BEGIN;
CREATE FUNCTION oc_rolled_back() RETURNS int LANGUAGE plrust AS $$ Ok(Some(202)) $$;
SELECT plrust.artifact_key('oc_rolled_back()'::regprocedure) AS rolled_back_key \gset
SELECT oc_rolled_back();
SELECT format(:'mapped_fmt', :'rolled_back_key', :'rolled_back_key') AS mapped_rb \gset
:mapped_rb;
ROLLBACK;
SELECT count(*) AS files_after_rollback FROM pg_ls_dir(:'cache_dir') f
WHERE f LIKE '%' || :'rolled_back_key' || '%';

-- Hazard: writing a cached file in place. Backends map it: truncating it would kill them
-- with SIGBUS. Files are read-only, so even the server's own user cannot (COPY ... TO).
\set VERBOSITY sqlstate
COPY (SELECT 'not a shared object') TO :'path';
\set VERBOSITY default
SELECT oc_shared(3);

-- A file under a key's name that does not load (left by a crash, or put there by hand)
-- is replaced from the stored object.
CREATE FUNCTION oc_damaged() RETURNS int LANGUAGE plrust AS $$ Ok(Some(203)) $$;
SELECT :'cache_dir' || '/plrust-' || plrust.artifact_key('oc_damaged()'::regprocedure) || '.so'
  AS damaged_path \gset
COPY (SELECT 'not a shared object') TO :'damaged_path';
SELECT (pg_stat_file(:'damaged_path')).size AS damaged_size;
\c
SELECT oc_damaged();
SELECT (pg_stat_file(:'damaged_path')).size = (SELECT octet_length(object) FROM plrust.artifacts
  WHERE key = plrust.artifact_key('oc_damaged()'::regprocedure)) AS whole_again;

-- plrust.cleanup_artifacts removes the file with the row.
DROP FUNCTION oc_shared(int);
SELECT plrust.cleanup_artifacts() >= 1 AS cleaned;
SELECT count(*) AS files_after_cleanup FROM pg_ls_dir(:'cache_dir') f WHERE f LIKE '%' || :'key' || '%';
