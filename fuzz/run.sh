#!/usr/bin/env bash
# Builds every fuzz harness (fuzz/Package.swift with libFuzzer + ASan, UBSan for
# the C code; fuzz/c/aead_diff.c with clang -fsanitize=fuzzer,address,undefined)
# and runs each for a time budget, starting from a scratch copy of its committed
# corpus. Exits non-zero if any harness crashes, leaks, times out or runs out of
# memory; the reproducer is kept in fuzz/artifacts/<target>/ with the log.
#
# Usage: bash fuzz/run.sh [SECONDS] [--merge]
#   SECONDS   budget per harness (default 60)
#   --merge   afterwards, merge inputs that add coverage into the committed
#             corpora (fuzz/<target>/corpus/); by default they are left alone
# Environment:
#   FUZZ_TARGETS  space-separated subset of harnesses (default: all)
#   FUZZ_JOBS     harnesses run at once (default: number of cores, at most 4)
#   FUZZ_CONFIG   release (default: -O, about twice the executions per second)
#                 or debug (-Onone: finer-grained edges, slower)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
fuzz_dir=$(pwd)

seconds=60
merge=0
for arg in "$@"; do
    case "$arg" in
        --merge) merge=1 ;;
        ''|*[!0-9]*) echo "usage: fuzz/run.sh [SECONDS] [--merge]" >&2; exit 2 ;;
        *) seconds=$arg ;;
    esac
done

swift_targets=(bundle prekey_message pq_prekey_message ratchet_message session_record account_record session_set_record decrypt interaction
    sender_key_message sender_key_distribution group_record group_interaction group_update relay_request)
all_targets=("${swift_targets[@]}" aead_diff)
read -r -a targets <<< "${FUZZ_TARGETS:-${all_targets[*]}}"
cores=$(nproc 2>/dev/null || echo 2)
jobs=${FUZZ_JOBS:-$(( cores < 4 ? cores : 4 ))}

# Longest input per harness: room for the largest valid input of its kind
# (a bundle with an ML-KEM key is 1842 bytes, a PQPreKeyMessage 1706 bytes plus
# its plaintext, records with skipped keys a few KB).
max_len() {
    case "$1" in
        bundle|prekey_message|ratchet_message|sender_key_message|sender_key_distribution) echo 2048 ;;
        group_update|pq_prekey_message) echo 4096 ;;
        session_record|session_set_record|group_record) echo 8192 ;;
        account_record|aead_diff) echo 4096 ;;
        relay_request) echo 4096 ;;   # a key upload with two ML-KEM keys is 3,454 bytes
        decrypt) echo 1024 ;;
        interaction|group_interaction) echo 512 ;;
        *) echo 4096 ;;
    esac
}

export SWIFT_BACKTRACE=enable=no          # Swift's crash handler would trip ASan
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
# The library's process-lifetime caches are not leaks; scripts/lsan.supp says
# why LeakSanitizer cannot see that they are still reachable.
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$(cd .. && pwd)/scripts/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

scratch=.build
work=$scratch/work
mkdir -p "$scratch/c" "$work"

if command -v clang >/dev/null 2>&1; then cc=clang; else cc=/opt/swift/usr/bin/clang; fi

# ---- build ---------------------------------------------------------------------
config=${FUZZ_CONFIG:-release}
echo "== building harnesses ($config, libFuzzer + ASan; UBSan for C)"
swift_flags=(-c "$config"
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld
    -Xcc -fsanitize=fuzzer-no-link,address,undefined -Xcc -fno-sanitize-recover=undefined)
build_log=$scratch/build.log
: > "$build_log"
for t in "${targets[@]}"; do
    [ "$t" = aead_diff ] && continue
    if ! swift build --scratch-path "$scratch" "${swift_flags[@]}" --product "$t" >>"$build_log" 2>&1; then
        grep -E "error" "$build_log" >&2 || tail -30 "$build_log" >&2
        echo "run.sh: building $t failed (log: fuzz/$build_log)" >&2
        exit 1
    fi
done
swift_bin=$(swift build --scratch-path "$scratch" "${swift_flags[@]}" --show-bin-path)
harness() { if [ "$1" = aead_diff ]; then echo "$scratch/c/aead_diff"; else echo "$swift_bin/$1"; fi; }
for t in "${targets[@]}"; do
    [ "$t" = aead_diff ] || continue
    "$cc" -std=c11 -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fuse-ld=lld \
        -I ../CSources/CE2EE/include ../CSources/CE2EE/*.c c/aead_diff.c \
        -lsodium -lb2 -o "$scratch/c/aead_diff"
done

# ---- run -----------------------------------------------------------------------
run_one() {
    local t=$1 dir=$work/$1 start end status=0
    rm -rf "$dir"
    mkdir -p "$dir/corpus" "artifacts/$t"
    cp "$t"/corpus/* "$dir/corpus/"
    local inputs=("$dir/corpus")
    [ -d "$t/regressions" ] && inputs+=("$t/regressions")
    start=$(date +%s)
    "$(harness "$t")" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=128 \
        -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="artifacts/$t/" \
        "${inputs[@]}" >"$dir/log" 2>&1 || status=$?
    end=$(date +%s)
    echo "$status $((end - start))" > "$dir/result"
    if [ "$status" -ne 0 ]; then
        cp "$dir/log" "artifacts/$t/log.txt"
    fi
    rmdir "artifacts/$t" 2>/dev/null || true
}

echo "== running ${#targets[@]} harnesses for ${seconds}s each, $jobs at a time"
running=0
for t in "${targets[@]}"; do
    if [ ! -d "$t/corpus" ]; then
        echo "run.sh: no corpus for $t (run fuzz/make_corpus.sh)" >&2
        exit 1
    fi
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true

rmdir artifacts 2>/dev/null || true

# ---- report --------------------------------------------------------------------
failed=0
summary=$scratch/results.md
{
    echo "| harness | execs/s | edges (cov) | features | corpus | runs | time |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
} > "$summary"
printf "\n%-24s %10s %8s %9s %8s %10s %6s  %s\n" harness execs/s edges features corpus runs time status
for t in "${targets[@]}"; do
    dir=$work/$t
    read -r status secs < "$dir/result"
    log=$dir/log
    last=$(grep -E "^#[0-9]+.*cov: " "$log" | tail -1 || true)
    cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<< "$last")
    ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<< "$last")
    corp=$(sed -nE 's/.*corp: ([0-9]+).*/\1/p' <<< "$last")
    execs=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$log")
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log")
    if [ "$status" -eq 0 ]; then
        verdict=ok
    else
        failed=1
        artifact=$(grep -oE "artifacts/$t/[a-z-]+-[0-9a-f]+" "$log" | tail -1 || true)
        verdict="FAILED (exit $status) ${artifact:-see fuzz/artifacts/$t/log.txt}"
        grep -E "ERROR|invariant violated|Fatal error|SUMMARY" "$log" | head -5 | sed "s/^/    $t: /" >&2 || true
    fi
    printf "%-24s %10s %8s %9s %8s %10s %5ss  %s\n" "$t" "${execs:--}" "${cov:--}" "${ft:--}" "${corp:--}" "${runs:--}" "$secs" "$verdict"
    echo "| $t | ${execs:--} | ${cov:--} | ${ft:--} | ${corp:--} | ${runs:--} | ${secs} s |" >> "$summary"
done

if [ "$merge" -eq 1 ] && [ "$failed" -eq 0 ]; then
    echo "== merging new coverage into the committed corpora"
    for t in "${targets[@]}"; do
        "$(harness "$t")" -merge=1 -max_len="$(max_len "$t")" "$t/corpus" "$work/$t/corpus" >"$work/$t/merge.log" 2>&1
        echo "$t: $(ls "$t/corpus" | wc -l) files"
    done
fi

if [ "$failed" -ne 0 ]; then
    echo
    echo "run.sh: a harness failed; reproducers and logs are in fuzz/artifacts/" >&2
    echo "reproduce with: SWIFT_BACKTRACE=enable=no $(harness '<harness>') fuzz/artifacts/<harness>/<file>" >&2
    exit 1
fi
echo "all harnesses ran clean (table: fuzz/$summary)"
