-- PL/Rust functions as the state, final and combine functions of aggregates, used as
-- plain aggregates, with GROUP BY, and as window functions.

CREATE FUNCTION mean_step(state float8[], x float8) RETURNS float8[] LANGUAGE plrust AS $$
    // state is [count, sum]; a NULL input leaves it unchanged.
    let (mut n, mut sum) = match &state {
        Some(s) => (s.get(0).flatten().unwrap_or(0.0), s.get(1).flatten().unwrap_or(0.0)),
        None => (0.0, 0.0),
    };
    if let Some(x) = x { n += 1.0; sum += x; }
    Ok(Some(vec![Some(n), Some(sum)]))
$$;
CREATE FUNCTION mean_final(state float8[]) RETURNS float8 LANGUAGE plrust AS $$
    let Some(s) = state else { return Ok(None) };
    let n = s.get(0).flatten().unwrap_or(0.0);
    if n == 0.0 { return Ok(None) }
    Ok(Some(s.get(1).flatten().unwrap_or(0.0) / n))
$$;
CREATE FUNCTION mean_combine(a float8[], b float8[]) RETURNS float8[] LANGUAGE plrust AS $$
    let get = |s: &Option<Array<f64>>, i| s.as_ref().and_then(|s| s.get(i).flatten()).unwrap_or(0.0);
    Ok(Some(vec![Some(get(&a, 0) + get(&b, 0)), Some(get(&a, 1) + get(&b, 1))]))
$$;
CREATE AGGREGATE rust_mean(float8) (
    SFUNC = mean_step, STYPE = float8[], FINALFUNC = mean_final, COMBINEFUNC = mean_combine,
    INITCOND = '{0,0}', PARALLEL = SAFE
);

CREATE TABLE readings (sensor text, at int, value float8);
INSERT INTO readings VALUES
    ('a', 1, 1.0), ('a', 2, 2.0), ('a', 3, NULL), ('a', 4, 6.0),
    ('b', 1, -1.5), ('b', 2, 1.5);

SELECT rust_mean(value), avg(value) FROM readings;
SELECT sensor, rust_mean(value), avg(value) FROM readings GROUP BY sensor ORDER BY sensor;
SELECT rust_mean(value) IS NULL AS empty_is_null FROM readings WHERE false;

-- As a window function: running and partitioned means, compared with avg().
SELECT sensor, at, value,
       rust_mean(value) OVER w AS running, avg(value) OVER w AS running_avg,
       rust_mean(value) OVER (PARTITION BY sensor) AS per_sensor
FROM readings WINDOW w AS (PARTITION BY sensor ORDER BY at) ORDER BY sensor, at;

-- A moving-window aggregate with an inverse transition function.
CREATE FUNCTION sum_step(state int8, x int8) RETURNS int8 LANGUAGE plrust AS $$
    Ok(Some(state.unwrap_or(0) + x.unwrap_or(0)))
$$;
CREATE FUNCTION sum_inverse(state int8, x int8) RETURNS int8 LANGUAGE plrust AS $$
    Ok(Some(state.unwrap_or(0) - x.unwrap_or(0)))
$$;
CREATE AGGREGATE rust_sum(int8) (
    SFUNC = sum_step, STYPE = int8, INITCOND = '0',
    MSFUNC = sum_step, MINVFUNC = sum_inverse, MSTYPE = int8, MINITCOND = '0'
);
SELECT g, rust_sum(g) OVER (ORDER BY g ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS pairs,
       sum(g) OVER (ORDER BY g ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS expected
FROM generate_series(1, 5) g;

-- An aggregate over many rows.
SELECT rust_sum(g), sum(g) FROM generate_series(1, 100000) g;
-- An Err from the state function aborts the query.
CREATE FUNCTION picky_step(state int8, x int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    if x == 13 { return Err("13 is unlucky".into()) }
    Ok(Some(state + x))
$$;
CREATE AGGREGATE picky_sum(int8) (SFUNC = picky_step, STYPE = int8, INITCOND = '0');
SELECT picky_sum(g) FROM generate_series(1, 12) g;
SELECT picky_sum(g) FROM generate_series(1, 20) g;
