#!/usr/bin/env bash
# Builds and runs the benchmark in release mode. Extra arguments go to `bench`
# (--quick, --filter TEXT, --json FILE).
#
# --peers: also installs libolm and libsignal-protocol-c from Debian's packages
# (with OpenSSL for the latter's crypto provider), builds the harnesses of
# Benchmarks/peers with cc, runs them, then runs the matching rows of ours in
# the same sitting and prints them side by side. Without it nothing of the
# peers is installed or built.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/deps.sh

peers=0
quick=()
args=()
for a in "$@"; do
    case "$a" in
        --peers) peers=1 ;;
        --quick) quick=(--quick); args+=("$a") ;;
        *) args+=("$a") ;;
    esac
done

if [ "$peers" -eq 0 ]; then
    swift run -c release bench ${args[@]+"${args[@]}"}
    exit
fi

bash scripts/deps.sh --peers

out=.build/peers
mkdir -p "$out"
cflags=(-std=c11 -O2 -Wall -Wextra -Werror)
version() { dpkg-query -W -f='${Version}' "$1" | sed 's/[~+-].*//'; }

cc "${cflags[@]}" Benchmarks/peers/peer_bench.c Benchmarks/peers/peer_olm.c -lolm -o "$out/peer_olm"
# libsignal-protocol-c's harness: its own file and its crypto provider and stores.
shopt -s nullglob
signal_sources=(Benchmarks/peers/peer_signal*.c Benchmarks/peers/signal_*.c)
shopt -u nullglob
cc "${cflags[@]}" -I/usr/include/signal Benchmarks/peers/peer_bench.c "${signal_sources[@]}" \
    -lsignal-protocol-c -lcrypto -o "$out/peer_signal"

# Each harness checks that its operations really work (exits 1 otherwise)
# before it prints a figure.
echo "bench: running the peers (libolm $(version libolm-dev), libsignal-protocol-c $(version libsignal-protocol-c-dev))"
{ printf 'peer\tlibolm %s\n' "$(version libolm-dev)"; "$out/peer_olm" ${quick[@]+"${quick[@]}"}; } > "$out/olm.tsv"
{ printf 'peer\tlibsignal-c %s\n' "$(version libsignal-protocol-c-dev)"; "$out/peer_signal" ${quick[@]+"${quick[@]}"}; } > "$out/signal.tsv"

swift run -c release bench --peers "$out/olm.tsv" --peers "$out/signal.tsv" ${args[@]+"${args[@]}"}
