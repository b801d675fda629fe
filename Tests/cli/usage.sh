#!/usr/bin/env bash
# The e2ee command line itself (swift-argument-parser): exit status 2 for every
# kind of usage error (argument-parser's own and the tool's), 1 for failures
# with the one-line "e2ee: CMD failed: WHY", 0 for help, --version and the
# generated shell completions (which must complete); directories created for
# outputs; `e2ee relay …` handing its arguments to e2ee-relay untouched.
#
# usage: Tests/cli/usage.sh PATH_TO_E2EE_BINARY
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# helps NAME ARGS...: exit 0, the help on stdout naming the command's usage line, nothing on stderr.
helps() {
    local name=$1 rc=0
    shift
    "$E2EE" "$@" >help.out 2>help.err || rc=$?
    if [[ $rc -eq 0 && ! -s help.err ]] && grep -q "^USAGE: e2ee $name" help.out; then
        pass "e2ee $* prints the help of 'e2ee $name'"
    else
        fail "e2ee $*" "exit $rc, stderr: $(head -c 200 help.err)"
    fi
}

# completes SHELL_LINE WORDS...: the bash completion of the line offers exactly WORDS.
completes() {
    local line=$1
    shift
    local got
    got=$(bash -O extglob -c '
        source ./e2ee.bash
        line=$1
        read -ra COMP_WORDS <<<"$line"
        [[ $line == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) COMP_LINE=$line COMP_POINT=${#line}
        _e2ee e2ee "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        echo "${COMPREPLY[*]}"' _ "$line")
    if [[ $got == "$*" ]]; then pass "bash completes '$line' with: $got"; else fail "bash completes '$line'" "got '$got', wanted '$*'"; fi
}

# ---------------------------------------------------------------- help and version
helps "<subcommand>" --help
helps "<subcommand>" -h
helps "<subcommand>" help
for command in init bundle encrypt decrypt receive inbox inspect group relay; do
    helps "$command" "$command" --help
    helps "$command" help "$command"
done
for command in create add remove leave distribute info encrypt decrypt; do
    helps "group $command" group "$command" --help
done
for command in register send sync remove-device; do
    helps "relay $command" help relay "$command"
done
check "the top-level help lists every command" \
    bash -c "'$E2EE' --help | grep -qE '^  init ' && '$E2EE' --help | grep -qE '^  relay '"
check "the top-level help states the exit status" \
    bash -c "'$E2EE' --help | grep -q 'Exit status: 0 success, 1 rejected input or failure, 2 usage error'"

want="e2ee $(sed -n 's/.*public static let current = "\(.*\)".*/\1/p' "$ROOT/Sources/E2EE/Core/Version.swift")"
rc=0
got=$("$E2EE" --version 2>version.err) || rc=$?
check "--version exits 0 and prints '$want' (E2EEVersion.current)" \
    test "$rc $got" = "0 $want" -a ! -s version.err

# ---------------------------------------------------------------- completions
rc=0
"$E2EE" --generate-completion-script bash >e2ee.bash || rc=$?
check "the bash completion script is generated (exit 0)" test "$rc" -eq 0 -a -s e2ee.bash
check "it is valid bash" bash -n e2ee.bash
check "it names every subcommand" \
    grep -q "init bundle encrypt decrypt receive inbox inspect group relay" e2ee.bash
completes "e2ee gr" group
completes "e2ee group a" add
completes "e2ee group add --mem" --members
completes "e2ee receive --sync " normal full
completes "e2ee inbox --ack " yes no
for shell in zsh fish; do
    rc=0
    "$E2EE" --generate-completion-script "$shell" >"e2ee.$shell" || rc=$?
    check "the $shell completion script is generated and names 'group'" \
        bash -c "test $rc -eq 0 && grep -q group e2ee.$shell"
done
expect_status "an unknown shell is a usage error" 2 none "$E2EE" --generate-completion-script tcsh

# ---------------------------------------------------------------- usage errors: exit 2, never 64 or 1
expect_status "unknown command" 2 none "$E2EE" frobnicate
check "names it" stderr_has "unknown command 'frobnicate'"
expect_status "unknown command with options after it" 2 none "$E2EE" frobnicate --store none
check "names the command, not the option" stderr_has "unknown command 'frobnicate'"
expect_status "unknown group command" 2 none "$E2EE" group frobnicate --store none
expect_status "help for an unknown command" 2 none "$E2EE" help frobnicate
expect_status "help for an unknown group command" 2 none "$E2EE" help group frobnicate
expect_status "unknown relay command (e2ee-relay not run)" 2 none "$E2EE" relay frobnicate
expect_status "missing command" 2 none "$E2EE"
expect_status "missing group command" 2 none "$E2EE" group
expect_status "missing relay command" 2 none "$E2EE" relay
expect_status "missing --store" 2 none "$E2EE" init
check "names --store" stderr_has "Missing expected argument '--store <dir>'"
expect_status "missing --dir" 2 none "$E2EE" receive --store none --peer bob
expect_status "missing --out-dir" 2 none "$E2EE" group leave --store none --group 0123456789abcdef0123456789abcdef
expect_status "--out-dir without --in-dir" 2 none "$E2EE" encrypt --store none --peer bob --out-dir q
expect_status "--in-dir with --in" 2 none "$E2EE" encrypt --store none --peer bob --in-dir p --out-dir q --in x
expect_status "unknown option" 2 none "$E2EE" inbox --store none --verbose
expect_status "an option given twice" 2 none "$E2EE" inbox --store none --store none
check "says so" stderr_has "^e2ee: --store given twice"
expect_status "a flag given twice" 2 none "$E2EE" bundle --store none --classical --classical
expect_status "an empty value" 2 none "$E2EE" inbox --store ""
check "says so" stderr_has "^e2ee: --store needs a value"
expect_status "an empty value after =" 2 none "$E2EE" inbox --store=
expect_status "a value for a flag" 2 none "$E2EE" bundle --store none --classical=yes
expect_status "a value outside the list" 2 none "$E2EE" inbox --store none --ack maybe
expect_status "a number that is not one" 2 none "$E2EE" receive --store none --peer bob --dir q --commit-every x
expect_status "a number that validate() refuses" 2 none "$E2EE" receive --store none --peer bob --dir q --commit-every 0
check "with the tool's message" stderr_has "^e2ee: --commit-every takes a positive number, not '0'"
expect_status "a bad peer name" 2 none "$E2EE" decrypt --store none --peer .bob
expect_status "a bad group id" 2 none "$E2EE" group info --store none --group 0123
expect_status "a repeated member" 2 none "$E2EE" group create --store none --members bob,bob --out-dir q
check "usage errors print the command's usage" stderr_has "^Usage: e2ee group create "
check "and touch nothing" test ! -e none -a ! -e q

# ---------------------------------------------------------------- failures: exit 1, one line
expect_status "a missing store is a failure" 1 none "$E2EE" decrypt --store none --peer bob --in /dev/null
check "in the tool's words" \
    test "$(cat "$WORK/reject.err")" = "e2ee: decrypt failed: no store at none (run 'e2ee init --store none')"
check "and no store directory is made for it" test ! -e none
expect_status "a group command's failure names it" 1 none "$E2EE" group info --store none --group 0123456789abcdef0123456789abcdef
check "as 'group info'" stderr_has "^e2ee: group info failed: no store at none"

# ---------------------------------------------------------------- directories made for outputs
check "init makes the store's missing parents" "$E2EE" init --store deep/er/alice
check "all private (0700)" test "$(stat -c %a deep) $(stat -c %a deep/er) $(stat -c %a deep/er/alice)" = "700 700 700"
check "init bob" "$E2EE" init --store bob
check "bundle --out into a missing directory" "$E2EE" bundle --store bob --out bundles/bob/1.bundle
check "encrypt --out into a missing directory" \
    bash -c "echo hi | '$E2EE' encrypt --store deep/er/alice --peer bob --bundle bundles/bob/1.bundle --out out/1.msg"
check "decrypt --out into a missing directory" "$E2EE" decrypt --store bob --peer alice --in out/1.msg --out dec/1.txt
check "which holds the plaintext" test "$(cat dec/1.txt)" = hi
mkdir plain
for i in 1 2 3; do echo "queued $i" >"plain/$i"; done
check "encrypt --in-dir makes its missing --out-dir" \
    "$E2EE" encrypt --store deep/er/alice --peer bob --in-dir plain --out-dir queue/for/bob
check "bob receives the three" \
    test "$("$E2EE" receive --store bob --peer alice --dir queue/for/bob)" = "received 3, duplicates 0, rejected 0"
mkdir nothing
check "and makes it for an empty --in-dir too" \
    bash -c "'$E2EE' encrypt --store deep/er/alice --peer bob --in-dir nothing --out-dir queue/empty && test -d queue/empty"

# ---------------------------------------------------------------- relay forwarding
# A stand-in e2ee-relay that prints its arguments one per line and exits 7.
cat >fake-relay <<'EOF'
#!/bin/sh
touch "$(dirname "$0")/fake-relay.ran"
for a in "$@"; do printf '[%s]\n' "$a"; done
exit 7
EOF
chmod +x fake-relay
rc=0
E2EE_RELAY_BIN="$WORK/fake-relay" "$E2EE" relay send --store s --to bob --message "a b" --message=-x -- --help >relay.out || rc=$?
check "relay send runs e2ee-relay with the same arguments, its exit status kept" \
    test "$rc $(tr -d '\n' <relay.out)" = "7 [send][--store][s][--to][bob][--message][a b][--message=-x][--][--help]"
rc=0
E2EE_RELAY_BIN="$WORK/fake-relay" "$E2EE" relay sync --help >relay.out || rc=$?
check "relay sync --help is e2ee-relay's" test "$rc $(tr -d '\n' <relay.out)" = "7 [sync][--help]"
rm -f fake-relay.ran
expect_status "an unknown relay command never runs e2ee-relay" 2 none \
    env E2EE_RELAY_BIN="$WORK/fake-relay" "$E2EE" relay frobnicate --store s
check "(it did not)" test ! -e fake-relay.ran
expect_status "no e2ee-relay anywhere is a failure" 1 none \
    env E2EE_RELAY_BIN=/nonexistent PATH=/usr/bin:/bin "$E2EE" relay sync --store s
check "saying where to get it" stderr_has "^e2ee: relay failed: e2ee-relay not found"

finish
