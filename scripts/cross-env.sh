# Sourced by the scripts that cargo-build for a postgres target. Sets `cross_env` to the
# environment (NAME=value words, for `env`) that building for <arch>-postgres-linux-gnu
# needs on this machine: nothing for its own architecture; for the other one, Debian's
# cross gcc and ar for crates that compile C (pgrx-pg-sys's shim, say), and the target and
# libc headers for bindgen (pgrx-pg-sys runs it over the server headers).
#
#   . scripts/cross-env.sh; cross_env_for aarch64; env "${cross_env[@]}" cargo build ...
cross_env_for() {
  local arch=$1 gnu t
  cross_env=()
  [ "$arch" != "$(uname -m | sed 's/^arm64$/aarch64/')" ] || return 0
  gnu="$arch-linux-gnu"
  command -v "$gnu-gcc" >/dev/null || { echo "no cross compiler $gnu-gcc (scripts/setup.sh installs it)" >&2; return 1; }
  t="${arch}_postgres_linux_gnu"
  cross_env=("CC_$t=$gnu-gcc" "AR_$t=$gnu-ar"
             "BINDGEN_EXTRA_CLANG_ARGS_$t=--target=$gnu -isystem /usr/$gnu/include")
}
