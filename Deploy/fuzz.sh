#!/usr/bin/env bash
# Builds hecd's libFuzzer driver (Fuzz/hecd-fuzz) and fuzzes each target for a while.
#
#   Deploy/fuzz.sh [--seconds N] [--no-build] [TARGET...]
#
# Targets (Sources/FuzzTargets): manifest resource template docker etcd haproxy; all of them by default.
# Each runs N seconds (default 20) on one core, starting from the committed seeds in Fuzz/corpus/TARGET, which
# are only read: what the fuzzer finds goes to .build-fuzz/runs/TARGET/corpus. Limits per input: 1 s
# (-timeout=1), 2048 MB resident (-rss_limit_mb), no single allocation over 1024 MB (-malloc_limit_mb).
# Exits non-zero on any crash, broken invariant, slow input or memory blow-up, and prints where the
# reproducer is and the command that replays it. To keep a reproducer as a regression test, copy it (fixed)
# into Fuzz/corpus/TARGET: CorpusReplayTests (swift test --filter FuzzTargetsTests) replays every file there.
#
# Environment: HECD_FUZZ_BUILD_JOBS (default 2) for the build, HECD_FUZZ_RSS_MB and HECD_FUZZ_MALLOC_MB to
# change the memory limits, HECD_FUZZ_OPTIONS for more libFuzzer flags (e.g. "-max_len=16384").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
. Deploy/lib.sh

all_targets=(manifest resource template docker etcd haproxy)
seconds=20
build=1
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
        --seconds=*) seconds=${1#--seconds=}; shift ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) hecd_fail "unknown option $1 (see --help)"; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
    [ -d "Fuzz/corpus/$target" ] || { hecd_fail "no target $target (targets: ${all_targets[*]})"; exit 2; }
done

scratch=$root/.build-fuzz
# Swift code gets libFuzzer (and its coverage); C and C++ code (libyaml in Yams, toml++ in TOMLKit) its coverage.
build_flags=(-c release --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library
    -Xcc -fsanitize=fuzzer-no-link -Xcxx -fsanitize=fuzzer-no-link)
hecd_swift_path
if [ "$build" = 1 ]; then
    started=$(date +%s)
    hecd_log "building the fuzz driver (release, -sanitize=fuzzer) into .build-fuzz"
    mkdir -p "$scratch"
    if ! (cd Fuzz/hecd-fuzz && swift build -j "${HECD_FUZZ_BUILD_JOBS:-2}" "${build_flags[@]}") >"$scratch/build.log" 2>&1; then
        grep -E 'error:' -A3 "$scratch/build.log" | head -n 40 || tail -n 40 "$scratch/build.log"
        hecd_fail "the fuzz driver did not build: the errors are above, the whole log in $scratch/build.log"
        exit 1
    fi
    hecd_log "built in $(( $(date +%s) - started ))s"
fi
driver="$(cd Fuzz/hecd-fuzz && swift build "${build_flags[@]}" --show-bin-path)/hecd-fuzz"
[ -x "$driver" ] || { hecd_fail "no fuzz driver at $driver (run without --no-build)"; exit 1; }

failed=()
printf '\n%-9s %6s %10s %8s %8s %6s  %s\n' target seconds executions "exec/s" "rss MB" "new" result
for target in "${targets[@]}"; do
    work=$scratch/runs/$target
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    dictionary=()
    [ -f "Fuzz/dictionaries/$target.dict" ] && dictionary=(-dict="Fuzz/dictionaries/$target.dict")
    rc=0
    # shellcheck disable=SC2086 # HECD_FUZZ_OPTIONS is a list of flags.
    # Swift's own backtracer would take the crash signal before libFuzzer can save the input that caused it.
    SWIFT_BACKTRACE=enable=no HECD_FUZZ_TARGET=$target "$driver" "$work/corpus" "Fuzz/corpus/$target" \
        -max_total_time="$seconds" -timeout=1 \
        -rss_limit_mb="${HECD_FUZZ_RSS_MB:-2048}" -malloc_limit_mb="${HECD_FUZZ_MALLOC_MB:-1024}" \
        -artifact_prefix="$work/artifacts/" -print_final_stats=1 "${dictionary[@]}" \
        ${HECD_FUZZ_OPTIONS:-} >"$work/fuzz.log" 2>&1 || rc=$?
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -n 1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$work/fuzz.log" | tail -n 1)
    found=$(find "$work/corpus" -type f | wc -l)
    result=ok
    if [ "$rc" -ne 0 ]; then
        result="FAILED (exit $rc)"
        failed+=("$target")
    fi
    line=$(printf '%-9s %6s %10s %8s %8s %6s  %s' "$target" "$seconds" "${executions:-?}" "${speed:-?}" \
        "${rss:-?}" "$found" "$result")
    printf '%s\n' "$line"
    if [ "$rc" -ne 0 ]; then
        # What went wrong: a broken invariant's sentences, or libFuzzer's and the runtime's report.
        { sed -n '/invariant broken:/,/==[0-9]*==/p' "$work/fuzz.log" | head -n 8
          grep -E '==[0-9]+== ERROR|Fatal error|Assertion|SUMMARY|Test unit written' "$work/fuzz.log" | head -n 6
        } | cut -c 1-300 | sed 's/^/    /' || true
        for artifact in "$work"/artifacts/*; do
            [ -e "$artifact" ] || continue
            printf '    reproducer: %s\n    replay it:  SWIFT_BACKTRACE=enable=no HECD_FUZZ_TARGET=%s %s %s\n' \
                "$artifact" "$target" "$driver" "$artifact"
        done
        printf '    full log:   %s\n' "$work/fuzz.log"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    hecd_fail "fuzzing found problems in: ${failed[*]} (reproducers above; fix, then add them to Fuzz/corpus/TARGET)"
    exit 1
fi
hecd_log "fuzzing: ${#targets[@]} targets, ${seconds}s each, no crash, no input over 1 s, none over the memory limits"
