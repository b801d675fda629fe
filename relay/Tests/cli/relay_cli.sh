#!/usr/bin/env bash
# Two people talk through a real e2ee-relay with the README's commands only:
# `e2ee relay register|send|sync` (forwarded to e2ee-relay), a second device
# approved by the first, a reply, the exit codes of bad use.
# Usage: bash relay/Tests/cli/relay_cli.sh [BIN_DIR]   (BIN_DIR holds e2ee-relay)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
bin="${1:-$root/relay/.build/debug}"
e2ee="$root/.build/debug/e2ee"
export E2EE_RELAY_BIN="$bin/e2ee-relay"
[ -x "$E2EE_RELAY_BIN" ] || { echo "no $E2EE_RELAY_BIN: build relay/ first" >&2; exit 1; }
[ -x "$e2ee" ] || { echo "no $e2ee: build the root package first" >&2; exit 1; }

work="$(mktemp -d)"
relay_pid=""
cleanup() { [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
checks=0
check() { checks=$((checks + 1)); }
fail() { echo "FAIL: $*" >&2; exit 1; }

# The relay on an ephemeral loopback port; its first stdout line names it.
"$E2EE_RELAY_BIN" serve --db "$work/relay.sqlite" --port 0 > "$work/relay.out" 2> "$work/relay.log" &
relay_pid=$!
for _ in $(seq 100); do grep -q '^listening on ' "$work/relay.out" 2>/dev/null && break; sleep 0.1; done
server="http://$(sed -n 's/^listening on //p' "$work/relay.out")"
[ "$server" != "http://" ] || fail "relay did not start: $(cat "$work/relay.log")"

"$e2ee" relay register --store "$work/alice" --server "$server" --user alice 2>/dev/null; check
"$e2ee" relay register --store "$work/bob" --server "$server" --user bob 2>/dev/null; check
[ "$(stat -c %a "$work/alice/storage.key")" = 600 ] || fail "storage.key is not 0600"; check

"$e2ee" relay send --store "$work/alice" --to bob --message "hello bob" 2>/dev/null; check
echo "piped hello" | "$e2ee" relay send --store "$work/alice" --to bob 2>/dev/null; check
out=$("$e2ee" relay sync --store "$work/bob" --idle 1 2>/dev/null)
[ "$out" = "$(printf 'alice.1: hello bob\nalice.1: piped hello')" ] || fail "bob got: $out"; check
# Acked after commit: a second sync finds nothing.
[ -z "$("$e2ee" relay sync --store "$work/bob" --idle 0.5 2>/dev/null)" ] || fail "redelivered"; check

# Bob's second device, approved by the first, gets what Alice sends next; so does device 1.
"$e2ee" relay register --store "$work/bob2" --server "$server" --user bob --device 2 --approved-by "$work/bob" 2>/dev/null; check
"$e2ee" relay send --store "$work/alice" --to bob --message "both of you" 2>/dev/null; check
[ "$("$e2ee" relay sync --store "$work/bob" --idle 1 2>/dev/null)" = "alice.1: both of you" ] || fail "bob1"; check
[ "$("$e2ee" relay sync --store "$work/bob2" --idle 1 2>/dev/null)" = "alice.1: both of you" ] || fail "bob2"; check
"$e2ee" relay send --store "$work/bob2" --to alice --message "hi from bob's laptop" 2>/dev/null; check
[ "$("$e2ee" relay sync --store "$work/alice" --idle 1 2>/dev/null)" = "bob.2: hi from bob's laptop" ] || fail "alice"; check

# A device nobody approved is refused (exit 1), and bad use exits 2.
set +e
"$e2ee" relay register --store "$work/eve" --server "$server" --user bob --device 3 2>/dev/null; [ $? = 1 ] || fail "unapproved device registered"; check
"$e2ee" relay send --store "$work/alice" --to nobody --message x 2>/dev/null; [ $? = 1 ] || fail "send to nobody"; check
"$e2ee" relay send --store "$work/alice" 2>/dev/null; [ $? = 2 ] || fail "missing --to"; check
"$e2ee" relay send --store "$work/alice" --to 'b o b' --message x 2>/dev/null; [ $? = 2 ] || fail "bad --to"; check
"$e2ee" relay sync --store "$work/nothing" 2>/dev/null; [ $? = 1 ] || fail "sync without a store"; check
"$e2ee" relay frobnicate 2>/dev/null; [ $? = 2 ] || fail "unknown relay command"; check
set -e
grep -q "hello bob" "$work/relay.log" "$work/relay.sqlite"* && fail "a plaintext reached the relay"; check

kill -TERM "$relay_pid"; wait "$relay_pid"; relay_pid=""
echo "relay CLI: $checks checks passed"
