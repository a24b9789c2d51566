-- PL/Rust's own SQL objects, installed by CREATE EXTENSION plrust into schema plrust.

-- Compiled shared objects, keyed by a content hash of everything that affects the build
-- (see plrust/src/pipeline.rs, artifact_key) and the target triple. Rows are written by
-- the validator (CREATE FUNCTION) and read at a function's first call in a backend.
CREATE TABLE plrust.artifacts (
    key       text        NOT NULL,
    target    text        NOT NULL,
    object    bytea       NOT NULL,
    build_id  text        NOT NULL,
    build_ms  integer     NOT NULL,
    built_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    toolchain text        NOT NULL,
    PRIMARY KEY (key, target)
);
COMMENT ON TABLE plrust.artifacts IS 'PL/Rust function libraries, by content hash and target';
-- Objects are read back at each function's first call in a backend: lz4 decompresses
-- them about ten times faster than the default pglz, at nearly the same size. (A server
-- built without lz4, or older than PostgreSQL 14, which has no per-column compression,
-- keeps pglz.)
DO $$
BEGIN
    ALTER TABLE plrust.artifacts ALTER COLUMN object SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
    NULL;
END
$$;
REVOKE ALL ON plrust.artifacts FROM PUBLIC;
-- pg_dump dumps the rows, so a restore finds every function already built.
SELECT pg_catalog.pg_extension_config_dump('plrust.artifacts', '');

CREATE FUNCTION plrust.plrust_call_handler() RETURNS language_handler
    LANGUAGE c AS 'MODULE_PATHNAME', 'plrust_call_handler';
CREATE FUNCTION plrust.plrust_validator(fn_oid oid) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'plrust_validator';
CREATE FUNCTION plrust.plrust_inline_handler(internal) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'plrust_inline_handler';

-- TRUSTED: any role with USAGE on the language (PUBLIC, by default) may create functions.
-- What makes that safe: the trust checks on every body, postgrestd, the trusted API,
-- and the dependency allow-list (see README.md, "The sandbox").
CREATE TRUSTED LANGUAGE plrust
    HANDLER plrust.plrust_call_handler
    INLINE plrust.plrust_inline_handler
    VALIDATOR plrust.plrust_validator;
COMMENT ON LANGUAGE plrust IS 'PL/Rust procedural language';

-- Every PL/Rust function of this database with its artifact for each target it is built
-- for (this machine's, those plrust.compilation_targets adds, and any other that has an
-- artifact stored): built or not, its size, how long the build took, when, and with what
-- toolchain (build_id names the toolchain, postgrestd and dependency closure together).
CREATE VIEW plrust.functions AS
SELECT k.function::pg_catalog.regprocedure AS function,
       k.target,
       k.key,
       a.key IS NOT NULL AS built,
       pg_catalog.octet_length(a.object) AS bytes,
       a.build_ms,
       a.built_at,
       a.toolchain,
       a.build_id
FROM plrust.function_keys() k
LEFT JOIN plrust.artifacts a
       ON a.key OPERATOR(pg_catalog.=) k.key AND a.target OPERATOR(pg_catalog.=) k.target
WHERE k.configured OR a.key IS NOT NULL;
COMMENT ON VIEW plrust.functions IS 'PL/Rust functions and their compiled artifacts';
GRANT SELECT ON plrust.functions TO PUBLIC;

-- Build every function whose artifact is not stored (after a restore or a toolchain
-- upgrade, say). One row per function; a failed build is reported, not raised.
CREATE FUNCTION plrust.recompile_all()
RETURNS TABLE (function pg_catalog.regprocedure, built boolean, error text)
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $$ SELECT function::pg_catalog.regprocedure, built, error FROM plrust.recompile_all_functions() $$;

-- Whole-database maintenance is for the extension's owner (and whom they grant it to).
REVOKE EXECUTE ON FUNCTION plrust.recompile_all() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION plrust.recompile_all_functions() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION plrust.cleanup_artifacts() FROM PUBLIC;

-- Everyone may look at what is allowed (plrust.trust_checks(), plrust.allowed_dependencies());
-- plrust.artifacts stays closed to ordinary roles (its own REVOKE above).
GRANT USAGE ON SCHEMA plrust TO PUBLIC;
