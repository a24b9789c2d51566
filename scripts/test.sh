#!/usr/bin/env bash
# Set everything up (scripts/setup.sh), then run every test:
#   0. the postgrestd probes: std built for the postgres target refuses OS access
#   1. cargo fmt --check and cargo clippy -D warnings
#   2. unit tests of the runtime crates linked into function libraries
#   3. unit tests and in-server tests (cargo pgrx test, which runs both: the pure stages
#      without a server, the #[pg_test]s inside a pgrx-managed cluster)
#   4. the SQL regression suites in tests/pg_regress against a fresh cluster on loopback,
#      checking afterwards that the server never restarted or crashed; then again with
#      plrust in shared_preload_libraries
#   5. the lifecycle scripts in tests/lifecycle, each with clusters of its own: dump and
#      restore, a streaming standby without a toolchain, concurrent builds and load,
#      aarch64 artifacts built by this server
# Ends with a line "N passed, N failed" (suites counted as one each).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export PATH="$HOME/.cargo/bin:$PATH"
PG_MAJOR=${PG_MAJOR:-15}
TEST_DIR=${PLRUST_TEST_DIR:-/var/tmp/plrust-test}

scripts/setup.sh
build_id=$(cat "${PLRUST_HOME:-/opt/plrust}/BUILD_ID")
export PLRUST_BUILD_ID="$build_id"

passed=0; failed=0
run() {
  local name=$1; shift
  printf '\n== test: %s\n' "$name"
  if "$@"; then passed=$((passed + 1)); echo "-- $name: ok"; else failed=$((failed + 1)); echo "-- $name: FAILED"; fi
}

run "postgrestd probes (std refuses OS access)" postgrestd/test.sh "$(uname -m | sed 's/arm64/aarch64/')" "${PLRUST_HOME:-/opt/plrust}/sysroot"
run "cargo fmt" cargo fmt --all --check
run "cargo clippy" cargo clippy --workspace --all-targets --no-default-features --features pg$PG_MAJOR -- -D warnings
run "unit tests of the runtime crates (pallocator, postpanic, plrust-trusted-pgrx)" \
  cargo test -p pallocator -p postpanic -p plrust-trusted-pgrx --no-default-features --features "postpanic/pg$PG_MAJOR plrust-trusted-pgrx/pg$PG_MAJOR"
pgrx_test() {
  local dir="$TEST_DIR-pgrx"
  rm -rf "$dir"
  (cd plrust && cargo pgrx test "pg$PG_MAJOR" --runas postgres --pgdata "$dir")
}
run "unit and in-server tests (cargo pgrx test)" pgrx_test

# cargo pgrx test installed its test build; regress.sh puts the release build back.
run "pg_regress suites" scripts/regress.sh
run "pg_regress suites, plrust in shared_preload_libraries" \
  env PLRUST_PRELOAD=1 PLRUST_TEST_DIR="$TEST_DIR-preload" PLRUST_TEST_PORT=28823 scripts/regress.sh
run "lifecycle: pg_dump and restore of 109 functions" tests/lifecycle/dump-restore.sh
run "lifecycle: streaming standby without a toolchain" tests/lifecycle/standby.sh
run "lifecycle: concurrent builds; pgbench while replacing" tests/lifecycle/load.sh
run "lifecycle: aarch64 artifacts an aarch64 server can load" tests/lifecycle/cross-target.sh

printf '\n%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
