#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback, run by the postgres OS user.
#
#   scripts/cluster.sh start <dir> <port> [extra postgres -c settings...]
#   scripts/cluster.sh stop  <dir>
#
# <dir> is (re)created, owned by postgres: <dir>/data, <dir>/server.log, <dir>/work
# (plrust.work_dir). PostgreSQL refuses to run as root, hence sudo -u postgres.
set -euo pipefail
PG_MAJOR=${PG_MAJOR:-15}
bin=/usr/lib/postgresql/$PG_MAJOR/bin
cmd=${1:?start|stop}; dir=${2:?cluster dir}

case "$cmd" in
  start)
    port=${3:?port}; shift 3
    if [ -f "$dir/data/postmaster.pid" ]; then
      sudo -u postgres "$bin/pg_ctl" -D "$dir/data" stop -m fast >/dev/null 2>&1 ||
        kill -9 "$(head -n 1 "$dir/data/postmaster.pid")" 2>/dev/null || true
    fi
    rm -rf "$dir"
    mkdir -p "$dir/work"
    chown -R postgres:postgres "$dir"
    chmod 700 "$dir"
    # The postgres user must be able to reach the directory.
    sudo -u postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
    opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir"
    opts="$opts -c plrust.work_dir=$dir/work"
    for o in "$@"; do opts="$opts -c $o"; done
    sudo -u postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$opts" -w start >/dev/null
    ;;
  stop)
    sudo -u postgres "$bin/pg_ctl" -D "$dir/data" stop -m fast >/dev/null
    ;;
  *) echo "usage: cluster.sh start|stop <dir> ..." >&2; exit 2 ;;
esac
