#!/usr/bin/env bash
# Build the crates an allow-list file permits, so function bodies can use them in
# [dependencies] without anything being fetched or built at CREATE FUNCTION.
#
#   scripts/allow-dependencies.sh <allowed-dependencies.toml>     (as root, after setup)
#
# The file is the original PL/Rust's format (see README). The crates are resolved once
# (or from <file>.lock, a Cargo.lock, if it exists, so versions stay pinned), fetched,
# then built offline for x86_64- and aarch64-postgres-linux-gnu against postgrestd into
#   $PLRUST_HOME/dependencies/<triple>/<BUILD_ID>/<sha256 of the file>/
# with a manifest.toml, and copies of the file and its lockfile. Point the server at the
# file (or that copy) with plrust.allowed_dependencies. Prints the copy's path.
# scripts/setup.sh rebuilds every set it finds when the toolchain changes.
set -euo pipefail
file=${1:?usage: allow-dependencies.sh <allowed-dependencies.toml>}
repo=$(cd "$(dirname "$0")/.." && pwd)
home=${PLRUST_HOME:-/opt/plrust}
export PATH="$HOME/.cargo/bin:$PATH"
case "$(uname -m)" in x86_64) host=x86_64 ;; aarch64|arm64) host=aarch64 ;; esac
build_id=$(cat "$home/BUILD_ID")
sha=$(sha256sum "$file" | cut -d' ' -f1)
. "$repo/scripts/cross-env.sh"

# Build the set for <arch>-postgres-linux-gnu (every architecture setup installs: a
# function is built for the other one too when plrust.compilation_targets names it).
build_set() {
  local arch=$1 triple out work stamp json tmp
  triple="$arch-postgres-linux-gnu"
  out="$home/dependencies/$triple/$build_id/$sha"
  [ -f "$out/manifest.toml" ] && return 0
  cross_env_for "$arch"

  work="$repo/target/dependency-sets/$sha"
  mkdir -p "$work/src"
  : > "$work/src/lib.rs"
  # A crate depending on every allowed crate version (renamed, so that several versions
  # of one crate can coexist).
  python3 - "$file" > "$work/Cargo.toml" <<'PY'
import sys, tomllib, json
allow = tomllib.load(open(sys.argv[1], "rb"))
print('[package]\nname = "plrust-dependency-set"\nversion = "0.0.0"\nedition = "2021"\n')
print('[workspace]\n\n[profile.release]\npanic = "unwind"\nlto = false\n\n[dependencies]')
for name, value in allow.items():
    entries = value if isinstance(value, list) else [value]
    for i, e in enumerate(entries):
        spec = {"version": e} if isinstance(e, str) else dict(e)
        line = {"package": name, "version": spec["version"]}
        if "features" in spec: line["features"] = spec["features"]
        d = spec.get("default-features", spec.get("default_features"))
        if d is not None: line["default-features"] = d
        fields = ", ".join(f'{k} = {json.dumps(v)}' for k, v in line.items())
        print(f'plrust_dep_{i}_{name.replace("-", "_")} = {{ {fields} }}')
PY
  if [ -f "$file.lock" ]; then cp "$file.lock" "$work/Cargo.lock"; fi
  stamp=$(cat "$home/sysroot/lib/rustlib/$triple/lib/.postgrestd-stamp")
  json=$(mktemp)
  (
    cd "$work"
    [ -f Cargo.lock ] || cargo generate-lockfile --quiet
    cargo fetch --locked --quiet
    RUSTC_BOOTSTRAP=1 RUSTFLAGS="--sysroot=$home/sysroot --cfg postgrestd_build=\"${stamp:0:16}\"" \
      cargo build --release --offline --locked \
        -Zjson-target-spec --target "$home/targets/$triple.json" --target-dir "$repo/target/dependency-sets/target" \
        --message-format=json-render-diagnostics > "$json"
    cargo metadata --format-version 1 --offline --locked > "$json.meta"
  )
  tmp="$out.new"
  rm -rf "$tmp"
  mkdir -p "$tmp/target" "$tmp/host"
  python3 - "$json" "$json.meta" "$triple" "$tmp" <<'PY'
import json, shutil, sys, os
log, meta, triple, out = sys.argv[1:]
meta = json.load(open(meta))
root = meta["resolve"]["root"]
direct = {d["pkg"] for n in meta["resolve"]["nodes"] if n["id"] == root for d in n["deps"]}
packages = {p["id"]: p for p in meta["packages"]}
entries = []
for line in open(log):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") != "compiler-artifact" or m["target"]["name"] == "plrust_dependency_set":
        continue
    for f in m["filenames"]:
        if f.endswith(".rlib") and "/" + triple + "/" in f:
            shutil.copy(f, out + "/target/")
            if m["package_id"] in direct:
                p = packages[m["package_id"]]
                entries.append((p["name"], p["version"], m["features"], m["target"]["name"], os.path.basename(f)))
        elif f.endswith(".so") and "proc-macro" in m["target"]["kind"]:
            shutil.copy(f, out + "/host/")
with open(out + "/manifest.toml", "w") as mf:
    mf.write("# Built by scripts/allow-dependencies.sh: the crates of one allow-list.\n")
    for name, version, features, lib, rlib in sorted(entries):
        mf.write("\n[[crate]]\n")
        mf.write(f"name = {json.dumps(name)}\nversion = {json.dumps(version)}\n")
        mf.write(f"features = {json.dumps(sorted(features))}\nlib = {json.dumps(lib)}\nrlib = {json.dumps(rlib)}\n")
PY
  rm -f "$json" "$json.meta"
  cp "$file" "$tmp/allowed-dependencies.toml"
  cp "$work/Cargo.lock" "$tmp/allowed-dependencies.toml.lock"
  rm -rf "$out"
  mv "$tmp" "$out"
  chmod -R a+rX "$home/dependencies"
}

build_set "$host"
for arch in x86_64 aarch64; do
  [ "$arch" = "$host" ] || build_set "$arch"
done
echo "$home/dependencies/$host-postgres-linux-gnu/$build_id/$sha/allowed-dependencies.toml"
