#!/usr/bin/env bash
# Constant-time check of the C core: Tests/CTests/ct_check.c marks every secret
# undefined for valgrind's memcheck, so any branch or memory address that
# depends on one is reported; any report fails the run. Also shows that the check can
# fail: with CT_SELFTEST=1 the harness branches on a secret on purpose, and
# valgrind must report it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v valgrind >/dev/null 2>&1 || [ ! -f /usr/include/valgrind/memcheck.h ]; then
    echo "ctcheck: installing valgrind"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq valgrind >/dev/null
fi

out=.build-ctcheck
mkdir -p "$out"
# The compiler SwiftPM builds the core with (the toolchain's clang) at the
# release optimisation level, and gcc: a branch one compiler introduces is
# caught. DWARF 4: valgrind 3.19 cannot read clang's default DWARF 5.
if command -v clang >/dev/null 2>&1; then clang=clang; else clang=/opt/swift/usr/bin/clang; fi
build() {
    "$1" -std=c11 -g -gdwarf-4 -O2 -Wall -Wextra -Werror -DE2EE_CT_VALGRIND -I CSources/CE2EE/include \
        CSources/CE2EE/*.c Tests/CTests/ct_check.c -lsodium -lb2 -o "$2"
}
build gcc "$out/ct_check"
build "$clang" "$out/ct_check_clang"

run() {
    valgrind --tool=memcheck --error-exitcode=3 --track-origins=yes --quiet \
        --suppressions=scripts/ctcheck.supp "${1:-$out/ct_check}"
}

run "$out/ct_check"
run "$out/ct_check_clang"
echo "ctcheck: no secret-dependent branch or address in the calls checked (gcc and clang, -O2)"

rc=0
CT_SELFTEST=1 run >"$out/selftest.log" 2>&1 || rc=$?
if [ "$rc" -ne 3 ] || ! grep -q "Conditional jump or move depends on uninitialised value" "$out/selftest.log"; then
    cat "$out/selftest.log"
    echo "ctcheck: the deliberate secret-dependent branch was not reported (exit $rc)" >&2
    exit 1
fi
echo "ctcheck: a deliberate secret-dependent branch is reported, as it must be"
