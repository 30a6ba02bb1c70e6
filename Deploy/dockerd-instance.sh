#!/usr/bin/env bash
# Runs extra, independent Docker daemons on this machine, each standing for another "Docker host" in tests and
# benchmarks. The main dockerd (/var/run/docker.sock) is never touched, apart from reading the demo image from it.
#
# Usage: Deploy/dockerd-instance.sh start|stop|kill|purge|status N      (N = 2..50)
#   start N   bridge hecdbrN (172.31.N.1/24), dockerd on unix:///run/hecd-docker-N/docker.sock publishing -P ports
#             on 127.0.0.N, and the demo image (${HECD_TEST_IMAGE:-hecd-demo:1}) copied from the main engine.
#             Prints the socket address as the last line of stdout (logs go to stderr). Safe to run again.
#   stop N    SIGTERM (dockerd stops its containers, then its containerd), after 15 s SIGKILL; then kills whatever
#             of this instance is left (containerd, shims, container processes, docker-proxy). Keeps the data root,
#             so `start N` finds its containers (as exited) and its image again.
#   kill N    SIGKILL to that dockerd only: a host crash. Its containers keep running until `start N` (dockerd then
#             kills them: no live-restore) or `stop N`.
#   purge N   stop N, then remove its data root, exec root, pid files and the bridge.
#   status N  says whether it answers, and lists its processes.
# Example: h=$(Deploy/dockerd-instance.sh start 2) && docker -H "$h" run -d -P hecd-demo:1
#
# Each instance has its own data root (/var/lib/hecd-docker-N), exec root (/run/hecd-docker-N/exec), which holds
# its own containerd (socket, state, pid file) and runc state, its own config file (so /etc/docker/daemon.json is
# not read), its own daemon ID (key in the data root) and its own pid file; logs in /tmp/hecd-dockerd-N.log.
# --iptables=false: no NAT rules; -P ports are served by docker-proxy on 127.0.0.N (reachable from this machine
# only). Needs root.
set -Eeuo pipefail
# Whatever fails, say which command on which line (a bare exit status is all a caller would see otherwise).
trap 'rc=$?; echo "[hecd] ${BASH_SOURCE[0]}:$LINENO: \`$BASH_COMMAND\` failed (exit $rc)" >&2' ERR
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=Deploy/lib.sh
. "$here/lib.sh"

usage() {
    sed -n '5,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[ $# -eq 2 ] || usage
cmd=$1 n=$2
case "$n" in
    [2-9] | [1-4][0-9] | 50) ;;
    *) hecd_fail "instance number must be 2..50, got '$n'" || usage ;;
esac
case "$cmd" in start | stop | kill | purge | status) ;; *) usage ;; esac
[ "$(id -u)" -eq 0 ] || { hecd_fail "$0 must run as root (it runs dockerd and creates a bridge)"; exit 1; }
command -v dockerd >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin

image=${HECD_TEST_IMAGE:-$HECD_DEMO_IMAGE_DEFAULT}
run_dir=/run/hecd-docker-$n            # socket, pid file, config file
exec_root=$run_dir/exec                # dockerd's exec root: its containerd, runc state, netns, libnetwork
data_root=/var/lib/hecd-docker-$n
sock=$run_dir/docker.sock
addr=unix://$sock
pidfile=$run_dir/docker.pid
ctr_dir=$exec_root/containerd          # where dockerd puts the containerd it starts (socket, pid file, toml)
ctr_sock=$ctr_dir/containerd.sock
ctr_pidfile=$ctr_dir/containerd.pid
bridge=hecdbr$n
bridge_cidr=172.31.$n.1/24
host_ip=127.0.0.$n
log=/tmp/hecd-dockerd-$n.log
main_addr=unix://$HECD_DOCKER_SOCK
tag="dockerd-$n"

# True when this instance's socket answers GET /_ping (lib.sh's check, aimed at our socket).
inst_ping() { HECD_DOCKER_SOCK=$sock hecd_docker_ping; }
# Every docker CLI call is bounded: a daemon that answers /_ping but hangs on a call (e.g. while it restores the
# containers of a killed predecessor) must fail this script, not hang its caller.
inst_docker() { timeout 120 docker -H "$addr" "$@"; }
main_docker() { timeout 120 docker -H "$main_addr" "$@"; }

# Pids of this instance's processes, found by their command lines (each pattern names a path or address that
# only this instance uses, so neither the main daemon nor another instance can match).
# shellcheck disable=SC2001,SC2016 # a regex-escaping sed; $ is literal here
re_escape() { sed 's/[.[\*^$()+?{|]/\\&/g' <<<"$1"; }
inst_dockerd_pids()    { pgrep -f -- "(^|/)dockerd .*--pidfile $(re_escape "$pidfile")( |$)" || true; }
inst_containerd_pids() { pgrep -f -- "(^|/)containerd --config $(re_escape "$ctr_dir/containerd.toml")( |$)" || true; }
inst_shim_pids()       { pgrep -f -- "(^|/)containerd-shim[^ ]* .*-address $(re_escape "$ctr_sock")( |$)" || true; }
# docker-proxy processes publishing on 127.0.0.N whose parent is gone (orphans) or is this instance's dockerd.
inst_proxy_pids() {
    local pid ppid dpids
    dpids=" $(inst_dockerd_pids | tr '\n' ' ') "
    for pid in $(pgrep -f -- "(^|/)docker-proxy .*-host-ip $(re_escape "$host_ip") " || true); do
        ppid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null || true)
        if [ "$ppid" = 1 ] || [[ $dpids == *" $ppid "* ]]; then echo "$pid"; fi
    done
}
inst_all_pids() { { inst_dockerd_pids; inst_containerd_pids; inst_shim_pids; inst_proxy_pids; } | sort -un; }

# Removes this instance's pid files unless a process of this instance (found by its command line, not by the
# number in the file, which may have been reused by any process, even another dockerd) still runs.
remove_stale_pidfiles() {
    if [ -f "$pidfile" ] && [ -z "$(inst_dockerd_pids)" ]; then
        hecd_log "$tag: removing stale pid file $pidfile (pid '$(cat "$pidfile" 2>/dev/null)' is not this dockerd)"
        rm -f "$pidfile"
    fi
    if [ -f "$ctr_pidfile" ] && [ -z "$(inst_containerd_pids)" ]; then
        hecd_log "$tag: removing stale pid file $ctr_pidfile (pid '$(cat "$ctr_pidfile" 2>/dev/null)' is not its containerd)"
        rm -f "$ctr_pidfile"
    fi
}

# True while PID runs. A zombie (dead, waiting for its parent or init to reap it) does not count: kill -0 would.
is_alive() {
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null || true)
    [ -n "$state" ] && [ "${state:0:1}" != Z ]
}

# Waits up to $1 seconds until none of the given pids is alive; false when some still are.
wait_gone() {
    local secs=$1 p alive; shift
    for _ in $(seq 1 $((secs * 5))); do
        alive=0
        for p in "$@"; do is_alive "$p" && alive=1; done
        [ $alive -eq 1 ] || return 0
        sleep 0.2
    done
    return 1
}

ensure_bridge() {
    if ! ip link show "$bridge" >/dev/null 2>&1; then
        # A route to 172.31.N.0/24 through another device (e.g. a user-defined network of the main engine, which
        # draws from 172.17-172.31.0.0/16) would make the containers of this instance unreachable.
        local clash
        clash=$(ip -4 route show match "172.31.$n.0/24" | grep -v '^default' || true)
        [ -z "$clash" ] || hecd_fail "$tag: 172.31.$n.0/24 is already routed elsewhere ('$clash'): remove that network
  (docker network ls) or use another instance number" || return 1
        hecd_log "$tag: creating bridge $bridge ($bridge_cidr)"
        ip link add name "$bridge" type bridge
    fi
    # `ip addr replace` is a no-op when the address is there (no `ip | grep -q` pipeline, which under pipefail
    # fails at random when grep exits before ip has written everything).
    ip addr replace "$bridge_cidr" dev "$bridge"
    ip link set "$bridge" up
}

# Copies the demo image from the main engine unless this instance has the same image (same ID) already.
ensure_image() {
    local main_id inst_id t0
    main_id=$(main_docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    inst_id=$(inst_docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    if [ -z "$main_id" ]; then
        [ -n "$inst_id" ] && { hecd_log "$tag: WARNING main engine lacks $image; keeping this instance's copy"; return 0; }
        hecd_fail "$tag: $image is in neither this instance nor the main engine: build it first with
  Deploy/build-demo-image.sh $image" || return 1
    fi
    if [ "$inst_id" = "$main_id" ]; then
        hecd_log "$tag: image $image present"
        return 0
    fi
    hecd_log "$tag: copying image $image from the main engine${inst_id:+ (it has a different $image)}"
    t0=$(date +%s%N)
    main_docker save "$image" | inst_docker load >/dev/null \
        || hecd_fail "$tag: docker save $image | docker -H $addr load failed: see the message above" || return 1
    # The image the tag held before is now untagged: drop it unless a container still uses it.
    [ -z "$inst_id" ] || inst_docker image rm "$inst_id" >/dev/null 2>&1 || true
    hecd_log "$tag: image $image loaded in $((($(date +%s%N) - t0) / 1000000)) ms"
}

start() {
    local t0 i pid
    t0=$(date +%s%N)
    if inst_ping; then
        hecd_log "$tag: already answering on $addr"
        ensure_image
        echo "$addr"
        return 0
    fi
    command -v dockerd >/dev/null 2>&1 \
        || hecd_fail "dockerd not found: apt-get install docker.io (or hecd_ensure_packages docker.io)" || return 1

    # A dockerd of this instance that runs but does not answer may still be starting (or restoring containers).
    pid=$(inst_dockerd_pids | head -n 1)
    if [ -n "$pid" ]; then
        hecd_log "$tag: dockerd (pid $pid) runs but does not answer yet; waiting up to 30 s"
        for i in $(seq 1 60); do
            inst_ping && break
            is_alive "$pid" || break
            sleep 0.5
        done
        inst_ping || hecd_fail "$tag: dockerd pid $pid does not answer on $addr after 30 s. Read $log;
  '$0 stop $n' stops it (or '$0 kill $n' if it hangs)" || return 1
        hecd_log "$tag: answering"
        ensure_image
        echo "$addr"
        return 0
    fi

    # Left over by a crash or a killed session (/run is not a tmpfs here): dockerd refuses a pid file that names
    # a live process, and would wait for a "running" containerd whose pid was reused.
    remove_stale_pidfiles
    ensure_bridge
    mkdir -p "$run_dir" "$data_root"
    # Our own config file, so that a /etc/docker/daemon.json meant for the main daemon (hosts, data-root, bip...)
    # does not apply here. It moves the daemon's key from /etc/docker/key.json into the data root: otherwise every
    # instance reports the main daemon's ID in GET /info (20.10 has no command-line flag for this).
    printf '{"deprecated-key-path": "%s/key.json"}\n' "$data_root" >"$run_dir/daemon.json"

    local args=(--host "$addr" --data-root "$data_root" --exec-root "$exec_root" --pidfile "$pidfile"
        --config-file "$run_dir/daemon.json" --bridge "$bridge" --ip "$host_ip" --iptables=false
        --shutdown-timeout 10)
    # shellcheck disable=SC2206 # word splitting of extra flags is intended
    args+=(${HECD_INSTANCE_DOCKERD_ARGS:-})
    [ -f "$log" ] && mv -f "$log" "$log.prev"
    hecd_log "$tag: starting 'dockerd ${args[*]}' (log: $log)"
    # Detached: own session, immune to the caller's SIGHUP, and holding none of our descriptors (the lock, or a
    # pipe inherited from the caller, which would stay open as long as the daemon runs and so hang a reader).
    (
        for fd in "/proc/$BASHPID/fd"/*; do
            fd=${fd##*/}
            if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
        done
        exec setsid nohup dockerd "${args[@]}" >"$log" 2>&1 </dev/null
    ) &
    pid=$!  # the subshell execs setsid, which execs nohup, which execs dockerd: the same pid
    for _ in $(seq 1 150); do
        sleep 0.2
        if inst_ping; then
            hecd_log "$tag: up after $((($(date +%s%N) - t0) / 1000000)) ms (pid $pid, $(inst_docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?'))"
            break
        fi
        is_alive "$pid" || break
    done
    if ! inst_ping; then
        hecd_log "$tag: last lines of $log:"
        tail -n 20 "$log" >&2 || true
        local what="exited at once"
        if is_alive "$pid"; then
            what="did not answer on $addr within 30 s"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        hecd_fail "$tag: dockerd $what (read $log). Extra dockerd flags can be given in
  HECD_INSTANCE_DOCKERD_ARGS (e.g. '--storage-driver=vfs')" || return 1
    fi
    ensure_image
    hecd_log "$tag: ready in $((($(date +%s%N) - t0) / 1000000)) ms: -P ports publish on $host_ip"
    echo "$addr"
}

# Kills with SIGKILL whatever of this instance still runs, containers included (their runc state lives in our exec
# root). Used after a stop that timed out, or when containers outlived a killed dockerd.
kill_leftovers() {
    local pids p root id
    pids=$(inst_dockerd_pids; inst_containerd_pids)
    if [ -n "$pids" ]; then
        hecd_log "$tag: SIGKILL to dockerd/containerd: $(tr '\n' ' ' <<<"$pids")"
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
        # shellcheck disable=SC2086
        wait_gone 5 $pids || hecd_log "$tag: WARNING pids $(tr '\n' ' ' <<<"$pids") survive SIGKILL (D state?)"
    fi
    # Containers whose shim outlived containerd: kill them through runc, with the state root dockerd gave runc.
    for root in "$exec_root"/runtime-runc/*; do
        [ -d "$root" ] || continue
        for id in $(runc --root "$root" list -q 2>/dev/null || true); do
            hecd_log "$tag: killing container ${id:0:12} (runc delete --force)"
            runc --root "$root" delete --force "$id" >/dev/null 2>&1 || true
        done
    done
    pids=$(inst_shim_pids; inst_proxy_pids)
    if [ -n "$pids" ]; then
        hecd_log "$tag: SIGKILL to shims/docker-proxy: $(tr '\n' ' ' <<<"$pids")"
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
        # shellcheck disable=SC2086
        wait_gone 5 $pids || true
    fi
}

stop() {
    local pids t0
    t0=$(date +%s%N)
    if [ -z "$(inst_all_pids)" ] && [ -z "$(mounts_below "$run_dir"; mounts_below "$data_root")" ]; then
        remove_stale_pidfiles
        hecd_log "$tag: not running"
        return 0
    fi
    pids=$(inst_dockerd_pids)
    if [ -n "$pids" ]; then
        hecd_log "$tag: SIGTERM to dockerd $(tr '\n' ' ' <<<"$pids")(it stops its containers first)"
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null || true
        # shellcheck disable=SC2086
        if wait_gone 15 $pids; then
            hecd_log "$tag: dockerd exited after $((($(date +%s%N) - t0) / 1000000)) ms"
        else
            hecd_log "$tag: dockerd still runs after 15 s"
        fi
    fi
    # Its containerd ends shortly after a clean shutdown; give it a moment before forcing. (Shims without a
    # containerd, left by `kill`, never end by themselves: kill_leftovers handles them.)
    pids=$(inst_containerd_pids)
    # shellcheck disable=SC2086
    [ -z "$pids" ] || wait_gone 3 $pids || true
    kill_leftovers
    if [ -n "$(inst_all_pids)" ]; then
        hecd_fail "$tag: still running after stop: $(inst_all_pids | tr '\n' ' ')(see '$0 status $n')" || return 1
    fi
    remove_stale_pidfiles
    # After a hard kill, container rootfs and network namespace mounts stay (a netns mount keeps the container's
    # veth on the bridge), as does dockerd's bind mount of its data root. A clean shutdown leaves none of them.
    unmount_below "$run_dir"
    unmount_below "$data_root"
    hecd_log "$tag: stopped (data kept in $data_root)"
}

crash() {
    local pids
    pids=$(inst_dockerd_pids)
    if [ -z "$pids" ]; then
        hecd_log "$tag: no dockerd running"
        return 0
    fi
    hecd_log "$tag: SIGKILL to dockerd $(tr '\n' ' ' <<<"$pids")(its containers keep running)"
    # shellcheck disable=SC2086
    kill -KILL $pids
    # shellcheck disable=SC2086
    wait_gone 5 $pids || hecd_fail "$tag: dockerd $pids survives SIGKILL" || return 1
}

# Mount points at DIR or below it, deepest first.
mounts_below() { awk -v d="$1" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -ru; }

# Unmounts DIR and whatever is mounted below it. Only call it while no process of this instance runs.
unmount_below() {
    local m
    mounts_below "$1" | while read -r m; do
        hecd_log "$tag: unmounting $m"
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || hecd_log "$tag: WARNING could not unmount $m"
    done
}

purge() {
    stop
    [ -e "$run_dir" ] && hecd_log "$tag: removing $run_dir" && rm -rf "$run_dir"
    [ -e "$data_root" ] && hecd_log "$tag: removing $data_root" && rm -rf "$data_root"
    if ip link show "$bridge" >/dev/null 2>&1; then
        hecd_log "$tag: deleting bridge $bridge"
        ip link delete "$bridge" type bridge
    fi
    hecd_log "$tag: purged"
}

status() {
    local p
    if inst_ping; then
        hecd_log "$tag: answering on $addr ($(inst_docker info -f '{{.ContainersRunning}} running / {{.Containers}} containers, {{.Images}} images' 2>/dev/null || echo '?'))"
    else
        hecd_log "$tag: not answering on $addr"
    fi
    for p in $(inst_all_pids); do
        hecd_log "$tag:   pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-150)"
    done
    if ip link show "$bridge" >/dev/null 2>&1; then hecd_log "$tag: bridge $bridge exists"; else hecd_log "$tag: no bridge $bridge"; fi
    inst_ping
}

# One command at a time per instance (two concurrent `start N` would launch two daemons).
exec 9>"/tmp/hecd-dockerd-$n.lock"
flock -w 120 9 || { hecd_fail "$tag: another '$0 ... $n' holds /tmp/hecd-dockerd-$n.lock for 120 s"; exit 1; }

case "$cmd" in
    start) start ;;
    stop) stop ;;
    kill) crash ;;
    purge) purge ;;
    status) status ;;
esac
