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
    PRIMARY KEY (key, target)
);
COMMENT ON TABLE plrust.artifacts IS 'PL/Rust function libraries, by content hash and target';
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

-- Everyone may look at what is allowed (plrust.trust_checks(), plrust.allowed_dependencies());
-- plrust.artifacts stays closed to ordinary roles (its own REVOKE above).
GRANT USAGE ON SCHEMA plrust TO PUBLIC;
