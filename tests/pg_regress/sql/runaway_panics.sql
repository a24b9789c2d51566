-- Panics and errors: each case names what the body does and shows the exact ERROR, its
-- SQLSTATE and the body line; the transaction aborts, the session goes on. What cannot
-- unwind ends only its own session, with FATAL; scripts/regress.sh checks afterwards that
-- the server never restarted.

CREATE ROLE plrust_panicker;
GRANT CREATE ON SCHEMA public TO plrust_panicker;
SET ROLE plrust_panicker;

-- unwrap() on None.
CREATE FUNCTION unwrap_none() RETURNS int4 LANGUAGE plrust AS $$
    let v: Vec<i32> = Vec::new();
    let first = v.first().copied();
    Ok(Some(first.unwrap()))
$$;
SELECT unwrap_none();
\echo :LAST_ERROR_SQLSTATE

-- Division by zero.
CREATE FUNCTION divide(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS $$
    Ok(Some(a / b))
$$;
SELECT divide(7, 2);
SELECT divide(7, 0);
\echo :LAST_ERROR_SQLSTATE

-- Index out of bounds.
CREATE FUNCTION nth(a int4[], i int4) RETURNS int4 STRICT LANGUAGE plrust AS $$
    let v: Vec<i32> = a.iter().map(|x| x.unwrap_or(0)).collect();
    Ok(Some(v[i as usize]))
$$;
SELECT nth(ARRAY[1,2,3], 1);
SELECT nth(ARRAY[1,2,3], 10);
\echo :LAST_ERROR_SQLSTATE

-- RefCell borrowed mutably twice.
CREATE FUNCTION double_borrow() RETURNS int4 LANGUAGE plrust AS $$
    let cell = std::cell::RefCell::new(1);
    let _first = cell.borrow_mut();
    let mut second = cell.borrow_mut();
    *second += 1;
    Ok(Some(*second))
$$;
SELECT double_borrow();
\echo :LAST_ERROR_SQLSTATE

-- A panic whose payload is not a message.
CREATE FUNCTION panic_any_value() RETURNS int4 LANGUAGE plrust AS $$
    std::panic::panic_any(42i32)
$$;
SELECT panic_any_value();
\echo :LAST_ERROR_SQLSTATE

-- A 100 MB panic message, and an Err with a 100 MB message: the ERROR carries the first
-- 64 KiB and says how long the message was.
CREATE FUNCTION huge_panic() RETURNS int4 LANGUAGE plrust AS $$
    panic!("{}", "x".repeat(100 << 20))
$$;
CREATE FUNCTION huge_err() RETURNS int4 LANGUAGE plrust AS $$
    Err("y".repeat(100 << 20).into())
$$;
CREATE FUNCTION error_text(f text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'SELECT ' || f || '()';
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN format('%s: %s bytes, starts %s, ends %s', SQLSTATE, octet_length(SQLERRM),
                  left(SQLERRM, 3), right(SQLERRM, 42));
END $$;
SELECT error_text('huge_panic');
SELECT error_text('huge_err');

-- process::abort() ends the call, not the session (postgrestd makes it a panic; more in
-- sandbox.sql).
CREATE FUNCTION abort_process() RETURNS int4 LANGUAGE plrust AS $$
    std::process::abort()
$$;
SELECT abort_process();
\echo :LAST_ERROR_SQLSTATE

-- A body raises its own SQLSTATE, and sends notices.
CREATE FUNCTION checked_ratio(a float8, b float8) RETURNS float8 STRICT LANGUAGE plrust AS $$
    if b == 0.0 {
        ereport!(ERROR, PgSqlErrorCode::ERRCODE_DIVISION_BY_ZERO, "b must not be zero",
                 format!("a was {a}"));
    }
    notice!("dividing {a} by {b}");
    Ok(Some(a / b))
$$;
SELECT checked_ratio(1, 4);
SELECT checked_ratio(1, 0);
\echo :LAST_ERROR_SQLSTATE
-- FATAL and PANIC are not a body's to raise: refused when the function is created.
CREATE FUNCTION end_session() RETURNS int4 LANGUAGE plrust AS $$
    ereport!(FATAL, PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, "bye");
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION end_server() RETURNS int4 LANGUAGE plrust AS $$
    ereport!(PANIC, PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, "bye");
    Ok(None)
$$;
\echo :LAST_ERROR_SQLSTATE
-- ... and as a value, FATAL is reported as ERROR.
CREATE FUNCTION end_session_by_value() RETURNS int4 LANGUAGE plrust AS $$
    ereport!(PgLogLevel::FATAL, PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, "not the end");
    Ok(None)
$$;
SELECT end_session_by_value();
\echo :LAST_ERROR_SQLSTATE
SELECT 1 AS answers;

-- An ERROR PostgreSQL raises inside a body (here: the cancel of statement_timeout) unwinds
-- the Rust frames: destructors run.
CREATE FUNCTION drops_on_cancel(report bool) RETURNS int4 STRICT LANGUAGE plrust AS $$
    use std::cell::Cell;
    thread_local! { static DROPPED: Cell<i32> = const { Cell::new(0) }; }
    struct Guard;
    impl Drop for Guard {
        fn drop(&mut self) { DROPPED.with(|d| d.set(d.get() + 1)); }
    }
    if report { return Ok(Some(DROPPED.with(|d| d.get()))); }
    let _guard = Guard;
    loop {}
$$;
-- The same while the body sends messages: PostgreSQL checks for interrupts at the end of
-- every message it sends; that check must not jump over the body's frames either.
CREATE FUNCTION drops_on_cancel_logging(report bool) RETURNS int4 STRICT LANGUAGE plrust AS $$
    use std::cell::Cell;
    thread_local! { static DROPPED: Cell<i32> = const { Cell::new(0) }; }
    struct Guard;
    impl Drop for Guard {
        fn drop(&mut self) { DROPPED.with(|d| d.set(d.get() + 1)); }
    }
    if report { return Ok(Some(DROPPED.with(|d| d.get()))); }
    let _guard = Guard;
    let mut n: u64 = 0;
    loop {
        log!("tick {n}");
        for i in 0..20000u64 { n = n.wrapping_mul(31).wrapping_add(i); }
    }
$$;
SET statement_timeout = '200ms';
SELECT drops_on_cancel(false);
\echo :LAST_ERROR_SQLSTATE
SELECT drops_on_cancel_logging(false);
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT drops_on_cancel(true) AS destructors_ran;
SELECT drops_on_cancel_logging(true) AS destructors_ran_while_logging;
RESET ROLE;

-- A panic in a destructor while unwinding from another panic cannot be unwound: it ends
-- that session (FATAL), not the server. Run in a second session, through dblink.
SET ROLE plrust_panicker;
CREATE FUNCTION panic_in_drop() RETURNS int4 LANGUAGE plrust AS $$
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) { panic!("panic in drop"); }
    }
    let _bomb = Bomb;
    panic!("first panic")
$$;
RESET ROLE;
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_connect('victim', 'host=127.0.0.1 port=' || current_setting('port') ||
                               ' dbname=' || current_database() || ' user=' || current_user);
SELECT pid AS victim_pid FROM dblink('victim', 'SELECT pg_backend_pid()') AS t(pid int) \gset
-- What the victim's client sees: FATAL with the panic and the one before it
-- (remote_error and wait_until_gone come from runaway.sql).
SELECT remote_error('SELECT panic_in_drop()');
-- The victim session is gone ...
SELECT wait_until_gone(:victim_pid);
SELECT count(*) AS victim_still_there FROM pg_stat_activity WHERE pid = :victim_pid;
SELECT dblink_disconnect('victim');
DROP FUNCTION remote_error, wait_until_gone;
DROP EXTENSION dblink;
-- ... and this one answers.
SELECT 1 AS answers;

DROP FUNCTION unwrap_none, divide, nth, double_borrow, panic_any_value, huge_panic,
              huge_err, error_text, abort_process, checked_ratio, end_session_by_value,
              drops_on_cancel, drops_on_cancel_logging, panic_in_drop;
REVOKE CREATE ON SCHEMA public FROM plrust_panicker;
DROP ROLE plrust_panicker;
