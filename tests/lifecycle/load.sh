#!/usr/bin/env bash
# Concurrency. First, two sessions build at once (the same body under two names, and
# different bodies): both succeed, share what is identical, and leave nothing in the
# work dir but the object cache's files. Then pgbench runs 8 clients for ${LOAD_SECONDS:-60} s calling two functions
# while another session replaces one of them every second, cycling through 4 versions:
# no ERROR anywhere in the server log, no crash, every result from one complete version,
# and every version seen by the running clients.
source "$(dirname "$0")/lib.sh"
dir=$TEST_DIR-load; port=28821; seconds=${LOAD_SECONDS:-60}
"$repo/scripts/cluster.sh" start "$dir" "$port"
trap '"$repo/scripts/cluster.sh" stop "$dir"' EXIT
q "$port" postgres -c "CREATE EXTENSION plrust"

# -- Concurrent builds.
session() {
  local s=$1
  q "$port" postgres \
    -c "CREATE FUNCTION cb_same_$s() RETURNS text LANGUAGE plrust AS \$\$ Ok(Some(\"same body\".into())) \$\$" \
    -c "CREATE FUNCTION cb_own_$s() RETURNS text LANGUAGE plrust AS \$\$ Ok(Some(\"own $s\".into())) \$\$" \
    -c "CREATE FUNCTION cb_more_$s(x int) RETURNS int STRICT LANGUAGE plrust AS \$\$ Ok(Some(x * $s + 1)) \$\$"
}
session 2 & a=$!
session 3 & b=$!
wait "$a" || fail "session A's CREATEs failed"
wait "$b" || fail "session B's CREATEs failed"
expect "results of both sessions' functions" "same body|same body|own 2|own 3|21|31" \
  "$(q "$port" postgres -c "SELECT concat_ws('|', cb_same_2(), cb_same_3(), cb_own_2(), cb_own_3(), cb_more_2(10), cb_more_3(10))")"
expect "artifacts: the identical bodies share one" 5 \
  "$(q "$port" postgres -c "SELECT count(DISTINCT key) FROM plrust.functions WHERE built")"
expect "files left in plrust.work_dir, the object cache aside" 0 \
  "$(find "$dir/work" -mindepth 1 -not -path "$dir/work/plrust-objects-pg*" | wc -l)"
# The call above loaded the 5 artifacts in one session: each is now a whole file in the
# object cache, and no temporary file of the cache's is left.
expect "object cache: one file per artifact loaded, nothing else" 5 \
  "$(find "$dir"/work/plrust-objects-pg*/ -mindepth 1 | wc -l)"

# -- Load with a REPLACE every second.
q "$port" postgres <<'SQL'
CREATE SEQUENCE seen_1; CREATE SEQUENCE seen_2; CREATE SEQUENCE seen_3; CREATE SEQUENCE seen_4;
-- Version v of load_f returns v * 1000000 + x * v: a result mixing versions, or from
-- none, fails the check (and so the client's transaction).
CREATE FUNCTION load_check(x int, r bigint) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  IF r / 1000000 NOT BETWEEN 1 AND 4 OR r % 1000000 <> x * (r / 1000000) THEN
    RAISE EXCEPTION 'torn result % for %', r, x;
  END IF;
  PERFORM nextval('seen_' || (r / 1000000));
  RETURN 1;
END $$;
CREATE FUNCTION load_g(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x + 1)) $$;
SQL
replace() {
  q "$port" postgres -c "CREATE OR REPLACE FUNCTION load_f(x int) RETURNS bigint STRICT LANGUAGE plrust AS
    \$\$ let v: i64 = $1; let x = x as i64; Ok(Some(v * 1_000_000 + x * v)) \$\$"
}
replace 1
printf '%s\n' '\set x random(1, 999)' 'SELECT load_check(:x, load_f(:x)), load_g(:x) = :x + 1 AS g_ok \gset' \
  '\if :g_ok' '\else' 'SELECT 1/0 AS load_g_wrong;' '\endif' > "$dir/load.pgbench"
logged_errors_before=$(grep -c "ERROR" "$dir/server.log" || true)

pgbench -h 127.0.0.1 -p "$port" -U postgres -n -c 8 -j 2 -T "$seconds" -f "$dir/load.pgbench" postgres \
  > "$dir/pgbench.out" 2>&1 & bench=$!
replaced=0; replace_failures=0
for i in $(seq "$seconds"); do
  sleep 1
  if replace $(( i % 4 + 1 )) >/dev/null 2>>"$dir/replace.err"; then replaced=$((replaced + 1)); else replace_failures=$((replace_failures + 1)); fi
done
wait "$bench" || { cat "$dir/pgbench.out"; fail "pgbench failed"; }
grep -E "^(number of (transactions actually processed|failed transactions)|tps)" "$dir/pgbench.out"
grep -q "aborted" "$dir/pgbench.out" && { cat "$dir/pgbench.out"; fail "a pgbench client aborted"; }
grep -q "^number of failed transactions: 0 " "$dir/pgbench.out" || fail "failed transactions"
expect "replacements that failed" 0 "$replace_failures"
echo "ok: $replaced replacements during the run"
expect "ERRORs in the server log during the load" "$logged_errors_before" "$(grep -c "ERROR" "$dir/server.log" || true)"
q "$port" postgres -c "SELECT 'results per version: ' || string_agg(sequencename || '=' || coalesce(last_value, 0), ' ' ORDER BY sequencename)
                        FROM pg_sequences WHERE sequencename LIKE 'seen_%'"
expect "versions the clients saw (of 4)" 4 \
  "$(q "$port" postgres -c "SELECT count(*) FROM pg_sequences WHERE sequencename LIKE 'seen_%' AND last_value IS NOT NULL")"
no_crash "$dir"
