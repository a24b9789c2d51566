#!/usr/bin/env bash
# Check a postgrestd sysroot: build tests/probe.rs for <arch>-postgres-linux-gnu against
# it and run it. Every probe tries one way for safe Rust to reach the OS through std and
# must find it refused. (Runs the probe as a plain executable on this machine, so only
# for the host architecture.)
#
#   postgrestd/test.sh <arch> <sysroot-dir>
set -euo pipefail
arch=${1:?arch}; sysroot=${2:?sysroot}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
RUSTC_BOOTSTRAP=1 rustc -Zunstable-options --edition 2021 \
  --target "$here/targets/$arch-postgres-linux-gnu.json" --sysroot "$sysroot" \
  -C panic=unwind -o "$out/probe" "$here/tests/probe.rs"
rc=0
# The probe reports on fd 3 (its stdout is refused by postgrestd, as it should be).
"$out/probe" 3>"$out/report" </dev/null >/dev/null 2>&1 || rc=$?
cat "$out/report"
# A probe that ended the process (an unpatched exit/abort) leaves no summary line.
if ! tail -n 1 "$out/report" | grep -qE '^[0-9]+ passed, 0 failed$' || [ $rc -ne 0 ]; then
  echo "postgrestd: the probe found OS access that should be refused (exit status $rc)" >&2
  exit 1
fi

# Every abort path must reach the program's `postgrestd_abort` (in a function library it
# ends the backend with FATAL instead of SIGABRT, which restarts the whole server).
for case in panic-in-drop-while-unwinding panic-in-nounwind-function; do
  RUSTC_BOOTSTRAP=1 rustc -Zunstable-options --edition 2021 \
    --target "$here/targets/$arch-postgres-linux-gnu.json" --sysroot "$sysroot" \
    -C panic=unwind --cfg "case=\"$case\"" --check-cfg 'cfg(case, values(any()))' \
    -A dead_code -o "$out/abort" "$here/tests/abort.rs"
  rc=0
  "$out/abort" 3>"$out/abort-report" </dev/null >/dev/null 2>&1 || rc=$?
  if [ $rc -ne 0 ] || [ "$(cat "$out/abort-report")" != "ended" ]; then
    echo "postgrestd: abort case '$case' did not end through postgrestd_abort (exit status $rc)" >&2
    exit 1
  fi
  echo "abort: $case ends through postgrestd_abort"
done
