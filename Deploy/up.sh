#!/usr/bin/env bash
# THE run command: brings up the whole HECD stack on this machine and keeps it in the foreground.
#   installs what is missing (Debian packages), starts dockerd, etcd and HAProxy when they are not running,
#   builds hecd and the demo image, runs `hecd agent` on Manifests/ and `hecd render` on Deploy/confd/haproxy,
#   and prints where to look. Ctrl-C (or SIGTERM) stops everything it started and removes the demo containers.
# Safe to run again. Settings: HECD_PORT (HAProxy's port, 8080), HECD_STATS_PORT (8404), HECD_ETCD_PORT (2379),
# HECD_AGENT_METRICS_PORT (9464) and HECD_RENDER_METRICS_PORT (9465): metrics, health and status pages.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=Deploy/lib.sh
. "$here/lib.sh"
cd "$here/.."
root=$(pwd)

port=${HECD_PORT:-8080}
stats_port=${HECD_STATS_PORT:-8404}
etcd_port=${HECD_ETCD_PORT:-2379}
agent_metrics_port=${HECD_AGENT_METRICS_PORT:-9464}
render_metrics_port=${HECD_RENDER_METRICS_PORT:-9465}
etcd_url="http://127.0.0.1:$etcd_port"
state=/var/lib/hecd-stack
run=/run/hecd-stack
agent_id="hecd-demo"
mkdir -p "$state" "$run/root"

started_dockerd=no
tail_pid=

stop_pidfile() {  # stop_pidfile FILE NAME: SIGTERM, wait up to 10 s, then SIGKILL
    local file=$1 name=$2 pid i
    pid=$(cat "$file" 2>/dev/null) || return 0
    if kill -0 "$pid" 2>/dev/null; then
        hecd_log "stopping $name (pid $pid)"
        kill "$pid" 2>/dev/null || true
        for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

shutdown() {
    trap - EXIT INT TERM
    # Clean up as much as possible: no step's failure may end the cleanup (errexit would, silently).
    set +e
    if [ -n "$tail_pid" ]; then kill "$tail_pid" 2>/dev/null; fi
    echo
    hecd_log "stopping the stack"
    stop_pidfile "$run/render.pid" "hecd render"
    stop_pidfile "$run/agent.pid" "hecd agent (its lease is revoked: the keys go)"
    local ids
    ids=$(docker ps -aq --filter "label=io.hecd.agent=$agent_id" 2>/dev/null || true)
    if [ -n "$ids" ]; then
        hecd_log "removing the demo containers"
        # shellcheck disable=SC2086
        docker rm -f $ids >/dev/null || true
    fi
    stop_pidfile "$run/haproxy.pid" "HAProxy"
    stop_pidfile "$run/etcd.pid" "etcd"
    if [ "$started_dockerd" = yes ]; then stop_pidfile /var/run/docker.pid dockerd; fi
    hecd_log "stopped; nothing of the stack is left running"
}

# A run that was killed without its cleanup leaves pid files behind: stop what they name first.
for name in render agent haproxy etcd; do stop_pidfile "$run/$name.pid" "$name left by an earlier run"; done

# shellcheck disable=SC2119
hecd_ensure_packages
hecd_docker_ping || started_dockerd=yes
hecd_start_dockerd
trap shutdown EXIT
trap 'exit 130' INT TERM

hecd_build_demo_image hecd-demo:1
hecd_log "building hecd (release)"
hecd_release_build
hecd=$root/.build/release/hecd

if curl -sf -m 2 "$etcd_url/health" >/dev/null 2>&1; then
    hecd_log "etcd: already answering at $etcd_url (left running on exit)"
else
    hecd_log "etcd: starting at $etcd_url (data in $state/etcd)"
    setsid etcd --name hecd --data-dir "$state/etcd" \
        --listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
        --listen-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
        --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
        --initial-cluster "hecd=http://127.0.0.1:$((etcd_port + 1))" >"$state/etcd.log" 2>&1 &
    echo $! >"$run/etcd.pid"
    for _ in $(seq 1 50); do curl -sf -m 1 "$etcd_url/health" >/dev/null 2>&1 && break; sleep 0.2; done
    curl -sf -m 1 "$etcd_url/health" >/dev/null || hecd_fail "etcd did not start: see $state/etcd.log"
fi

# hecd render writes below $run/root, HAProxy reads from there; the templates' knobs come from the environment.
export HECD_HAPROXY_BIND="*:$port" HECD_HAPROXY_STATS_PORT=$stats_port HECD_HAPROXY_PIDFILE=$run/haproxy.pid \
    HECD_HAPROXY_SOCKET=$run/haproxy.sock
export HECD_DEST_ROOT=$run/root HECD_ETCD=$etcd_url
cfg=$run/root/etc/hecd/haproxy.cfg
hecd_log "rendering the first HAProxy configuration"
"$hecd" render --confdir Deploy/confd/haproxy --onetime --sync-only
setsid haproxy -W -S "$run/haproxy-master.sock" -p "$run/haproxy.pid" -f "$cfg" >"$state/haproxy.log" 2>&1 &
for _ in $(seq 1 50); do [ -s "$run/haproxy.pid" ] && break; sleep 0.1; done
[ -s "$run/haproxy.pid" ] || hecd_fail "HAProxy did not start: see $state/haproxy.log"

"$hecd" agent --manifests Manifests --agent-id "$agent_id" --etcd "$etcd_url" --host-ip 127.0.0.1 \
    --metrics-addr "127.0.0.1:$agent_metrics_port" >"$state/agent.log" 2>&1 &
echo $! >"$run/agent.pid"
"$hecd" render --confdir Deploy/confd/haproxy --metrics-addr "127.0.0.1:$render_metrics_port" \
    >"$state/render.log" 2>&1 &
echo $! >"$run/render.pid"

cat <<TXT

  The HECD stack is up.
    through HAProxy:   curl http://127.0.0.1:$port/        (each answer names the container that served it)
    HAProxy stats:     http://127.0.0.1:$stats_port/
    the registry:      ETCDCTL_API=3 etcdctl --endpoints $etcd_url get --prefix /app/servers
    the status:        $hecd status --etcd $etcd_url
    status pages:      http://127.0.0.1:$agent_metrics_port/ (agent), http://127.0.0.1:$render_metrics_port/ (render)
    metrics:           curl http://127.0.0.1:$agent_metrics_port/metrics   (and :$render_metrics_port/metrics)
    scale:             edit 'replicas' in Manifests/web.yaml and save (takes effect within a second)
    logs:              $state/agent.log, $state/render.log
    stop:              Ctrl-C (stops all of it and removes the demo containers)

TXT
tail -n 0 -F "$state/agent.log" "$state/render.log" &
tail_pid=$!
# Exit when the agent or the renderer dies, or on Ctrl-C.
while kill -0 "$(cat "$run/agent.pid")" 2>/dev/null && kill -0 "$(cat "$run/render.pid")" 2>/dev/null; do sleep 1; done
kill "$tail_pid" 2>/dev/null || true
hecd_fail "hecd agent or hecd render stopped: see $state/agent.log and $state/render.log"
