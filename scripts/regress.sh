#!/usr/bin/env bash
# Install the release build of the extension and run the pg_regress suites in
# tests/pg_regress against a fresh cluster on 127.0.0.1. Fails if any suite fails, or if
# the server restarted or a backend crashed while they ran. Assumes scripts/setup.sh ran.
#
#   scripts/regress.sh [suite ...]     (default: the whole schedule)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export PATH="$HOME/.cargo/bin:$PATH"
PG_MAJOR=${PG_MAJOR:-15}
TEST_DIR=${PLRUST_TEST_DIR:-/var/tmp/plrust-test}
TEST_PORT=${PLRUST_TEST_PORT:-28816}
export PLRUST_BUILD_ID=${PLRUST_BUILD_ID:-$(cat "${PLRUST_HOME:-/opt/plrust}/BUILD_ID")}

(cd plrust && cargo pgrx install --release --pg-config "/usr/lib/postgresql/$PG_MAJOR/bin/pg_config" \
   --no-default-features --features "pg$PG_MAJOR") >/dev/null

# The crates tests/pg_regress/sql/dependencies.sql may use.
allowed=$(scripts/allow-dependencies.sh tests/allowed-dependencies.toml)
scripts/cluster.sh start "$TEST_DIR" "$TEST_PORT" "plrust.allowed_dependencies=$allowed"
trap 'scripts/cluster.sh stop "$TEST_DIR"' EXIT
pg() { psql -h 127.0.0.1 -p "$TEST_PORT" -U postgres -XAtc "$1" postgres; }
started=$(pg "SELECT pg_postmaster_start_time()")
if [ $# -gt 0 ]; then tests=("$@"); else tests=(--schedule=tests/pg_regress/schedule); fi
rc=0
# A runaway that is not stopped must fail the run, not hang it.
timeout 1200 /usr/lib/postgresql/$PG_MAJOR/lib/pgxs/src/test/regress/pg_regress \
  --bindir=/usr/lib/postgresql/$PG_MAJOR/bin \
  --inputdir=tests/pg_regress --outputdir="$TEST_DIR/results" \
  --host=127.0.0.1 --port="$TEST_PORT" --user=postgres --dbname=plrust_regress \
  "${tests[@]}" || rc=$?
if [ $rc -ne 0 ] && [ -f "$TEST_DIR/results/regression.diffs" ]; then
  cat "$TEST_DIR/results/regression.diffs"
fi
if [ "$(pg "SELECT pg_postmaster_start_time()")" != "$started" ]; then
  echo "regress: the server restarted while the suites ran"; rc=1
fi
if grep -E "terminated by signal|was terminated|server process .* exited" "$TEST_DIR/server.log"; then
  echo "regress: a backend died while the suites ran (see above)"; rc=1
fi
exit $rc
