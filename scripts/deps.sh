#!/usr/bin/env bash
# Installs the system libraries swift-e2ee links (libsodium, libb2) and the
# tools its checks use, only when something is missing. Debian/Ubuntu.
set -euo pipefail

packages=(libsodium-dev libb2-dev libsqlite3-dev pkg-config openssl)
# openssl: the relay's TLS tests make a CA and certificates with it at test time.
# --peers: what `scripts/bench.sh --peers` builds against: the peer libraries,
# OpenSSL for libsignal-protocol-c's crypto provider, a C compiler.
if [ "${1:-}" = "--peers" ]; then
    packages+=(libolm-dev libsignal-protocol-c-dev libssl-dev gcc)
fi

need=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done

if [ "${#need[@]}" -gt 0 ]; then
    echo "deps: installing ${need[*]}"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The vector check needs Python's `cryptography` (the independent implementation)
# and kyber-py (a pure-Python ML-KEM, FIPS 203, for the PQXDH vectors).
if [ "${1:-}" = "--with-python" ] && ! python3 -c "import cryptography" 2>/dev/null; then
    echo "deps: installing python cryptography"
    python3 -m pip install -q cryptography 2>/dev/null \
        || { ${sudo:-} apt-get install -y -qq python3-cryptography >/dev/null; }
fi
if [ "${1:-}" = "--with-python" ] && ! python3 -c "import kyber_py" 2>/dev/null; then
    echo "deps: installing python kyber-py"
    python3 -m pip install -q kyber-py==1.2.0
fi
