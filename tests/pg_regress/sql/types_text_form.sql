-- name, inet, cidr, macaddr, macaddr8 (seen in their text form: `&str` arguments,
-- `String` results, checked by the type's input function on return) and oid (pgrx's
-- `Oid`). NULL, boundary and ordinary values round-trip, compared with PostgreSQL's own
-- value for the same input; arrays too (with a NULL element, and empty). Multi-dimensional
-- arrays are read as input, in row-major order.

CREATE FUNCTION id_name(v name) RETURNS name LANGUAGE plrust AS $$ Ok(v.map(String::from)) $$;
CREATE FUNCTION id_name_array(v name[]) RETURNS name[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().map(|e| e.map(String::from)).collect())) $$;
SELECT v, id_name(v), id_name(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('pg_class'::name), (''), ('✓ 日本語 "quoted"'), (repeat('x', 63)), (NULL)) t(v);
SELECT id_name_array(a) AS array_round_trip, id_name_array(a) IS NOT DISTINCT FROM a AS same
FROM (VALUES (ARRAY['a'::name, NULL, 'b c', '{}']), ('{}'::name[])) t(a);
-- A name longer than 63 bytes is cut, as PostgreSQL's own input does.
CREATE FUNCTION long_name(n int4) RETURNS name STRICT LANGUAGE plrust AS $$ Ok(Some("y".repeat(n as usize))) $$;
SELECT length(long_name(100)) AS plrust, length(repeat('y', 100)::name) AS postgres;

CREATE FUNCTION id_inet(v inet) RETURNS inet LANGUAGE plrust AS $$ Ok(v.map(String::from)) $$;
CREATE FUNCTION id_inet_array(v inet[]) RETURNS inet[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().map(|e| e.map(String::from)).collect())) $$;
SELECT v, id_inet(v), id_inet(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('0.0.0.0'::inet), ('255.255.255.255/32'), ('10.1.2.3/8'), ('::1'), ('2001:db8::ff/64'), (NULL)) t(v);
SELECT id_inet_array(a) AS array_round_trip, id_inet_array(a) IS NOT DISTINCT FROM a AS same
FROM (VALUES (ARRAY['10.1.2.3/8'::inet, NULL, '::1']), ('{}'::inet[])) t(a);
-- The body sees the text form; what it returns must be a valid inet (22P02 otherwise).
CREATE FUNCTION host_of(v inet) RETURNS text STRICT LANGUAGE plrust AS $$ Ok(v.split('/').next().map(String::from)) $$;
SELECT host_of('10.1.2.3/8');
CREATE FUNCTION make_inet(v text) RETURNS inet STRICT LANGUAGE plrust AS $$ Ok(Some(v.to_string())) $$;
SELECT make_inet('192.168.0.1/24');
SELECT make_inet('not an address');
\echo :LAST_ERROR_SQLSTATE

CREATE FUNCTION id_cidr(v cidr) RETURNS cidr LANGUAGE plrust AS $$ Ok(v.map(String::from)) $$;
CREATE FUNCTION id_cidr_array(v cidr[]) RETURNS cidr[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().map(|e| e.map(String::from)).collect())) $$;
SELECT v, id_cidr(v), id_cidr(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('10.0.0.0/8'::cidr), ('10.1.2.3/32'), ('2001:db8::/32'), (NULL)) t(v);
SELECT id_cidr_array(a) AS array_round_trip, id_cidr_array(a) IS NOT DISTINCT FROM a AS same
FROM (VALUES (ARRAY['10.0.0.0/8'::cidr, NULL]), ('{}'::cidr[])) t(a);
-- cidr's own input refuses host bits, as PostgreSQL does.
CREATE FUNCTION make_cidr(v text) RETURNS cidr STRICT LANGUAGE plrust AS $$ Ok(Some(v.to_string())) $$;
SELECT make_cidr('10.1.0.0/16');
SELECT make_cidr('10.1.2.3/8');
\echo :LAST_ERROR_SQLSTATE

CREATE FUNCTION id_macaddr(v macaddr) RETURNS macaddr LANGUAGE plrust AS $$ Ok(v.map(String::from)) $$;
CREATE FUNCTION id_macaddr_array(v macaddr[]) RETURNS macaddr[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().map(|e| e.map(String::from)).collect())) $$;
SELECT v, id_macaddr(v), id_macaddr(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('00:00:00:00:00:00'::macaddr), ('ff:ff:ff:ff:ff:ff'), ('08:00:2b:01:02:03'), (NULL)) t(v);
SELECT id_macaddr_array(a) AS array_round_trip, id_macaddr_array(a) IS NOT DISTINCT FROM a AS same
FROM (VALUES (ARRAY['08:00:2b:01:02:03'::macaddr, NULL]), ('{}'::macaddr[])) t(a);

CREATE FUNCTION id_macaddr8(v macaddr8) RETURNS macaddr8 LANGUAGE plrust AS $$ Ok(v.map(String::from)) $$;
CREATE FUNCTION id_macaddr8_array(v macaddr8[]) RETURNS macaddr8[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().map(|e| e.map(String::from)).collect())) $$;
SELECT v, id_macaddr8(v), id_macaddr8(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('00:00:00:00:00:00:00:00'::macaddr8), ('ff:ff:ff:ff:ff:ff:ff:ff'), ('08:00:2b:01:02:03:04:05'), (NULL)) t(v);
SELECT id_macaddr8_array(a) AS array_round_trip, id_macaddr8_array(a) IS NOT DISTINCT FROM a AS same
FROM (VALUES (ARRAY['08:00:2b:01:02:03:04:05'::macaddr8, NULL]), ('{}'::macaddr8[])) t(a);

-- oid: pgrx's `Oid`. As in pgrx and the original PL/Rust, returning Oid::INVALID (0)
-- gives NULL.
CREATE FUNCTION id_oid(v oid) RETURNS oid LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_oid_array(v oid[]) RETURNS oid[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_oid(v), id_oid(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('1'::oid), ('4294967295'), ('pg_class'::regclass::oid), (NULL)) t(v);
SELECT id_oid(0) IS NULL AS invalid_is_null;
SELECT id_oid_array(a) AS array_round_trip, id_oid_array(a) IS NOT DISTINCT FROM a AS same
FROM (VALUES (ARRAY['1'::oid, NULL, '4294967295']), ('{}'::oid[])) t(a);
CREATE FUNCTION oid_plus(v oid, n int8) RETURNS int8 STRICT LANGUAGE plrust AS $$ Ok(Some(u32::from(v) as i64 + n)) $$;
SELECT oid_plus(4294967295, 1);

-- Multi-dimensional arrays as input: every element, in row-major order, NULLs kept.
CREATE FUNCTION flat(v int4[]) RETURNS int4[] STRICT LANGUAGE plrust AS $$ Ok(Some(v.iter().collect())) $$;
SELECT flat('{{1,2,3},{4,NULL,6}}'), flat('{{{1},{2}},{{3},{4}}}'), flat('[0:1]={7,8}');
CREATE FUNCTION flat_text(v text[]) RETURNS int8 STRICT LANGUAGE plrust AS $$ Ok(Some(v.len() as i64)) $$;
SELECT flat_text('{{a,b},{c,NULL}}');
-- ... compared with PostgreSQL's own flattening.
SELECT array_agg(e) FROM unnest('{{1,2,3},{4,NULL,6}}'::int4[]) e;

-- Types PL/Rust cannot map are refused at CREATE, naming the type.
CREATE FUNCTION takes_tsvector(v tsvector) RETURNS int4 LANGUAGE plrust AS $$ Ok(Some(1)) $$;
\echo :LAST_ERROR_SQLSTATE

DROP FUNCTION id_name, id_name_array, long_name, id_inet, id_inet_array, host_of, make_inet,
              id_cidr, id_cidr_array, make_cidr, id_macaddr, id_macaddr_array, id_macaddr8,
              id_macaddr8_array, id_oid, id_oid_array, oid_plus, flat, flat_text;
