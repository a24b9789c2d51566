-- PL/Rust is a TRUSTED language: an ordinary role may create and run functions, and
-- everything that could widen the sandbox stays out of its reach.

SELECT lanname, lanpltrusted FROM pg_language WHERE lanname = 'plrust';
SELECT has_language_privilege('public', 'plrust', 'USAGE') AS public_has_usage;

CREATE ROLE plrust_author;
GRANT CREATE ON SCHEMA public TO plrust_author;
SET ROLE plrust_author;
SELECT rolsuper FROM pg_roles WHERE rolname = current_user;

CREATE FUNCTION author_double(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(Some(x * 2))
$$;
SELECT author_double(21);
CREATE OR REPLACE FUNCTION author_double(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(Some(x + x + 1))
$$;
SELECT author_double(21);

-- What is allowed is visible to everyone...
SELECT name FROM plrust.trust_checks() ORDER BY name LIMIT 3;
SELECT name, built FROM plrust.allowed_dependencies() ORDER BY name;
-- ...but the stored libraries and the settings that change what is trusted are not.
SELECT count(*) FROM plrust.artifacts;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO plrust.artifacts VALUES ('k', 'x86_64-postgres-linux-gnu', '\x00', 'b', 0);
\echo :LAST_ERROR_SQLSTATE
SET plrust.work_dir = '/var/lib/postgresql';
\echo :LAST_ERROR_SQLSTATE
SET plrust.allowed_dependencies = '/tmp/my-own-list.toml';
\echo :LAST_ERROR_SQLSTATE

-- Attack: skip the checks at CREATE with check_function_bodies = off (any role may set
-- it). The checks run again before the first build, at the call.
SET check_function_bodies = off;
CREATE FUNCTION author_sneaky() RETURNS text LANGUAGE plrust AS $$
    Ok(Some(env!("PATH").into()))
$$;
RESET check_function_bodies;
SELECT author_sneaky();
\echo :LAST_ERROR_SQLSTATE

-- Attack: another role's function is not this role's to replace.
RESET ROLE;
CREATE FUNCTION owned_by_superuser() RETURNS int LANGUAGE plrust AS $$ Ok(Some(1)) $$;
SET ROLE plrust_author;
CREATE OR REPLACE FUNCTION owned_by_superuser() RETURNS int LANGUAGE plrust AS $$ Ok(Some(2)) $$;
\echo :LAST_ERROR_SQLSTATE
SELECT owned_by_superuser();

RESET ROLE;
DROP FUNCTION author_double(int), author_sneaky(), owned_by_superuser();
REVOKE CREATE ON SCHEMA public FROM plrust_author;
DROP ROLE plrust_author;
