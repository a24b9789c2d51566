-- Every SQL type of this issue round-trips through a PL/Rust function unchanged: NULL,
-- boundary and ordinary values, compared with PostgreSQL's own value for the same input.
-- Arguments are borrowed (&str, &[u8], Array; varchar is an owned String) and returns
-- owned, as in the original PL/Rust.

CREATE FUNCTION id_bool(v bool) RETURNS bool LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_int2(v int2) RETURNS int2 LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_int4(v int4) RETURNS int4 LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_int8(v int8) RETURNS int8 LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_float4(v float4) RETURNS float4 LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_float8(v float8) RETURNS float8 LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_text(v text) RETURNS text LANGUAGE plrust AS $$ Ok(v.map(String::from)) $$;
CREATE FUNCTION id_varchar(v varchar) RETURNS varchar LANGUAGE plrust AS $$ Ok(v.map(String::from)) $$;
CREATE FUNCTION id_bytea(v bytea) RETURNS bytea LANGUAGE plrust AS $$ Ok(v.map(<[u8]>::to_vec)) $$;

SELECT v, id_bool(v), id_bool(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES (true), (false), (NULL)) t(v);

SELECT v, id_int2(v), id_int2(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('-32768'::int2), (32767::int2), (0::int2), (NULL)) t(v);

SELECT v, id_int4(v), id_int4(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES (-2147483648), (2147483647), (0), (NULL)) t(v);

SELECT v, id_int8(v), id_int8(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('-9223372036854775808'::int8), (9223372036854775807::int8), (0::int8), (NULL)) t(v);

SELECT v, id_float4(v), id_float4(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('NaN'::float4), ('Infinity'), ('-Infinity'), ('-0'), ('1.17549435e-38'),
             ('3.4028235e+38'), ('1.5'), (NULL)) t(v);

SELECT v, id_float8(v), id_float8(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('NaN'::float8), ('Infinity'), ('-Infinity'), ('-0'), ('2.2250738585072014e-308'),
             ('1.7976931348623157e+308'), ('0.1'), (NULL)) t(v);

SELECT v, id_text(v), id_text(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES (''), ('plain'), ('multibyte: héllo wörld ✓ 日本語 🦀'), (NULL)) t(v);

SELECT id_text(repeat('🦀', 100000)) = repeat('🦀', 100000) AS long_multibyte_text_same;

SELECT v, id_varchar(v), id_varchar(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES (''::varchar), ('vär'), (NULL)) t(v);

SELECT v, id_bytea(v), id_bytea(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES (''::bytea), ('\x00ff00'), ('\xdeadbeef'), (NULL)) t(v);

-- STRICT functions see plain T; PostgreSQL does not call them with NULL.
CREATE FUNCTION strict_len(v text) RETURNS int8 STRICT LANGUAGE plrust AS $$
    Ok(Some(v.chars().count() as i64))
$$;
SELECT strict_len('héllo'), strict_len(NULL) IS NULL AS null_in_null_out;

-- Arrays: Array<T> in, Vec<Option<T>> out; NULL elements are None.
CREATE FUNCTION id_bool_a(v bool[]) RETURNS bool[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
CREATE FUNCTION id_int2_a(v int2[]) RETURNS int2[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
CREATE FUNCTION id_int4_a(v int4[]) RETURNS int4[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
CREATE FUNCTION id_int8_a(v int8[]) RETURNS int8[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
CREATE FUNCTION id_float4_a(v float4[]) RETURNS float4[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
CREATE FUNCTION id_float8_a(v float8[]) RETURNS float8[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
CREATE FUNCTION id_text_a(v text[]) RETURNS text[] LANGUAGE plrust AS $$
    Ok(v.map(|a| a.iter().map(|e| e.map(String::from)).collect()))
$$;
CREATE FUNCTION id_varchar_a(v varchar[]) RETURNS varchar[] LANGUAGE plrust AS $$
    Ok(v.map(|a| a.iter().map(|e| e.map(String::from)).collect()))
$$;
CREATE FUNCTION id_bytea_a(v bytea[]) RETURNS bytea[] LANGUAGE plrust AS $$
    Ok(v.map(|a| a.iter().map(|e| e.map(<[u8]>::to_vec)).collect()))
$$;

SELECT v, id_bool_a(v), id_bool_a(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('{}'::bool[]), ('{t,NULL,f}'), (NULL)) t(v);
SELECT v, id_int2_a(v), id_int2_a(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('{}'::int2[]), ('{-32768,NULL,32767}'), (NULL)) t(v);
SELECT v, id_int4_a(v), id_int4_a(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('{}'::int4[]), ('{-2147483648,NULL,2147483647}'), ('{NULL,NULL}'), (NULL)) t(v);
SELECT v, id_int8_a(v), id_int8_a(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('{}'::int8[]), ('{-9223372036854775808,NULL,9223372036854775807}'), (NULL)) t(v);
SELECT v, id_float4_a(v), id_float4_a(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('{}'::float4[]), ('{NaN,Infinity,-Infinity,NULL,-0,1.5}'), (NULL)) t(v);
SELECT v, id_float8_a(v), id_float8_a(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('{}'::float8[]), ('{NaN,Infinity,-Infinity,NULL,-0,0.1}'), (NULL)) t(v);
SELECT v, id_text_a(v), id_text_a(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('{}'::text[]), ('{"",NULL,"héllo 🦀","with, comma"}'), (NULL)) t(v);
SELECT v, id_varchar_a(v), id_varchar_a(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('{}'::varchar[]), ('{a,NULL,ü}'), (NULL)) t(v);
SELECT v, id_bytea_a(v), id_bytea_a(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('{}'::bytea[]), ('{"\\x00ff",NULL,"\\x"}'), (NULL)) t(v);

-- The original PL/Rust's array examples work unchanged: as_slice() and into_iter().
CREATE FUNCTION sum_slice(a float8[]) RETURNS float8 STRICT LANGUAGE plrust AS $$
    let slice = a.as_slice()?;
    Ok(Some(slice.iter().sum()))
$$;
SELECT sum_slice('{1.5,2.5,3}');
SELECT sum_slice('{1,NULL}');
\echo :LAST_ERROR_SQLSTATE

CREATE FUNCTION sum_array(a INT[]) RETURNS BIGINT STRICT LANGUAGE plrust AS $$
    let sum = a.into_iter().map(|i| i.unwrap_or_default() as i64).sum();
    Ok(Some(sum))
$$;
SELECT sum_array(ARRAY[1,2,3]::int[]);

-- Types outside this table are refused at CREATE time, naming the type.
CREATE FUNCTION uses_tsquery(v tsquery) RETURNS int LANGUAGE plrust AS $$ Ok(None) $$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION returns_money() RETURNS money LANGUAGE plrust AS $$ Ok(None) $$;
\echo :LAST_ERROR_SQLSTATE
