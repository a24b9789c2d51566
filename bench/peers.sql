-- The peer benchmark's functions: the same five kernels in every language, each written
-- the way that language's users write it (scripts/bench.sh runs them; the native
-- pgrx ones are bench/native, installed as the extension bench_native).
--   add_one(int) int          per-call overhead
--   fib(int) int              recursive fib
--   arr_sum(float8[]) float8  sum of an array, in order
--   vowels(text) int          count of aeiouAEIOU
--   lookup(int) int           one row by primary key, through the language's SPI, with the
--                             plan kept across calls where the language lets a body do so
CREATE EXTENSION IF NOT EXISTS plperl;
CREATE EXTENSION IF NOT EXISTS plpython3u;
CREATE EXTENSION IF NOT EXISTS pllua;

CREATE TABLE bench_texts AS
  SELECT i, md5(i::text) || ' Lorem Ipsum ' || repeat(chr(97 + i % 26), i % 7) AS t
  FROM generate_series(1, 200000) i;
CREATE TABLE bench_arrays AS
  SELECT i, array(SELECT ((i * j) % 1009)::float8 / 7 FROM generate_series(1, 1000) j) AS a
  FROM generate_series(1, 20000) i;
CREATE TABLE bench_kv (k int PRIMARY KEY, v int NOT NULL);
INSERT INTO bench_kv SELECT i, i * 3 FROM generate_series(1, 20000) i;
VACUUM ANALYZE bench_texts, bench_arrays, bench_kv;

-- PL/pgSQL
CREATE FUNCTION add_one_plpgsql(x int) RETURNS int STRICT LANGUAGE plpgsql AS $$ BEGIN RETURN x + 1; END $$;
CREATE FUNCTION fib_plpgsql(n int) RETURNS int STRICT LANGUAGE plpgsql AS $$
BEGIN IF n < 2 THEN RETURN n; END IF; RETURN fib_plpgsql(n - 1) + fib_plpgsql(n - 2); END $$;
CREATE FUNCTION arr_sum_plpgsql(a float8[]) RETURNS float8 STRICT LANGUAGE plpgsql AS $$
DECLARE s float8 := 0; v float8;
BEGIN FOREACH v IN ARRAY a LOOP s := s + v; END LOOP; RETURN s; END $$;
CREATE FUNCTION vowels_plpgsql(t text) RETURNS int STRICT LANGUAGE plpgsql AS $$
BEGIN RETURN length(t) - length(translate(t, 'aeiouAEIOU', '')); END $$;
CREATE FUNCTION lookup_plpgsql(key int) RETURNS int STRICT LANGUAGE plpgsql AS $$
DECLARE r int; BEGIN SELECT v INTO r FROM bench_kv WHERE k = key; RETURN r; END $$;

-- SQL (add_one and the others are inlined into the query by the planner where it can)
CREATE FUNCTION add_one_sql(x int) RETURNS int STRICT LANGUAGE sql AS $$ SELECT x + 1 $$;
CREATE FUNCTION fib_sql(n int) RETURNS int STRICT LANGUAGE sql AS $$
  SELECT CASE WHEN n < 2 THEN n ELSE fib_sql(n - 1) + fib_sql(n - 2) END $$;
CREATE FUNCTION arr_sum_sql(a float8[]) RETURNS float8 STRICT LANGUAGE sql AS $$
  SELECT coalesce(sum(v ORDER BY o), 0) FROM unnest(a) WITH ORDINALITY AS u(v, o) $$;
CREATE FUNCTION vowels_sql(t text) RETURNS int STRICT LANGUAGE sql AS $$
  SELECT length(t) - length(translate(t, 'aeiouAEIOU', '')) $$;
CREATE FUNCTION lookup_sql(key int) RETURNS int STRICT LANGUAGE sql AS $$
  SELECT v FROM bench_kv WHERE k = key $$;

-- PL/Perl
CREATE FUNCTION add_one_plperl(int) RETURNS int STRICT LANGUAGE plperl AS $$ return $_[0] + 1; $$;
CREATE FUNCTION fib_plperl(int) RETURNS int STRICT LANGUAGE plperl AS $$
  my $fib; $fib = sub { my $n = shift; $n < 2 ? $n : $fib->($n - 1) + $fib->($n - 2) };
  my $r = $fib->($_[0]); undef $fib; return $r; $$;
CREATE FUNCTION arr_sum_plperl(float8[]) RETURNS float8 STRICT LANGUAGE plperl AS $$
  my $s = 0; $s += $_ for @{$_[0]}; return $s; $$;
CREATE FUNCTION vowels_plperl(text) RETURNS int STRICT LANGUAGE plperl AS $$
  return ($_[0] =~ tr/aeiouAEIOU//); $$;
CREATE FUNCTION lookup_plperl(int) RETURNS int STRICT LANGUAGE plperl AS $$
  $_SHARED{lookup} //= spi_prepare('SELECT v FROM bench_kv WHERE k = $1', 'int4');
  return spi_exec_prepared($_SHARED{lookup}, $_[0])->{rows}[0]{v}; $$;

-- PL/Python
CREATE FUNCTION add_one_plpython(x int) RETURNS int STRICT LANGUAGE plpython3u AS $$ return x + 1 $$;
CREATE FUNCTION fib_plpython(n int) RETURNS int STRICT LANGUAGE plpython3u AS $$
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
return fib(n) $$;
CREATE FUNCTION arr_sum_plpython(a float8[]) RETURNS float8 STRICT LANGUAGE plpython3u AS $$
s = 0.0
for v in a:
    s += v
return s $$;
CREATE FUNCTION vowels_plpython(t text) RETURNS int STRICT LANGUAGE plpython3u AS $$
return sum(1 for c in t if c in 'aeiouAEIOU') $$;
CREATE FUNCTION lookup_plpython(key int) RETURNS int STRICT LANGUAGE plpython3u AS $$
if 'plan' not in SD:
    SD['plan'] = plpy.prepare('SELECT v FROM bench_kv WHERE k = $1', ['int4'])
return plpy.execute(SD['plan'], [key])[0]['v'] $$;

-- PL/Lua
CREATE FUNCTION add_one_pllua(x int) RETURNS int STRICT LANGUAGE pllua AS $$ return x + 1 $$;
CREATE FUNCTION fib_pllua(n int) RETURNS int STRICT LANGUAGE pllua AS $$
  local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
  return fib(n) $$;
CREATE FUNCTION arr_sum_pllua(a float8[]) RETURNS float8 STRICT LANGUAGE pllua AS $$
  local s = 0.0 for i = 1, #a do s = s + a[i] end return s $$;
CREATE FUNCTION vowels_pllua(t text) RETURNS int STRICT LANGUAGE pllua AS $$
  local _, n = string.gsub(t, '[aeiouAEIOU]', '') return n $$;
CREATE FUNCTION lookup_pllua(key int) RETURNS int STRICT LANGUAGE pllua AS $$
  lookup_plan = lookup_plan or spi.prepare('SELECT v FROM bench_kv WHERE k = $1', {'integer'})
  return lookup_plan:execute(key)[1].v $$;

-- PL/Rust
CREATE FUNCTION add_one_plrust(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x + 1)) $$;
CREATE FUNCTION fib_plrust(n int) RETURNS int STRICT LANGUAGE plrust AS $$
  fn fib(n: i32) -> i32 { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }
  Ok(Some(fib(n))) $$;
CREATE FUNCTION arr_sum_plrust(a float8[]) RETURNS float8 STRICT LANGUAGE plrust AS $$
  let mut s = 0.0;
  for v in a.iter().flatten() { s += v; }
  Ok(Some(s)) $$;
CREATE FUNCTION vowels_plrust(t text) RETURNS int STRICT LANGUAGE plrust AS $$
  Ok(Some(t.bytes().filter(|b| b"aeiouAEIOU".contains(b)).count() as i32)) $$;
CREATE FUNCTION lookup_plrust(key int) RETURNS int STRICT LANGUAGE plrust AS $$
  Ok(Spi::get_one_with_args::<i32>("SELECT v FROM bench_kv WHERE k = $1", &[key.into()])?) $$;
