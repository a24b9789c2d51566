-- plrust.compilation_targets: CREATE FUNCTION also builds and stores an artifact for the
-- other architecture (aarch64 on this x86_64 machine), so a replica there can run it.
-- Every body here is used by no other suite: identical functions share their artifact.

-- By default only this machine's target is built.
CREATE FUNCTION tgt_host_only(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x + 201)) $$;
SHOW plrust.compilation_targets;
SELECT target, built FROM plrust.functions WHERE function = 'tgt_host_only(int)'::regprocedure;

-- A list, as in the original PL/Rust: no quotes needed.
SET plrust.compilation_targets = aarch64, x86_64;
SHOW plrust.compilation_targets;
SELECT plrust.session_builds() AS builds_before \gset
CREATE FUNCTION tgt_both(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x * 3)) $$;
SELECT plrust.session_builds() - :builds_before AS builds;
SELECT tgt_both(14);
SELECT target, built, bytes > 8000 AS sized, build_ms > 0 AS timed
FROM plrust.functions WHERE function = 'tgt_both(int)'::regprocedure ORDER BY target;
-- One key per target, each the key of what is compiled for it.
SELECT count(DISTINCT key) AS keys FROM plrust.functions
WHERE function = 'tgt_both(int)'::regprocedure;

-- The aarch64 artifact is an aarch64 ELF shared object: read from its header, not by
-- PL/Rust: magic, ELFCLASS64, little-endian, ET_DYN (3), EM_AARCH64 (183); the x86_64
-- one is EM_X86_64 (62). plrust.artifact_target reads the triple the generated code
-- records in its .plrust_target section.
SELECT a.target,
       substring(a.object FROM 1 FOR 4) = '\x7f454c46'::bytea AS elf_magic,
       get_byte(a.object, 4) AS ei_class,
       get_byte(a.object, 5) AS ei_data,
       get_byte(a.object, 16) + 256 * get_byte(a.object, 17) AS e_type,
       get_byte(a.object, 18) + 256 * get_byte(a.object, 19) AS e_machine,
       plrust.artifact_target(a.object) AS recorded_target
FROM plrust.artifacts a JOIN plrust.functions f ON f.key = a.key AND f.target = a.target
WHERE f.function = 'tgt_both(int)'::regprocedure ORDER BY a.target;

-- A function created before the setting gets its aarch64 artifact from plrust.compile,
-- once. (plrust.recompile_all would do the same for every function of the database.)
SELECT plrust.compile('tgt_host_only(int)'::regprocedure) AS built_now;
SELECT plrust.compile('tgt_host_only(int)'::regprocedure) AS built_again;
SELECT target, built FROM plrust.functions
WHERE function = 'tgt_host_only(int)'::regprocedure ORDER BY target;

-- A body with [dependencies] is built for aarch64 against the allow-list's aarch64 set
-- (scripts/allow-dependencies.sh builds every set for both targets).
CREATE FUNCTION tgt_dep(x int8) RETURNS text STRICT LANGUAGE plrust AS $$
[dependencies]
itoa = "1"
[code]
    let mut buffer = itoa::Buffer::new();
    Ok(Some(buffer.format(x + 205).to_string()))
$$;
SELECT tgt_dep(1);
SELECT target, built FROM plrust.functions
WHERE function = 'tgt_dep(int8)'::regprocedure ORDER BY target;

-- A DO block runs here only: its artifact is built for this machine, not for aarch64.
CREATE TEMP TABLE tgt_before AS SELECT target, count(*) AS n FROM plrust.artifacts GROUP BY target;
DO LANGUAGE plrust $$ let _ = 203; Ok(None) $$;
SELECT a.target, count(*) - min(b.n) AS new_artifacts
FROM plrust.artifacts a JOIN tgt_before b USING (target) GROUP BY a.target ORDER BY a.target;

-- Without the setting the stored aarch64 artifacts still show, and the cleanup keeps
-- them: which artifacts are in use does not depend on a session's setting.
RESET plrust.compilation_targets;
SELECT function, target, built FROM plrust.functions
WHERE function::text LIKE 'tgt_%' ORDER BY 1, 2;
SELECT plrust.cleanup_artifacts() >= 0 AS swept;
SELECT function, target, built FROM plrust.functions
WHERE function::text LIKE 'tgt_%' ORDER BY 1, 2;
-- DROP: both of its artifacts go at the next cleanup; the other function's stay.
CREATE TEMP TABLE tgt_both_keys AS
SELECT key FROM plrust.functions WHERE function = 'tgt_both(int)'::regprocedure;
DROP FUNCTION tgt_both(int);
SELECT plrust.cleanup_artifacts() >= 2 AS swept;
SELECT count(*) AS left_over FROM plrust.artifacts WHERE key IN (SELECT key FROM tgt_both_keys);
SELECT target, built FROM plrust.functions
WHERE function = 'tgt_host_only(int)'::regprocedure ORDER BY target;

-- Bad settings: an architecture PL/Rust has no target for (22023), at CREATE and in the
-- view; and only a superuser may set it (42501).
SET plrust.compilation_targets = 'aarch64, riscv64';
CREATE FUNCTION tgt_never() RETURNS int LANGUAGE plrust AS $$ Ok(Some(204)) $$;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM plrust.functions;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS not_created FROM pg_proc WHERE proname = 'tgt_never';
RESET plrust.compilation_targets;
CREATE ROLE plrust_tgt_user;
SET ROLE plrust_tgt_user;
SET plrust.compilation_targets = aarch64;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE plrust_tgt_user;
DROP FUNCTION tgt_host_only(int);
DROP FUNCTION tgt_dep(int8);
