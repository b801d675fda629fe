# Shared by the CLI tests: argument check, a work directory, counted checks,
# and the rejection helper. Source it after `set -Eeuo pipefail`.
# Defines: E2EE (absolute path of the binary), WORK, pass/fail/check, to_file,
# store_sum, expect_status, stderr_has; the final summary is `finish`.

if [[ $# -ne 1 ]]; then
    echo "usage: $0 PATH_TO_E2EE_BINARY" >&2
    exit 2
fi
E2EE="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
[[ -x "$E2EE" ]] || { echo "$0: $1 is not executable" >&2; exit 2; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

passed=0
failed=0
# Anything outside a check that fails ends the run with a counted failure.
trap 'echo "FAIL - unexpected failure at line $LINENO: $BASH_COMMAND"; echo "$passed passed, $((failed + 1)) failed"; exit 1' ERR
pass() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1${2:+ ($2)}"; }
# check NAME COMMAND...: one line, pass if the command succeeds.
check() {
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}

# to_file FILE COMMAND...: run the command with stdout to FILE.
to_file() {
    local out=$1
    shift
    "$@" >"$out"
}

# A digest of every file name and content under a store.
store_sum() {
    [[ -d $1 ]] || { echo "no store"; return 0; }
    (cd "$1" && find . -print | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum
}

# expect_status NAME STATUS STORE COMMAND...: the command exits with STATUS,
# prints exactly one "e2ee: ..." line first on stderr, writes nothing to
# stdout, and STORE is unchanged. For status 1 stderr must be that one line only.
expect_status() {
    local name=$1 want=$2 store=$3
    shift 3
    local before after rc=0
    before=$(store_sum "$store")
    "$@" >"$WORK/reject.out" 2>"$WORK/reject.err" || rc=$?
    after=$(store_sum "$store")
    local why=""
    [[ $rc -eq $want ]] || why="exit $rc, wanted $want"
    [[ -z $why && $before != "$after" ]] && why="store changed"
    [[ -z $why && -s $WORK/reject.out ]] && why="wrote to stdout"
    [[ -z $why ]] && ! head -n 1 "$WORK/reject.err" | grep -q '^e2ee: ' && why="stderr: $(head -n 1 "$WORK/reject.err")"
    [[ -z $why && $want -eq 1 && $(wc -l <"$WORK/reject.err") -ne 1 ]] && why="stderr is not one line"
    if [[ -z $why ]]; then pass "$name: $(head -n 1 "$WORK/reject.err")"; else fail "$name" "$why"; fi
}

stderr_has() { grep -q -- "$1" "$WORK/reject.err"; }

# finish: the closing line every runner reads, and the exit status.
finish() {
    trap - ERR
    echo "$passed passed, $failed failed"
    if ((failed > 0)); then exit 1; fi
}
