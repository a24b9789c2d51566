#!/usr/bin/env bash
# Build the dependency closure every function library links against: the trusted API
# crate (plrust-trusted-pgrx, seen by bodies as `pgrx`) and everything below it, for
# <arch>-postgres-linux-gnu against the postgrestd sysroot, and install it where the
# server's compiles read it:
#
#   <home>/closure/<triple>/target/  rlibs for the postgres target
#   <home>/closure/<triple>/host/    proc-macro libraries rustc loads while compiling
#   <home>/closure/<triple>/runtime/libplrust_runtime.so  the runtime every function
#       library links dynamically: std and the trusted API (seen by bodies as `pgrx`),
#       with its .rmeta (rustc reads a dylib's metadata from it)
#
#   scripts/build-closure.sh <arch> <plrust-home> <pg-feature>
set -euo pipefail
arch=${1:?arch}; home=${2:?plrust home}; pgfeat=${3:?pg feature, e.g. pg15}
repo=$(cd "$(dirname "$0")/.." && pwd)
triple="$arch-postgres-linux-gnu"
spec="$home/targets/$triple.json"
tdir="$repo/target/closure"
out="$home/closure/$triple"

# Cross-building (an aarch64 closure on x86_64, or the reverse) needs the cross gcc.
. "$repo/scripts/cross-env.sh"
cross_env_for "$arch"

json=$(mktemp)
trap 'rm -f "$json"' EXIT
(
  cd "$repo"
  # No LTO: the rlibs are linked into each function by rustc, not cargo, and must hold
  # machine code (bitcode would be handed to the system linker).
  # One codegen unit per crate: with 16, each unit keeps its own copy of every #[inline]
  # function it calls (pgrx's FFI wrappers, with their error paths), and a function
  # library links several of them (add_one: 177 -> 165 KiB, builds no slower).
  # The cfg names the postgrestd build: cargo does not notice a changed sysroot by
  # itself, and rlibs built against another std cannot be linked with this one.
  # Calls into PostgreSQL go through a PLT (-Z plt=yes): the runtime is opened with lazy
  # binding, so a backend looks up only the functions it calls (of the ~400 pgrx wraps).
  stamp=$(cat "$home/sysroot/lib/rustlib/$triple/lib/.postgrestd-stamp")
  env "${cross_env[@]}" RUSTC_BOOTSTRAP=1 RUSTFLAGS="--sysroot=$home/sysroot --cfg postgrestd_build=\"${stamp:0:16}\" -Zplt=yes" \
    CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
    cargo build --release --locked -p plrust-trusted-pgrx \
      --no-default-features --features "$pgfeat" \
      -Zjson-target-spec --target "$spec" --target-dir "$tdir" \
      --message-format=json-render-diagnostics > "$json"
)
tmp="$out.new"
rm -rf "$tmp"
mkdir -p "$tmp/target" "$tmp/host"
# Copy exactly what this build produced (the target dir also holds older builds' files):
# rlibs for the postgres target, proc-macro libraries for the host, and the trusted API
# itself, which is named on the command line (--extern pgrx=...), never searched for.
python3 - "$json" "$triple" "$tmp" <<'PY'
import filecmp, glob, json, os, shutil, sys
log, triple, out = sys.argv[1:]
found = False
for line in open(log):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") != "compiler-artifact":
        continue
    for f in m["filenames"]:
        if m["target"]["name"] == "plrust_trusted_pgrx" and f.endswith(".rlib"):
            # rustc finds it as the runtime's dependency by its hashed name, which only
            # cargo's deps/ copy has (the file cargo reports is uplifted, unhashed).
            deps = os.path.join(os.path.dirname(f), "deps")
            hashed = [d for d in glob.glob(deps + "/libplrust_trusted_pgrx-*.rlib")
                      if filecmp.cmp(d, f, shallow=False)]
            if len(hashed) != 1:
                sys.exit("build-closure: no single hashed copy of " + f)
            shutil.copy(hashed[0], out + "/target/")
            open(out + "/trusted.path", "w").write(
                out + "/target/" + os.path.basename(hashed[0]))
            found = True
            continue
        if f.endswith(".rlib") and "/" + triple + "/" in f:
            shutil.copy(f, out + "/target/")
        elif f.endswith(".so") and "proc-macro" in m["target"]["kind"]:
            shutil.copy(f, out + "/host/")
if not found:
    sys.exit("build-closure: cargo reported no plrust_trusted_pgrx rlib")
PY
# The runtime: one Rust dylib of std and the trusted API, which every function library
# of this target links against instead of statically (a one-line function's library is
# then ~17 KB, not ~144 KiB). Its global allocator is the palloc one. Linked -Bsymbolic (its own symbols bound
# at link time) and for lazy binding (partial RELRO, -z lazy): the loader opens it with
# RTLD_LAZY before any function library, whose NEEDED it satisfies by soname.
mkdir -p "$tmp/runtime"
RUSTC_BOOTSTRAP=1 "$home/toolchain/bin/rustc" -Zunstable-options --edition 2021 \
  --crate-type dylib --crate-name plrust_runtime \
  --target "$spec" --sysroot "$home/sysroot" \
  -C "linker=/usr/bin/$arch-linux-gnu-gcc" -C "link-arg=-B$home/toolchain/gcc-ld/" \
  -C opt-level=2 -C panic=unwind -C codegen-units=1 -C strip=debuginfo -Z plt=yes \
  -C relro-level=partial -C link-arg=-Wl,-z,lazy -C link-arg=-Wl,-Bsymbolic \
  -L "dependency=$tmp/target" -L "dependency=$tmp/host" \
  --extern "plrust_trusted_pgrx=$(cat "$tmp/trusted.path")" \
  --emit=link,metadata --out-dir "$tmp/runtime" "$repo/plrust-trusted-pgrx/runtime.rs"
rm "$tmp/trusted.path"
rm -rf "$out"
mv "$tmp" "$out"
chmod -R a+rX "$home/closure"
echo "build-closure: installed $(ls "$out/target" | wc -l) rlibs and the runtime for $triple"
