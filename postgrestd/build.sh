#!/usr/bin/env bash
# Build postgrestd: Rust's own std, from the pinned toolchain's rust-src with the patch
# series in patches/ applied, for <arch>-postgres-linux-gnu, into a sysroot.
#
#   postgrestd/build.sh <arch> <sysroot-dir> [<scratch-dir>]
#
# The result is <sysroot-dir>/lib/rustlib/<arch>-postgres-linux-gnu/lib/*.rlib, plus a
# stamp recording what it was built from. Re-running with nothing changed does nothing.
set -euo pipefail

arch=${1:?usage: build.sh <arch> <sysroot-dir> [scratch-dir]}
sysroot=${2:?usage: build.sh <arch> <sysroot-dir> [scratch-dir]}
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(realpath -m "${3:-$here/../target/postgrestd}")
triple="$arch-postgres-linux-gnu"
spec="$here/targets/$triple.json"
pinned="1.95.0"

[ -f "$spec" ] || { echo "postgrestd: no target spec for '$arch' ($spec)" >&2; exit 1; }

rustc_version=$(rustc --version)
case "$rustc_version" in
  "rustc $pinned "*) ;;
  *) echo "postgrestd: the patch series is written against rust-src $pinned, but rustc is '$rustc_version'" >&2; exit 1 ;;
esac
src="$(rustc --print sysroot)/lib/rustlib/src/rust/library"
[ -d "$src/std" ] || { echo "postgrestd: rust-src is not installed ($src); run: rustup component add rust-src" >&2; exit 1; }

# Everything the result depends on; when it is unchanged the sysroot is up to date.
patches() { sed -e '/^#/d' -e '/^[[:space:]]*$/d' "$here/patches/series"; }
stamp=$( { echo "$rustc_version"; cat "$spec" "$here/build.sh" "$here/patches/series";
           patches | while read -r p; do cat "$here/patches/$p"; done; } | sha256sum | cut -d' ' -f1)
libdir="$sysroot/lib/rustlib/$triple/lib"
if [ -f "$libdir/.postgrestd-stamp" ] && [ "$(cat "$libdir/.postgrestd-stamp")" = "$stamp" ]; then
  echo "postgrestd: $triple sysroot is up to date ($sysroot)"
  exit 0
fi

echo "postgrestd: building std for $triple from $src"
rm -rf "$scratch/$triple"
mkdir -p "$scratch/$triple/rust"
cp -a "$src" "$scratch/$triple/rust/library"
patches | while read -r p; do
  echo "postgrestd: applying $p"
  patch -d "$scratch/$triple/rust" -p1 --forward --quiet < "$here/patches/$p"
done

# An empty crate whose only purpose is to make cargo build std for the target.
crate="$scratch/$triple/sysroot-crate"
mkdir -p "$crate/src"
cat > "$crate/Cargo.toml" <<TOML
[package]
name = "postgrestd-sysroot"
version = "0.0.0"
edition = "2021"

[lib]
path = "src/lib.rs"

[profile.release]
panic = "unwind"
opt-level = 3
debug = false
TOML
echo '#![no_std]' > "$crate/src/lib.rs"
echo '[workspace]' >> "$crate/Cargo.toml"

(
  cd "$crate"
  RUSTC_BOOTSTRAP=1 __CARGO_TESTS_ONLY_SRC_ROOT="$scratch/$triple/rust/library" \
    cargo build --release --quiet \
      -Zbuild-std=std,panic_unwind -Zjson-target-spec \
      -Zbuild-std-features=panic-unwind \
      --target "$spec" --target-dir "$scratch/$triple/target"
)

deps="$scratch/$triple/target/$triple/release/deps"
tmp="$libdir.new"
rm -rf "$tmp"
mkdir -p "$tmp"
for f in "$deps"/*.rlib; do
  case "$(basename "$f")" in libpostgrestd_sysroot-*) continue ;; esac
  cp "$f" "$tmp/"
done
echo "$stamp" > "$tmp/.postgrestd-stamp"
rm -rf "$libdir"
mv "$tmp" "$libdir"
cp "$spec" "$sysroot/lib/rustlib/$triple/target.json"
chmod -R a+rX "$sysroot"
echo "postgrestd: installed $(ls "$libdir" | wc -l) crates into $libdir"
