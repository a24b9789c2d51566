-- With shared_preload_libraries = 'plrust' (which the original PL/Rust requires), every
-- session starts with plrust.so loaded by the postmaster, its settings defined and its
-- memory context made. (scripts/regress.sh runs this suite, instead of not_preloaded, in
-- its preloaded run, with every other suite.)
SHOW shared_preload_libraries;
SELECT count(*) AS plrust_mapped_before_use
FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\n') l WHERE l LIKE '%/plrust.so';
SELECT name, parent, level FROM pg_backend_memory_contexts WHERE name = 'PL/Rust';

-- The settings exist before any use: a function author's SET fails at once (42501).
CREATE ROLE plrust_early;
SET ROLE plrust_early;
SET plrust.max_memory = '100GB';
\echo :LAST_ERROR_SQLSTATE
SHOW plrust.max_memory;
RESET ROLE;
DROP ROLE plrust_early;

-- A function runs in a session the postmaster forked with plrust loaded.
CREATE FUNCTION pl_runs(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x * 3)) $$;
SELECT pl_runs(14);
DROP FUNCTION pl_runs(int);
