-- Polymorphic types (anyelement, anyarray, anynonarray, anyenum, anyrange and the
-- anycompatible family): one compiled function serves every type a call resolves them
-- to. The body sees an `AnyElement` (`AnyArray` for the arrays): its SQL type
-- (`oid()`, `type_name()`) and its value as the Rust type it names (`value::<T>()`,
-- checked against the type: 42804 otherwise). A result made with `AnyElement::new` must
-- be of the type the call resolved (42804 otherwise). Compared with PostgreSQL's values.

CREATE TYPE poly_mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE poly_dog AS (name text, age int4);
CREATE TYPE poly_cat AS (name text, lives int4);
CREATE DOMAIN poly_posint AS int4 CHECK (VALUE > 0);

-- Identity: any value comes back as it went in, of its own type, NULL included.
CREATE FUNCTION poly_id(x anyelement) RETURNS anyelement LANGUAGE plrust AS $$ Ok(x) $$;
SELECT pg_typeof(v), v::text, poly_id(v)::text, poly_id(v) IS NOT DISTINCT FROM v AS same
FROM (VALUES (42::int4::text), (NULL)) t(s), LATERAL (SELECT s::int4 AS v) x;
SELECT poly_id(9223372036854775807::int8), poly_id('NaN'::float8), poly_id(''::text), poly_id('✓ multibyte'::text),
       poly_id(123456789.000000001::numeric), poly_id('infinity'::timestamptz), poly_id('happy'::poly_mood),
       poly_id(ROW('Rex', 3)::poly_dog), poly_id(ARRAY[1, NULL, 3]), poly_id(NULL::date), poly_id(7::poly_posint);

-- What the body sees: the type, and the value read as the Rust type it names.
CREATE FUNCTION poly_describe(x anyelement) RETURNS text STRICT LANGUAGE plrust AS $$
    let value = if let Ok(Some(i)) = x.value::<i32>() {
        format!("i32 {i}")
    } else if let Ok(Some(s)) = x.value::<&str>() {
        format!("&str {s:?}")
    } else if let Ok(Some(row)) = x.value::<PgHeapTuple<'_, AllocatedByRust>>() {
        format!("row {:?}", row.column_names())
    } else if let Ok(Some(a)) = x.value::<Vec<Option<i64>>>() {
        format!("Vec<Option<i64>> {a:?}")
    } else {
        "something else".to_string()
    };
    Ok(Some(format!("{}: {}", x.type_name(), value)))
$$;
SELECT poly_describe(5), poly_describe('five'::text), poly_describe('five'::varchar), poly_describe(5::poly_posint);
SELECT poly_describe(ROW('Rex', 3)::poly_dog), poly_describe(ARRAY[1, NULL]::int8[]), poly_describe('2020-01-01'::date);
-- Reading as the wrong Rust type is an error the body may return: 42804. (pgrx reads an
-- int4 as i64 too, widened.)
CREATE FUNCTION poly_as_i64(x anyelement) RETURNS int8 STRICT LANGUAGE plrust AS $$ Ok(x.value::<i64>()?) $$;
SELECT poly_as_i64(5::int8), poly_as_i64(-5::int4);
SELECT poly_as_i64('five'::text);
\echo :LAST_ERROR_SQLSTATE

-- anyarray: any array, read as the Rust array type of its element.
CREATE FUNCTION poly_max(a anyarray) RETURNS anyelement STRICT LANGUAGE plrust AS $$
    let max = match a.value::<Vec<Option<i32>>>() {
        Ok(v) => AnyElement::new(v.unwrap_or_default().into_iter().flatten().max()),
        Err(_) => AnyElement::new(a.value::<Vec<Option<String>>>()?.unwrap_or_default().into_iter().flatten().max()),
    };
    Ok(Some(max))
$$;
SELECT poly_max(ARRAY[3, NULL, 9, -1]) AS int_max, (SELECT max(v) FROM unnest(ARRAY[3, NULL, 9, -1]) v) AS pg_max,
       poly_max(ARRAY['pear', 'apple', NULL]) AS text_max, poly_max('{}'::int4[]) AS empty_max;
SELECT poly_max(ARRAY[1.5]);
\echo :LAST_ERROR_SQLSTATE

-- anycompatible: PostgreSQL casts the arguments to a common type first.
CREATE FUNCTION poly_add(a anycompatible, b anycompatible) RETURNS anycompatible STRICT LANGUAGE plrust AS $$
    Ok(Some(match a.type_name().as_str() {
        "bigint" => AnyElement::new(a.value::<i64>()?.unwrap() + b.value::<i64>()?.unwrap()),
        _ => AnyElement::new(a.value::<i32>()?.unwrap() + b.value::<i32>()?.unwrap()),
    }))
$$;
SELECT poly_add(1, 2), pg_typeof(poly_add(1, 2)), poly_add(1, 2::int8), pg_typeof(poly_add(1, 2::int8));

-- anyenum and anyrange.
CREATE FUNCTION poly_label(e anyenum) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(format!("{} of {}", e.type_name(), e.oid() != Oid::INVALID)))
$$;
SELECT poly_label('ok'::poly_mood);
CREATE FUNCTION poly_lower(r anyrange) RETURNS text STRICT LANGUAGE plrust AS $$
    let r: Range<i32> = r.value()?.unwrap();
    Ok(Some(format!("{:?}", r.lower())))
$$;
SELECT poly_lower(int4range(3, 7));
SELECT poly_lower(numrange(3, 7));
\echo :LAST_ERROR_SQLSTATE

-- A new result fits the resolved type: text as varchar, a label as the enum (checked by
-- its input function: 22P02 for a label it lacks), a row of the resolved row type.
CREATE FUNCTION poly_make(x anyelement, what text) RETURNS anyelement STRICT LANGUAGE plrust AS $$
    Ok(Some(match what {
        "text" => AnyElement::new("made".to_string()),
        "int" => AnyElement::new(42i32),
        "dog" => {
            let mut dog = PgHeapTuple::new_composite_type("poly_dog")?;
            dog.set_by_name("name", "Made".to_string())?;
            AnyElement::new(dog)
        }
        "cat" => AnyElement::new(PgHeapTuple::new_composite_type("poly_cat")?),
        _ => AnyElement::new(None::<i32>),
    }))
$$;
SELECT poly_make('x'::text, 'text'), poly_make('x'::varchar, 'text'), pg_typeof(poly_make('x'::varchar, 'text')),
       poly_make(1, 'int'), poly_make(1::poly_posint, 'int'), poly_make(1, 'null') IS NULL AS is_null,
       poly_make(ROW('Rex', 3)::poly_dog, 'dog');
SELECT poly_make('sad'::poly_mood, 'text');
\echo :LAST_ERROR_SQLSTATE
-- Attack: a result of another type than the call's. PostgreSQL would read an int4 as a
-- text pointer, a cat with a dog's descriptor: 42804.
SELECT poly_make('x'::text, 'int');
\echo :LAST_ERROR_SQLSTATE
SELECT poly_make(1::int8, 'int');
\echo :LAST_ERROR_SQLSTATE
SELECT poly_make(ROW('Rex', 3)::poly_dog, 'cat');
\echo :LAST_ERROR_SQLSTATE
-- Passing an argument of another polymorphic position back is checked too.
CREATE FUNCTION poly_swap(a anyelement, b anycompatible) RETURNS anyelement STRICT LANGUAGE plrust AS $$ Ok(Some(b)) $$;
SELECT poly_swap(1, 2);
SELECT poly_swap(1, 'two'::text);
\echo :LAST_ERROR_SQLSTATE

-- Polymorphic sets and OUT columns are refused at CREATE (0A000); a plain result is fine.
CREATE FUNCTION poly_set(x anyelement) RETURNS SETOF anyelement LANGUAGE plrust AS $$ Ok(None) $$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION poly_out(x anyelement, OUT y anyelement, OUT n int4) LANGUAGE plrust AS $$ Ok(None) $$;
\echo :LAST_ERROR_SQLSTATE

-- Rows: columns of enum and domain types are set from their Rust types, checked as a
-- result would be (the label by the enum, the domain's constraint).
CREATE TYPE poly_row AS (m poly_mood, p poly_posint, tags poly_mood[]);
CREATE FUNCTION poly_row_make(label text, p int4) RETURNS poly_row STRICT LANGUAGE plrust AS $$
    let mut row = PgHeapTuple::new_composite_type("poly_row")?;
    row.set_by_name("m", label.to_string())?;
    row.set_by_name("p", p)?;
    row.set_by_name("tags", vec![Some(label.to_string()), None])?;
    Ok(Some(row))
$$;
SELECT poly_row_make('happy', 3);
SELECT poly_row_make('furious', 3);
\echo :LAST_ERROR_SQLSTATE
SELECT poly_row_make('ok', 0);
\echo :LAST_ERROR_SQLSTATE

DROP FUNCTION poly_id, poly_describe, poly_as_i64, poly_max, poly_add, poly_label, poly_lower, poly_make,
    poly_swap, poly_row_make;
DROP TYPE poly_row, poly_mood, poly_dog, poly_cat;
DROP DOMAIN poly_posint;
