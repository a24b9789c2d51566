-- The six built-in range types (pgrx::Range<T>): NULL, boundary and ordinary values round-trip through a PL/Rust function
-- unchanged, compared with PostgreSQL's own value for the same input; arrays too (with a
-- NULL element, and empty).

SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE FUNCTION id_int4range(v int4range) RETURNS int4range LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_int4range_array(v int4range[]) RETURNS int4range[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_int4range(v), id_int4range(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('[1,10)'::int4range), ('empty'), ('(,5]'), ('[-2147483648,)'), (NULL)) t(v);
SELECT id_int4range_array(a) AS array_round_trip, id_int4range_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['[1,10)'::int4range, 'empty', '(,5]', '[-2147483648,)', NULL]::int4range[]), ('{}'::int4range[])) t(a);

CREATE FUNCTION id_int8range(v int8range) RETURNS int8range LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_int8range_array(v int8range[]) RETURNS int8range[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_int8range(v), id_int8range(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('[1,10)'::int8range), ('empty'), ('(,)'), ('[-9223372036854775808,9223372036854775807)'), (NULL)) t(v);
SELECT id_int8range_array(a) AS array_round_trip, id_int8range_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['[1,10)'::int8range, 'empty', '(,)', '[-9223372036854775808,9223372036854775807)', NULL]::int8range[]), ('{}'::int8range[])) t(a);

CREATE FUNCTION id_numrange(v numrange) RETURNS numrange LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_numrange_array(v numrange[]) RETURNS numrange[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_numrange(v), id_numrange(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('[1.5,2.25]'::numrange), ('empty'), ('(,1e100)'), (NULL)) t(v);
SELECT id_numrange_array(a) AS array_round_trip, id_numrange_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['[1.5,2.25]'::numrange, 'empty', '(,1e100)', NULL]::numrange[]), ('{}'::numrange[])) t(a);

CREATE FUNCTION id_daterange(v daterange) RETURNS daterange LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_daterange_array(v daterange[]) RETURNS daterange[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_daterange(v), id_daterange(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('[2000-01-01,2000-02-01)'::daterange), ('empty'), ('[2000-01-01,infinity)'), (NULL)) t(v);
SELECT id_daterange_array(a) AS array_round_trip, id_daterange_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['[2000-01-01,2000-02-01)'::daterange, 'empty', '[2000-01-01,infinity)', NULL]::daterange[]), ('{}'::daterange[])) t(a);

CREATE FUNCTION id_tsrange(v tsrange) RETURNS tsrange LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_tsrange_array(v tsrange[]) RETURNS tsrange[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_tsrange(v), id_tsrange(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('[2000-01-01 00:00,2000-01-02 00:00)'::tsrange), ('empty'), ('(,-infinity]'), (NULL)) t(v);
SELECT id_tsrange_array(a) AS array_round_trip, id_tsrange_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['[2000-01-01 00:00,2000-01-02 00:00)'::tsrange, 'empty', '(,-infinity]', NULL]::tsrange[]), ('{}'::tsrange[])) t(a);

CREATE FUNCTION id_tstzrange(v tstzrange) RETURNS tstzrange LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_tstzrange_array(v tstzrange[]) RETURNS tstzrange[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_tstzrange(v), id_tstzrange(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('[2000-01-01 00:00+00,2000-01-02 00:00+00]'::tstzrange), ('empty'), ('(infinity,)'), (NULL)) t(v);
SELECT id_tstzrange_array(a) AS array_round_trip, id_tstzrange_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['[2000-01-01 00:00+00,2000-01-02 00:00+00]'::tstzrange, 'empty', '(infinity,)', NULL]::tstzrange[]), ('{}'::tstzrange[])) t(a);

-- Bounds are readable in Rust.
CREATE FUNCTION range_width(r int8range) RETURNS int8 STRICT LANGUAGE plrust AS $$
    match (r.lower(), r.upper()) {
        (Some(RangeBound::Inclusive(lo)), Some(RangeBound::Exclusive(hi))) => Ok(Some(hi - lo)),
        _ => Ok(None),
    }
$$;
SELECT range_width('[3,10)'), range_width('[3,10]'), range_width('empty');

DROP FUNCTION id_int4range, id_int4range_array, id_int8range, id_int8range_array,
              id_numrange, id_numrange_array, id_daterange, id_daterange_array,
              id_tsrange, id_tsrange_array, id_tstzrange, id_tstzrange_array, range_width;
RESET TimeZone;
RESET DateStyle;
