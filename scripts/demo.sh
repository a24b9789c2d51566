#!/usr/bin/env bash
# Set everything up (scripts/setup.sh), start a local cluster on 127.0.0.1, and run an
# example PL/Rust session in it. The cluster keeps running afterwards so you can try
# more; the last lines say how to connect and how to stop it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
DEMO_DIR=${PLRUST_DEMO_DIR:-/var/tmp/plrust-demo}
DEMO_PORT=${PLRUST_DEMO_PORT:-28815}

scripts/setup.sh
printf '\n== demo: starting a cluster in %s on 127.0.0.1:%s\n' "$DEMO_DIR" "$DEMO_PORT"
scripts/cluster.sh start "$DEMO_DIR" "$DEMO_PORT"

printf '\n== demo: an example session\n\n'
psql -h 127.0.0.1 -p "$DEMO_PORT" -U postgres -X -e -v ON_ERROR_STOP=1 postgres <<'SQL'
CREATE EXTENSION plrust;

CREATE FUNCTION add_one(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x + 1)) $$;
SELECT add_one(41);

-- Not STRICT: NULL arrives as None.
CREATE FUNCTION greet(name text) RETURNS text LANGUAGE plrust AS $$
    Ok(Some(match name {
        Some(n) => format!("Hello, {n}!"),
        None => "Hello, whoever you are!".to_string(),
    }))
$$;
SELECT greet('PostgreSQL'), greet(NULL);

-- Arrays: Array<T> in (NULL elements are None), Vec<Option<T>> out.
CREATE FUNCTION sum_array(a int[]) RETURNS bigint STRICT LANGUAGE plrust AS $$
    Ok(Some(a.iter().map(|v| v.unwrap_or_default() as i64).sum()))
$$;
SELECT sum_array(ARRAY[1, 2, NULL, 4]);

CREATE FUNCTION words(s text) RETURNS text[] STRICT LANGUAGE plrust AS $$
    Ok(Some(s.split_whitespace().map(|w| Some(w.to_uppercase())).collect()))
$$;
SELECT words('trusted rust in postgres');

-- Errors are ERRORs: Err(e), a panic, a compile error located in the body.
CREATE FUNCTION checked_div(a int8, b int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    a.checked_div(b).map(Some).ok_or_else(|| "division by zero".into())
$$;
SELECT checked_div(84, 2);
\set ON_ERROR_STOP 0
SELECT checked_div(1, 0);
CREATE FUNCTION oops(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(Some(x + "1"))
$$;
\set ON_ERROR_STOP 1

-- Every function's shared object, stored in the database by content hash.
SELECT left(key, 16) AS key, target, octet_length(object) AS bytes, build_ms
FROM plrust.artifacts ORDER BY built_at;
SQL

cat <<EOT

== demo: the cluster is still running
   connect: psql -h 127.0.0.1 -p $DEMO_PORT -U postgres
   stop:    scripts/cluster.sh stop $DEMO_DIR
EOT
