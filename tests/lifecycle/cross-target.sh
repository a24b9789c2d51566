#!/usr/bin/env bash
# With plrust.compilation_targets = aarch64, the aarch64 shared objects this x86_64
# server stores are ones an aarch64 server could load: each parses as an aarch64 ELF
# shared object (read by binutils for aarch64, not by PL/Rust), exports PL/Rust's entry
# points, needs only libc, libgcc_s and the PL/Rust runtime, and every symbol it leaves
# undefined is defined by aarch64 glibc or libgcc_s, by the postgres server (its exported
# symbols are the same on every architecture: one source), by plrust.so or by the aarch64
# runtime setup built — whose own undefined symbols the same check holds — and the
# PostgreSQL API it uses is exactly what the x86_64 build of the same function uses.
source "$(dirname "$0")/lib.sh"
dir=$TEST_DIR-cross; port=28822
tmp=$(mktemp -d)
"$repo/scripts/cluster.sh" start "$dir" "$port"
trap 'rm -rf "$tmp"; "$repo/scripts/cluster.sh" stop "$dir"' EXIT

q "$port" postgres <<'SQL'
CREATE EXTENSION plrust;
SET plrust.compilation_targets = aarch64;
CREATE FUNCTION ct_scalar(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x * 7)) $$;
CREATE FUNCTION ct_text(t text) RETURNS text LANGUAGE plrust AS $$
    Ok(t.map(|t| t.chars().rev().collect::<String>()))
$$;
CREATE FUNCTION ct_rows(n int) RETURNS TABLE (i int, sq float8) STRICT LANGUAGE plrust AS $$
    Ok(Some(TableIterator::new((1..=n).map(|i| (Some(i), Some(f64::from(i).sqrt()))).collect::<Vec<_>>())))
$$;
CREATE FUNCTION ct_spi() RETURNS bigint LANGUAGE plrust AS $$
    Ok(Spi::get_one::<i64>("SELECT count(*) FROM pg_class")?)
$$;
CREATE FUNCTION ct_fails(x int) RETURNS int LANGUAGE plrust AS $$
    if x.is_none() { return Err("no x".into()); }
    Ok(x.map(|x| x / 2))
$$;
SQL
functions="ct_scalar ct_text ct_rows ct_spi ct_fails"
expect "functions built for both targets" 10 "$(q "$port" postgres -c "SELECT count(*) FROM plrust.functions WHERE built AND function::text LIKE 'ct_%'")"

# Symbols an aarch64 server provides: aarch64 glibc and libgcc_s, the server, plrust.so
# (and, for the function libraries, the aarch64 runtime).
runtime=${PLRUST_HOME:-/opt/plrust}/closure/aarch64-postgres-linux-gnu/runtime/libplrust_runtime.so
provided=$tmp/provided
{
  for lib in libc.so.6 libgcc_s.so.1 ld-linux-aarch64.so.1; do
    aarch64-linux-gnu-nm -D --defined-only "/usr/aarch64-linux-gnu/lib/$lib" | awk '{print $3}'
  done
  nm -D --defined-only "$bin/postgres" | awk '{print $3}'
  nm -D --defined-only "$("$bin/pg_config" --pkglibdir)/plrust.so" | awk '{print $3}'
} | sed 's/@.*//' | sort -u > "$provided"
with_runtime=$tmp/with-runtime
{ cat "$provided"; aarch64-linux-gnu-nm -D --defined-only "$runtime" | awk '{print $3}'; } |
  sed 's/@.*//' | sort -u > "$with_runtime"
server_api() { nm -D --defined-only "$bin/postgres" | awk '{print $3}' | sort -u; }
# A library's undefined symbols; weak ones (w/v) need no definition.
undefined() { "$1" -D --undefined-only "$2" | awk '$1 == "U" {print $2}' | sed 's/@.*//' | sort -u; }

for f in $functions; do
  for t in aarch64 x86_64; do
    q "$port" postgres -c "SELECT encode(a.object, 'base64') FROM plrust.artifacts a
      JOIN plrust.functions f ON f.key = a.key AND f.target = a.target
      WHERE f.function = '$f'::regproc AND a.target = '$t-postgres-linux-gnu'" | base64 -d > "$tmp/$f.$t.so"
  done
  so=$tmp/$f.aarch64.so
  header=$(aarch64-linux-gnu-readelf -h "$so")
  expect "$f: ELF class" ELF64 "$(awk '/Class:/ {print $2}' <<<"$header")"
  expect "$f: ELF type" DYN "$(awk '/Type:/ {print $2}' <<<"$header")"
  expect "$f: machine" AArch64 "$(awk '/Machine:/ {print $2}' <<<"$header")"
  # Every header, section, segment, dynamic entry and symbol parses without complaint.
  expect "$f: readelf -a warnings" "" "$(aarch64-linux-gnu-readelf -W -a "$so" 2>&1 >/dev/null)"
  expect "$f: needed libraries" "libc.so.6 libgcc_s.so.1 libplrust_runtime.so" \
    "$(aarch64-linux-gnu-readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | xargs)"
  expect "$f: exported entry points" "PLRUST_TARGET plrust_entry plrust_init" \
    "$(aarch64-linux-gnu-nm -D --defined-only "$so" | awk '{print $3}' | grep -E '^(plrust_|PLRUST_)' | sort | xargs)"
  expect "$f: undefined symbols no aarch64 server defines" "" \
    "$(undefined aarch64-linux-gnu-nm "$so" | comm -23 - "$with_runtime" | xargs)"
  expect "$f: the server API it uses, against the x86_64 build's" \
    "$(undefined nm "$tmp/$f.x86_64.so" | comm -12 - <(server_api) | xargs)" \
    "$(undefined aarch64-linux-gnu-nm "$so" | comm -12 - <(server_api) | xargs)"
done
expect "the aarch64 runtime: undefined symbols no aarch64 server defines" "" \
  "$(undefined aarch64-linux-gnu-nm "$runtime" | comm -23 - "$provided" | xargs)"
no_crash "$dir"
