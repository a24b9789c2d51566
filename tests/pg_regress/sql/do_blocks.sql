-- DO blocks: the body of a function without arguments returning void, built in the same
-- sandbox, once: an identical block runs again without a build.

DO $$
    let squares: Vec<i32> = (1..=4).map(|i| i * i).collect();
    notice!("squares: {squares:?}");
    Ok(None)
$$ LANGUAGE plrust;

-- The same block again: no build (this session's count does not move), no new artifact.
SELECT plrust.session_builds() AS builds_before \gset
SELECT count(*) AS artifacts_before FROM plrust.artifacts \gset
DO $$
    let squares: Vec<i32> = (1..=4).map(|i| i * i).collect();
    notice!("squares: {squares:?}");
    Ok(None)
$$ LANGUAGE plrust;
SELECT plrust.session_builds() - :builds_before AS builds, count(*) - :artifacts_before AS new_artifacts FROM plrust.artifacts;
-- A new session finds it stored: no build there either.
\c
SELECT plrust.session_builds() AS builds_before \gset
DO $$
    let squares: Vec<i32> = (1..=4).map(|i| i * i).collect();
    notice!("squares: {squares:?}");
    Ok(None)
$$ LANGUAGE plrust;
SELECT plrust.session_builds() - :builds_before AS builds_in_new_session;

-- Items, ? and Ok(Some(())) work as in a function body.
DO $$
    fn parse_all(items: &[&str]) -> Result<Vec<i64>, std::num::ParseIntError> {
        items.iter().map(|s| s.parse()).collect()
    }
    let total: i64 = parse_all(&["1", "22", "333"])?.iter().sum();
    info!("total {total}");
    Ok(Some(()))
$$ LANGUAGE plrust;

-- Errors: an Err, a panic (located in the block), a rustc error, a syntax error. Each
-- aborts only its own statement's transaction; a failed block leaves no artifact.
SELECT count(*) AS artifacts_before FROM plrust.artifacts \gset
DO $$ Err("the block says no".into()) $$ LANGUAGE plrust;
DO $$
    let v: Vec<i32> = Vec::new();
    notice!("{}", v[3]);
    Ok(None)
$$ LANGUAGE plrust;
DO $$ let x: i32 = "text"; Ok(None) $$ LANGUAGE plrust;
DO $$ let = ; $$ LANGUAGE plrust;
SELECT count(*) - :artifacts_before AS artifacts_left_by_failed_blocks FROM plrust.artifacts;
BEGIN;
DO $$ notice!("in a transaction that rolls back"); Ok(None) $$ LANGUAGE plrust;
ROLLBACK;
SELECT count(*) - :artifacts_before AS artifacts_after_rollback FROM plrust.artifacts;

-- A read-only transaction can run a new block: it is built, not stored.
BEGIN READ ONLY;
DO $$ notice!("read only"); Ok(None) $$ LANGUAGE plrust;
COMMIT;
SELECT count(*) - :artifacts_before AS artifacts_after_read_only FROM plrust.artifacts;

-- Any role with USAGE on the language may run DO blocks; the trust checks apply.
CREATE ROLE plrust_do_author;
SET ROLE plrust_do_author;
DO $$ notice!("hello from {}", "an ordinary role"); Ok(None) $$ LANGUAGE plrust;
-- Attack: read a server file from a DO block. Refused before it is built (42501).
DO $$
    let secret = std::fs::read_to_string("/etc/passwd")?;
    notice!("{secret}");
    Ok(None)
$$ LANGUAGE plrust;
-- Attack: unsafe code in a DO block. Refused (42501).
DO $$
    let p = 8 as *const u8;
    notice!("{}", unsafe { *p });
    Ok(None)
$$ LANGUAGE plrust;
RESET ROLE;
DROP ROLE plrust_do_author;

-- Attack: a DO block that never ends is cancelled by statement_timeout (57014), and
-- unbounded recursion in one is ERROR 54001 (black_box keeps the optimizer from
-- turning the recursion into a loop); the session goes on.
SET statement_timeout = '2s';
DO $$ let mut n: u64 = 0; loop { n = n.wrapping_add(1); } $$ LANGUAGE plrust;
DO $$
    fn down(n: u64) -> u64 { if n == 0 { 0 } else { 1 + std::hint::black_box(down(n - 1)) } }
    notice!("{}", down(u64::MAX));
    Ok(None)
$$ LANGUAGE plrust;
RESET statement_timeout;
SELECT 'still connected' AS after_runaways;

