#!/usr/bin/env bash
# Peer benchmark: the same kernels (bench/peers.sql) in PL/Rust, PL/pgSQL, SQL, PL/Perl,
# PL/Python and PL/Lua, in one cluster, one session, runs interleaved. Prints a Markdown
# table of the median of REPS runs per kernel and language, and the per-call overhead of
# add_one over the bare query. Every run's answer is compared across languages; any
# difference fails the benchmark.
#
#   scripts/bench-peers.sh            (sets up first; SKIP_SETUP=1 to skip; REPS=5)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
DIR=${PLRUST_BENCH_DIR:-/var/tmp/plrust-bench-peers}
PORT=${PLRUST_BENCH_PORT:-28823}
REPS=${REPS:-5}
[ "${SKIP_SETUP:-}" = 1 ] || scripts/setup.sh >/dev/null
scripts/cluster.sh start "$DIR" "$PORT" jit=off
trap 'scripts/cluster.sh stop "$DIR"' EXIT
q() { psql -h 127.0.0.1 -p "$PORT" -U postgres -XAtq -v ON_ERROR_STOP=1 "$@" postgres; }

q -c "CREATE EXTENSION plrust"
q -f bench/peers.sql
q <<SQL
CREATE TABLE bench_results (w int, workload text, lang text, rep int, ms float8, answer text);
DO \$\$
DECLARE
  langs text[] := ARRAY['plrust', 'plpgsql', 'sql', 'plperl', 'plpython', 'pllua'];
  workloads text[][] := ARRAY[
    ['bare query (2,000,000 rows)', 'SELECT sum(x)::text FROM generate_series(1, 2000000) x'],
    ['add_one(int), 2,000,000 calls', 'SELECT sum(add_one_%s(x))::text FROM generate_series(1, 2000000) x'],
    ['fib(25), recursive', 'SELECT fib_%s(25)::text'],
    ['sum of float8[1000], 20,000 rows', 'SELECT round(sum(arr_sum_%s(a))::numeric, 3)::text FROM bench_arrays'],
    ['vowels in 200,000 texts', 'SELECT sum(vowels_%s(t))::text FROM bench_texts'],
    ['SPI lookup by key, 20,000 calls', 'SELECT sum(lookup_%s(x))::text FROM generate_series(1, 20000) x']];
  t0 timestamptz; answer text;
BEGIN
  -- Warm up: every function called once (libraries loaded, plans made).
  FOR l IN 1..array_length(langs, 1) LOOP
    FOR w IN 2..array_length(workloads, 1) LOOP
      EXECUTE replace(replace(format(workloads[w][2], langs[l]), '2000000', '2'), '20000', '2');
    END LOOP;
  END LOOP;
  FOR r IN 1..$REPS LOOP
    FOR w IN 1..array_length(workloads, 1) LOOP
      FOR l IN 1..array_length(langs, 1) LOOP
        CONTINUE WHEN w = 1 AND l > 1;
        t0 := clock_timestamp();
        EXECUTE format(workloads[w][2], langs[l]) INTO answer;
        INSERT INTO bench_results VALUES (w, workloads[w][1], CASE WHEN w = 1 THEN '-' ELSE langs[l] END,
          r, extract(epoch FROM clock_timestamp() - t0) * 1000, answer);
      END LOOP;
    END LOOP;
  END LOOP;
END \$\$;
SQL

wrong=$(q -c "SELECT workload || ': ' || string_agg(DISTINCT lang || '=' || answer, ', ')
  FROM bench_results WHERE lang <> '-' GROUP BY workload HAVING count(DISTINCT answer) > 1")
if [ -n "$wrong" ]; then
  echo "bench-peers: the languages disagree:" >&2
  echo "$wrong" >&2
  exit 1
fi

q <<'SQL'
CREATE TEMP VIEW med AS
  SELECT w, workload, lang, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
  FROM bench_results GROUP BY w, workload, lang;
\pset format unaligned
\pset tuples_only on
SELECT '| kernel (median of ' || count(DISTINCT rep) || ' runs, ms; x PL/Rust) | PL/Rust | PL/pgSQL | SQL | PL/Perl | PL/Python | PL/Lua |'
  FROM bench_results;
SELECT '|---|---|---|---|---|---|---|';
SELECT format('| %s | %s |', m.workload, string_agg(
         CASE WHEN m.lang = '-' THEN to_char(m.ms, 'FM999990.0') ELSE
           to_char(m.ms, 'FM999990.0') || ' (' || to_char(m.ms / r.ms, 'FM9999990.00') || 'x)' END,
         ' | ' ORDER BY array_position(ARRAY['-', 'plrust', 'plpgsql', 'sql', 'plperl', 'plpython', 'pllua'], m.lang)))
  FROM med m JOIN med r ON r.workload = m.workload AND r.lang IN ('plrust', '-')
  GROUP BY m.w, m.workload ORDER BY m.w;
SELECT '';
SELECT '| per-call overhead of add_one over the bare query (ns) | PL/Rust | PL/pgSQL | SQL | PL/Perl | PL/Python | PL/Lua |';
SELECT '|---|---|---|---|---|---|---|';
SELECT '| | ' || string_agg(
         to_char((a.ms - b.ms) * 1e6 / 2000000, 'FM99990.0'), ' | ' ORDER BY
         array_position(ARRAY['plrust', 'plpgsql', 'sql', 'plperl', 'plpython', 'pllua'], a.lang)) || ' |'
  FROM med a, med b
  WHERE a.workload LIKE 'add_one%' AND b.workload LIKE 'bare%';
SQL
