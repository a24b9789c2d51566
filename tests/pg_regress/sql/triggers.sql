-- Trigger functions: `trigger: &PgTrigger` gives the event, the table, TG_ARGV, OLD and
-- NEW; the body returns the row to go on with, or None to skip it.

-- The original PL/Rust's documentation example, unchanged.
CREATE TABLE plrust.dog (
    id BIGINT NOT NULL GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT,
    scritches INT NOT NULL DEFAULT 0,
    last_scritch TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE OR REPLACE FUNCTION plrust.dog_trigger()
RETURNS trigger AS
$$
    let tg_op = trigger.op()?;

    let my_row = match tg_op {
        INSERT => trigger.new().unwrap(),
        _ => trigger.old().unwrap()
    };
    let mut my_row = my_row.into_owned();

    let counter_field = "scritches";
    match my_row.get_by_name::<i32>(counter_field)? {
        Some(val) => my_row.set_by_name(counter_field, val + 1)?,
        None => (),
    }

    Ok(Some(my_row))
$$
LANGUAGE plrust;
CREATE TRIGGER dog_trigger
    BEFORE INSERT OR UPDATE ON plrust.dog
    FOR EACH ROW
    EXECUTE FUNCTION plrust.dog_trigger();
INSERT INTO plrust.dog (name) VALUES ('Nami');
SELECT id, name, scritches FROM plrust.dog;
UPDATE plrust.dog
    SET last_scritch = NOW()
    WHERE id = 1;
SELECT id, name, scritches FROM plrust.dog;
DROP TABLE plrust.dog;
DROP FUNCTION plrust.dog_trigger();

-- BEFORE ROW: modify NEW (text, numeric and array columns), or skip the row with None.
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric, tags varchar[], note varchar(20));
CREATE FUNCTION items_before() RETURNS trigger LANGUAGE plrust AS $$
    let mut row = trigger.new().ok_or("no NEW row")?;
    let name: Option<&str> = row.get_by_name("name")?;
    if name == Some("skip me") {
        return Ok(None);
    }
    let upper = name.map(str::to_uppercase);
    row.set_by_name("name", upper)?;
    if row.get_by_name::<AnyNumeric>("price")?.is_none() {
        row.set_by_name("price", AnyNumeric::from(0))?;
    }
    row.set_by_name("tags", vec![Some(trigger.op()?.to_string()), None])?;
    row.set_by_name("note", Some(format!("by {}", trigger.name()?)))?;
    Ok(Some(row))
$$;
CREATE TRIGGER items_before BEFORE INSERT OR UPDATE ON items
    FOR EACH ROW EXECUTE FUNCTION items_before();
INSERT INTO items (id, name, price) VALUES (1, 'widget', 9.99), (2, 'skip me', 1), (3, NULL, NULL);
SELECT * FROM items ORDER BY id;
UPDATE items SET name = 'gadget' WHERE id = 1;
UPDATE items SET name = 'skip me' WHERE id = 3;
SELECT * FROM items ORDER BY id;
SELECT pg_typeof(tags) FROM items LIMIT 1;

-- BEFORE DELETE: returning OLD lets the delete happen, None keeps the row.
CREATE FUNCTION keep_expensive() RETURNS trigger LANGUAGE plrust AS $$
    let old = trigger.old().ok_or("no OLD row")?;
    let price = old.get_by_name::<AnyNumeric>("price")?.unwrap_or_default();
    if price > AnyNumeric::from(5) { Ok(None) } else { Ok(Some(old)) }
$$;
CREATE TRIGGER keep_expensive BEFORE DELETE ON items FOR EACH ROW EXECUTE FUNCTION keep_expensive();
DELETE FROM items;
SELECT id, name FROM items ORDER BY id;

-- AFTER ROW and STATEMENT triggers on every event: what the trigger sees, and TG_ARGV.
CREATE TABLE events (id int, label text);
CREATE FUNCTION describe() RETURNS trigger LANGUAGE plrust AS $$
    let row = |r: Option<PgHeapTuple<'_, AllocatedByPostgres>>| -> Result<String, TryFromDatumError> {
        Ok(match r {
            Some(r) => format!("({:?}, {:?})", r.get_by_name::<i32>("id")?, r.get_by_name::<String>("label")?),
            None => "-".to_owned(),
        })
    };
    notice!(
        "{} {} {} {} on {}.{} args {:?} old {} new {}",
        trigger.name()?, trigger.when()?, trigger.level(), trigger.op()?,
        trigger.table_schema()?, trigger.table_name()?, trigger.extra_args()?,
        row(trigger.old())?, row(trigger.new())?,
    );
    Ok(None)
$$;
CREATE TRIGGER after_row AFTER INSERT OR UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION describe('row', 'x y');
CREATE TRIGGER after_statement AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION describe();
CREATE TRIGGER before_statement BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION describe('truncating');
INSERT INTO events VALUES (1, 'one'), (2, NULL);
UPDATE events SET label = 'uno' WHERE id = 1;
DELETE FROM events WHERE id = 2;
TRUNCATE events;

-- Transition tables: their names (querying them needs SPI).
CREATE FUNCTION transition_names() RETURNS trigger LANGUAGE plrust AS $$
    notice!("old table {:?}, new table {:?}", trigger.old_transition_table_name()?, trigger.new_transition_table_name()?);
    Ok(None)
$$;
CREATE TRIGGER transitions AFTER UPDATE ON events REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
    FOR EACH STATEMENT EXECUTE FUNCTION transition_names();
UPDATE events SET label = 'x';

-- INSTEAD OF on a view: returning NEW reports the row as handled.
CREATE VIEW events_view AS SELECT * FROM events;
CREATE FUNCTION instead() RETURNS trigger LANGUAGE plrust AS $$
    notice!("instead of {}", trigger.op()?);
    Ok(trigger.new())
$$;
CREATE TRIGGER instead INSTEAD OF INSERT ON events_view FOR EACH ROW EXECUTE FUNCTION instead();
INSERT INTO events_view VALUES (7, 'seven');
SELECT count(*) AS rows_in_table FROM events;

-- Mistakes in a trigger are ERRORs of the statement, which changes nothing.
CREATE TABLE strict_types (n int4, t text);
CREATE FUNCTION wrong_type() RETURNS trigger LANGUAGE plrust AS $$
    let mut row = trigger.new().ok_or("no NEW row")?;
    // An i64 into an int4 column is refused, not cut.
    row.set_by_name("n", 5_000_000_000_i64)?;
    Ok(Some(row))
$$;
CREATE TRIGGER wrong_type BEFORE INSERT ON strict_types FOR EACH ROW EXECUTE FUNCTION wrong_type();
INSERT INTO strict_types VALUES (1, 'a');
DROP TRIGGER wrong_type ON strict_types;
CREATE FUNCTION no_such_column() RETURNS trigger LANGUAGE plrust AS $$
    let mut row = trigger.new().ok_or("no NEW row")?;
    row.set_by_name("missing", 1_i32)?;
    Ok(Some(row))
$$;
CREATE TRIGGER no_such_column BEFORE INSERT ON strict_types FOR EACH ROW EXECUTE FUNCTION no_such_column();
INSERT INTO strict_types VALUES (1, 'a');
DROP TRIGGER no_such_column ON strict_types;
CREATE FUNCTION read_wrong_type() RETURNS trigger LANGUAGE plrust AS $$
    let row = trigger.new().ok_or("no NEW row")?;
    let t: Option<i32> = row.get_by_name("t")?;
    notice!("{t:?}");
    Ok(Some(row))
$$;
CREATE TRIGGER read_wrong_type BEFORE INSERT ON strict_types FOR EACH ROW EXECUTE FUNCTION read_wrong_type();
INSERT INTO strict_types VALUES (1, 'a');
SELECT count(*) AS nothing_inserted FROM strict_types;

-- A trigger function cannot be called as a plain function, and event triggers are refused.
SELECT describe();
CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plrust AS $$ Ok(None) $$;
