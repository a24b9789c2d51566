-- PL/Rust needs no configuration: not in shared_preload_libraries, it is loaded into a
-- session by its first CREATE FUNCTION, call or DO block. (scripts/regress.sh runs the
-- suite preloaded, instead of this one, in the preloaded run.)
SHOW shared_preload_libraries;
SELECT count(*) AS plrust_mapped_before_use
FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\n') l WHERE l LIKE '%/plrust.so';

-- Before plrust is loaded in the session, SET of one of its settings only makes a
-- placeholder, which PostgreSQL refuses (WARNING) when plrust defines the setting: a
-- function author cannot raise plrust.max_memory that way either.
CREATE ROLE plrust_early;
GRANT CREATE ON SCHEMA public TO plrust_early;
SET ROLE plrust_early;
SET plrust.max_memory = '100GB';
CREATE FUNCTION np_loads() RETURNS int LANGUAGE plrust AS $$ Ok(Some(1)) $$;
SHOW plrust.max_memory;
SELECT np_loads();
RESET ROLE;
SELECT count(*) AS plrust_mapped_after_use
FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\n') l WHERE l LIKE '%/plrust.so';
DROP FUNCTION np_loads();
REVOKE CREATE ON SCHEMA public FROM plrust_early;
DROP ROLE plrust_early;
