-- How failures surface: each case shows the ERROR (message, DETAIL) and its SQLSTATE,
-- and that the session goes on.

-- Err(e) from the body: ERROR with e's message (XX000).
CREATE FUNCTION fails(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    if x > 0 { return Err(format!("x is {x}, which is too big").into()); }
    Ok(Some(x))
$$;
SELECT fails(0);
SELECT fails(5);
\echo :LAST_ERROR_SQLSTATE
SELECT 1 AS session_goes_on;

-- Errors from std (a failed parse) propagate with `?`.
CREATE FUNCTION parse_int(s text) RETURNS int4 STRICT LANGUAGE plrust AS $$
    Ok(Some(s.trim().parse::<i32>()?))
$$;
SELECT parse_int(' 42 ');
SELECT parse_int('forty-two');
\echo :LAST_ERROR_SQLSTATE

-- A panic: ERROR with the panic's message; the transaction aborts, the session goes on.
CREATE FUNCTION panics(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    let v: Vec<i32> = vec![1, 2, 3];
    Ok(Some(v[x as usize]))
$$;
SELECT panics(1);
SELECT panics(10);
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SELECT panics(10);
SELECT 1 AS in_aborted_transaction;
ROLLBACK;
SELECT panics(2) AS after_rollback;

-- An error inside a subtransaction is caught by PL/pgSQL like any other.
DO $$
BEGIN
    PERFORM panics(10);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'caught: % (%)', SQLERRM, SQLSTATE;
END
$$;

-- A syntax error points at the line and column of the body (42601).
CREATE FUNCTION bad_syntax(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    let a = x;
    let b = ;
    Ok(Some(a))
$$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION unclosed(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(Some((x + 1))
$$;
\echo :LAST_ERROR_SQLSTATE
-- With sections, lines still count from the top of the body.
CREATE FUNCTION bad_syntax_sections(x int) RETURNS int STRICT LANGUAGE plrust AS $$
[dependencies]
[code]
    Ok(Some(x +))
$$;
\echo :LAST_ERROR_SQLSTATE

-- A rustc error carries rustc's diagnostic, located in the body (42P13).
CREATE FUNCTION type_error(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    let y: i64 = x.into();
    Ok(Some(y))
$$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION unknown_name(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(Some(x + no_such_variable))
$$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION borrow_error(x text) RETURNS text STRICT LANGUAGE plrust AS $$
    let mut s = String::from(x);
    let r = &s;
    s.push('!');
    Ok(Some(r.clone()))
$$;
\echo :LAST_ERROR_SQLSTATE

-- Failed CREATEs left nothing behind: no function, no artifact, no files.
SELECT count(*) AS functions_left FROM pg_proc
WHERE proname IN ('bad_syntax', 'unclosed', 'bad_syntax_sections', 'type_error', 'unknown_name', 'borrow_error');
-- Nothing in plrust.work_dir, and the object cache holds committed artifacts only.
SELECT * FROM test_work_dir_leftovers();

-- Refused before compiling: unnamed arguments, unsupported kinds, `unsafe`.
CREATE FUNCTION unnamed(int) RETURNS int LANGUAGE plrust AS $$ Ok(None) $$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION keyword_name("type" int) RETURNS int LANGUAGE plrust AS $$ Ok(None) $$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION any_record(n int) RETURNS SETOF record LANGUAGE plrust AS $$ Ok(None) $$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plrust AS $$ Ok(None) $$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION uses_unsafe(n int) RETURNS int STRICT LANGUAGE plrust AS $$
    let p = &n as *const i32;
    Ok(Some(unsafe { *p }))
$$;
\echo :LAST_ERROR_SQLSTATE
DO $$ let x = 1; Ok(Some(x)) $$ LANGUAGE plrust;
\echo :LAST_ERROR_SQLSTATE
SELECT 1 AS session_goes_on;
