#!/usr/bin/env bash
# Build the extension (release) and install it into PostgreSQL $PG_MAJOR (default 15):
# what setup.sh and regress.sh run. Needs PLRUST_BUILD_ID (setup.sh's, by default the
# one in $PLRUST_HOME/BUILD_ID).
#
# plrust.so is linked with --gc-sections. cargo-pgrx links every extension with
# --no-gc-sections so that its schema section (.pgrxsc) cannot be dropped, and that
# keeps all the code nothing calls: syn, pgrx's SQL entity graph, ... 8.8 MB of library
# instead of 4.5 MB, and about 0.25 ms more on every session's first PL/Rust call (the
# dlopen; docs/benchmarks.md). rustc marks .pgrxsc retained and the linker keeps it; if
# it ever did not, `cargo pgrx install` would fail at its schema step, not install a
# broken extension.
#
# The flag is part of cargo's fingerprint of every crate: a build with and a build
# without it do not share compiled dependencies, so every release install goes through
# this script.
set -euo pipefail
cd "$(dirname "$0")/../plrust"
PG_MAJOR=${PG_MAJOR:-15}
export PLRUST_BUILD_ID=${PLRUST_BUILD_ID:-$(cat "${PLRUST_HOME:-/opt/plrust}/BUILD_ID")}
export CARGO_PGRX_DISABLE_GC_SECTIONS_WORKAROUND=1
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$PG_MAJOR/bin/pg_config}
cargo pgrx install --release --pg-config "$PG_CONFIG" \
  --no-default-features --features "pg$PG_MAJOR"
# The runtime every function library links (std and the trusted API), installed beside
# plrust.so: a server runs its functions with it even where the toolchain is not (a
# standby). This machine's architecture's, from the closure setup built.
arch=$(uname -m | sed 's/^arm64$/aarch64/')
install -m 755 "${PLRUST_HOME:-/opt/plrust}/closure/$arch-postgres-linux-gnu/runtime/libplrust_runtime.so" \
  "$("$PG_CONFIG" --pkglibdir)/plrust_runtime.so"
