-- Runaway bodies: each case names what it tries and shows the exact ERROR and SQLSTATE;
-- the session then answers, and (checked by scripts/regress.sh after the suites) the
-- server never restarted and no backend died.

-- The bodies (compiled before the timeout is set: a build is a statement too).
CREATE FUNCTION spin() RETURNS int LANGUAGE plrust AS $$ loop {} $$;
CREATE FUNCTION spin_while() RETURNS int LANGUAGE plrust AS $$
    let mut n: u64 = 0;
    while true { n = n.wrapping_mul(31).wrapping_add(7); }
    Ok(Some(n as i32))
$$;
CREATE FUNCTION spin_for() RETURNS int8 LANGUAGE plrust AS $$
    let mut acc: u64 = 0;
    for i in 0..u64::MAX { acc = acc.rotate_left(5) ^ i; }
    Ok(Some(acc as i64))
$$;
CREATE FUNCTION spin_iter() RETURNS int8 LANGUAGE plrust AS $$
    let n = (0u64..).map(|x| x.rotate_left(3)).filter(|x| x % 7 == 13).count();
    Ok(Some(n as i64))
$$;
CREATE FUNCTION swallow_cancel() RETURNS int LANGUAGE plrust AS $$
    let mut caught = 0;
    loop {
        let r = std::panic::catch_unwind(|| loop {});
        if r.is_err() { caught += 1; }
    }
$$;
CREATE FUNCTION swallow_and_return() RETURNS text LANGUAGE plrust AS $$
    let r = std::panic::catch_unwind(|| loop {});
    Ok(Some(format!("swallowed: {}", r.is_err())))
$$;

SET statement_timeout = '300ms';
-- loop {} is cancelled by statement_timeout (57014).
SELECT spin();
\echo :LAST_ERROR_SQLSTATE
SELECT 1 AS answers;

-- while true, and a long for over a range that does work.
SELECT spin_while();
\echo :LAST_ERROR_SQLSTATE
SELECT spin_for();
\echo :LAST_ERROR_SQLSTATE

-- An iterator chain whose work is in closures.
SELECT spin_iter();
\echo :LAST_ERROR_SQLSTATE

-- A body that catches the cancel with catch_unwind and keeps going: the call still ends
-- with the cancel's ERROR.
SELECT swallow_cancel();
\echo :LAST_ERROR_SQLSTATE
SELECT swallow_and_return();
\echo :LAST_ERROR_SQLSTATE
SELECT 1 AS answers;
RESET statement_timeout;

-- Unbounded recursion: ERROR 54001, honouring max_stack_depth; never SIGSEGV.
-- (black_box keeps the optimizer from turning the recursion into a loop.)
CREATE FUNCTION recurse(n int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    fn down(n: i64) -> i64 { if n == 0 { 0 } else { 1 + std::hint::black_box(down(n - 1)) } }
    Ok(Some(down(n)))
$$;
SELECT recurse(10);
SELECT recurse(1000000000);
\echo :LAST_ERROR_SQLSTATE
-- Mutual recursion.
CREATE FUNCTION ping_pong(n int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    fn ping(n: i64) -> i64 { if n == 0 { 0 } else { std::hint::black_box(pong(n - 1)) + 1 } }
    fn pong(n: i64) -> i64 { if n == 0 { 0 } else { std::hint::black_box(ping(n - 1)) + 1 } }
    Ok(Some(ping(n)))
$$;
SELECT ping_pong(100);
SELECT ping_pong(1000000000);
\echo :LAST_ERROR_SQLSTATE
-- Recursion with large stack frames (64 KiB each).
CREATE FUNCTION big_frames(n int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    fn deep(n: i64) -> i64 {
        let mut frame = [0u8; 65536];
        frame[(n as usize) % 65536] = 1;
        if n == 0 { frame.iter().map(|b| *b as i64).sum() } else { deep(n - 1) + frame[0] as i64 }
    }
    Ok(Some(deep(n)))
$$;
SELECT big_frames(3);
SELECT big_frames(1000000);
\echo :LAST_ERROR_SQLSTATE
-- A frame too large to be checked in time (the stack check runs after the frame is
-- allocated): refused when the function is created (54000).
CREATE FUNCTION huge_frame(i int4) RETURNS int4 STRICT LANGUAGE plrust AS $$
    let a = [7u8; 16 << 20];
    Ok(Some(std::hint::black_box(&a)[i as usize] as i32))
$$;
\echo :LAST_ERROR_SQLSTATE
-- A smaller max_stack_depth is honoured too.
SET max_stack_depth = '200kB';
SELECT recurse(100000);
\echo :LAST_ERROR_SQLSTATE
RESET max_stack_depth;
SELECT recurse(10) AS answers;

-- pg_cancel_backend and pg_terminate_backend from a second session.
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_connect('victim', 'host=127.0.0.1 port=' || current_setting('port') ||
                               ' dbname=' || current_database() || ' user=' || current_user);
SELECT pid AS victim_pid FROM dblink('victim', 'SELECT pg_backend_pid()') AS t(pid int) \gset
-- Wait (at most 10 s) until the victim is running its query, so the signal cannot miss it.
CREATE FUNCTION wait_until_running(p int, q text) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..200 LOOP
        -- pg_stat_activity is read once per transaction unless told to read again.
        PERFORM pg_stat_clear_snapshot();
        IF EXISTS (SELECT FROM pg_stat_activity WHERE pid = p AND state = 'active' AND query = q) THEN
            PERFORM pg_sleep(0.1);
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN false;
END $$;
SELECT dblink_send_query('victim', 'SELECT spin()');
SELECT wait_until_running(:victim_pid, 'SELECT spin()');
SELECT pg_cancel_backend(:victim_pid);
SELECT * FROM dblink_get_result('victim') AS t(x int);
-- The cancelled session goes on: it answers its next query.
SELECT * FROM dblink_get_result('victim') AS t(x int);
SELECT * FROM dblink('victim', 'SELECT 41 + 1') AS t(x int);
-- pg_terminate_backend ends a body that swallows cancels.
SELECT dblink_send_query('victim', 'SELECT swallow_cancel()');
SELECT wait_until_running(:victim_pid, 'SELECT swallow_cancel()');
SELECT pg_terminate_backend(:victim_pid, 5000);
SELECT count(*) AS victim_still_there FROM pg_stat_activity WHERE pid = :victim_pid;
SELECT dblink_disconnect('victim');
SELECT 1 AS answers;

-- Recursion no probe can see: dropping a 2,000,000-node Box list runs the compiler's
-- drop glue 2,000,000 calls deep, far past the 8 MB stack. The skipped frames cannot be
-- unwound, so that session ends with FATAL 54001 instead of SIGSEGV; the server does
-- not restart (regress.sh checks). Run in a second session, through dblink.
CREATE FUNCTION drop_long_list(n int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    struct Node { next: Option<Box<Node>>, value: i64 }
    let mut head: Option<Box<Node>> = None;
    for i in 0..n { head = Some(Box::new(Node { next: head, value: i })); }
    let last = head.as_ref().map_or(-1, |node| node.value);
    drop(head);
    Ok(Some(last))
$$;
SELECT drop_long_list(1000) AS short_list_drops_fine;
SELECT dblink_connect('victim', 'host=127.0.0.1 port=' || current_setting('port') ||
                               ' dbname=' || current_database() || ' user=' || current_user);
SELECT pid AS victim_pid FROM dblink('victim', 'SELECT pg_backend_pid()') AS t(pid int) \gset
-- What the victim's client sees (the rest of libpq's text about the lost connection
-- varies, so only the first lines are shown). These two helpers serve runaway_panics.sql
-- too, which drops them.
CREATE FUNCTION remote_error(query text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
    PERFORM * FROM dblink('victim', query) AS t(x int8);
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || E'\n' || array_to_string((string_to_array(SQLERRM, E'\n'))[1:3], E'\n');
END $f$;
-- Wait (at most 5 s) for a session to finish exiting.
CREATE FUNCTION wait_until_gone(p int) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
    FOR i IN 1..100 LOOP
        PERFORM pg_stat_clear_snapshot();
        EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = p);
        PERFORM pg_sleep(0.05);
    END LOOP;
END $f$;
SELECT remote_error('SELECT drop_long_list(2000000)');
-- The victim session is gone ...
SELECT wait_until_gone(:victim_pid);
SELECT count(*) AS victim_still_there FROM pg_stat_activity WHERE pid = :victim_pid;
SELECT dblink_disconnect('victim');
DROP EXTENSION dblink;
-- ... and this one answers, and runs the same function on a short list.
SELECT drop_long_list(1000) AS answers;

-- Waiting inside std. A sleep answers the cancel (std::thread::sleep waits on the
-- backend's latch); a wait that nothing could end (one thread: a Mutex locked twice, a
-- Condvar, a channel whose sender is the body itself, thread::park) is an ERROR at once
-- instead of a hang.
CREATE FUNCTION sleep_long() RETURNS int LANGUAGE plrust AS $$
    std::thread::sleep(std::time::Duration::from_secs(3600));
    Ok(Some(1))
$$;
CREATE FUNCTION sleep_swallowed() RETURNS int LANGUAGE plrust AS $$
    loop {
        let _ = std::panic::catch_unwind(|| std::thread::sleep(std::time::Duration::from_secs(3600)));
    }
$$;
CREATE FUNCTION sleep_short(ms int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    let t0 = std::time::Instant::now();
    std::thread::sleep(std::time::Duration::from_millis(ms as u64));
    Ok(Some((t0.elapsed().as_millis() as i64 >= ms) as i64))
$$;
CREATE FUNCTION lock_twice() RETURNS int LANGUAGE plrust AS $$
    let m = std::sync::Mutex::new(1);
    let _a = m.lock().unwrap();
    let b = m.lock().unwrap();
    Ok(Some(*b))
$$;
CREATE FUNCTION recv_from_self() RETURNS int LANGUAGE plrust AS $$
    let (tx, rx) = std::sync::mpsc::channel::<i32>();
    let v = rx.recv().unwrap_or(0);
    drop(tx);
    Ok(Some(v))
$$;
CREATE FUNCTION park_forever() RETURNS int LANGUAGE plrust AS $$
    std::thread::park();
    Ok(Some(1))
$$;
SELECT sleep_short(20) AS slept_at_least_20ms;
SET statement_timeout = '300ms';
SELECT sleep_long();
\echo :LAST_ERROR_SQLSTATE
SELECT sleep_swallowed();
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT lock_twice();
SELECT recv_from_self();
SELECT park_forever();
SELECT 1 AS answers;
