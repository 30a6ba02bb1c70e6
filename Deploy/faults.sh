#!/usr/bin/env bash
# The fault-injection suite (issue 16) at full length: every scenario injects its fault into the real stack
# (etcd, dockerd, `hecd agent`, `hecd render`, HAProxy) while an invariant checker watches and a client sends
# requests through HAProxy; each prints one row of the fault table. Writes the table to bench/results/faults.md.
#
# Usage: Deploy/faults.sh [--short] [extra swift test arguments]
#   --short   the durations every `Deploy/test.sh` run uses (etcd down 12 s instead of 60 s, quorum lost 8 s
#             instead of 30 s, stops of 6 s instead of 30 s).
# Needs root (it starts Docker daemons of its own and mounts a tmpfs), like Deploy/test.sh, which it calls.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/.."

scale=full
if [ "${1:-}" = "--short" ]; then scale=short; shift; fi
table=bench/results/faults.md
report=$(mktemp /tmp/hecd-faults.XXXXXX.md)
rm -f "$report"
rc=0
# Passing scenarios print little: allow long quiet stretches before the watchdog calls a test hung.
HECD_FAULT_SCALE=$scale HECD_FAULT_REPORT=$report HECD_TEST_IDLE_LIMIT=${HECD_TEST_IDLE_LIMIT:-1500} \
    bash Deploy/test.sh --filter 'FaultScenarioTests|DockerdRestartFaultTests|ClusterFaultScenarioTests|EtcdClusterFaultScenarioTests' "$@" \
    || rc=$?
if [ "$rc" -ne 0 ] && [ -f "$report" ]; then
    # A failed run does not replace the committed table.
    table=/tmp/hecd-faults-failed.md
    echo "faults.sh: a scenario FAILED (exit $rc): its rows are in $table; $(basename bench/results/faults.md) is kept" >&2
fi
if [ -f "$report" ]; then
    {
        echo "# Fault table ($scale scenarios)"
        echo
        echo "\`Deploy/faults.sh$([ "$scale" = short ] && echo ' --short')\` on $(nproc) cores, $(date -u +%Y-%m-%d): one row per scenario."
        echo "Failed requests are put down to a fault when they were in flight while it killed what served them;"
        echo "any other failure is flagged. Longest stale key: the longest a key pointed at no running, answering"
        echo "container of its app. Duplicates: containers beyond count + 1, or slots assigned twice. Keys lost:"
        echo "ready containers without their key for more than 1 s while etcd answered and the app was short."
        echo
        cat "$report"
    } >"$table"
    rm -f "$report"
    cat "$table"
fi
exit "$rc"
