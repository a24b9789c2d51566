-- RETURNS SETOF and RETURNS TABLE: the body returns a SetOfIterator of Option<T> or a
-- TableIterator of tuples of Options; the rows go to a tuplestore (materialize mode).

-- The original PL/Rust's documentation examples, unchanged.
CREATE OR REPLACE FUNCTION split_whitespace(s text) RETURNS SETOF text STRICT LANGUAGE plrust AS $$
    let by_whitespace = s.split_whitespace();   // borrows from `s` which is a `&str`
    let mapped = by_whitespace.map(|token| {
        if token == "this" { None }     // just to demonstrate returning a NULL 
        else { Some(token.to_string()) }
    });
    let iter = SetOfIterator::new(mapped);
    Ok(Some(iter)) 
$$;
SELECT * FROM split_whitespace('hello world, this is a plrust set returning function');

CREATE OR REPLACE FUNCTION count_words(s text) RETURNS TABLE (count int, word text) STRICT LANGUAGE plrust AS $$
    use std::collections::HashMap;
    let mut buckets: HashMap<&str, i32> = Default::default();
    
    for word in s.split_whitespace() {
        buckets.entry(word).and_modify(|cnt| *cnt += 1).or_insert(1);
    }
    
    let as_tuples = buckets.into_iter().map(|(word, cnt)| {
        ( Some(cnt), Some(word.to_string()) )
    }); 
    Ok(Some(TableIterator::new(as_tuples)))
$$;
SELECT * FROM count_words('this is a test that is testing plrust''s SRF support') ORDER BY count DESC, word;

-- SETOF: NULL rows, no rows (Ok(None) and an empty iterator), in FROM and in the select
-- list, with ORDINALITY and LIMIT.
CREATE FUNCTION numbers(n int) RETURNS SETOF int STRICT LANGUAGE plrust AS $$
    Ok(Some(SetOfIterator::new((1..=n).map(|i| if i % 3 == 0 { None } else { Some(i) }))))
$$;
SELECT * FROM numbers(7) WITH ORDINALITY;
SELECT numbers(4) AS in_select_list, 'x' AS other;
SELECT count(*) AS none FROM numbers(0);
SELECT * FROM numbers(1000) LIMIT 2;
CREATE FUNCTION no_rows(give_none bool) RETURNS SETOF text STRICT LANGUAGE plrust AS $$
    if give_none { Ok(None) } else { Ok(Some(SetOfIterator::empty())) }
$$;
SELECT count(*) AS from_none FROM no_rows(true);
SELECT count(*) AS from_empty FROM no_rows(false);

-- A non-STRICT SETOF function called with NULL.
CREATE FUNCTION repeat_text(t text, n int) RETURNS SETOF text LANGUAGE plrust AS $$
    let n = n.unwrap_or(0);
    Ok(Some(SetOfIterator::new((0..n).map(move |_| t.map(str::to_owned)))))
$$;
SELECT r IS NULL AS is_null, r FROM repeat_text(NULL, 2) r;
SELECT * FROM repeat_text('multibyte ✓', 2);

-- Many rows: each row's datums are freed once stored, the store spills past work_mem.
CREATE FUNCTION many(n int8) RETURNS SETOF text STRICT LANGUAGE plrust AS $$
    Ok(Some(SetOfIterator::new((0..n).map(|i| Some(format!("row {i:08}"))))))
$$;
SET work_mem = '64kB';
SELECT count(*), min(r), max(r) FROM many(300000) r;
RESET work_mem;

-- Element types that are not plain scalars: arrays (labelled with the declared element
-- type), numeric, ranges.
CREATE FUNCTION names() RETURNS SETOF varchar[] LANGUAGE plrust AS $$
    Ok(Some(SetOfIterator::new(vec![Some(vec![Some("a".to_string()), None]), None, Some(vec![])])))
$$;
SELECT n, pg_typeof(n), n::text FROM names() n;
SELECT array_to_string(n, ',', '*') FROM names() n WHERE n IS NOT NULL;
CREATE FUNCTION halves(n numeric) RETURNS SETOF numeric STRICT LANGUAGE plrust AS $$
    let two = AnyNumeric::from(2);
    let mut v = Vec::new();
    let mut x = n;
    for _ in 0..3 { x = x / two.clone(); v.push(Some(x.clone())); }
    Ok(Some(SetOfIterator::new(v)))
$$;
SELECT * FROM halves(1);

-- TABLE: several columns with NULLs, one column (a 1-tuple), array and text columns.
CREATE FUNCTION pairs(n int) RETURNS TABLE (i int, label text, tags varchar[]) STRICT LANGUAGE plrust AS $$
    Ok(Some(TableIterator::new((1..=n).map(|i| {
        let label = if i == 2 { None } else { Some(format!("#{i}")) };
        (Some(i), label, Some(vec![Some(i.to_string())]))
    }))))
$$;
SELECT * FROM pairs(3);
SELECT pg_typeof(tags) FROM pairs(1);
CREATE FUNCTION single_column(n int) RETURNS TABLE (square int8) STRICT LANGUAGE plrust AS $$
    Ok(Some(TableIterator::new((1..=n as i64).map(|i| (Some(i * i),)))))
$$;
SELECT * FROM single_column(4);
CREATE FUNCTION null_rows() RETURNS TABLE (a int, b text) LANGUAGE plrust AS $$
    Ok(Some(TableIterator::once((None, None))))
$$;
SELECT a IS NULL AS a_null, b IS NULL AS b_null FROM null_rows();
-- TableIterator rows spelled with name!, as the original's signatures show them.
CREATE FUNCTION named_rows() RETURNS TABLE (count int, word text) LANGUAGE plrust AS $$
    let rows: Vec<(name!(count, Option<i32>), name!(word, Option<String>))> = vec![(Some(1), Some("one".into()))];
    Ok(Some(TableIterator::new(rows)))
$$;
SELECT * FROM named_rows();

-- SETOF record with OUT parameters is a table too.
CREATE FUNCTION divisions(n int, OUT divisor int, OUT quotient int) RETURNS SETOF record STRICT LANGUAGE plrust AS $$
    Ok(Some(TableIterator::new((1..=n).filter(move |d| n % d == 0).map(move |d| (Some(d), Some(n / d))))))
$$;
SELECT * FROM divisions(12);

-- A set function joined laterally, called once per outer row.
SELECT t.n, p.i, p.label FROM (VALUES (1), (2)) t(n), LATERAL pairs(t.n) p ORDER BY 1, 2;

-- Errors: an Err before any row, a panic in the middle of the iteration. The statement
-- fails with the ERROR and returns no rows; the session goes on.
CREATE FUNCTION failing(at int) RETURNS SETOF int STRICT LANGUAGE plrust AS $$
    if at < 0 { return Err("no rows for a negative position".into()); }
    Ok(Some(SetOfIterator::new((0..10).map(move |i| if i == at { panic!("row {i} is bad") } else { Some(i) }))))
$$;
SELECT * FROM failing(-1);
SELECT * FROM failing(3);
SELECT count(*) AS after_errors FROM failing(99);

-- A row type the Rust tuple does not match cannot be written: rustc refuses the body.
CREATE FUNCTION wrong_width() RETURNS TABLE (a int, b int) LANGUAGE plrust AS $$
    Ok(Some(TableIterator::once((Some(1),))))
$$;

-- Attack: an endless iterator that runs no body code per row (`Some` is not a closure,
-- so no probe of the body runs) would fill the disk; statement_timeout stops it, at the
-- probe PL/Rust runs between rows.
CREATE FUNCTION endless() RETURNS SETOF int8 LANGUAGE plrust AS $$
    Ok(Some(SetOfIterator::new((0..).map(Some))))
$$;
SET statement_timeout = '300ms';
SELECT count(*) FROM endless();
RESET statement_timeout;
SELECT 'still connected' AS after_timeout;
