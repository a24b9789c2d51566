-- Enums and domains: a body sees an enum in its text form (`&str` argument, `String`
-- result) and a domain as its base type's Rust type. On return an enum label must be
-- one of the type's (22P02 otherwise) and a domain's constraints hold (NOT NULL 23502,
-- CHECK 23514), as in PL/pgSQL. Arrays of both, with NULL elements; rows and sets.
-- Each value is compared with PostgreSQL's own for the same input.

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'très "content", {oui}');
CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
CREATE DOMAIN nn_text AS text NOT NULL;
CREATE DOMAIN good_mood AS mood CHECK (VALUE <> 'sad');
CREATE DOMAIN short_list AS int8[] CHECK (cardinality(VALUE) <= 3);

-- Enums round-trip, the odd label (quotes, comma, braces, multibyte) included.
CREATE FUNCTION id_mood(v mood) RETURNS mood LANGUAGE plrust AS $$ Ok(v.map(String::from)) $$;
SELECT v, id_mood(v), id_mood(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES ('sad'::mood), ('happy'), ('très "content", {oui}'), (NULL)) t(v);

-- The body sees the label.
CREATE FUNCTION mood_len(v mood) RETURNS int4 STRICT LANGUAGE plrust AS $$ Ok(Some(v.chars().count() as i32)) $$;
SELECT mood_len('happy'), mood_len('très "content", {oui}');

-- A label the type does not have: 22P02, PostgreSQL's own error for it.
CREATE FUNCTION make_mood(label text) RETURNS mood STRICT LANGUAGE plrust AS $$ Ok(Some(label.to_string())) $$;
SELECT make_mood('ok');
SELECT make_mood('furious');
\echo :LAST_ERROR_SQLSTATE

-- Arrays of an enum, NULL elements and the odd label included; empty.
CREATE FUNCTION id_mood_array(v mood[]) RETURNS mood[] LANGUAGE plrust AS $$
    Ok(v.map(|a| a.iter().map(|m| m.map(String::from)).collect()))
$$;
SELECT a, id_mood_array(a), id_mood_array(a) IS NOT DISTINCT FROM a AS same
FROM (VALUES (ARRAY['sad', NULL, 'très "content", {oui}', 'ok']::mood[]), ('{}'::mood[]), (NULL)) t(a);
CREATE FUNCTION moods(labels text[]) RETURNS mood[] STRICT LANGUAGE plrust AS $$
    Ok(Some(labels.iter().map(|l| l.map(String::from)).collect()))
$$;
SELECT moods(ARRAY['ok', NULL]);
SELECT moods(ARRAY['ok', 'furious']);
\echo :LAST_ERROR_SQLSTATE

-- Enums in SETOF, TABLE and OUT.
CREATE FUNCTION all_moods() RETURNS SETOF mood LANGUAGE plrust AS $$
    Ok(Some(SetOfIterator::new(["sad", "ok", "happy"].into_iter().map(|m| Some(m.to_string())))))
$$;
SELECT m, m > 'sad' AS later FROM all_moods() m;
CREATE FUNCTION mood_table() RETURNS TABLE (n int4, m mood) LANGUAGE plrust AS $$
    Ok(Some(TableIterator::new(vec![(Some(1), Some("ok".to_string())), (Some(2), None)])))
$$;
SELECT * FROM mood_table();
CREATE FUNCTION mood_out(OUT m mood, OUT n int4) LANGUAGE plrust AS $$
    Ok(Some((Some("happy".to_string()), Some(3))))
$$;
SELECT * FROM mood_out();

-- Domains over scalars: the base type's Rust type; constraints checked on return.
CREATE FUNCTION id_posint(v posint) RETURNS posint LANGUAGE plrust AS $$ Ok(v) $$;
SELECT v, id_posint(v) FROM (VALUES (1::posint), (2147483647), (NULL)) t(v);
CREATE FUNCTION to_posint(v int4) RETURNS posint LANGUAGE plrust AS $$ Ok(v) $$;
SELECT to_posint(5);
SELECT to_posint(0);
\echo :LAST_ERROR_SQLSTATE
-- NULL is checked too: a NOT NULL domain refuses it.
CREATE FUNCTION to_nn_text(v text) RETURNS nn_text LANGUAGE plrust AS $$ Ok(v.map(String::from)) $$;
SELECT to_nn_text('');
SELECT to_nn_text(NULL);
\echo :LAST_ERROR_SQLSTATE
-- ... as plpgsql does (for comparison).
CREATE FUNCTION pg_to_nn_text(v text) RETURNS nn_text LANGUAGE plpgsql AS $$ BEGIN RETURN v; END $$;
SELECT pg_to_nn_text(NULL);
\echo :LAST_ERROR_SQLSTATE

-- A domain over an enum: the label must be the enum's and meet the check.
CREATE FUNCTION to_good_mood(label text) RETURNS good_mood STRICT LANGUAGE plrust AS $$ Ok(Some(label.to_string())) $$;
SELECT to_good_mood('happy');
SELECT to_good_mood('sad');
\echo :LAST_ERROR_SQLSTATE
SELECT to_good_mood('furious');
\echo :LAST_ERROR_SQLSTATE

-- A domain over an array.
CREATE FUNCTION to_short_list(n int4) RETURNS short_list STRICT LANGUAGE plrust AS $$
    Ok(Some((1..=n as i64).map(Some).collect()))
$$;
SELECT to_short_list(3);
SELECT to_short_list(4);
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION short_list_sum(v short_list) RETURNS int8 STRICT LANGUAGE plrust AS $$
    Ok(Some(v.iter().flatten().sum()))
$$;
SELECT short_list_sum('{1,2,3}');

-- Arrays of a domain: each element is checked.
CREATE FUNCTION posints(v int4[]) RETURNS posint[] STRICT LANGUAGE plrust AS $$
    Ok(Some(v.iter().collect()))
$$;
SELECT posints(ARRAY[1, NULL, 3]);
SELECT posints(ARRAY[1, -2]);
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION posint_array_sum(v posint[]) RETURNS int8 STRICT LANGUAGE plrust AS $$
    Ok(Some(v.iter().flatten().map(i64::from).sum()))
$$;
SELECT posint_array_sum(ARRAY[1, 2, NULL]::posint[]);

-- Domains in rows and sets are checked per value.
CREATE FUNCTION posint_out(v int4, OUT p posint, OUT label text) LANGUAGE plrust AS $$
    Ok(Some((v, Some("x".to_string()))))
$$;
SELECT * FROM posint_out(7);
SELECT * FROM posint_out(-7);
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION posint_series(n int4) RETURNS SETOF posint STRICT LANGUAGE plrust AS $$
    Ok(Some(SetOfIterator::new((0..n).rev().map(Some))))
$$;
SELECT * FROM posint_series(3);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM posint_series(3) LIMIT 2;
\echo :LAST_ERROR_SQLSTATE

-- A domain's constraint changed after CREATE FUNCTION: the new one holds at once (the
-- check is the catalog's at call time, not built in).
ALTER DOMAIN posint DROP CONSTRAINT posint_check;
ALTER DOMAIN posint ADD CONSTRAINT posint_small CHECK (VALUE > 0 AND VALUE < 10);
SELECT to_posint(9);
SELECT to_posint(10);
\echo :LAST_ERROR_SQLSTATE

-- Enum labels added later are accepted by the same library.
ALTER TYPE mood ADD VALUE 'ecstatic';
SELECT make_mood('ecstatic');

-- An enum recreated under the same name (a new oid, as after a restore) is served by
-- the same library: the generated code names no user type's oid. Same body, same
-- signature text: no new artifact.
CREATE TYPE color AS ENUM ('red', 'green');
CREATE FUNCTION id_color(v color) RETURNS color LANGUAGE plrust AS $$ Ok(v.map(String::from)) $$;
SELECT id_color('green');
SELECT string_agg(key, ',' ORDER BY key) AS keys_before FROM plrust.artifacts \gset
DROP FUNCTION id_color(color);
DROP TYPE color;
CREATE TYPE color AS ENUM ('green', 'blue');
CREATE FUNCTION id_color(v color) RETURNS color LANGUAGE plrust AS $$ Ok(v.map(String::from)) $$;
SELECT id_color('blue');
SELECT string_agg(key, ',' ORDER BY key) = :'keys_before' AS same_artifacts FROM plrust.artifacts;

DROP FUNCTION id_mood, mood_len, make_mood, id_mood_array, moods, all_moods, mood_table, mood_out,
    id_posint, to_posint, to_nn_text, pg_to_nn_text, to_good_mood, to_short_list, short_list_sum,
    posints, posint_array_sum, posint_out, posint_series, id_color;
DROP TYPE mood CASCADE;
DROP TYPE color;
DROP DOMAIN posint, nn_text, short_list;
