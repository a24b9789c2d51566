-- PL/Rust in parallel workers. A PARALLEL SAFE function may run in a worker process,
-- which loads plrust and the function's library on its own; every guarantee a call has
-- in the leader holds there too. debug_parallel_query (force_parallel_mode before
-- PostgreSQL 16) moves each query into one worker, whose ERRORs arrive in the leader with
-- "CONTEXT: parallel worker": that line is the proof the worker ran the body.
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END,
                  'on', false) AS parallel_mode;

CREATE TABLE par_words (id int, w text);
INSERT INTO par_words SELECT i, md5(i::text) FROM generate_series(1, 1000) i;
ANALYZE par_words;

CREATE FUNCTION par_vowels(t text) RETURNS int STRICT IMMUTABLE PARALLEL SAFE LANGUAGE plrust AS $$
    Ok(Some(t.bytes().filter(|b| b"aeiouAEIOU".contains(b)).count() as i32))
$$;
CREATE FUNCTION par_fail(x int) RETURNS int STRICT PARALLEL SAFE LANGUAGE plrust AS $$
    if x == 500 {
        pgrx::ereport!(ERROR, PgSqlErrorCode::ERRCODE_DATA_EXCEPTION, format!("bad row {x}"), "from a worker");
    }
    Ok(Some(x))
$$;
CREATE FUNCTION par_panic(x int) RETURNS int STRICT PARALLEL SAFE LANGUAGE plrust AS $$
    let v: Vec<i32> = Vec::new();
    Ok(Some(v[x as usize]))
$$;
CREATE FUNCTION par_spin(x int) RETURNS int STRICT PARALLEL SAFE LANGUAGE plrust AS $$
    let mut n: u64 = x as u64;
    while true { n = n.wrapping_mul(31).wrapping_add(7); }
    Ok(Some(n as i32))
$$;
CREATE FUNCTION par_recurse(n int8) RETURNS int8 STRICT PARALLEL SAFE LANGUAGE plrust AS $$
    fn down(n: i64) -> i64 { if n == 0 { 0 } else { 1 + std::hint::black_box(down(n - 1)) } }
    Ok(Some(down(n)))
$$;
CREATE FUNCTION par_lookup(k int) RETURNS text STRICT STABLE PARALLEL SAFE LANGUAGE plrust AS $$
    Ok(Spi::get_one_with_args::<String>("SELECT w FROM par_words WHERE id = $1", &[k.into()])?)
$$;
CREATE FUNCTION par_write(k int) RETURNS int STRICT PARALLEL SAFE LANGUAGE plrust AS $$
    Spi::run("INSERT INTO par_words VALUES (0, 'x')")?;
    Ok(Some(k))
$$;
CREATE FUNCTION unsafe_vowels(t text) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(Some(t.bytes().filter(|b| b"aeiouAEIOU".contains(b)).count() as i32))
$$;

-- A parallel-safe function runs in the worker and answers as the leader would.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
    SELECT sum(par_vowels(w)) FROM par_words;
SELECT sum(par_vowels(w)) AS in_worker,
       sum(length(w) - length(translate(w, 'aeiouAEIOU', ''))) AS expected
    FROM par_words;

-- A function left PARALLEL UNSAFE (the default) keeps its query in the leader.
EXPLAIN (COSTS OFF) SELECT sum(unsafe_vowels(w)) FROM par_words;

-- SPI from a worker (a read-only query, as parallel mode allows).
EXPLAIN (COSTS OFF) SELECT par_lookup(7);
SELECT par_lookup(7) = md5('7') AS spi_in_worker;

-- Attack: a function mislabelled PARALLEL SAFE writes from a worker. PostgreSQL's own
-- check refuses it (25000), the worker's ERROR ends the query, and no row was written.
SELECT par_write(1);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS written FROM par_words WHERE id = 0;

-- ERROR from a worker body: its SQLSTATE, message and detail reach the client.
SELECT sum(par_fail(id)) FROM par_words;
\echo :LAST_ERROR_SQLSTATE

-- Attack: a panic in a worker (index out of bounds) is an ERROR there, not a crash.
SELECT par_panic(3);
\echo :LAST_ERROR_SQLSTATE

-- Attack: an endless loop in a worker. statement_timeout fires in the leader, which
-- stops the worker; the worker's probes answer its termination request. (A worker that
-- ignored it would hold the leader in its wait for the workers to exit: the statement
-- would never return.) No worker is left.
SET statement_timeout = '300ms';
SELECT par_spin(1);
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT count(*) AS workers_left FROM pg_stat_activity WHERE backend_type = 'parallel worker';

-- Attack: unbounded recursion in a worker: 54001 under the worker's max_stack_depth.
SELECT par_recurse(1000000000);
\echo :LAST_ERROR_SQLSTATE

-- The leader's session still answers, and so does a new worker.
SELECT sum(par_vowels(w)) AS after_errors FROM par_words;

SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END,
                  'off', false) AS parallel_mode;
DROP TABLE par_words;
DROP FUNCTION par_vowels, par_fail, par_panic, par_spin, par_recurse, par_lookup, par_write,
    unsafe_vowels;
