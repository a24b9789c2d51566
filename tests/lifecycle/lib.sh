# Shared by the scripts in tests/lifecycle: clusters on loopback run by the postgres OS
# user, and checks that fail the script with a message. Sourced, not run.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PG_MAJOR=${PG_MAJOR:-15}
bin=/usr/lib/postgresql/$PG_MAJOR/bin
TEST_DIR=${PLRUST_TEST_DIR:-/var/tmp/plrust-test}
PLRUST_HOME=${PLRUST_HOME:-/opt/plrust}

# psql against the cluster on port $1, database $2; the rest are psql's arguments.
# Unaligned, tuples only, stop at the first error.
q() {
  local port=$1 db=$2; shift 2
  psql -h 127.0.0.1 -p "$port" -U postgres -d "$db" -XAtq -v ON_ERROR_STOP=1 "$@"
}

fail() { echo "FAILED: $*" >&2; exit 1; }

# expect <what> <expected> <actual>
expect() {
  if [ "$2" != "$3" ]; then fail "$1: expected '$2', got '$3'"; fi
  echo "ok: $1 ($3)"
}

# The server of cluster <dir> never restarted and no backend died (PostgreSQL logs both).
no_crash() {
  if grep -E "terminated by signal|was terminated|server process .* exited with exit code [^0]|PANIC|all server processes terminated" "$1/server.log"; then
    fail "a backend crashed in $1 (server.log above)"
  fi
  echo "ok: no backend crashed ($1)"
}
