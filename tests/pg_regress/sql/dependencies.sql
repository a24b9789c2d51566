-- [dependencies]: crates on the allow-list named by plrust.allowed_dependencies (this
-- suite's server runs with tests/allowed-dependencies.toml, built ahead of time by
-- scripts/allow-dependencies.sh). Nothing is fetched or built at CREATE FUNCTION.

SELECT name, version, features, default_features, built FROM plrust.allowed_dependencies();

-- An allowed crate, used as in the original PL/Rust.
CREATE FUNCTION format_int(x int8) RETURNS text STRICT LANGUAGE plrust AS $$
[dependencies]
itoa = "1"
[code]
    let mut buffer = itoa::Buffer::new();
    Ok(Some(buffer.format(x).to_string()))
$$;
SELECT format_int(-9223372036854775808), format_int(42);

-- A feature the allow-list enables ("alloc", for hex::encode).
CREATE FUNCTION hex_of(b bytea) RETURNS text STRICT LANGUAGE plrust AS $$
[dependencies]
hex = { version = "0.4", features = ["alloc"] }
[code]
    Ok(Some(hex::encode(b)))
$$;
SELECT hex_of('\xdeadbeef');

-- Errors in a body with dependencies still point at the body's own lines.
CREATE FUNCTION dep_type_error(x int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
[dependencies]
itoa = "1"
[code]
    let mut buffer = itoa::Buffer::new();
    Ok(Some(buffer.format(x)))
$$;
\echo :LAST_ERROR_SQLSTATE

-- The attacks below run as the ordinary role.
SET ROLE plrust_attacker;

-- Attack: a crate that is not on the allow-list.
CREATE FUNCTION dep_not_allowed() RETURNS int LANGUAGE plrust AS $$
[dependencies]
libc = "0.2"
[code]
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: a version that was not allowed.
CREATE FUNCTION dep_wrong_version() RETURNS int LANGUAGE plrust AS $$
[dependencies]
itoa = "0.4"
[code]
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: a feature that was not allowed (hex's "std").
CREATE FUNCTION dep_wrong_feature() RETURNS int LANGUAGE plrust AS $$
[dependencies]
hex = { version = "0.4", features = ["std"] }
[code]
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: path, git and registry dependencies.
CREATE FUNCTION dep_path() RETURNS int LANGUAGE plrust AS $$
[dependencies]
itoa = { path = "/var/lib/postgresql" }
[code]
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION dep_git() RETURNS int LANGUAGE plrust AS $$
[dependencies]
itoa = { git = "https://example.invalid/itoa.git" }
[code]
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- Attack: reach a crate that is in the prebuilt closure but not listed (pgrx's own
-- dependencies, e.g. libc) without declaring it.
CREATE FUNCTION dep_undeclared() RETURNS int LANGUAGE plrust AS $$
    Ok(Some(libc::getpid()))
$$;
\echo :LAST_ERROR_SQLSTATE

-- Attack: allow more crates (only a superuser may change what is trusted).
SET plrust.allowed_dependencies = '/tmp/attacker-allow-list.toml';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP OWNED BY plrust_attacker;
REVOKE CREATE ON SCHEMA public FROM plrust_attacker;
DROP ROLE plrust_attacker;

-- Unset (the default): no dependencies at all.
SET plrust.allowed_dependencies = '';
SELECT count(*) AS allowed FROM plrust.allowed_dependencies();
CREATE FUNCTION dep_when_unset(x int8) RETURNS text STRICT LANGUAGE plrust AS $$
[dependencies]
itoa = "1"
[code]
    Ok(Some(itoa::Buffer::new().format(x).to_string()))
$$;
\echo :LAST_ERROR_SQLSTATE
-- A file that is not an allow-list is a configuration error.
SET plrust.allowed_dependencies = '/usr/share/postgresql/15/extension/plrust.control';
CREATE FUNCTION dep_bad_list(x int8) RETURNS text STRICT LANGUAGE plrust AS $$
[dependencies]
itoa = "1"
[code]
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
RESET plrust.allowed_dependencies;
-- Functions already built keep working whatever the setting says now, also at their
-- first call in a new session (the call needs neither the allow-list nor the toolchain).
\c -
SET plrust.allowed_dependencies = '';
SELECT format_int(7);
-- ...but creating one again checks the dependencies against the current allow-list.
CREATE OR REPLACE FUNCTION format_int(x int8) RETURNS text STRICT LANGUAGE plrust AS $$
[dependencies]
itoa = "1"
[code]
    let mut buffer = itoa::Buffer::new();
    Ok(Some(buffer.format(x).to_string()))
$$;
\echo :LAST_ERROR_SQLSTATE
RESET plrust.allowed_dependencies;
