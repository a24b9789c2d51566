-- numeric and "char": NULL, boundary and ordinary values round-trip through a PL/Rust function
-- unchanged, compared with PostgreSQL's own value for the same input; arrays too (with a
-- NULL element, and empty).

-- numeric is pgrx::AnyNumeric: any precision and scale, NaN and the infinities.
CREATE FUNCTION id_numeric(v numeric) RETURNS numeric LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_numeric_array(v numeric[]) RETURNS numeric[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_numeric(v), id_numeric(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('0'::numeric), ('-1.5'), ('123456789012345678901234567890.123456789012345678901234567890'), ('1e-30'), ('NaN'), ('Infinity'), ('-Infinity'), (NULL)) t(v);
SELECT id_numeric_array(a) AS array_round_trip, id_numeric_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['0'::numeric, '-1.5', '123456789012345678901234567890.123456789012345678901234567890', '1e-300', 'NaN', 'Infinity', '-Infinity', NULL]::numeric[]), ('{}'::numeric[])) t(a);

-- Arithmetic goes through PostgreSQL, with its rules (scale, rounding) and its ERRORs.
CREATE FUNCTION numeric_mean(a numeric, b numeric) RETURNS numeric STRICT LANGUAGE plrust AS $$
    Ok(Some((a + b) / AnyNumeric::from(2)))
$$;
SELECT numeric_mean(1, 2), numeric_mean(0.1, 0.2), numeric_mean('1e100', '1e100');
-- An ERROR PostgreSQL raises in that arithmetic cannot be swallowed by the body.
CREATE FUNCTION numeric_divide_swallowed(a numeric) RETURNS bool STRICT LANGUAGE plrust AS $$
    let caught = std::panic::catch_unwind(|| a / AnyNumeric::from(0));
    Ok(Some(caught.is_err()))
$$;
SELECT numeric_divide_swallowed(1);
\echo :LAST_ERROR_SQLSTATE

-- "char" is i8, as in the original PL/Rust.
CREATE FUNCTION id_char(v "char") RETURNS "char" LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_char_array(v "char"[]) RETURNS "char"[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_char(v), id_char(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('a'::"char"), ('Z'), (' '), (NULL)) t(v);
SELECT id_char_array(a) AS array_round_trip, id_char_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['a'::"char", 'Z', ' ', NULL]::"char"[]), ('{}'::"char"[])) t(a);

CREATE FUNCTION char_upper(c "char") RETURNS "char" STRICT LANGUAGE plrust AS $$
    Ok(Some((c as u8).to_ascii_uppercase() as i8))
$$;
SELECT char_upper('q');

DROP FUNCTION id_numeric, id_numeric_array, numeric_mean, numeric_divide_swallowed, id_char,
              id_char_array, char_upper;
