#!/usr/bin/env bash
# Two processes share one SQLite store (an app and its notification extension):
# both receive alternate messages of one peer's chain and both hand out and
# consume one-time prekeys, at the same time. Afterwards nothing is lost, no
# message decrypts twice (no session rolled back) and no prekey was handed out
# twice or came back. Bounded: 2 × 45 rounds, a few seconds.
#
# usage: Tests/cli/hammer.sh PATH_TO_STORE_HAMMER_BINARY
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=90   # within the 100 one-time prekeys a new account has (dave uses one)
check "setup: bob's store, dave's session and $((N + 1)) messages" "$E2EE" setup "$WORK" "$N"
"$E2EE" run "$WORK" 0 "$N" >run0.out 2>&1 & p0=$!
"$E2EE" run "$WORK" 1 "$N" >run1.out 2>&1 & p1=$!
rc0=0; wait "$p0" || rc0=$?
rc1=0; wait "$p1" || rc1=$?
check "worker 0 received its half and its new sessions" test "$rc0" -eq 0
check "worker 1 received its half and its new sessions" test "$rc1" -eq 0
cat run0.out run1.out
check "verify: nothing lost, nothing twice, no prekey twice" "$E2EE" verify "$WORK" "$N"
finish
