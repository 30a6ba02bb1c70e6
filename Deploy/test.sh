#!/usr/bin/env bash
# THE test command: installs what the tests need, starts dockerd, builds the demo image, then builds and runs
# all Swift tests. Extra arguments go to `swift test`, e.g. `Deploy/test.sh --filter ManifestsTests`.
# Exit status: swift test's. Safe to run again; a running dockerd and an up-to-date image are reused.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=Deploy/lib.sh
. "$here/lib.sh"
cd "$here/.."

# shellcheck disable=SC2119 # no arguments: the default package set
hecd_ensure_packages
hecd_start_dockerd
export HECD_TEST_IMAGE=${HECD_TEST_IMAGE:-hecd-demo:1}
hecd_build_demo_image "$HECD_TEST_IMAGE"

# Containers left by earlier aborted runs, and by this one on any exit.
hecd_remove_test_containers
trap hecd_remove_test_containers EXIT
trap 'exit 143' TERM INT  # so that the EXIT cleanup also runs when CI's timeout stops us

hecd_swift_build --build-tests

# One test at a time by default: many tests run real daemons and measure what a user would see (a key within a
# second, a stop that waits out its timeout), and on 2 cores suites running side by side starve each other.
# HECD_TEST_PARALLEL=1 runs them side by side (about 50 s instead of about 2 min, with timing failures on 2 cores).
parallel=(--no-parallel)
[ "${HECD_TEST_PARALLEL:-0}" = 1 ] && parallel=()
hecd_log "swift test ${parallel[*]} $* (HECD_TEST_IMAGE=$HECD_TEST_IMAGE)"
rc=0
swift test "${parallel[@]}" "$@" || rc=$?
if [ "$rc" -eq 0 ]; then
    hecd_log "tests passed"
else
    hecd_log "tests FAILED (swift test exit status $rc): read the failures above;" \
        "rerun one suite with: Deploy/test.sh --filter NAME"
fi
exit "$rc"
