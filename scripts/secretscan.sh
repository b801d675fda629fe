#!/usr/bin/env bash
# Secrets are wiped before their memory is freed: a small LD_PRELOAD library
# (Tests/SecretScan/interposer/freescan.c) scans every block as it is freed for
# byte patterns the process registered, and the run fails if one is found.
# Covered: account save/load, session encrypt/decrypt/save/load, group
# distributions through pairwise sessions, the SQLite commit path (the
# secret-scan executable), and the CLI with a passphrase and with a key file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=.build-secretscan
mkdir -p "$out"
cc -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared -o "$out/libfreescan.so" Tests/SecretScan/interposer/freescan.c
lib="$PWD/$out/libfreescan.so"

swift build --product secret-scan
swift build --product e2ee
bin=$(swift build --show-bin-path)

echo "-- library scenarios"
LD_PRELOAD="$lib" "$bin/secret-scan"

echo "-- the e2ee CLI"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
passed=0
failed=0
# scan NAME PATTERNS COMMAND...: COMMAND leaves none of PATTERNS (hex, comma-separated) in freed memory.
scan() {
    local name=$1 patterns=$2 rc=0
    shift 2
    FREESCAN_PATTERNS="$patterns" FREESCAN_EXIT=1 LD_PRELOAD="$lib" "$@" >/dev/null 2>scan.err || rc=$?
    if [[ $rc -eq 0 ]]; then
        passed=$((passed + 1)); echo "ok   - $name"
    else
        failed=$((failed + 1)); echo "FAIL - $name (exit $rc: $(cat scan.err))"
    fi
}
hex() { xxd -p | tr -d '\n'; }
e2ee="$bin/e2ee"
printf 'correct horse battery staple\n' >pass.txt
pass=$(printf 'correct horse battery staple' | hex)
scan "init with a passphrase" "$pass" "$e2ee" init --store bob --passphrase-file pass.txt
scan "bundle with a passphrase" "$pass" "$e2ee" bundle --store bob --passphrase-file pass.txt --out bob.bundle
"$e2ee" init --store alice
key=$(hex <alice/storage.key)
printf 'a plaintext that is secret too' >m.txt
scan "encrypt with a key file" "$key" "$e2ee" encrypt --store alice --peer bob --bundle bob.bundle --in m.txt --out m.msg
scan "decrypt with a passphrase" "$pass" "$e2ee" decrypt --store bob --passphrase-file pass.txt --peer alice --in m.msg --out m.dec
cmp -s m.txt m.dec
scan "reply with a passphrase" "$pass" "$e2ee" encrypt --store bob --passphrase-file pass.txt --peer alice --in m.txt --out r.msg
scan "decrypt with a key file" "$key" "$e2ee" decrypt --store alice --peer bob --in r.msg --out r.dec
echo "$passed passed, $failed failed"
((failed == 0))
