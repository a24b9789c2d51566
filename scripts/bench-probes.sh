#!/usr/bin/env bash
# Cost of the cancellation probes: each kernel is created as a PL/Rust function twice;
# the second copy's artifact is replaced by the same generated crate compiled with the
# same rustc command (plrust.generated_crate) but with the probes taken out. Both are
# called alternately in one session; prints a Markdown table of the best time of each and
# the ratio. Assumes scripts/setup.sh ran; starts its own cluster on 127.0.0.1.
#
#   scripts/bench-probes.sh            (ROUNDS=5 by default)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
DIR=${PLRUST_BENCH_DIR:-/var/tmp/plrust-bench-probes}
PORT=${PLRUST_BENCH_PORT:-28818}
ROUNDS=${ROUNDS:-5}
scripts/cluster.sh start "$DIR" "$PORT" >/dev/null
work=$(mktemp -d /var/tmp/plrust-bench-probes-build.XXXXXX)
chmod 755 "$work"
trap 'scripts/cluster.sh stop "$DIR" >/dev/null; rm -rf "$work"' EXIT
q() { psql -h 127.0.0.1 -p "$PORT" -U postgres -XAtq -v ON_ERROR_STOP=1 -c "$1" postgres; }

# name | argument | body (no single quotes)
kernels=(
  "sum_loop|300000000|let mut acc: i64 = 0; for i in 0..n { acc = acc.wrapping_add(i ^ (acc >> 3)); } Ok(Some(acc))"
  "fib_recursive|32|fn fib(n: i64) -> i64 { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } } Ok(Some(fib(n)))"
  "iterator_closures|100000000|Ok(Some((0..n).map(|x| x.wrapping_mul(3)).filter(|x| x % 5 != 0).fold(0i64, |a, x| a ^ x)))"
)

q "CREATE EXTENSION IF NOT EXISTS plrust" >/dev/null
for k in "${kernels[@]}"; do
  IFS='|' read -r name arg body <<<"$k"
  q "DROP FUNCTION IF EXISTS ${name}(int8); DROP FUNCTION IF EXISTS ${name}_bare(int8)"
  q "CREATE FUNCTION ${name}(n int8) RETURNS int8 STRICT LANGUAGE plrust AS '$body'"
  # A different body text (a comment), so a different artifact key.
  q "CREATE FUNCTION ${name}_bare(n int8) RETURNS int8 STRICT LANGUAGE plrust AS '$body /* bare */'"
  src="$work/$name"
  mkdir -p "$src"
  q "SELECT contents FROM plrust.generated_crate('${name}_bare(int8)'::regprocedure) WHERE file = 'lib.rs'" > "$src/lib.rs"
  q "SELECT contents FROM plrust.generated_crate('${name}_bare(int8)'::regprocedure) WHERE file = 'user.rs'" \
    | sed -e 's/::pgrx::__glue::probe_entry();//g' -e 's/::pgrx::__glue::probe();//g' > "$src/user.rs"
  grep -q '__glue::probe' "$src/user.rs" && { echo "bench-probes: probes left in $name" >&2; exit 1; }
  mapfile -t cmd < <(q "SELECT contents FROM plrust.generated_crate('${name}_bare(int8)'::regprocedure) WHERE file = 'rustc'")
  (cd "$src" && RUSTC_BOOTSTRAP=1 "${cmd[@]}" -o "$src/bare.so" lib.rs)
  chmod 644 "$src/bare.so"
  q "UPDATE plrust.artifacts SET object = pg_read_binary_file('$src/bare.so')
     WHERE key = plrust.artifact_key('${name}_bare(int8)'::regprocedure)" >/dev/null
done

rows=""
for k in "${kernels[@]}"; do
  IFS='|' read -r name arg body <<<"$k"
  rows+="('$name', $arg),"
done
# One session: warm both (load the libraries), then alternate.
psql -h 127.0.0.1 -p "$PORT" -U postgres -XAtq -v ON_ERROR_STOP=1 postgres <<SQL
CREATE TEMP TABLE timing(kernel text, variant text, ms float8);
DO \$\$
DECLARE k record; t0 timestamptz; r int; v text;
BEGIN
  FOR k IN SELECT * FROM (VALUES ${rows%,}) AS x(name, arg) LOOP
    EXECUTE format('SELECT %I(1)', k.name);
    EXECUTE format('SELECT %I(1)', k.name || '_bare');
    FOR r IN 1..$ROUNDS LOOP
      FOREACH v IN ARRAY ARRAY['', '_bare'] LOOP
        t0 := clock_timestamp();
        EXECUTE format('SELECT %I(%s)', k.name || v, k.arg);
        INSERT INTO timing VALUES (k.name, v, extract(epoch FROM clock_timestamp() - t0) * 1000);
      END LOOP;
    END LOOP;
  END LOOP;
END \$\$;
\echo '| kernel | with probes (best of $ROUNDS) | without | ratio |'
\echo '|---|---|---|---|'
SELECT format('| %s(%s) | %s ms | %s ms | %s |', a.kernel, k.arg, round(a.best::numeric, 1),
              round(b.best::numeric, 1), round((a.best / b.best)::numeric, 2))
FROM (SELECT kernel, min(ms) AS best FROM timing WHERE variant = '' GROUP BY kernel) a
JOIN (SELECT kernel, min(ms) AS best FROM timing WHERE variant = '_bare' GROUP BY kernel) b USING (kernel)
JOIN (VALUES ${rows%,}) AS k(name, arg) ON k.name = a.kernel
ORDER BY a.kernel;
SQL
