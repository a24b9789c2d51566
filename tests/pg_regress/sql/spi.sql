-- SPI: SQL from a body. Queries with bound arguments, rows read into Rust types,
-- changes, prepared statements kept across calls, cursors, read-only rules by
-- volatility, SQL errors as ERRORs, and the ways a body could misuse a connection.
CREATE SCHEMA spi;
SET search_path = spi, public;

-- The original PL/Rust's documentation example, unchanged.
CREATE FUNCTION spi_srf()
    RETURNS SETOF BIGINT
    LANGUAGE plrust
AS
$$
    let query = "SELECT id::BIGINT FROM generate_series(1, 3) id;";

    Spi::connect(|client| {
        let mut results = Vec::new();
        let mut tup_table = client.select(query, None, None)?;

        while let Some(row) = tup_table.next() {
            let id = row["id"].value::<i64>()?;
            results.push(id);
        }
        Ok(Some(SetOfIterator::new(results)))
    })

$$;
SELECT * FROM spi_srf();

-- Spi::get_one / get_two / get_three, owned values of several types.
CREATE FUNCTION spi_values() RETURNS text LANGUAGE plrust AS $$
    let n = Spi::get_one::<i64>("SELECT 9223372036854775807::int8")?;
    let (t, f) = Spi::get_two::<String, f64>("SELECT 'grüße'::text, 'NaN'::float8")?;
    let (a, b, c) = Spi::get_three::<Vec<Option<i32>>, AnyNumeric, bool>(
        "SELECT ARRAY[1, NULL, 3], 1.50::numeric, NULL::bool")?;
    let d = Spi::get_one::<Date>("SELECT 'infinity'::date")?;
    let j = Spi::get_one::<JsonB>("SELECT '{\"a\": [1, 2]}'::jsonb")?;
    Ok(Some(format!("{n:?} {t:?} {f:?} {a:?} {} {c:?} {} {}",
        b.unwrap(), d.unwrap(), j.unwrap().0)))
$$;
SELECT spi_values();

-- Columns after a NULL and after variable-length ones (read from the row's bytes, not
-- at a cached offset), one at a time and as a row; a compressed text, detoasted to be
-- read; fixed-size columns read as another type are errors.
CREATE TABLE spi.wide (a int, b text, c int8, d date, e float8, f text, g bool);
ALTER TABLE spi.wide ALTER COLUMN f SET STORAGE MAIN;
INSERT INTO spi.wide VALUES (1, NULL, 3, NULL, 2.5, repeat('ab', 100000), true);
SELECT pg_column_compression(f) IS NOT NULL AS compressed FROM spi.wide;
CREATE FUNCTION spi_wide() RETURNS text LANGUAGE plrust AS $$
    let one = Spi::connect(|c| {
        let t = c.select("SELECT * FROM spi.wide", None, None)?.first();
        Ok::<_, spi::Error>(format!("{:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            t.get::<i32>(1)?, t.get::<String>(2)?, t.get::<i64>(3)?, t.get::<Date>(4)?,
            t.get::<f64>(5)?, t.get::<String>(6)?.map(|f| f.len()), t.get::<bool>(7)?))
    })?;
    let row = Spi::connect(|c| {
        let row = c.select("SELECT * FROM spi.wide", None, None)?.first().get_heap_tuple()?.unwrap();
        Ok::<_, spi::Error>(format!("{:?} {:?} {:?} {:?} {}", row.get::<i32>(1)?,
            row.get::<i64>(3)?, row.get::<f64>(5)?, row.get::<bool>(7)?, row.columns()))
    })?;
    let wrong = Spi::get_one::<String>("SELECT a FROM spi.wide").unwrap_err();
    let other = Spi::get_one::<bool>("SELECT a FROM spi.wide").unwrap_err();
    Ok(Some(format!("{one} | {row} | {wrong} | {other}")))
$$;
SELECT spi_wide();

-- Bound arguments: as values with their Rust type (`&[x.into()]`), and in the original
-- PL/Rust's form (`Some(vec![(PgOid, Option<Datum>)])`). NULLs included.
CREATE FUNCTION spi_args(a int, b text) RETURNS text LANGUAGE plrust AS $$
    let sum = Spi::get_one_with_args::<i32>("SELECT $1 + $2", &[a.into(), 10i32.into()])?;
    let txt = Spi::get_one_with_args::<String>("SELECT $1 || '!'", &[b.into()])?;
    let null = Spi::get_one_with_args::<bool>("SELECT $1 IS NULL",
        &[DatumWithOid::null::<i64>()])?;
    let old_style = Spi::connect(|client| {
        client.select("SELECT $1 * 2 AS doubled", None,
            Some(vec![(PgBuiltInOids::INT4OID.oid(), 21.into_datum())]))?
            .first()
            .get_one::<i32>()
    })?;
    Ok(Some(format!("{sum:?} {txt:?} {null:?} {old_style:?}")))
$$;
SELECT spi_args(1, 'héllo');
SELECT spi_args(NULL, NULL);

-- Borrowed reads (&str, &[u8]) live as long as the connection, zero-copy.
CREATE FUNCTION spi_borrowed() RETURNS int LANGUAGE plrust AS $$
    Spi::connect(|client| {
        let table = client.select("SELECT repeat('x', 1000) AS s, '\\xdeadbeef'::bytea AS b",
            None, None)?.first();
        let s: &str = table.get_by_name("s")?.unwrap();
        let b: &[u8] = table.get(2)?.unwrap();
        Ok(Some((s.len() + b.len()) as i32))
    })
$$;
SELECT spi_borrowed();

-- Attack: keep a borrowed value past the connection (its memory is freed then).
-- Refused by rustc.
CREATE FUNCTION spi_escape() RETURNS text LANGUAGE plrust AS $$
    let s: &str = Spi::connect(|client| {
        client.select("SELECT 'gone'", None, None).unwrap().first().get_one::<&str>().unwrap().unwrap()
    });
    Ok(Some(s.to_string()))
$$;

-- Changes from a VOLATILE function; each statement sees the ones before it.
CREATE TABLE spi.items (id int PRIMARY KEY, name text NOT NULL);
CREATE FUNCTION spi_insert(n int) RETURNS bigint STRICT LANGUAGE plrust AS $$
    Spi::connect(|client| {
        for i in 1..=n {
            client.update("INSERT INTO spi.items VALUES ($1, 'item ' || $1)", None, &[i.into()])?;
        }
        let returned = client.update("UPDATE spi.items SET name = upper(name) WHERE id <= 2 RETURNING id",
            None, None)?;
        notice!("updated {} rows", returned.len());
        Ok(client.select("SELECT count(*) FROM spi.items", None, None)?.first().get_one::<i64>()?)
    })
$$;
SELECT spi_insert(5);
SELECT * FROM spi.items ORDER BY id;

-- A STABLE function's statements run read-only, as in PL/pgSQL: a change is refused.
CREATE FUNCTION spi_stable_insert() RETURNS int STABLE LANGUAGE plrust AS $$
    Spi::run("INSERT INTO spi.items VALUES (100, 'x')")?;
    Ok(Some(1))
$$;
SELECT spi_stable_insert();
\echo :LAST_ERROR_SQLSTATE
-- ... and its reads work.
CREATE FUNCTION spi_stable_count() RETURNS bigint STABLE LANGUAGE plrust AS $$
    Ok(Spi::get_one("SELECT count(*) FROM spi.items")?)
$$;
SELECT spi_stable_count();
-- ALTER FUNCTION to VOLATILE: the same library now may write (volatility is read per
-- call, not built in).
ALTER FUNCTION spi_stable_insert() VOLATILE;
SELECT spi_stable_insert();
DELETE FROM spi.items WHERE id = 100;

-- PostgreSQL's errors end the call with their own SQLSTATE ...
CREATE FUNCTION spi_run(q text) RETURNS int STRICT LANGUAGE plrust AS $$
    Spi::run(q)?;
    Ok(Some(1))
$$;
SELECT spi_run('SELEC 1');
\echo :LAST_ERROR_SQLSTATE
SELECT spi_run('INSERT INTO spi.items VALUES (1, ''dup'')');
\echo :LAST_ERROR_SQLSTATE
SELECT spi_run('SELECT 1/0');
\echo :LAST_ERROR_SQLSTATE
-- ... even when the body ignores them and carries on.
CREATE FUNCTION spi_ignores_error() RETURNS int LANGUAGE plrust AS $$
    let _ = Spi::run("INSERT INTO spi.items VALUES (1, 'dup')");
    Spi::run("INSERT INTO spi.items VALUES (200, 'after the error')")?;
    Ok(Some(1))
$$;
SELECT spi_ignores_error();
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS nothing_inserted FROM spi.items WHERE id = 200;
-- Attack: replace PL/Rust's panic hook (which records PostgreSQL's ERRORs) and catch
-- the ERROR, to commit after a failed unique check: refused at CREATE (42501).
CREATE FUNCTION spi_swallow() RETURNS int LANGUAGE plrust AS $$
    let _ = std::panic::take_hook();
    let _ = std::panic::catch_unwind(|| Spi::run("INSERT INTO spi.items VALUES (1, 'dup')"));
    Ok(Some(1))
$$;
\echo :LAST_ERROR_SQLSTATE
-- Transaction control cannot run through SPI: 0A000.
SELECT spi_run('COMMIT');
\echo :LAST_ERROR_SQLSTATE
SELECT 1 AS session_goes_on;

-- Mistakes on the Rust side are errors the body can handle, each with a SQLSTATE.
CREATE FUNCTION spi_mistake(which int) RETURNS text STRICT LANGUAGE plrust AS $$
    let r: Result<Option<String>, spi::Error> = match which {
        // A text column read as an integer.
        1 => Spi::get_one::<i64>("SELECT 'abc'::text").map(|v| v.map(|v| v.to_string())),
        // An unknown column.
        2 => Spi::connect(|c| c.select("SELECT 1 AS a", None, None)?.first().get_by_name::<i32, _>("b"))
                .map(|v| v.map(|v| v.to_string())),
        // No rows.
        3 => Spi::get_one::<String>("SELECT 'x' WHERE false"),
        // An int8 where the prepared statement takes int4.
        4 => Spi::connect(|c| {
                let stmt = c.prepare("SELECT $1 + 1", &[PgBuiltInOids::INT4OID.oid()])?;
                c.select(&stmt, None, &[5i64.into()])?.first().get_one::<i32>()
             }).map(|v| v.map(|v| v.to_string())),
        // The wrong number of arguments.
        5 => Spi::connect(|c| {
                let stmt = c.prepare("SELECT $1 + $2", &[PgBuiltInOids::INT4OID.oid(), PgBuiltInOids::INT4OID.oid()])?;
                c.select(&stmt, None, &[5i32.into()])?.first().get_one::<i32>()
             }).map(|v| v.map(|v| v.to_string())),
        // A column beyond the last.
        _ => Spi::connect(|c| c.select("SELECT 1", None, None)?.first().get::<i32>(7))
                .map(|v| v.map(|v| v.to_string())),
    };
    match r {
        Ok(v) => Ok(v),
        Err(e) if which < 0 => Ok(Some(format!("handled: {e}"))),
        Err(e) => Err(e.into()),
    }
$$;
SELECT spi_mistake(1);
\echo :LAST_ERROR_SQLSTATE
SELECT spi_mistake(2);
\echo :LAST_ERROR_SQLSTATE
SELECT spi_mistake(3);
\echo :LAST_ERROR_SQLSTATE
SELECT spi_mistake(4);
\echo :LAST_ERROR_SQLSTATE
SELECT spi_mistake(5);
\echo :LAST_ERROR_SQLSTATE
SELECT spi_mistake(6);
\echo :LAST_ERROR_SQLSTATE
-- Attack: name a type for a value of another (the original PL/Rust's form lets the
-- caller say which type a datum is). Read as text, an int8 would be a pointer: the
-- value's own type must fit the one named, before anything runs (42804).
CREATE FUNCTION spi_forged_type(which int) RETURNS text STRICT LANGUAGE plrust AS $$
    let (oid, value) = match which {
        1 => (PgBuiltInOids::TEXTOID.oid(), 123456789i64.into_datum()),
        // Everything is binary-coercible to a pseudo-type such as anyelement.
        _ => (PgBuiltInOids::ANYELEMENTOID.oid(), 5i32.into_datum()),
    };
    Ok(Spi::connect(|client| {
        client.select("SELECT length($1::text)::text", None, Some(vec![(oid, value)]))?
            .first().get_one::<String>()
    })?)
$$;
SELECT spi_forged_type(1);
\echo :LAST_ERROR_SQLSTATE
SELECT spi_forged_type(2);
\echo :LAST_ERROR_SQLSTATE
-- A varchar value where text is named fits (same representation).
CREATE FUNCTION spi_varchar_as_text() RETURNS text LANGUAGE plrust AS $$
    Ok(Spi::get_one_with_args::<String>("SELECT upper($1)",
        Some(vec![(PgBuiltInOids::VARCHAROID.oid(), "abc".into_datum())]))?)
$$;
SELECT spi_varchar_as_text();

-- row["missing"] panics: an ERROR naming the column.
CREATE FUNCTION spi_index_missing() RETURNS int LANGUAGE plrust AS $$
    Spi::connect(|c| {
        let row = c.select("SELECT 1 AS a", None, None)?.next().unwrap();
        Ok(row["missing"].value::<i32>()?)
    })
$$;
SELECT spi_index_missing();

-- A prepared statement kept in a static: prepared once per session, run by later
-- calls (a kept plan outlives the connection and the call).
CREATE FUNCTION spi_kept(id int) RETURNS text STRICT LANGUAGE plrust AS $$
    static STMT: std::sync::OnceLock<OwnedPreparedStatement> = std::sync::OnceLock::new();
    Spi::connect(|client| {
        let stmt = match STMT.get() {
            Some(stmt) => stmt,
            None => {
                notice!("preparing");
                let prepared = client.prepare(
                    "SELECT name FROM spi.items WHERE id = $1", &[PgBuiltInOids::INT4OID.oid()])?;
                let _ = STMT.set(prepared.keep());
                STMT.get().unwrap()
            }
        };
        Ok(client.select(stmt, None, &[id.into()])?.first().get_one::<String>()?)
    })
$$;
SELECT spi_kept(1);
SELECT spi_kept(3);
SELECT spi_kept(99);
SELECT spi_kept(id) FROM generate_series(4, 5) id;

-- Cursors: fetched in chunks; left open by name for a later connection.
CREATE FUNCTION spi_cursor() RETURNS text LANGUAGE plrust AS $$
    let (first, name) = Spi::connect(|client| {
        let mut cursor = client.open_cursor("SELECT g FROM generate_series(1, 10) g", None);
        let first: Vec<i32> = cursor.fetch(3)?.map(|r| r.get::<i32>(1).unwrap().unwrap()).collect();
        Ok::<_, spi::Error>((first, cursor.detach_into_name()))
    })?;
    let rest = Spi::connect(|client| {
        let mut cursor = client.find_cursor(&name)?;
        let mut rest = Vec::new();
        loop {
            let chunk = cursor.fetch(4)?;
            if chunk.is_empty() { break; }
            for row in chunk { rest.push(row.get::<i32>(1)?.unwrap()); }
        }
        Ok::<_, spi::Error>(rest)
    })?;
    Ok(Some(format!("{first:?} then {rest:?}")))
$$;
SELECT spi_cursor();

-- Attack: close a cursor under the handle (SQL CLOSE), then fetch from it. The handle
-- is a name, found again at each fetch: an error (34000), not a dangling portal.
CREATE FUNCTION spi_cursor_closed() RETURNS int LANGUAGE plrust AS $$
    Spi::connect(|client| {
        let mut cursor = client.open_cursor("SELECT 1", None);
        client.update(&format!("CLOSE \"{}\"", cursor.name()), None, None)?;
        cursor.fetch(1)?;
        Ok(Some(1))
    })
$$;
SELECT spi_cursor_closed();
\echo :LAST_ERROR_SQLSTATE
-- A cursor SQL declared, found by name.
BEGIN;
DECLARE sqlcur CURSOR FOR SELECT g FROM generate_series(1, 3) g;
CREATE FUNCTION spi_find_sql_cursor() RETURNS int LANGUAGE plrust AS $$
    Ok(Spi::connect(|client| client.find_cursor("sqlcur")?.fetch(5).map(|t| Some(t.len() as i32)))?)
$$;
SELECT spi_find_sql_cursor();
COMMIT;

-- Attack: run a statement on an outer connection from inside an inner one (its
-- results would live in the inner connection's memory, freed first): refused.
CREATE FUNCTION spi_outer_in_inner() RETURNS int LANGUAGE plrust AS $$
    Spi::connect(|outer| {
        Spi::connect(|_inner| {
            Ok(outer.select("SELECT 1", None, None)?.first().get_one::<i32>()?)
        })
    })
$$;
SELECT spi_outer_in_inner();
\echo :LAST_ERROR_SQLSTATE
-- Nested connections used properly work.
CREATE FUNCTION spi_nested() RETURNS int LANGUAGE plrust AS $$
    Spi::connect(|outer| {
        let a = outer.select("SELECT 1", None, None)?.first().get_one::<i32>()?.unwrap();
        let b = Spi::connect(|inner| inner.select("SELECT 2", None, None)?.first().get_one::<i32>())?.unwrap();
        let c = outer.select("SELECT 3", None, None)?.first().get_one::<i32>()?.unwrap();
        Ok(Some(a * 100 + b * 10 + c))
    })
$$;
SELECT spi_nested();

-- Recursion through SQL: each level's connection is its own.
CREATE FUNCTION spi_fact(n int) RETURNS int8 STRICT LANGUAGE plrust AS $$
    if n <= 1 { return Ok(Some(1)); }
    let below = Spi::get_one_with_args::<i64>("SELECT spi.spi_fact($1)", &[(n - 1).into()])?;
    Ok(Some(n as i64 * below.unwrap()))
$$;
SELECT spi_fact(15);

-- A trigger's queries see its transition tables by name.
CREATE TABLE spi.audited (v int);
CREATE FUNCTION spi_transition() RETURNS trigger LANGUAGE plrust AS $$
    let (n, total) = Spi::get_two::<i64, i64>("SELECT count(*), sum(v) FROM new_rows")?;
    notice!("{} rows inserted, total {}", n.unwrap(), total.unwrap());
    Ok(None)
$$;
CREATE TRIGGER audited_ins AFTER INSERT ON spi.audited
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spi_transition();
INSERT INTO spi.audited SELECT g FROM generate_series(1, 4) g;

-- A cursor a trigger opens may read its transition tables, whose memory goes with the
-- connection: it is closed when the connection ends, even if left open by name.
CREATE FUNCTION spi_trigger_cursor() RETURNS trigger LANGUAGE plrust AS $$
    let name = Spi::connect(|c| c.open_cursor("SELECT v FROM new_rows", None).detach_into_name());
    let open = Spi::connect(|c| c.find_cursor(&name).is_ok());
    notice!("still open after its connection: {open}");
    Ok(None)
$$;
CREATE TRIGGER audited_cursor AFTER INSERT ON spi.audited
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spi_trigger_cursor();
INSERT INTO spi.audited VALUES (7);

-- A DO block uses SPI like a VOLATILE function.
DO LANGUAGE plrust $$
    Spi::run("INSERT INTO spi.items VALUES (50, 'from a DO block')")?;
    let n = Spi::get_one::<String>("SELECT name FROM spi.items WHERE id = 50")?;
    notice!("{}", n.unwrap());
    Ok(None)
$$;

-- Runaway: read a large value again and again inside one connection. Each owned read
-- detoasts in a scratch context freed after it, so the backend does not grow by the
-- value's size per read (20 reads of 5 MB here; the connection's memory is freed only
-- when it ends, and is not under plrust.max_memory).
CREATE TABLE spi.big (b bytea);
INSERT INTO spi.big SELECT convert_to(repeat('plrust', 1000000), 'UTF8');
CREATE FUNCTION spi_reread(times int) RETURNS text STRICT LANGUAGE plrust AS $$
    let total = "SELECT sum(total_bytes)::int8 FROM pg_backend_memory_contexts";
    Spi::connect(|client| {
        let before = client.select(total, None, &[])?.first().get_one::<i64>()?.unwrap();
        let mut read = 0;
        for _ in 0..times {
            let rows = client.select("SELECT b FROM spi.big", None, &[])?;
            for row in rows {
                read += row["b"].value::<Vec<u8>>()?.unwrap().len();
            }
        }
        let after = client.select(total, None, &[])?.first().get_one::<i64>()?.unwrap();
        let grown = (after - before) / (1 << 20);
        Ok(Some(format!("read {} MB, grew by under 10 MB: {}", read >> 20, grown < 10)))
    })
$$;
SELECT spi_reread(20);

-- Use after free: a row changed inside `Spi::connect` outlives the connection, whose
-- memory SPI_finish deletes. The body's values are made in the call's memory, not the
-- connection's: the row is intact after a second connection reuses that memory.
CREATE TYPE spi.pair AS (a int4, b text);
CREATE FUNCTION spi_row_outlives() RETURNS spi.pair LANGUAGE plrust AS $$
    let mut row = PgHeapTuple::new_composite_type("spi.pair")?;
    Spi::connect(|_| {
        row.set_by_name("a", 42)?;
        row.set_by_name("b", "made inside the connection".to_string())
    })?;
    Spi::connect(|client| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let mut other = PgHeapTuple::new_composite_type("spi.pair")?;
        other.set_by_name("a", -1)?;
        other.set_by_name("b", "x".repeat(300))?;
        client.select("SELECT repeat('y', 1000)", None, &[])?;
        Ok(())
    })?;
    Ok(Some(row))
$$;
SELECT spi_row_outlives();

-- Rows and arrays of rows read from a result: they point into it (read within the
-- connection). A column that is not a row is not read as one (a type mismatch, 42804).
CREATE FUNCTION spi_rows() RETURNS text LANGUAGE plrust AS $$
    Spi::connect(|client| {
        let query = "SELECT ROW(1, 'a')::spi.pair AS p, ARRAY[ROW(2, 'b'), NULL]::spi.pair[] AS ps, 5 AS n";
        let mut out = Vec::new();
        for row in client.select(query, None, &[])? {
            let p = row["p"].value::<PgHeapTuple<'_, AllocatedByRust>>()?.unwrap();
            out.push(format!("{:?} {:?}", p.get_by_name::<i32>("a")?, p.get_by_name::<String>("b")?));
            let ps = row["ps"].value::<Array<'_, PgHeapTuple<'_, AllocatedByRust>>>()?.unwrap();
            for q in ps.iter() {
                out.push(match q {
                    Some(q) => format!("{:?}", q.get_by_name::<String>("b")?),
                    None => "NULL".into(),
                });
            }
            out.push(format!("{:?}", row["n"].value::<PgHeapTuple<'_, AllocatedByRust>>().err().map(|e| e.sqlstate())));
        }
        Ok(Some(out.join(", ")))
    })
$$;
SELECT spi_rows();

-- Privileges are the caller's: an ordinary role cannot read what it may not.
CREATE ROLE spi_reader;
GRANT USAGE ON SCHEMA spi TO spi_reader;
SET ROLE spi_reader;
SELECT spi_stable_count();
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- statement_timeout stops a long query run through SPI.
SET statement_timeout = '200ms';
SELECT spi_run('SELECT pg_sleep(5)');
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;

DROP SCHEMA spi CASCADE;
DROP ROLE spi_reader;
RESET search_path;
