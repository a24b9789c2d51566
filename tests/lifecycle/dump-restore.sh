#!/usr/bin/env bash
# pg_dump of a database with 109 PL/Rust functions of every kind (tests/lifecycle/
# functions.sql), restored into fresh databases with psql (plain format) and pg_restore
# (custom format): every function returns the same results, the restore builds nothing,
# and calling every function afterwards builds only the one that had no artifact.
source "$(dirname "$0")/lib.sh"
dir=$TEST_DIR-dump; port=28818; here=$repo/tests/lifecycle
"$repo/scripts/cluster.sh" start "$dir" "$port"
trap '"$repo/scripts/cluster.sh" stop "$dir"' EXIT

q "$port" postgres -c "CREATE DATABASE src"
q "$port" src -f "$here/functions.sql"
functions=$(q "$port" src -c "SELECT count(*) FROM plrust.functions")
expect "PL/Rust functions in the source database" 109 "$functions"
expect "artifacts stored (all but the one created with check_function_bodies = off)" 108 \
  "$(q "$port" src -c "SELECT count(*) FROM plrust.functions WHERE built")"

sudo -u postgres pg_dump -h 127.0.0.1 -p "$port" -U postgres -Fp -f "$dir/src.sql" src
sudo -u postgres pg_dump -h 127.0.0.1 -p "$port" -U postgres -Fc -f "$dir/src.dump" src
# The source stays as it was: prosrc is the user's text, not rewritten.
grep -q 'Ok(Some(x + 7))' "$dir/src.sql" || fail "the dump does not show the body as written"
stored="SELECT count(*) || ' ' || md5(string_agg(key || ' ' || built_at, ',' ORDER BY key)) FROM plrust.artifacts"
dumped=$(q "$port" src -c "$stored")
q "$port" src -f "$here/results.sql" > "$dir/src.out"
expect "result lines" 109 "$(wc -l < "$dir/src.out")"

# Plain format through psql; the same session then says how many builds it ran.
q "$port" postgres -c "CREATE DATABASE plain"
builds=$(q "$port" plain -f "$dir/src.sql" -c "SELECT plrust.session_builds()" | tail -n 1)
expect "builds while restoring with psql" 0 "$builds"
expect "functions built after the psql restore" 108 \
  "$(q "$port" plain -c "SELECT count(*) FROM plrust.functions WHERE built")"
out=$(q "$port" plain -f "$here/results.sql" -c "SELECT 'builds ' || plrust.session_builds()")
diff <(cat "$dir/src.out"; echo "builds 1") <(echo "$out") || fail "results differ after the psql restore"
echo "ok: the psql restore returns the same 109 results, building only lc_never_built"

# Custom format through pg_restore (its own session: count what the restore stored instead).
q "$port" postgres -c "CREATE DATABASE custom"
sudo -u postgres pg_restore -h 127.0.0.1 -p "$port" -U postgres -d custom --exit-on-error "$dir/src.dump"
# Had the restore built anything, there would be a row the dump did not have.
expect "artifacts after pg_restore (count, digest of keys and build times)" "$dumped" \
  "$(q "$port" custom -c "$stored")"
out=$(q "$port" custom -f "$here/results.sql" -c "SELECT 'builds ' || plrust.session_builds()")
diff <(cat "$dir/src.out"; echo "builds 1") <(echo "$out") || fail "results differ after pg_restore"
echo "ok: the pg_restore restore returns the same 109 results, building only lc_never_built"
no_crash "$dir"
