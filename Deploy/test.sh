#!/usr/bin/env bash
# THE test command: installs what the tests need, starts dockerd, builds the demo image, then builds and runs
# all Swift tests. Extra arguments go to `swift test`, e.g. `Deploy/test.sh --filter ManifestsTests`.
# Exit status: swift test's. Safe to run again; a running dockerd and an up-to-date image are reused.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=Deploy/lib.sh
. "$here/lib.sh"
cd "$here/.."

hecd_ensure_packages "${HECD_DEFAULT_PACKAGES[@]}" "${HECD_TEST_PACKAGES[@]}"
hecd_start_dockerd
export HECD_TEST_IMAGE=${HECD_TEST_IMAGE:-hecd-demo:1}
hecd_build_demo_image "$HECD_TEST_IMAGE"

# Containers left by earlier aborted runs, and by this one on any exit.
hecd_remove_test_containers
tests=
kill_tree() {
    local child
    for child in $(pgrep -P "$1" || true); do kill_tree "$child"; done
    kill -KILL "$1" 2>/dev/null || true
}
# After a hang or a stop from outside: what the killed tests could not clean up (their own Docker daemons and
# the render-full tmpfs), then the test containers.
cleanup() {
    if [ -n "$tests" ] && kill -0 "$tests" 2>/dev/null; then kill_tree "$tests"; fi
    if [ "${hung:-0}" = 1 ] || [ "${stopped:-0}" = 1 ]; then
        for n in 4 5 6 7 8; do "$here/dockerd-instance.sh" purge "$n" >/dev/null 2>&1 || true; done
        awk '$1 == "hecd-fault-full" {print $2}' /proc/mounts | while read -r m; do umount -l "$m" || true; done
    fi
    hecd_remove_test_containers
}
trap cleanup EXIT
trap 'stopped=1; exit 143' TERM INT  # so that the EXIT cleanup also runs when CI's timeout stops us

hecd_swift_build --build-tests

# One test at a time by default: many tests run real daemons and measure what a user would see (a key within a
# second, a stop that waits out its timeout), and on 2 cores suites running side by side starve each other.
# HECD_TEST_PARALLEL=1 runs them side by side (about 50 s instead of about 2 min, with timing failures on 2 cores).
parallel=(--no-parallel)
[ "${HECD_TEST_PARALLEL:-0}" = 1 ] && parallel=()
hecd_log "swift test ${parallel[*]} $* (HECD_TEST_IMAGE=$HECD_TEST_IMAGE)"
# A watchdog: a test that hangs fails the run within HECD_TEST_IDLE_LIMIT seconds of silence (default 600), with
# the test that was running and the processes it left, instead of using up CI's whole budget.
idle_limit=${HECD_TEST_IDLE_LIMIT:-600}
output=$(mktemp /tmp/hecd-test-output.XXXXXX)
# Line-buffered (stdbuf), so that output through the pipe shows as it comes and the watchdog sees it.
stdbuf -oL -eL swift test "${parallel[@]}" "$@" > >(tee -a "$output") 2>&1 &
tests=$!
hung=0
while kill -0 "$tests" 2>/dev/null; do
    sleep 5
    idle=$(($(date +%s) - $(stat -c %Y "$output")))
    if [ "$idle" -ge "$idle_limit" ]; then
        hung=1
        hecd_log "no test output for ${idle}s: a test hangs. The last one started:" \
            "$(grep -a 'Test .* started' "$output" | tail -n 1 | sed 's/\x1b\[[0-9;]*m//g')"
        hecd_log "its processes:"
        ps -eo pid,ppid,etimes,stat,args --forest | grep -v ' \[.*\]$' | head -n 150 >&2 || true
        kill_tree "$tests"
        break
    fi
done
rc=0
wait "$tests" || rc=$?
[ "$hung" -eq 0 ] || rc=124
rm -f "$output"
if [ "$rc" -eq 0 ]; then
    hecd_log "tests passed"
else
    hecd_log "tests FAILED (swift test exit status $rc): read the failures above;" \
        "rerun one suite with: Deploy/test.sh --filter NAME"
fi
exit "$rc"
