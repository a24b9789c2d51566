-- CREATE OR REPLACE and DROP, in this session and as seen by another session.

CREATE FUNCTION version_of() RETURNS text LANGUAGE plrust AS $$ Ok(Some("v1".into())) $$;
SELECT version_of();

-- Replaced in the same session: the next call runs the new code.
CREATE OR REPLACE FUNCTION version_of() RETURNS text LANGUAGE plrust AS $$ Ok(Some("v2".into())) $$;
SELECT version_of();

-- Another session that has already called the function sees a REPLACE at its next call.
CREATE EXTENSION dblink;
SELECT dblink_connect('other', 'host=127.0.0.1 port=' || current_setting('port') ||
                               ' dbname=' || current_database() || ' user=' || current_user);
SELECT * FROM dblink('other', 'SELECT version_of()') AS t(v text);
CREATE OR REPLACE FUNCTION version_of() RETURNS text LANGUAGE plrust AS $$ Ok(Some("v3".into())) $$;
SELECT * FROM dblink('other', 'SELECT version_of()') AS t(v text);
SELECT version_of();

-- Replacing with an earlier body reuses that body's artifact.
CREATE OR REPLACE FUNCTION version_of() RETURNS text LANGUAGE plrust AS $$ Ok(Some("v1".into())) $$;
SELECT version_of();
SELECT * FROM dblink('other', 'SELECT version_of()') AS t(v text);

-- A REPLACE that is rolled back leaves the previous version working.
BEGIN;
CREATE OR REPLACE FUNCTION version_of() RETURNS text LANGUAGE plrust AS $$ Ok(Some("rolled back".into())) $$;
SELECT version_of();
ROLLBACK;
SELECT version_of();
SELECT * FROM dblink('other', 'SELECT version_of()') AS t(v text);

-- A REPLACE that fails to compile leaves the previous version working.
CREATE OR REPLACE FUNCTION version_of() RETURNS text LANGUAGE plrust AS $$ Ok(Some(42)) $$;
SELECT version_of();

-- The other session has loaded only the version it runs: each replaced version's library
-- was unloaded at its next call (a later transaction).
SELECT * FROM dblink('other', 'SELECT count(*), sum(functions) FROM plrust.loaded_libraries()')
  AS t(libraries bigint, functions bigint);
-- Whether the other session has the library of artifact :key loaded, and mapped in its
-- address space (the loader names the file plrust-<key>..., in the object cache or not).
SELECT plrust.artifact_key('version_of()'::regprocedure) AS v1_key \gset
SELECT format($q$SELECT EXISTS (SELECT FROM plrust.loaded_libraries() WHERE key = %L),
  EXISTS (SELECT FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\n') l WHERE l LIKE %L)$q$,
  :'v1_key', '%plrust-' || :'v1_key' || '%') AS v1_loaded \gset
SELECT * FROM dblink('other', :'v1_loaded') AS t(loaded bool, mapped bool);

-- DROP: the function is gone here and in the other session.
DROP FUNCTION version_of();
SELECT version_of();
SELECT * FROM dblink('other', 'SELECT version_of()') AS t(v text);

-- A new function with the same name and a new body works in both sessions.
CREATE FUNCTION version_of() RETURNS text LANGUAGE plrust AS $$ Ok(Some("reborn".into())) $$;
SELECT version_of();
SELECT * FROM dblink('other', 'SELECT version_of()') AS t(v text);
-- The dropped function's library is gone from the other session: unloaded and unmapped.
SELECT * FROM dblink('other', :'v1_loaded') AS t(loaded bool, mapped bool);
SELECT * FROM dblink('other', 'SELECT count(*), sum(functions) FROM plrust.loaded_libraries()')
  AS t(libraries bigint, functions bigint);

-- check_function_bodies = off (what pg_dump sets): CREATE does not compile; the first call does.
SET check_function_bodies = off;
-- (A body no other suite uses: identical functions share their artifact.)
CREATE FUNCTION deferred(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x * 2 + 0)) $$;
RESET check_function_bodies;
SELECT count(*) AS artifacts_before_call FROM plrust.artifacts
WHERE key = plrust.artifact_key('deferred(int)'::regprocedure);
SELECT deferred(21);
SELECT count(*) AS artifacts_after_call FROM plrust.artifacts
WHERE key = plrust.artifact_key('deferred(int)'::regprocedure);

SELECT dblink_disconnect('other');
DROP EXTENSION dblink;
