#!/usr/bin/env bash
# Build the dependency closure every function library links against: the trusted API
# crate (plrust-trusted-pgrx, seen by bodies as `pgrx`) and everything below it, for
# <arch>-postgres-linux-gnu against the postgrestd sysroot, and install it where the
# server's compiles read it:
#
#   <home>/closure/<triple>/target/  rlibs for the postgres target
#   <home>/closure/<triple>/host/    proc-macro libraries rustc loads while compiling
#   <home>/closure/<triple>/libplrust_trusted_pgrx.rlib   the trusted API itself
#
#   scripts/build-closure.sh <arch> <plrust-home> <pg-feature>
set -euo pipefail
arch=${1:?arch}; home=${2:?plrust home}; pgfeat=${3:?pg feature, e.g. pg15}
repo=$(cd "$(dirname "$0")/.." && pwd)
triple="$arch-postgres-linux-gnu"
spec="$home/targets/$triple.json"
tdir="$repo/target/closure"
out="$home/closure/$triple"

json=$(mktemp)
trap 'rm -f "$json"' EXIT
(
  cd "$repo"
  # No LTO: the rlibs are linked into each function by rustc, not cargo, and must hold
  # machine code (bitcode would be handed to the system linker).
  RUSTC_BOOTSTRAP=1 RUSTFLAGS="--sysroot=$home/sysroot" \
    CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo build --release --locked -p plrust-trusted-pgrx \
      --no-default-features --features "$pgfeat" \
      -Zjson-target-spec --target "$spec" --target-dir "$tdir" \
      --message-format=json-render-diagnostics > "$json"
)
rlib=$(python3 - "$json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try: m = json.loads(line)
    except ValueError: continue
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "plrust_trusted_pgrx":
        print(next(f for f in m["filenames"] if f.endswith(".rlib")))
PY
)
[ -n "$rlib" ] || { echo "build-closure: cargo reported no plrust_trusted_pgrx rlib" >&2; exit 1; }

tmp="$out.new"
rm -rf "$tmp"
mkdir -p "$tmp/target" "$tmp/host"
cp "$tdir/$triple/release/deps/"*.rlib "$tmp/target/"
# The trusted API is named on the command line (--extern pgrx=...), never searched for.
rm -f "$tmp/target/"libplrust_trusted_pgrx-*.rlib
cp "$rlib" "$tmp/libplrust_trusted_pgrx.rlib"
cp "$tdir/release/deps/"*.so "$tmp/host/"
rm -rf "$out"
mv "$tmp" "$out"
chmod -R a+rX "$home/closure"
echo "build-closure: installed $(ls "$out/target" | wc -l) rlibs for $triple"
