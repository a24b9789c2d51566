-- Composite types: named types (CREATE TYPE ... AS), a table's row type and `record`
-- arguments are `PgHeapTuple`s, as in pgrx and the original PL/Rust
-- (`get_by_name`, `set_by_name`, `PgHeapTuple::new_composite_type`). A returned row must
-- be of the declared type (42804 otherwise): PostgreSQL would read it with another
-- type's descriptor. RETURNS T, SETOF T, OUT and TABLE columns, domains over rows.

CREATE TYPE dog AS (name text, age int4, tags text[]);
CREATE TYPE cat AS (name text, lives int4);
CREATE TABLE kennel (id int8, name text, weight float8);
INSERT INTO kennel VALUES (1, 'Rex', 31.5), (2, 'Fido', NULL);

-- Read a composite argument.
CREATE FUNCTION dog_summary(d dog) RETURNS text STRICT LANGUAGE plrust AS $$
    let name: Option<String> = d.get_by_name("name")?;
    let age: Option<i32> = d.get_by_name("age")?;
    Ok(Some(format!("{:?} {:?} columns={:?}", name, age, d.column_names())))
$$;
SELECT dog_summary(ROW('Brandy', 7, ARRAY['good', NULL])::dog);
SELECT dog_summary(ROW(NULL, NULL, NULL)::dog);

-- Build and return a row of a named type, as in pgrx's documentation.
CREATE FUNCTION make_dog(name text, age int4) RETURNS dog LANGUAGE plrust AS $$
    let mut dog = PgHeapTuple::new_composite_type("dog")?;
    dog.set_by_name("name", name.map(String::from))?;
    dog.set_by_name("age", age)?;
    Ok(Some(dog))
$$;
SELECT make_dog('Brandy', 42), (make_dog('Brandy', 42)).age, make_dog(NULL, NULL);
SELECT * FROM make_dog('Spot', 3);

-- Round trip, compared with PostgreSQL's own value.
CREATE FUNCTION id_dog(d dog) RETURNS dog LANGUAGE plrust AS $$ Ok(d) $$;
SELECT d, id_dog(d), id_dog(d) IS NOT DISTINCT FROM d AS same
FROM (VALUES (ROW('Brandy', 7, ARRAY['a', NULL, '✓'])::dog), (ROW(NULL, NULL, '{}')::dog), (NULL::dog)) t(d);

-- Change a column of an argument and return it: the argument is copied, the caller's
-- value is unchanged.
CREATE FUNCTION older(d dog) RETURNS dog STRICT LANGUAGE plrust AS $$
    let mut d = d;
    let age: i32 = d.get_by_name("age")?.unwrap_or(0);
    d.set_by_name("age", age + 1)?;
    Ok(Some(d))
$$;
SELECT d, older(d) FROM (VALUES (ROW('Rex', 3, NULL)::dog)) t(d);

-- A value of the wrong Rust type for a column: the body's error (42804); an unknown
-- column: 42804 too (TryFromDatumError), naming it.
CREATE FUNCTION bad_set(which text) RETURNS dog STRICT LANGUAGE plrust AS $$
    let mut dog = PgHeapTuple::new_composite_type("dog")?;
    match which {
        "type" => dog.set_by_name("age", 7i64)?,
        _ => dog.set_by_name("weight", 7i32)?,
    }
    Ok(Some(dog))
$$;
SELECT bad_set('type');
\echo :LAST_ERROR_SQLSTATE
SELECT bad_set('column');
\echo :LAST_ERROR_SQLSTATE
-- An unknown type name.
CREATE FUNCTION no_such_type() RETURNS dog LANGUAGE plrust AS $$
    Ok(Some(PgHeapTuple::new_composite_type("no_such_type")?))
$$;
SELECT no_such_type();
\echo :LAST_ERROR_SQLSTATE

-- Attack: return a row of another type than the declared one. PostgreSQL would read a
-- cat with dog's descriptor: refused (42804), on every return path.
CREATE FUNCTION cat_as_dog() RETURNS dog LANGUAGE plrust AS $$
    let mut cat = PgHeapTuple::new_composite_type("cat")?;
    cat.set_by_name("lives", 9)?;
    Ok(Some(cat))
$$;
SELECT cat_as_dog();
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION cats_as_dogs() RETURNS SETOF dog LANGUAGE plrust AS $$
    let cat = PgHeapTuple::new_composite_type("cat")?;
    Ok(Some(SetOfIterator::new([Some(cat)])))
$$;
SELECT * FROM cats_as_dogs();
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION cat_as_out(OUT d dog, OUT n int4) LANGUAGE plrust AS $$
    Ok(Some((Some(PgHeapTuple::new_composite_type("cat")?), Some(1))))
$$;
SELECT * FROM cat_as_out();
\echo :LAST_ERROR_SQLSTATE
-- ... and an argument of another row type passed through as the declared one.
CREATE FUNCTION record_as_dog(r record) RETURNS dog LANGUAGE plrust AS $$ Ok(r) $$;
SELECT record_as_dog(ROW('Tom', 9)::cat);
\echo :LAST_ERROR_SQLSTATE
SELECT record_as_dog(ROW('Rex', 1, NULL)::dog);

-- A table's row type: argument and SETOF result (a row per table row, its columns
-- expanded).
CREATE FUNCTION heavy(k kennel) RETURNS bool STRICT LANGUAGE plrust AS $$
    Ok(Some(k.get_by_name::<f64>("weight")?.map_or(false, |w| w > 30.0)))
$$;
SELECT k.name, heavy(k) FROM kennel k ORDER BY k.id;
CREATE FUNCTION puppies(n int4) RETURNS SETOF kennel STRICT LANGUAGE plrust AS $$
    let rows = (1..=n as i64).map(|i| {
        let mut row = PgHeapTuple::new_composite_type("kennel").ok()?;
        row.set_by_name("id", i).ok()?;
        row.set_by_name("name", format!("pup {i}")).ok()?;
        Some(row)
    });
    Ok(Some(SetOfIterator::new(rows.chain([None]))))
$$;
SELECT * FROM puppies(2);
SELECT p FROM puppies(1) p;

-- `record` arguments of any row type, anonymous ones included.
CREATE FUNCTION describe_row(r record) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(format!("{} columns: {}", r.len(), r.column_names().join(", "))))
$$;
SELECT describe_row(ROW(1, 'two', 3.0)), describe_row(ROW('Brandy', 7, NULL)::dog), describe_row(k) FROM kennel k WHERE id = 1;

-- Rows in TABLE results.
CREATE FUNCTION dog_table() RETURNS TABLE (n int4, d dog) LANGUAGE plrust AS $$
    let mut d = PgHeapTuple::new_composite_type("dog")?;
    d.set_by_name("name", "Rex".to_string())?;
    Ok(Some(TableIterator::new(vec![(Some(1), Some(d)), (Some(2), None)])))
$$;
SELECT * FROM dog_table();

-- A domain over a composite type: the row type is checked, and the domain's constraint.
CREATE DOMAIN named_dog AS dog CHECK ((VALUE).name IS NOT NULL);
CREATE FUNCTION to_named_dog(name text) RETURNS named_dog LANGUAGE plrust AS $$
    let mut d = PgHeapTuple::new_composite_type("dog")?;
    d.set_by_name("name", name.map(String::from))?;
    Ok(Some(d))
$$;
SELECT to_named_dog('Rex');
SELECT to_named_dog(NULL);
\echo :LAST_ERROR_SQLSTATE

-- Arrays of rows: an argument is `Array<'a, PgHeapTuple>` (NULL elements are `None`), a
-- result `Vec<Option<PgHeapTuple>>`. Compared with PostgreSQL's own unnest.
CREATE FUNCTION dog_names(dogs dog[]) RETURNS text[] STRICT LANGUAGE plrust AS $$
    let mut names = Vec::new();
    for dog in dogs.iter() {
        names.push(match dog {
            Some(dog) => dog.get_by_name::<String>("name")?,
            None => None,
        });
    }
    Ok(Some(names))
$$;
SELECT a, dog_names(a), dog_names(a) IS NOT DISTINCT FROM (SELECT coalesce(array_agg(d.name), '{}') FROM unnest(a) d) AS same
FROM (VALUES (ARRAY[ROW('Rex', 3, NULL), NULL, ROW(NULL, 1, '{x}'), ROW('✓', NULL, '{}')]::dog[]), ('{}'::dog[])) t(a);

-- `iter` lends rows that live as long as the array; `to_rows` copies them out, to keep or
-- return.
CREATE FUNCTION id_dogs(dogs dog[]) RETURNS dog[] LANGUAGE plrust AS $$
    Ok(dogs.map(|dogs| dogs.to_rows()))
$$;
SELECT a, id_dogs(a), id_dogs(a) IS NOT DISTINCT FROM a AS same
FROM (VALUES (ARRAY[ROW('Rex', 3, ARRAY['a', NULL]), NULL]::dog[]), ('{}'::dog[]), (NULL::dog[])) t(a);
SELECT pg_typeof(id_dogs('{}')), (id_dogs(ARRAY[ROW('Rex', 3, NULL)]::dog[]))[1].name;

-- Build an array of a table's rows, with a NULL element.
CREATE TABLE kennel_log (at int4, dogs kennel[]);
CREATE FUNCTION litter(n int4) RETURNS kennel[] STRICT LANGUAGE plrust AS $$
    let mut rows = Vec::new();
    for i in 1..=n as i64 {
        let mut row = PgHeapTuple::new_composite_type("kennel")?;
        row.set_by_name("id", i)?;
        row.set_by_name("weight", i as f64 / 2.0)?;
        rows.push(Some(row));
    }
    rows.push(None);
    Ok(Some(rows))
$$;
INSERT INTO kennel_log VALUES (1, litter(2)), (2, litter(0));
SELECT at, dogs, cardinality(dogs), dogs[1].weight FROM kennel_log ORDER BY at;

-- In SETOF, TABLE and OUT results.
CREATE FUNCTION dog_sets() RETURNS SETOF dog[] LANGUAGE plrust AS $$
    let mut dog = PgHeapTuple::new_composite_type("dog")?;
    dog.set_by_name("name", "Rex".to_string())?;
    Ok(Some(SetOfIterator::new([Some(vec![Some(dog), None]), Some(vec![]), None])))
$$;
SELECT d, pg_typeof(d) FROM dog_sets() d;
CREATE FUNCTION dog_pack(OUT n int4, OUT pack dog[]) LANGUAGE plrust AS $$
    let dog = PgHeapTuple::new_composite_type("dog")?;
    Ok(Some((Some(1), Some(vec![Some(dog)]))))
$$;
SELECT * FROM dog_pack();

-- Attack: an array of rows with one row of another type. PostgreSQL would read the cat
-- with dog's descriptor: refused (42804), as for a single row, in every position.
CREATE FUNCTION cat_among_dogs(how text) RETURNS dog[] STRICT LANGUAGE plrust AS $$
    let dog = PgHeapTuple::new_composite_type("dog")?;
    let cat = PgHeapTuple::new_composite_type("cat")?;
    Ok(Some(match how {
        "first" => vec![Some(cat), Some(dog)],
        _ => vec![Some(dog), None, Some(cat)],
    }))
$$;
SELECT cat_among_dogs('first');
\echo :LAST_ERROR_SQLSTATE
SELECT cat_among_dogs('last');
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION cats_in_set() RETURNS SETOF dog[] LANGUAGE plrust AS $$
    let cat = PgHeapTuple::new_composite_type("cat")?;
    Ok(Some(SetOfIterator::new([Some(vec![Some(cat)])])))
$$;
SELECT * FROM cats_in_set();
\echo :LAST_ERROR_SQLSTATE

-- Rows inside rows: a column of a row type or an array of rows is read as a
-- `PgHeapTuple` or an `Array` of them, and set only with rows of its own type.
CREATE TYPE pack AS (leader dog, members dog[]);
CREATE FUNCTION pack_summary(p pack) RETURNS text STRICT LANGUAGE plrust AS $$
    let leader: Option<PgHeapTuple<'_, AllocatedByRust>> = p.get_by_name("leader")?;
    let leader = match leader {
        Some(dog) => dog.get_by_name::<String>("name")?,
        None => None,
    };
    let members: Option<Array<'_, PgHeapTuple<'_, AllocatedByRust>>> = p.get_by_name("members")?;
    let members = members.map(|m| m.iter().flatten().count());
    Ok(Some(format!("leader {leader:?}, {members:?} members")))
$$;
SELECT pack_summary(ROW(ROW('Rex', 3, NULL), ARRAY[ROW('a', 1, NULL), NULL, ROW('b', 2, NULL)]::dog[])::pack),
       pack_summary(ROW(NULL, NULL)::pack);
CREATE FUNCTION make_pack(how text) RETURNS pack STRICT LANGUAGE plrust AS $$
    let mut leader = PgHeapTuple::new_composite_type("dog")?;
    leader.set_by_name("name", "Rex".to_string())?;
    let member = PgHeapTuple::new_composite_type("dog")?;
    let cat = PgHeapTuple::new_composite_type("cat")?;
    let mut pack = PgHeapTuple::new_composite_type("pack")?;
    match how {
        "dogs" => {
            pack.set_by_name("leader", leader)?;
            pack.set_by_name("members", vec![Some(member), None])?;
        }
        "cat leader" => pack.set_by_name("leader", cat)?,
        _ => pack.set_by_name("members", vec![Some(member), Some(cat)])?,
    }
    Ok(Some(pack))
$$;
SELECT make_pack('dogs'), (make_pack('dogs')).leader.name;
-- (The messages name the types' oids, which differ between runs: the SQLSTATE only.)
\set VERBOSITY sqlstate
SELECT make_pack('cat leader');
SELECT make_pack('cat member');
\set VERBOSITY default

-- Attack: read a column that is not a row as a row. pgrx takes any column for a row when
-- asked for one (an int4 would be read as a pointer); here it is a type mismatch, as is
-- an array of rows read from a text[] column.
CREATE FUNCTION int_as_row(d dog, what text) RETURNS text STRICT LANGUAGE plrust AS $$
    let read = match what {
        "row" => d.get_by_name::<PgHeapTuple<'_, AllocatedByRust>>("age").map(|r| r.is_some()),
        _ => d.get_by_name::<Array<'_, PgHeapTuple<'_, AllocatedByRust>>>("tags").map(|r| r.is_some()),
    };
    Ok(Some(format!("{read:?}")))
$$;
SELECT int_as_row(ROW('Rex', 3, '{a}')::dog, 'row');
SELECT int_as_row(ROW('Rex', 3, '{a}')::dog, 'array');

-- Arrays of a domain over a row type are not supported: refused at CREATE, naming the
-- type.
CREATE FUNCTION named_dogs(d named_dog[]) RETURNS int4 LANGUAGE plrust AS $$ Ok(None) $$;
\echo :LAST_ERROR_SQLSTATE

-- Attack: a trigger returns a row it built of another type; the trigger manager would
-- read it with the table's descriptor: refused (42804). A new row of the table's own
-- type is fine.
CREATE FUNCTION kennel_swap() RETURNS trigger LANGUAGE plrust AS $$
    let name = trigger.extra_args()?.pop().unwrap_or_default();
    let mut row = PgHeapTuple::new_composite_type(&name)?;
    if name == "kennel" {
        row.set_by_name("id", 99i64)?;
        row.set_by_name("name", "replaced".to_string())?;
    }
    Ok(Some(row))
$$;
CREATE TRIGGER swap_cat BEFORE INSERT ON kennel FOR EACH ROW EXECUTE FUNCTION kennel_swap('cat');
INSERT INTO kennel VALUES (3, 'Tom', 4.0);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER swap_cat ON kennel;
CREATE TRIGGER swap_own BEFORE INSERT ON kennel FOR EACH ROW EXECUTE FUNCTION kennel_swap('kennel');
INSERT INTO kennel VALUES (3, 'Tom', 4.0) RETURNING *;
DROP TRIGGER swap_own ON kennel;

DROP FUNCTION dog_summary, make_dog, id_dog, older, bad_set, no_such_type, cat_as_dog,
    cats_as_dogs, cat_as_out, record_as_dog, heavy, puppies, describe_row, dog_table, to_named_dog,
    kennel_swap, dog_names, id_dogs, litter, dog_sets, dog_pack, cat_among_dogs, cats_in_set,
    pack_summary, make_pack, int_as_row;
DROP DOMAIN named_dog;
DROP TABLE kennel_log, kennel;
DROP TYPE pack, dog, cat;
