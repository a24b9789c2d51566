#!/usr/bin/env bash
# Set everything up (scripts/setup.sh), then run every test:
#   1. cargo fmt --check and cargo clippy -D warnings
#   2. unit tests and in-server tests (cargo pgrx test, which runs both: the pure stages
#      without a server, the #[pg_test]s inside a pgrx-managed cluster)
#   3. the SQL regression suites in tests/pg_regress against a fresh cluster on loopback,
#      checking afterwards that the server never restarted or crashed
# Ends with a line "N passed, N failed" (suites counted as one each).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export PATH="$HOME/.cargo/bin:$PATH"
PG_MAJOR=${PG_MAJOR:-15}
TEST_DIR=${PLRUST_TEST_DIR:-/var/tmp/plrust-test}
TEST_PORT=${PLRUST_TEST_PORT:-28816}

scripts/setup.sh
build_id=$(cat "${PLRUST_HOME:-/opt/plrust}/BUILD_ID")
export PLRUST_BUILD_ID="$build_id"

passed=0; failed=0
run() {
  local name=$1; shift
  printf '\n== test: %s\n' "$name"
  if "$@"; then passed=$((passed + 1)); echo "-- $name: ok"; else failed=$((failed + 1)); echo "-- $name: FAILED"; fi
}

run "cargo fmt" cargo fmt --all --check
run "cargo clippy" cargo clippy --workspace --all-targets --no-default-features --features pg$PG_MAJOR -- -D warnings
pgrx_test() {
  local dir="$TEST_DIR-pgrx"
  rm -rf "$dir"
  (cd plrust && cargo pgrx test "pg$PG_MAJOR" --runas postgres --pgdata "$dir")
}
run "unit and in-server tests (cargo pgrx test)" pgrx_test

regress() {
  # cargo pgrx test installed its test build; put the release build back.
  (cd plrust && cargo pgrx install --release --pg-config "/usr/lib/postgresql/$PG_MAJOR/bin/pg_config" \
     --no-default-features --features "pg$PG_MAJOR") >/dev/null
  scripts/cluster.sh start "$TEST_DIR" "$TEST_PORT"
  local start_time rc=0
  start_time=$(psql -h 127.0.0.1 -p "$TEST_PORT" -U postgres -XAtc "SELECT pg_postmaster_start_time()" postgres)
  mkdir -p "$TEST_DIR/results"
  /usr/lib/postgresql/$PG_MAJOR/lib/pgxs/src/test/regress/pg_regress \
    --bindir=/usr/lib/postgresql/$PG_MAJOR/bin \
    --inputdir=tests/pg_regress --outputdir="$TEST_DIR/results" \
    --host=127.0.0.1 --port="$TEST_PORT" --user=postgres --dbname=plrust_regress \
    --schedule=tests/pg_regress/schedule || rc=$?
  if [ $rc -ne 0 ] && [ -f "$TEST_DIR/results/regression.diffs" ]; then
    cat "$TEST_DIR/results/regression.diffs"
  fi
  # The suites must not have crashed or restarted the server.
  local now
  now=$(psql -h 127.0.0.1 -p "$TEST_PORT" -U postgres -XAtc "SELECT pg_postmaster_start_time()" postgres)
  if [ "$now" != "$start_time" ]; then echo "the server restarted during the suites"; rc=1; fi
  if grep -E "terminated by signal|server process .* was terminated" "$TEST_DIR/server.log"; then
    echo "a backend crashed during the suites (see above)"; rc=1
  fi
  scripts/cluster.sh stop "$TEST_DIR"
  return $rc
}
run "pg_regress suites" regress

printf '\n%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
