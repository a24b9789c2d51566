#!/usr/bin/env bash
# Install everything PL/Rust needs on a fresh Debian 12 machine, then build and install
# the extension. Idempotent: each step checks whether it is already done.
#
#   scripts/setup.sh            (as root)
#
# Installs: apt packages (PostgreSQL 15 + server headers, sudo, clang, mold, the other
# architecture's cross gcc, PL/Perl, PL/Python and PL/Lua for the peer benchmark), the pinned Rust toolchain with rust-src, cargo-pgrx 0.18.1,
# and under $PLRUST_HOME (/opt/plrust, readable by the postgres OS user): a copy of the
# toolchain, and for x86_64 and aarch64 both the postgrestd sysroot, the target spec and
# the prebuilt dependency closure. Finally `cargo pgrx install` (scripts/install.sh).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
export PLRUST_HOME=${PLRUST_HOME:-/opt/plrust}
PG_MAJOR=${PG_MAJOR:-15}
PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
RUST_VERSION=1.95.0
PGRX_VERSION=0.18.1
export PATH="$HOME/.cargo/bin:$PATH"
case "$(uname -m)" in
  x86_64) ARCH=x86_64 ;;
  aarch64|arm64) ARCH=aarch64 ;;
  *) echo "setup: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
TRIPLE="$ARCH-postgres-linux-gnu"

step() { printf '\n== setup: %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "setup: run as root (it installs packages and $PLRUST_HOME)" >&2; exit 1; }

step "apt packages"
# libssl-dev + pkg-config: cargo-pgrx links OpenSSL; clang/libclang: pgrx's bindgen;
# mold: the linker of the postgres targets (as fast as lld, and unlike lld it drops the
# exception tables of functions it garbage-collects: 236 KiB of a 575 KiB library);
# sudo: running the server as postgres.
# gcc and libc for the other architecture: functions are also built for it when
# plrust.compilation_targets names it (its linker, and its headers for bindgen).
case "$ARCH" in
  x86_64) cross=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross) ;;
  aarch64) cross=(gcc-x86-64-linux-gnu libc6-dev-amd64-cross) ;;
esac
# The peer languages of the benchmark (scripts/bench.sh).
peers=(postgresql-plperl-$PG_MAJOR postgresql-plpython3-$PG_MAJOR postgresql-$PG_MAJOR-pllua)
packages=(postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR sudo build-essential
          clang libclang-dev mold pkg-config libssl-dev python3 ca-certificates curl
          "${cross[@]}" "${peers[@]}")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "all present"
fi

step "Rust $RUST_VERSION"
if ! command -v rustup >/dev/null; then
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain none
fi
rustup toolchain install "$RUST_VERSION" --profile minimal \
  --component rust-src --component rustfmt --component clippy --component llvm-tools 2>&1 | tail -n 1
# Also when the toolchain was already there (possibly linked to another channel).
rustup component add --toolchain "$RUST_VERSION" rust-src rustfmt clippy llvm-tools 2>&1 | tail -n 1
cd "$repo"   # rust-toolchain.toml pins $RUST_VERSION for everything below
rustc --version

step "cargo-pgrx $PGRX_VERSION"
if ! cargo pgrx --version 2>/dev/null | grep -q "$PGRX_VERSION"; then
  cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
fi
if ! grep -q "^pg$PG_MAJOR = \"$PG_CONFIG\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml" 2>/dev/null; then
  cargo pgrx init --pg$PG_MAJOR "$PG_CONFIG"
fi
cargo pgrx --version

step "toolchain for the server ($PLRUST_HOME/toolchain)"
# The server (user postgres) cannot read root's rustup directory: copy the compiler.
sysroot=$(rustc --print sysroot)
want="$(rustc --version)"
if [ "$(cat "$PLRUST_HOME/toolchain/VERSION" 2>/dev/null)" != "$want" ]; then
  rm -rf "$PLRUST_HOME/toolchain.new"
  mkdir -p "$PLRUST_HOME/toolchain.new/bin" "$PLRUST_HOME/toolchain.new/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')"
  cp -a "$sysroot/bin/rustc" "$PLRUST_HOME/toolchain.new/bin/"
  cp -a "$sysroot"/lib/*.so* "$PLRUST_HOME/toolchain.new/lib/"
  # Host std as a dylib: the proc-macro libraries of the closure link against it.
  host=$(rustc -vV | sed -n 's/^host: //p')
  mkdir -p "$PLRUST_HOME/toolchain.new/lib/rustlib/$host/lib"
  cp -a "$sysroot/lib/rustlib/$host/lib/"*.so "$PLRUST_HOME/toolchain.new/lib/rustlib/$host/lib/"
  echo "$want" > "$PLRUST_HOME/toolchain.new/VERSION"
  rm -rf "$PLRUST_HOME/toolchain"
  mv "$PLRUST_HOME/toolchain.new" "$PLRUST_HOME/toolchain"
fi
# The linker, found by gcc through -B: a cross gcc looks for `<triple>-ld.mold`, not the
# `ld.mold` that -fuse-ld=mold names, so every target's gcc is pointed here.
mkdir -p "$PLRUST_HOME/toolchain/gcc-ld"
rm -f "$PLRUST_HOME/toolchain/gcc-ld/ld.lld"
ln -sfn "$(command -v mold)" "$PLRUST_HOME/toolchain/gcc-ld/ld.mold"
echo "$(cat "$PLRUST_HOME/toolchain/VERSION")"

# Every architecture PL/Rust has, this machine's first: a replica on the other one can
# then run what this server builds (plrust.compilation_targets).
ARCHES=("$ARCH")
for a in x86_64 aarch64; do [ "$a" = "$ARCH" ] || ARCHES+=("$a"); done

step "target specs and postgrestd (${ARCHES[*]})"
mkdir -p "$PLRUST_HOME/targets"
cp postgrestd/targets/*.json "$PLRUST_HOME/targets/"
for a in "${ARCHES[@]}"; do
  postgrestd/build.sh "$a" "$PLRUST_HOME/sysroot"
done

step "dependency closure (plrust-trusted-pgrx for ${ARCHES[*]})"
for a in "${ARCHES[@]}"; do
  scripts/build-closure.sh "$a" "$PLRUST_HOME" "pg$PG_MAJOR"
done

step "build id"
# Everything a function's build depends on besides its own source, for every target.
# Made of inputs only (versions, specs, patches, sources, lockfile), never of built files:
# the same release set up on an x86_64 primary and an aarch64 replica gets the same id,
# so each computes the same artifact keys for either target.
build_id=$( {
  cat "$PLRUST_HOME/toolchain/VERSION"
  echo "pg$PG_MAJOR"
  for a in x86_64 aarch64; do
    cat "$PLRUST_HOME/sysroot/lib/rustlib/$a-postgres-linux-gnu/lib/.postgrestd-stamp"
  done
  find Cargo.toml Cargo.lock rust-toolchain.toml scripts/build-closure.sh \
       plrust-trusted-pgrx pallocator postpanic -type f \( -name '*.rs' -o -name '*.toml' \
       -o -name '*.lock' -o -name '*.sh' \) | LC_ALL=C sort | xargs sha256sum
} | sha256sum | cut -c1-16)
echo "$build_id" > "$PLRUST_HOME/BUILD_ID"
chmod -R a+rX "$PLRUST_HOME"
echo "$build_id"

step "allowed dependencies (sets built before, for this toolchain and every target)"
# Rebuild every dependency set an administrator built before, for this BUILD_ID and every
# architecture, from the copy (and pinned lockfile) kept with it (a set already built is
# skipped); then drop the sets of old builds.
shopt -s nullglob
for old in "$PLRUST_HOME/dependencies/$TRIPLE"/*/*/allowed-dependencies.toml; do
  scripts/allow-dependencies.sh "$old" >/dev/null
done
for dir in "$PLRUST_HOME/dependencies"/*/*/; do
  [ "$(basename "$dir")" = "$build_id" ] || rm -rf "$dir"
done
shopt -u nullglob
for a in "${ARCHES[@]}"; do
  echo "$a: $(ls -d "$PLRUST_HOME/dependencies/$a-postgres-linux-gnu/$build_id"/*/ 2>/dev/null | wc -l) set(s)"
done

step "the extension"
PLRUST_BUILD_ID="$build_id" PG_CONFIG="$PG_CONFIG" PG_MAJOR="$PG_MAJOR" scripts/install.sh

step "done"
