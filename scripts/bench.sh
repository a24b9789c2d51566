#!/usr/bin/env bash
# Compile-latency benchmark: sets up (scripts/setup.sh), starts a cluster on 127.0.0.1,
# and prints a Markdown table of
#   - CREATE FUNCTION latency over N distinct small bodies (p50, p95, max)
#   - CREATE FUNCTION of an identical, already-built body (no compile)
#   - the first call of a function in a fresh backend (loads the library)
#   - the size of a small function's shared object
#   - the cost of the cancellation probes (scripts/bench-probes.sh)
# Bodies carry a per-run marker, so nothing is reused from an earlier run.
# The per-call and compute comparisons against other languages come with the
# performance work.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
DIR=${PLRUST_BENCH_DIR:-/var/tmp/plrust-bench}
PORT=${PLRUST_BENCH_PORT:-28817}
N=${N:-20}
[ "${SKIP_SETUP:-}" = 1 ] || scripts/setup.sh >/dev/null
scripts/cluster.sh start "$DIR" "$PORT"
trap 'scripts/cluster.sh stop "$DIR"' EXIT
q() { psql -h 127.0.0.1 -p "$PORT" -U postgres -XAtq -v ON_ERROR_STOP=1 -c "$1" postgres; }
run=$(date +%s%N)

q "CREATE EXTENSION plrust"
q "CREATE TABLE bench_create(i int, ms float8)"
q "DO \$\$
DECLARE t0 timestamptz;
BEGIN
  FOR i IN 1..$N LOOP
    t0 := clock_timestamp();
    EXECUTE format('CREATE FUNCTION f%s(x int) RETURNS int STRICT LANGUAGE plrust AS %L',
                   i, format(' /* run $run */ Ok(Some(x + %s)) ', i));
    INSERT INTO bench_create VALUES (i, extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
END \$\$"
same=$(q "DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN
  EXECUTE format('CREATE FUNCTION g1(x int) RETURNS int STRICT LANGUAGE plrust AS %L', ' /* run $run */ Ok(Some(x + 1)) ');
  RAISE NOTICE '%', extract(epoch FROM clock_timestamp() - t0) * 1000; END \$\$" 2>&1 | sed 's/.*NOTICE: *//')
first=()
for i in 1 2 3 4 5 6 7 8 9 10; do
  first+=("$(q "DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN PERFORM f$i(1);
    RAISE NOTICE '%', extract(epoch FROM clock_timestamp() - t0) * 1000; END \$\$" 2>&1 | sed 's/.*NOTICE: *//')")
done
first_median=$(printf '%s\n' "${first[@]}" | sort -g | awk '{a[NR]=$1} END {print (a[int((NR+1)/2)] + a[int(NR/2)+1]) / 2}')
read -r p50 p95 max <<<"$(q "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
  round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 1), round(max(ms)::numeric, 1) FROM bench_create" | tr '|' ' ')"
size=$(q "SELECT octet_length(object) FROM plrust.artifacts WHERE key = plrust.artifact_key('f1(int)'::regprocedure)")

cat <<EOT
| measurement (this machine, $(nproc) cores) | value |
|---|---|
| CREATE FUNCTION, $N distinct small bodies: p50 | $p50 ms |
| CREATE FUNCTION: p95 | $p95 ms |
| CREATE FUNCTION: max | $max ms |
| CREATE FUNCTION of an already-built body | $(printf '%.1f' "$same") ms |
| first call in a fresh backend (median of 10) | $(printf '%.2f' "$first_median") ms |
| shared object of a small function | $((size / 1024)) KiB |
EOT

# The cost of the cancellation probes (its own cluster).
echo
SKIP_SETUP=1 scripts/bench-probes.sh 2>&1 | grep -v '^NOTICE'
