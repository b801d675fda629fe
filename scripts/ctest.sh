#!/usr/bin/env bash
# Builds the C core with its standalone test (Tests/CTests/test_*.c: one file
# per area of CSources/CE2EE, test_support.c, test_main.c) under ASan and UBSan,
# with the Swift toolchain's clang, and runs it.
# Usage: scripts/ctest.sh   (from any directory)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if command -v clang >/dev/null 2>&1; then
    cc=clang
else
    cc=/opt/swift/usr/bin/clang
fi

builddir=.build-ctest
mkdir -p "$builddir"

shopt -s nullglob
sources=(CSources/CE2EE/*.c)
if [ "${#sources[@]}" -eq 0 ]; then
    echo "ctest.sh: no C sources in CSources/CE2EE" >&2
    exit 1
fi
tests=(Tests/CTests/test_*.c)
shopt -u nullglob
if [ "${#tests[@]}" -eq 0 ]; then
    echo "ctest.sh: no test sources in Tests/CTests" >&2
    exit 1
fi

# ld.gold prints one harmless "Cannot export local symbol '__asan_..." warning
# per ASan stub; keep every other line of the build log.
build_log="$builddir/build.log"
status=0
"$cc" -std=c11 -g -O1 -Wall -Wextra -Werror \
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
    -I CSources/CE2EE/include \
    "${sources[@]}" "${tests[@]}" \
    -lsodium -lb2 -o "$builddir/ctests" 2>"$build_log" || status=$?
grep -v "Cannot export local symbol '__asan" "$build_log" >&2 || true
if [ "$status" -ne 0 ]; then
    echo "ctest.sh: build failed" >&2
    exit "$status"
fi

export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
"$builddir/ctests"
