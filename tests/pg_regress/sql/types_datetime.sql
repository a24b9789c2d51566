-- Date and time types: NULL, boundary and ordinary values round-trip through a PL/Rust function
-- unchanged, compared with PostgreSQL's own value for the same input; arrays too (with a
-- NULL element, and empty).

SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

CREATE FUNCTION id_date(v date) RETURNS date LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_date_array(v date[]) RETURNS date[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_date(v), id_date(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('2000-01-01'::date), ('4713-01-01 BC'), ('5874897-12-31'), ('infinity'), ('-infinity'), ('2024-02-29'), (NULL)) t(v);
SELECT id_date_array(a) AS array_round_trip, id_date_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['2000-01-01'::date, '4713-01-01 BC', '5874897-12-31', 'infinity', '-infinity', '2024-02-29', NULL]::date[]), ('{}'::date[])) t(a);

CREATE FUNCTION id_time(v time) RETURNS time LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_time_array(v time[]) RETURNS time[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_time(v), id_time(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('00:00'::time), ('23:59:59.999999'), ('12:34:56.789'), (NULL)) t(v);
SELECT id_time_array(a) AS array_round_trip, id_time_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['00:00'::time, '23:59:59.999999', '12:34:56.789', NULL]::time[]), ('{}'::time[])) t(a);

CREATE FUNCTION id_timetz(v timetz) RETURNS timetz LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_timetz_array(v timetz[]) RETURNS timetz[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_timetz(v), id_timetz(v)::text IS NOT DISTINCT FROM v::text AS same
FROM (VALUES ('00:00+00'::timetz), ('23:59:59.999999-15:59'), ('12:34:56.789+05:30'), ('24:00-12'), (NULL)) t(v);
SELECT id_timetz_array(a) AS array_round_trip, id_timetz_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['00:00+00'::timetz, '23:59:59.999999-15:59', '12:34:56.789+05:30', '24:00-12', NULL]::timetz[]), ('{}'::timetz[])) t(a);

CREATE FUNCTION id_timestamp(v timestamp) RETURNS timestamp LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_timestamp_array(v timestamp[]) RETURNS timestamp[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_timestamp(v), id_timestamp(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('2000-01-01 00:00'::timestamp), ('4713-01-01 00:00 BC'), ('294276-12-31 23:59:59.999999'), ('infinity'), ('-infinity'), ('1999-12-31 23:59:59.5'), (NULL)) t(v);
SELECT id_timestamp_array(a) AS array_round_trip, id_timestamp_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['2000-01-01 00:00'::timestamp, '4713-01-01 00:00 BC', '294276-12-31 23:59:59.999999', 'infinity', '-infinity', '1999-12-31 23:59:59.5', NULL]::timestamp[]), ('{}'::timestamp[])) t(a);

CREATE FUNCTION id_timestamptz(v timestamptz) RETURNS timestamptz LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_timestamptz_array(v timestamptz[]) RETURNS timestamptz[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_timestamptz(v), id_timestamptz(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('2000-01-01 00:00+00'::timestamptz), ('4713-01-01 00:00+00 BC'), ('294276-12-31 23:59:59.999999+00'), ('infinity'), ('-infinity'), ('2024-06-01 12:00:00.123456+09'), (NULL)) t(v);
SELECT id_timestamptz_array(a) AS array_round_trip, id_timestamptz_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['2000-01-01 00:00+00'::timestamptz, '4713-01-01 00:00+00 BC', '294276-12-31 23:59:59.999999+00', 'infinity', '-infinity', '2024-06-01 12:00:00.123456+09', NULL]::timestamptz[]), ('{}'::timestamptz[])) t(a);

CREATE FUNCTION id_interval(v interval) RETURNS interval LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_interval_array(v interval[]) RETURNS interval[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_interval(v), id_interval(v)::text IS NOT DISTINCT FROM v::text AS same
FROM (VALUES ('0'::interval), ('178000000 years'), ('-178000000 years'), ('1 mon 2 days 03:04:05.678901'), ('-1 day +1 hour'), (NULL)) t(v);
SELECT id_interval_array(a) AS array_round_trip, id_interval_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['0'::interval, '178000000 years', '-178000000 years', '1 mon 2 days 03:04:05.678901', '-1 day +1 hour', NULL]::interval[]), ('{}'::interval[])) t(a);

-- The values are usable in Rust: the parts, and arithmetic through PostgreSQL.
CREATE FUNCTION date_parts(d date) RETURNS int4[] STRICT LANGUAGE plrust AS $$
    Ok(Some(vec![Some(d.year()), Some(d.month() as i32), Some(d.day() as i32)]))
$$;
SELECT date_parts('2024-02-29');
CREATE FUNCTION next_day(ts timestamptz) RETURNS timestamptz STRICT LANGUAGE plrust AS $$
    Ok(Some(ts + Interval::new(0, 1, 0)?))
$$;
SELECT next_day('2024-02-28 10:00+00');

DROP FUNCTION id_date, id_date_array, id_time, id_time_array, id_timetz, id_timetz_array,
              id_timestamp, id_timestamp_array, id_timestamptz, id_timestamptz_array,
              id_interval, id_interval_array, date_parts, next_day;
RESET TimeZone;
RESET DateStyle;
RESET IntervalStyle;
