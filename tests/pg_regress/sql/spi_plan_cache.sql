-- SPI plans kept across calls: a statement a body runs by its text is parsed and planned
-- once per backend and function, as in PL/pgSQL, and stays correct when what it reads
-- changes. Kept plans are visible as "CachedPlanSource" memory contexts named by their
-- query text.
CREATE SCHEMA spi_plan_cache;
SET search_path = spi_plan_cache, public;
CREATE VIEW kept AS
    SELECT ident, count(*) AS plans FROM pg_backend_memory_contexts
    WHERE name = 'CachedPlanSource' GROUP BY ident;

CREATE TABLE kv (k int PRIMARY KEY, v int);
INSERT INTO kv SELECT g, g * 10 FROM generate_series(1, 100) g;

-- The body the original PL/Rust documents for a lookup, unchanged: one plan kept after
-- 1,000 calls, not one per call and not none.
CREATE FUNCTION lookup(key int) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(Spi::get_one_with_args::<i32>("SELECT v FROM kv WHERE k = $1", &[key.into()])?)
$$;
SELECT sum(lookup(g % 100 + 1)) FROM generate_series(1, 1000) g;
SELECT plans FROM kept WHERE ident = 'SELECT v FROM kv WHERE k = $1';

-- Another function keeps its own, as each PL/pgSQL function does.
CREATE FUNCTION lookup_too(key int) RETURNS int STRICT LANGUAGE plrust AS $$
    let v = Spi::get_one_with_args::<i32>("SELECT v FROM kv WHERE k = $1", &[key.into()])?;
    Ok(v)
$$;
SELECT lookup_too(7);
SELECT plans FROM kept WHERE ident = 'SELECT v FROM kv WHERE k = $1';

-- Functions with the same signature and body run one shared library, but each keeps its
-- own plans (the cache is keyed by function).
CREATE FUNCTION lookup_same(key int) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(Spi::get_one_with_args::<i32>("SELECT v FROM kv WHERE k = $1", &[key.into()])?)
$$;
SELECT lookup_same(7);
SELECT plans FROM kept WHERE ident = 'SELECT v FROM kv WHERE k = $1';

-- The same text run with arguments of another type is another plan: the plan's
-- parameter types are the arguments'.
CREATE FUNCTION lookup_big(key bigint) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(Spi::get_one_with_args::<i32>("SELECT v FROM kv WHERE k = $1", &[key.into()])?)
$$;
SELECT lookup_big(8), lookup_big(9);
SELECT plans FROM kept WHERE ident = 'SELECT v FROM kv WHERE k = $1';

-- Calls taking turns row by row (three functions, one text, two argument types) each
-- find their own plan: the entry of the last lookup, which a lookup tries before
-- hashing, is only ever the same function's same text with the same types.
SELECT sum(lookup(g % 100 + 1)), sum(lookup_same(g % 100 + 1)), sum(lookup_big(g % 100 + 1)),
       sum(lookup_too(g % 100 + 1))
    FROM generate_series(1, 300) g;
SELECT plans FROM kept WHERE ident = 'SELECT v FROM kv WHERE k = $1';

-- The table is dropped and made again: the kept plan is planned again, not run against
-- the relation that is gone.
DROP TABLE kv;
SELECT lookup(3);
CREATE TABLE kv (k int PRIMARY KEY, v int);
INSERT INTO kv VALUES (3, -3);
SELECT lookup(3);

-- An ERROR in the transaction leaves the kept plan usable after ROLLBACK.
BEGIN;
SELECT lookup(3) / 0;
ROLLBACK;
SELECT lookup(3);
SELECT plans FROM kept WHERE ident = 'SELECT v FROM kv WHERE k = $1';

-- An unqualified name follows search_path at each call, as one-shot execution does.
CREATE SCHEMA pc_a;
CREATE SCHEMA pc_b;
CREATE TABLE pc_a.t (v text);
INSERT INTO pc_a.t VALUES ('a');
CREATE TABLE pc_b.t (v text);
INSERT INTO pc_b.t VALUES ('b');
CREATE FUNCTION which() RETURNS text LANGUAGE plrust AS $$
    Ok(Spi::get_one::<String>("SELECT v FROM t")?)
$$;
SET search_path = pc_a, spi_plan_cache;
SELECT which();
SET search_path = pc_b, spi_plan_cache;
SELECT which();
SET search_path = pc_a, spi_plan_cache;
SELECT which();
SET search_path = spi_plan_cache, public;

-- A text of several statements runs one-shot, each statement analysed when it runs: the
-- INSERT sees the table the CREATE before it makes, at every call. The SELECT after it
-- is kept, and planned again for each new table.
CREATE FUNCTION several() RETURNS int LANGUAGE plrust AS $$
    Spi::run("CREATE TEMP TABLE scratch (x int); INSERT INTO scratch VALUES (7)")?;
    let x = Spi::get_one::<i32>("SELECT x FROM scratch")?;
    Spi::run("DROP TABLE scratch")?;
    Ok(x)
$$;
SELECT several(), several(), several();
SELECT ident, plans FROM kept
WHERE ident LIKE '%scratch%' ORDER BY ident;

-- A statement PostgreSQL refuses is refused at every call, with its own SQLSTATE.
CREATE FUNCTION bad_syntax() RETURNS int LANGUAGE plrust AS $$
    Ok(Spi::get_one::<i32>("SELEC 1")?)
$$;
\set VERBOSITY terse
SELECT bad_syntax();
SELECT bad_syntax();
\set VERBOSITY default

-- Attack: a body running ever new query texts (values formatted into the text) to fill
-- the backend's memory with kept plans. A backend keeps at most 64; the oldest go.
CREATE FUNCTION many_texts(n int) RETURNS bigint STRICT LANGUAGE plrust AS $$
    let mut sum = 0i64;
    for i in 0..n {
        sum += Spi::get_one::<i64>(&format!("SELECT {i}::int8 AS many_texts"))?.unwrap_or(0);
    }
    Ok(Some(sum))
$$;
SELECT many_texts(1000);
SELECT count(*), min(ident), max(ident) FROM kept WHERE ident LIKE '%AS many_texts';

-- Attack: a query whose execution calls the function again through SQL, and the inner
-- call runs enough new texts to evict the plan the outer call is still running. The plan
-- is freed only when the outer execution ends: the answer is right and the server lives.
CREATE FUNCTION recurse(depth int) RETURNS bigint STRICT LANGUAGE plrust AS $$
    if depth == 0 {
        let mut sum = 0i64;
        for i in 0..100 {
            sum += Spi::get_one::<i64>(&format!("SELECT {i}::int8 AS recurse"))?.unwrap_or(0);
        }
        return Ok(Some(sum));
    }
    Ok(Spi::get_one_with_args::<i64>("SELECT recurse($1) + 1", &[(depth - 1).into()])?)
$$;
SELECT recurse(3);
SELECT recurse(3);
SELECT plans FROM kept WHERE ident = 'SELECT recurse($1) + 1';

-- Up to 8 arguments are bound on the stack, more on the heap; NULLs among them either way.
CREATE FUNCTION many_args(n int) RETURNS text STRICT LANGUAGE plrust AS $$
    let a: Vec<Option<i32>> = (1..=n).map(|i| (i % 4 != 0).then_some(i)).collect();
    let params: Vec<String> = (1..=n).map(|i| format!("coalesce(${i}, 0)")).collect();
    let query = format!("SELECT format('%s %s', {}, num_nulls({}))", params.join(" + "),
        (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", "));
    let args: Vec<DatumWithOid> = a.iter().map(|v| (*v).into()).collect();
    Ok(Spi::get_one_with_args::<String>(&query, args)?)
$$;
SELECT n, many_args(n), many_args(n) FROM unnest(ARRAY[1, 7, 8, 9, 20]) n;

RESET search_path;
DROP SCHEMA spi_plan_cache, pc_a, pc_b CASCADE;
