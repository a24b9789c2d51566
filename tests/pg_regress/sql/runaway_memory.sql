-- Memory bombs: Rust's heap is PostgreSQL memory, the session's "PL/Rust" context, held
-- to plrust.max_memory. Each case names the attack and shows the exact ERROR (53200, out
-- of memory) and that the session then answers; scripts/regress.sh checks afterwards
-- that the server never restarted.

CREATE ROLE plrust_hog;
GRANT CREATE ON SCHEMA public TO plrust_hog;
-- The limit is the superuser's to set; a function author cannot raise it (42501; for a
-- SET before plrust is loaded in the session, see the suite not_preloaded).
SET ROLE plrust_hog;
CREATE FUNCTION hold(mb int4) RETURNS int8 STRICT LANGUAGE plrust AS $$
    let v = vec![7u8; (mb as usize) << 20];
    Ok(Some(v.iter().map(|b| *b as i64).sum()))
$$;
SHOW plrust.max_memory;
SET plrust.max_memory = '100GB';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET plrust.max_memory = '256MB';

-- The heap is visible to PostgreSQL, in its own context under TopMemoryContext.
SET ROLE plrust_hog;
SELECT hold(1);
RESET ROLE;
SELECT name, parent, level FROM pg_backend_memory_contexts WHERE name = 'PL/Rust';
SET ROLE plrust_hog;

-- Attack: one allocation of 10 GB. (black_box: an allocation nothing reads may be
-- removed by the optimizer, which then allocates nothing at all.)
CREATE FUNCTION bomb_10gb() RETURNS int8 LANGUAGE plrust AS $$
    let v = std::hint::black_box(vec![0u8; 10 << 30]);
    Ok(Some(v.len() as i64))
$$;
SELECT bomb_10gb();
\echo :LAST_ERROR_SQLSTATE
SELECT 1 AS answers;

\set VERBOSITY terse
-- Attack: a Vec growing in a loop.
CREATE FUNCTION bomb_vec() RETURNS int8 LANGUAGE plrust AS $$
    let mut v: Vec<u64> = Vec::new();
    loop { v.push(v.len() as u64); }
$$;
SELECT bomb_vec();
\echo :LAST_ERROR_SQLSTATE
-- Attack: a String doubling.
CREATE FUNCTION bomb_string() RETURNS int8 LANGUAGE plrust AS $$
    let mut s = String::from("plrust");
    loop { s = format!("{s}{s}"); }
$$;
SELECT bomb_string();
\echo :LAST_ERROR_SQLSTATE
-- Attack: a HashMap filled forever.
CREATE FUNCTION bomb_hashmap() RETURNS int8 LANGUAGE plrust AS $$
    let mut m = std::collections::HashMap::new();
    let mut i: u64 = 0;
    loop { m.insert(i, i.to_string()); i += 1; }
$$;
SELECT bomb_hashmap();
\echo :LAST_ERROR_SQLSTATE
-- Attack: catch the allocation failure and keep allocating. The headroom a failure grants
-- (for the error's own report) is bounded, so the call still ends out of memory.
CREATE FUNCTION bomb_catch_oom() RETURNS int8 LANGUAGE plrust AS $$
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        let r = std::panic::catch_unwind(|| vec![1u8; 64 << 20]);
        if let Ok(v) = r { kept.push(v); }
        kept.push(vec![2u8; 4096]);
    }
$$;
SELECT bomb_catch_oom();
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default

-- After the limit was hit, the memory came back: the next call works, in the same session.
-- (The limit counts what the context holds, including the free small chunks it keeps for
-- reuse: the HashMap's many small strings left some of the 256 MB held.)
SELECT hold(100) AS after_the_limit;
SELECT 1 AS answers;

-- Alignment larger than palloc's is honoured (a 4 KiB-aligned type).
CREATE FUNCTION aligned_pages(n int4) RETURNS bool STRICT LANGUAGE plrust AS $$
    #[derive(Clone, Copy)]
    #[repr(align(4096))]
    struct Page([u8; 64]);
    let pages: Vec<Box<Page>> = (0..n).map(|i| Box::new(Page([i as u8; 64]))).collect();
    let aligned = pages.iter().all(|p| (&**p as *const Page as usize) % 4096 == 0);
    let intact = pages.iter().enumerate().all(|(i, p)| p.0.iter().all(|b| *b == i as u8));
    Ok(Some(aligned && intact))
$$;
SELECT aligned_pages(1000);

-- A single allocation past 1 GB (palloc's ordinary maximum) is fine when the limit allows it.
RESET ROLE;
SET plrust.max_memory = '2GB';
SET ROLE plrust_hog;
SELECT hold(1100) = 7::int8 * (1100 << 20) AS past_1gb;

-- The bombs above left this session's context keeping well over 16 MB of freed blocks.
-- Attack: a limit lowered below what the session already keeps. The refused request's
-- panic must still unwind (its allocations get the headroom past what is held, not past
-- the limit): ERROR 53200, not an aborted session.
-- (Terse: how much the context keeps depends on the bombs' allocation pattern.)
RESET ROLE;
SELECT total_bytes > 32 * 1024 * 1024 AS keeps_more_than_the_new_limit
FROM pg_backend_memory_contexts WHERE name = 'PL/Rust';
SET plrust.max_memory = '16MB';
\set VERBOSITY terse
SELECT hold(32);
\echo :LAST_ERROR_SQLSTATE
SELECT hold(32);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT 1 AS answers;

-- The limit follows the setting wherever it changes (no call reads it: PL/Rust hands each
-- new value to the allocator): a rolled-back SET LOCAL is undone with the transaction, and
-- a function's own SET clause holds during its calls only. In a new session, whose
-- context starts empty.
\c
SET plrust.max_memory = '64MB';
BEGIN;
SET LOCAL plrust.max_memory = '16MB';
SELECT hold(32);
ROLLBACK;
SELECT hold(32) = 7::int8 * (32 << 20) AS after_rollback;
ALTER FUNCTION hold(int4) SET plrust.max_memory = '16MB';
SELECT hold(32);
SELECT current_setting('plrust.max_memory') AS outside_the_call;
SELECT hold(8) = 7::int8 * (8 << 20) AS within_16mb;
ALTER FUNCTION hold(int4) RESET plrust.max_memory;
SELECT hold(32) = 7::int8 * (32 << 20) AS after_reset;

-- Attack: leak (an Rc cycle, which safe Rust allows) 1 MB per call, 1000 calls. The calls
-- fail with out_of_memory once the session holds 64 MB, and the context stays within it.
-- (In a new session: a context keeps the blocks of freed small chunks for reuse, so the
-- bombs above left this one holding up to their limit.)
CREATE FUNCTION leak_1mb() RETURNS int4 LANGUAGE plrust AS $$
    use std::{cell::RefCell, rc::Rc};
    struct Node { data: Vec<u8>, next: RefCell<Option<Rc<Node>>> }
    let node = Rc::new(Node { data: vec![1u8; 1 << 20], next: RefCell::new(None) });
    *node.next.borrow_mut() = Some(node.clone());
    Ok(Some(node.data.len() as i32))
$$;
\c
SET plrust.max_memory = '64MB';
SET ROLE plrust_hog;
CREATE TEMP TABLE leak_calls(ok int, failed int);
DO $$
DECLARE ok int := 0; failed int := 0;
BEGIN
    FOR i IN 1..1000 LOOP
        BEGIN
            PERFORM leak_1mb();
            ok := ok + 1;
        EXCEPTION WHEN out_of_memory THEN
            failed := failed + 1;
        END;
    END LOOP;
    INSERT INTO leak_calls VALUES (ok, failed);
END $$;
SELECT ok BETWEEN 50 AND 64 AS some_calls_leaked, ok + failed AS calls FROM leak_calls;
RESET ROLE;
SELECT total_bytes <= (64 + 2) * 1024 * 1024 AS context_within_limit
FROM pg_backend_memory_contexts WHERE name = 'PL/Rust';
SELECT 1 AS answers;

-- The leaked memory is this session's: a new session starts empty.
\c
SET plrust.max_memory = '64MB';
SELECT hold(32) AS fresh_session;

-- A message sent while the session is at its limit: the report's own allocations (made
-- once PostgreSQL has started it) are not the body's, and do not fail. The body fills the
-- context until not one more byte fits, then sends a NOTICE with an empty text (which
-- the body allocates nothing for).
SET ROLE plrust_hog;
CREATE FUNCTION notice_at_limit() RETURNS bool LANGUAGE plrust AS $$
    let mut hold: Vec<Vec<u8>> = Vec::with_capacity(400_000);
    let mut size = 1usize << 20;
    loop {
        let mut v: Vec<u8> = Vec::new();
        if v.try_reserve_exact(size).is_ok() {
            if hold.len() == hold.capacity() { break; }
            hold.push(v);
        } else if size == 1 {
            break;
        } else {
            size /= 16;
        }
    }
    let at_limit = hold.len() < hold.capacity()
        && Vec::<u8>::new().try_reserve_exact(1).is_err();
    notice!("");
    Ok(Some(at_limit))
$$;
SELECT notice_at_limit() AS noticed_at_the_limit;
SELECT notice_at_limit() AS and_again;
RESET ROLE;

DROP FUNCTION hold, bomb_10gb, bomb_vec, bomb_string, bomb_hashmap, bomb_catch_oom,
              aligned_pages, leak_1mb, notice_at_limit;
REVOKE CREATE ON SCHEMA public FROM plrust_hog;
DROP ROLE plrust_hog;
