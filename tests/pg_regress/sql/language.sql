-- The spine: CREATE EXTENSION, CREATE FUNCTION compiles, the call runs.

-- Zero configuration (suite not_preloaded): no shared_preload_libraries, no
-- postgresql.conf entries. scripts/regress.sh also runs every suite with plrust preloaded.
CREATE EXTENSION plrust;
-- Helpers for later suites: the object cache's directory (one per cluster and database,
-- see plrust/src/loader.rs), and what a failure could have left in plrust.work_dir:
-- files outside the cache, and cached files of no committed artifact.
CREATE FUNCTION test_object_cache_dir() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT current_setting('plrust.work_dir') || '/plrust-objects-pg' ||
       current_setting('server_version_num')::int / 10000 || '-' ||
       (SELECT system_identifier FROM pg_control_system()) || '-' ||
       (SELECT oid FROM pg_database WHERE datname = current_database())
$$;
CREATE FUNCTION test_work_dir_leftovers(OUT files_outside_cache bigint, OUT cached_without_artifact bigint)
LANGUAGE sql STABLE AS $$
  SELECT (SELECT count(*) FROM pg_ls_dir(current_setting('plrust.work_dir')) f
          WHERE f NOT LIKE 'plrust-objects-pg%'),
         (SELECT count(*) FROM pg_ls_dir(test_object_cache_dir(), true, false) f
          WHERE NOT EXISTS (SELECT FROM plrust.artifacts a WHERE f = 'plrust-' || a.key || '.so'))
$$;
SELECT lanname, lanpltrusted, lanplcallfoid::regproc, laninline::regproc, lanvalidator::regproc
FROM pg_language WHERE lanname = 'plrust';

CREATE FUNCTION add_one(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x + 1)) $$;
SELECT add_one(41);
SELECT add_one(NULL) IS NULL AS strict_null;

-- Not STRICT: arguments are Option<T>, NULL is None; Ok(None) returns NULL.
CREATE FUNCTION describe(x int) RETURNS text LANGUAGE plrust AS $$
    Ok(Some(match x {
        None => "got NULL".to_string(),
        Some(v) => format!("got {v}"),
    }))
$$;
SELECT describe(NULL), describe(7);
CREATE FUNCTION null_if_negative(x int8) RETURNS int8 LANGUAGE plrust AS $$
    Ok(x.filter(|v| *v >= 0))
$$;
SELECT null_if_negative(-1) IS NULL AS is_null, null_if_negative(5);

-- Several arguments, items and helper functions inside the body.
CREATE FUNCTION hypot(a float8, b float8) RETURNS float8 STRICT LANGUAGE plrust AS $$
    fn square(v: f64) -> f64 { v * v }
    Ok(Some((square(a) + square(b)).sqrt()))
$$;
SELECT hypot(3, 4);

-- The source is stored exactly as written (pg_dump and \sf show what the user wrote).
SELECT prosrc FROM pg_proc WHERE proname = 'add_one';

-- The shared object was built for x86_64-postgres-linux-gnu against postgrestd: its
-- .plrust_target section exists only when rustc compiled for a target_family =
-- "postgres" target, and names it. The host-built extension library has no such section.
SELECT a.target, plrust.artifact_target(a.object) AS built_for,
       octet_length(a.object) > 0 AS has_object
FROM plrust.artifacts a
WHERE a.key = plrust.artifact_key('add_one(int)'::regprocedure);
SELECT plrust.artifact_target(pg_read_binary_file(
           (SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR') || '/plrust.so'))
       IS NULL AS host_library_has_no_target_section;

-- Identical functions share one artifact; CREATE of an already-built body compiles nothing.
CREATE SCHEMA other;
CREATE FUNCTION other.add_one(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x + 1)) $$;
SELECT plrust.artifact_key('add_one(int)'::regprocedure)
     = plrust.artifact_key('other.add_one(int)'::regprocedure) AS same_key,
       (SELECT count(*) FROM plrust.artifacts
        WHERE key = plrust.artifact_key('add_one(int)'::regprocedure)) AS artifacts;
SELECT other.add_one(1);

-- The artifact table is PL/Rust's: ordinary roles cannot read or change it.
CREATE ROLE plrust_regress_user;
SET ROLE plrust_regress_user;
SELECT count(*) FROM plrust.artifacts;
RESET ROLE;
-- ...but they can call the functions (the first call in a backend reads the artifact).
GRANT USAGE ON SCHEMA other TO plrust_regress_user;
\c -
SET ROLE plrust_regress_user;
SELECT other.add_one(99);
RESET ROLE;
DROP SCHEMA other CASCADE;
DROP ROLE plrust_regress_user;

-- Settings have safe defaults and are documented; only superusers may change them.
SELECT name, context, short_desc FROM pg_settings WHERE name LIKE 'plrust.%' ORDER BY name;

-- What PL/Rust compiles for a function: the glue, the body (line 2 is body line 2, with
-- the probes inserted) and the rustc command against postgrestd.
CREATE FUNCTION shown(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    let y = x * 2;
    Ok(Some(y))
$$;
SELECT file,
       CASE file
         WHEN 'lib.rs' THEN contents LIKE '%plrust_entry%' AND contents NOT LIKE '%global_allocator%'
         WHEN 'user.rs' THEN split_part(contents, E'\n', 2) = '    let y = x * 2;'
         WHEN 'rustc' THEN contents LIKE '%--target%postgres-linux-gnu.json%' AND contents LIKE '%--sysroot%'
       END AS as_expected
FROM plrust.generated_crate('shown(int)'::regprocedure) ORDER BY file;
DROP FUNCTION shown;
