#!/usr/bin/env bash
# A physical standby made with pg_basebackup on loopback, started where the toolchain is
# not reachable (its own mount namespace, an empty tmpfs over $PLRUST_HOME), runs the
# primary's functions from the WAL-logged artifacts: ones created before the backup, one
# created after the standby started, and one built on the primary only after a call on
# the standby failed for want of its artifact. A standby session sees a REPLACE and a
# DROP made on the primary at its next call.
source "$(dirname "$0")/lib.sh"
dir=$TEST_DIR-primary; sdir=$TEST_DIR-standby; port=28819; sport=28820
"$repo/scripts/cluster.sh" start "$dir" "$port"
stop_all() {
  sudo -u postgres "$bin/pg_ctl" -D "$sdir/data" stop -m fast >/dev/null 2>&1 || true
  "$repo/scripts/cluster.sh" stop "$dir"
}
trap stop_all EXIT

q "$port" postgres <<'SQL'
CREATE EXTENSION plrust;
CREATE FUNCTION sb_before(x int) RETURNS text STRICT LANGUAGE plrust AS $$ Ok(Some(format!("before {}", x))) $$;
CREATE FUNCTION sb_rows(n int) RETURNS TABLE (i int, sq int) STRICT LANGUAGE plrust AS $$
    Ok(Some(TableIterator::new((1..=n).map(|i| (Some(i), Some(i * i))).collect::<Vec<_>>())))
$$;
SET check_function_bodies = off;
CREATE FUNCTION sb_deferred(x int) RETURNS text STRICT LANGUAGE plrust AS $$ Ok(Some(format!("deferred {}", x))) $$;
SQL

sudo -u postgres install -d -m 700 "$sdir" "$sdir/work"
rm -rf "$sdir/data"
sudo -u postgres pg_basebackup -h 127.0.0.1 -p "$port" -U postgres -D "$sdir/data" -R -X stream -c fast
opts="-c port=$sport -c listen_addresses=127.0.0.1 -c unix_socket_directories=$sdir -c plrust.work_dir=$sdir/work"
# The standby's processes see an empty directory where the toolchain is; nothing else
# on the machine does (unshare makes the new namespace's mounts private).
unshare --mount sh -c "mount -t tmpfs -o mode=755 plrust-hidden '$PLRUST_HOME' &&
  exec sudo -u postgres '$bin/pg_ctl' -D '$sdir/data' -l '$sdir/server.log' -o '$opts' -w start" >/dev/null
[ -x "$PLRUST_HOME/toolchain/bin/rustc" ] || fail "the primary's toolchain went missing"

wait_replay() {
  local lsn; lsn=$(q "$port" postgres -c "SELECT pg_current_wal_lsn()")
  for _ in $(seq 300); do
    [ "$(q "$sport" postgres -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && return 0
    sleep 0.1
  done
  fail "the standby did not replay up to $lsn"
}

expect "standby in recovery" t "$(q "$sport" postgres -c "SELECT pg_is_in_recovery()")"
expect "rustc is not reachable from the standby's server" t \
  "$(q "$sport" postgres -c "SELECT pg_stat_file('$PLRUST_HOME/toolchain/bin/rustc', true) IS NULL")"
expect "a function created before the backup" "before 1" "$(q "$sport" postgres -c "SELECT sb_before(1)")"
expect "a TABLE function" "1:1,2:4,3:9" \
  "$(q "$sport" postgres -c "SELECT string_agg(i || ':' || sq, ',') FROM sb_rows(3)")"

q "$port" postgres -c 'CREATE FUNCTION sb_after(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x * 1000)) $$'
wait_replay
expect "a function created on the primary after the standby started" 7000 \
  "$(q "$sport" postgres -c "SELECT sb_after(7)")"

# No artifact (created with check_function_bodies = off) and no toolchain: a clear ERROR.
err=$(q "$sport" postgres -v VERBOSITY=verbose -c "SELECT sb_deferred(1)" 2>&1) && fail "sb_deferred ran on the standby: $err"
echo "$err" | grep -q "ERROR:  55000: sb_deferred(integer) has no compiled artifact for x86_64-postgres-linux-gnu, and this server cannot build one" ||
  fail "unexpected error: $err"
echo "$err" | grep -q "HINT:  .*SELECT plrust.compile('sb_deferred(integer)'::regprocedure);" || fail "no hint: $err"
echo "ok: a function without an artifact fails on the standby with 55000 and says what to do"
expect "plrust.compile on the primary" t \
  "$(q "$port" postgres -c "SELECT plrust.compile('sb_deferred(int)'::regprocedure)")"
wait_replay
expect "the same function once built on the primary" "deferred 2" "$(q "$sport" postgres -c "SELECT sb_deferred(2)")"

# One standby session across a REPLACE and a DROP on the primary (psql's \! runs them).
# psql's \! runs it from inside the standby session: run SQL on the primary, wait for replay.
cat > "$sdir/primary-do.sh" <<SH
#!/usr/bin/env bash
set -e
psql -h 127.0.0.1 -p $port -U postgres -XAtq -v ON_ERROR_STOP=1 -c "\$1" >/dev/null
lsn=\$(psql -h 127.0.0.1 -p $port -U postgres -XAtq -c "SELECT pg_current_wal_lsn()")
for _ in \$(seq 300); do
  [ "\$(psql -h 127.0.0.1 -p $sport -U postgres -XAtq -c "SELECT pg_last_wal_replay_lsn() >= '\$lsn'")" = t ] && exit 0
  sleep 0.1
done
exit 1
SH
chmod +x "$sdir/primary-do.sh"
primary_do() { echo "\\! $sdir/primary-do.sh '$1'"; }
session=$(q "$sport" postgres -v ON_ERROR_STOP=0 2>&1 <<SQL
SELECT sb_before(1);
$(primary_do 'CREATE OR REPLACE FUNCTION sb_before(x int) RETURNS text STRICT LANGUAGE plrust AS $$ Ok(Some(format!("replaced {}", x))) $$')
SELECT sb_before(1);
$(primary_do 'DROP FUNCTION sb_before(int)')
SELECT sb_before(1);
SQL
)
expected="before 1
replaced 1
ERROR:  function sb_before(integer) does not exist
LINE 1: SELECT sb_before(1);
               ^
HINT:  No function matches the given name and argument types. You might need to add explicit type casts."
expect "a standby session across REPLACE and DROP on the primary" "$expected" "$session"
no_crash "$dir"
no_crash "$sdir"
