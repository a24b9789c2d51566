-- OUT and INOUT parameters, defaults, named notation, VARIADIC, and procedures (CALL).
-- An IN or INOUT parameter is an argument of the body; when PostgreSQL's result is a
-- record of the OUT/INOUT parameters, the body returns a tuple with one Option each.

-- Two OUT parameters: a record.
CREATE FUNCTION split_name(full_name text, OUT first text, OUT last text) LANGUAGE plrust AS $$
    let Some(full_name) = full_name else { return Ok(None) };
    let mut parts = full_name.splitn(2, ' ');
    Ok(Some((parts.next().map(str::to_owned), parts.next().map(str::to_owned))))
$$;
SELECT * FROM split_name('Ada Lovelace');
SELECT * FROM split_name('Plato');
SELECT (split_name('Grace Hopper')).last;
SELECT split_name(NULL) IS NULL AS null_record, row_to_json(split_name('a b'));
SELECT pg_get_function_result('split_name'::regproc);

-- One OUT parameter: the function returns that type.
CREATE FUNCTION doubled(x int, OUT twice int) STRICT LANGUAGE plrust AS $$ Ok(Some(x * 2)) $$;
SELECT doubled(21), pg_typeof(doubled(21));

-- INOUT: an argument and a result column; OUT parameters may come first.
CREATE FUNCTION bump(OUT note text, INOUT n int8, step int8 DEFAULT 1) STRICT LANGUAGE plrust AS $$
    let bumped = n.checked_add(step).ok_or("overflow")?;
    Ok(Some((Some(format!("{n} + {step}")), Some(bumped))))
$$;
SELECT * FROM bump(41);
SELECT * FROM bump(40, 2);
SELECT * FROM bump(step => 10, n => 5);
SELECT * FROM bump(9223372036854775807);

-- Defaults on plain functions, positional and named.
CREATE FUNCTION greet(name text DEFAULT 'world', punctuation text DEFAULT '!') RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(format!("hello, {name}{punctuation}")))
$$;
SELECT greet(), greet('you'), greet(punctuation => '?'), greet('PL/Rust', '.');

-- VARIADIC: the extra arguments arrive as one array.
CREATE FUNCTION total(VARIADIC xs int8[]) RETURNS int8 STRICT LANGUAGE plrust AS $$
    Ok(Some(xs.iter().flatten().sum()))
$$;
SELECT total(1, 2, 3), total(5), total(VARIADIC ARRAY[10, NULL, 20]::int8[]), total(VARIADIC '{}'::int8[]);
CREATE FUNCTION joined(sep text, VARIADIC parts text[]) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(parts.iter().map(|p| p.unwrap_or("NULL")).collect::<Vec<_>>().join(sep)))
$$;
SELECT joined('-', 'a', NULL, 'ç');

-- Procedures: no result, INOUT parameters, CALL from SQL and from PL/pgSQL.
CREATE PROCEDURE note_it(what text) LANGUAGE plrust AS $$
    notice!("noted: {}", what.unwrap_or("nothing"));
    Ok(Some(()))
$$;
CALL note_it('a procedure call');
CREATE PROCEDURE add_to(INOUT acc int, x int) LANGUAGE plrust AS $$
    Ok(Some((Some(acc.unwrap_or(0) + x.unwrap_or(0)),)))
$$;
CALL add_to(1, 2);
CREATE PROCEDURE minmax(a int, b int, INOUT lo int DEFAULT NULL, INOUT hi int DEFAULT NULL) LANGUAGE plrust AS $$
    let (a, b) = (a.ok_or("a is NULL")?, b.ok_or("b is NULL")?);
    Ok(Some((Some(a.min(b)), Some(a.max(b)))))
$$;
CALL minmax(7, 3);
-- A procedure returning Ok(None) gives NULLs (CALL cannot take a NULL row).
CREATE PROCEDURE nothing(INOUT x text) LANGUAGE plrust AS $$ Ok(None) $$;
CALL nothing('gone');
DO $$
DECLARE
    total int := 10;
    lo int;
    hi int;
BEGIN
    CALL add_to(total, 5);
    CALL minmax(total, 2, lo, hi);
    RAISE NOTICE 'total %, lo %, hi %', total, lo, hi;
END $$;
-- An Err from a procedure is an ERROR of the CALL.
CALL minmax(NULL, 1);

-- What PL/Rust cannot do is refused at CREATE, naming it.
CREATE FUNCTION any_record() RETURNS record LANGUAGE plrust AS $$ Ok(None) $$;
CREATE FUNCTION win() RETURNS int WINDOW LANGUAGE plrust AS $$ Ok(None) $$;
CREATE FUNCTION bad_out(OUT a int, OUT b tsvector) LANGUAGE plrust AS $$ Ok(None) $$;
CREATE FUNCTION unnamed_inout(INOUT int) LANGUAGE plrust AS $$ Ok(None) $$;
