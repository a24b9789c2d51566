-- uuid, json, jsonb, point, box, bpchar and void: NULL, boundary and ordinary values round-trip through a PL/Rust function
-- unchanged, compared with PostgreSQL's own value for the same input; arrays too (with a
-- NULL element, and empty).

CREATE FUNCTION id_uuid(v uuid) RETURNS uuid LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_uuid_array(v uuid[]) RETURNS uuid[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_uuid(v), id_uuid(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('00000000-0000-0000-0000-000000000000'::uuid), ('ffffffff-ffff-ffff-ffff-ffffffffffff'), ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), (NULL)) t(v);
SELECT id_uuid_array(a) AS array_round_trip, id_uuid_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['00000000-0000-0000-0000-000000000000'::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', NULL]::uuid[]), ('{}'::uuid[])) t(a);

CREATE FUNCTION id_json(v json) RETURNS json LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_json_array(v json[]) RETURNS json[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_json(v), id_json(v)::jsonb IS NOT DISTINCT FROM v::jsonb AS same
FROM (VALUES ('{}'::json), ('[1, "two", null, true, {"x": 1.5}]'), ('"multibyte ✓ 日本語"'), ('null'), (NULL)) t(v);
SELECT id_json_array(a) AS array_round_trip, id_json_array(a)::jsonb[] = a::jsonb[] AS same
FROM (VALUES (ARRAY['{"a": 1}'::json, NULL]), ('{}'::json[])) t(a);

CREATE FUNCTION id_jsonb(v jsonb) RETURNS jsonb LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_jsonb_array(v jsonb[]) RETURNS jsonb[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_jsonb(v), id_jsonb(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('{}'::jsonb), ('{"a": [1, 2, {"b": null}], "c": "✓"}'), ('12345678901234567890'), ('""'), (NULL)) t(v);
SELECT id_jsonb_array(a) AS array_round_trip, id_jsonb_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['{}'::jsonb, '{"a": [1, 2, {"b": null}], "c": "✓"}', '12345678901234567890', '""', NULL]::jsonb[]), ('{}'::jsonb[])) t(a);

CREATE FUNCTION id_point(v point) RETURNS point LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_point_array(v point[]) RETURNS point[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_point(v), id_point(v)::text IS NOT DISTINCT FROM v::text AS same
FROM (VALUES ('(0,0)'::point), ('(-1.5,1e300)'), ('(NaN,Infinity)'), (NULL)) t(v);
SELECT id_point_array(a) AS array_round_trip, id_point_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['(0,0)'::point, '(-1.5,1e300)', '(NaN,Infinity)', NULL]::point[]), ('{}'::point[])) t(a);

CREATE FUNCTION id_box(v box) RETURNS box LANGUAGE plrust AS $$ Ok(v) $$;
CREATE FUNCTION id_box_array(v box[]) RETURNS box[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().collect())) $$;
SELECT v, id_box(v), id_box(v)::text IS NOT DISTINCT FROM v::text AS same
FROM (VALUES ('(0,0),(0,0)'::box), ('(1,2),(-3,-4)'), (NULL)) t(v);
SELECT id_box_array(a) AS array_round_trip, id_box_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['(1,2),(-3,-4)'::box, NULL]), ('{}'::box[])) t(a);

CREATE FUNCTION id_bpchar(v bpchar) RETURNS bpchar LANGUAGE plrust AS $$ Ok(v.map(String::from)) $$;
CREATE FUNCTION id_bpchar_array(v bpchar[]) RETURNS bpchar[] LANGUAGE plrust AS $$ Ok(v.map(|a| a.iter().map(|e| e.map(String::from)).collect())) $$;
SELECT v, id_bpchar(v), id_bpchar(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('ab'::char(4)), (''), ('✓ 日本'), (NULL)) t(v);
SELECT id_bpchar_array(a) AS array_round_trip, id_bpchar_array(a)::text = a::text AS same
FROM (VALUES (ARRAY['ab'::char(4), '', '✓ 日本', NULL]::bpchar[]), ('{}'::bpchar[])) t(a);

-- json and jsonb hold a serde_json value (so json comes back as the same JSON value,
-- not the same text: whitespace is not kept).
CREATE FUNCTION json_keys(j jsonb) RETURNS text[] STRICT LANGUAGE plrust AS $$
    Ok(j.0.as_object().map(|o| o.keys().map(|k| Some(k.clone())).collect()))
$$;
SELECT json_keys('{"b": 1, "a": 2}'), json_keys('[1]');
-- void: the function returns nothing.
CREATE FUNCTION say(msg text) RETURNS void STRICT LANGUAGE plrust AS $$
    notice!("{msg}");
    Ok(Some(()))
$$;
SELECT say('hello');
SELECT pg_typeof(say('again'));
-- void is a return type only.
CREATE FUNCTION takes_void(v void) RETURNS int4 LANGUAGE plrust AS $$ Ok(Some(1)) $$;
\echo :LAST_ERROR_SQLSTATE

DROP FUNCTION id_uuid, id_uuid_array, id_json, id_json_array, id_jsonb, id_jsonb_array,
              id_point, id_point_array, id_box, id_box_array, id_bpchar, id_bpchar_array,
              json_keys, say;
