-- 109 PL/Rust functions of every kind, for the dump/restore test (tests/lifecycle/dump-restore.sh).
-- 20 each of five shapes, every body distinct (so each is built), and one of each of the rest.
CREATE EXTENSION plrust;
CREATE TYPE lc_point AS (x float8, y float8);
CREATE TYPE lc_mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN lc_positive AS int CHECK (VALUE > 0);
DO $gen$
BEGIN
  FOR i IN 1..20 LOOP
    EXECUTE format($f$CREATE FUNCTION lc_add_%1$s(x int) RETURNS int STRICT LANGUAGE plrust
      AS $b$ Ok(Some(x + %1$s)) $b$$f$, i);
    EXECUTE format($f$CREATE FUNCTION lc_tag_%1$s(s text) RETURNS text LANGUAGE plrust
      AS $b$ Ok(s.map(|s| format!("{s}#%1$s"))) $b$$f$, i);
    EXECUTE format($f$CREATE FUNCTION lc_spread_%1$s(xs int[]) RETURNS SETOF int STRICT LANGUAGE plrust
      AS $b$ Ok(Some(SetOfIterator::new(xs.iter().map(|x| x.map(|v| v * %1$s)).collect::<Vec<_>>()))) $b$$f$, i);
    EXECUTE format($f$CREATE FUNCTION lc_pairs_%1$s(n int) RETURNS TABLE (a int, b text) STRICT LANGUAGE plrust
      AS $b$ Ok(Some(TableIterator::new((1..=n).map(|i| (Some(i * %1$s), Some(format!("r{i}")))).collect::<Vec<_>>()))) $b$$f$, i);
    EXECUTE format($f$CREATE FUNCTION lc_scale_%1$s(p lc_point, OUT sx float8, OUT sy float8) STRICT LANGUAGE plrust
      AS $b$
        let x = p.get_by_name::<f64>("x")?.unwrap_or(0.0);
        let y = p.get_by_name::<f64>("y")?.unwrap_or(0.0);
        Ok(Some((Some(x * %1$s.0), Some(y * %1$s.0))))
      $b$$f$, i);
  END LOOP;
END $gen$;

CREATE FUNCTION lc_shout(m lc_mood) RETURNS text STRICT LANGUAGE plrust AS $$ Ok(Some(m.to_uppercase())) $$;
CREATE FUNCTION lc_double(x lc_positive) RETURNS lc_positive STRICT LANGUAGE plrust AS $$ Ok(Some(x * 2)) $$;
CREATE FUNCTION lc_type_of(x anyelement) RETURNS text STRICT LANGUAGE plrust AS $$ Ok(Some(x.type_name())) $$;
CREATE FUNCTION lc_sum_step(state int8, x int8) RETURNS int8 LANGUAGE plrust AS $$
    Ok(Some(state.unwrap_or(0) + 2 * x.unwrap_or(0)))
$$;
CREATE AGGREGATE lc_double_sum(int8) (SFUNC = lc_sum_step, STYPE = int8, INITCOND = '0');
CREATE PROCEDURE lc_add_to(INOUT acc int, x int) LANGUAGE plrust AS $$
    Ok(Some((Some(acc.unwrap_or(0) + x.unwrap_or(0) + 1000),)))
$$;
CREATE TABLE lc_log (id int, note text);
CREATE FUNCTION lc_stamp() RETURNS trigger LANGUAGE plrust AS $$
    let mut row = trigger.new().ok_or("no NEW row")?;
    let id = row.get_by_name::<i32>("id")?.unwrap_or(0);
    row.set_by_name("note", format!("stamped {id}"))?;
    Ok(Some(row))
$$;
CREATE TRIGGER lc_stamp BEFORE INSERT ON lc_log FOR EACH ROW EXECUTE FUNCTION lc_stamp();
INSERT INTO lc_log (id) VALUES (1), (2);
CREATE FUNCTION lc_count_log() RETURNS int8 STABLE LANGUAGE plrust AS $$
    Ok(Spi::get_one("SELECT count(*) FROM lc_log")?)
$$;
CREATE FUNCTION lc_rows(n int) RETURNS SETOF lc_point STRICT LANGUAGE plrust AS $$
    let mut rows = Vec::new();
    for i in 1..=n {
        let mut p = PgHeapTuple::new_composite_type("lc_point")?;
        p.set_by_name("x", i as f64)?;
        p.set_by_name("y", -(i as f64))?;
        rows.push(Some(p));
    }
    Ok(Some(SetOfIterator::new(rows)))
$$;
-- One created with check_function_bodies = off and never called: no artifact to dump.
SET check_function_bodies = off;
CREATE FUNCTION lc_never_built(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x - 1)) $$;
RESET check_function_bodies;
