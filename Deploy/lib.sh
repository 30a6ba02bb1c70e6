# shellcheck shell=bash
# Helpers for hecd's deploy and test scripts. Source it: `. Deploy/lib.sh`.
#
# Every function is idempotent: it checks first and only acts when something is missing.
# Facts about the machines this runs on (Debian bookworm, root, no systemd, no registry):
#  - Package installs do not start services: hecd_start_dockerd starts dockerd by hand.
#  - Plain `dockerd` works here with no extra flags (overlay2 on ext4, cgroup v1, iptables via nft):
#    real containers run and `-P` publishes on 0.0.0.0. HECD_DOCKERD_ARGS adds flags if a machine needs them;
#    on a start failure that names iptables or the storage driver we retry once with
#    --iptables=false / --storage-driver=vfs.
#  - /run is NOT a tmpfs here: /run/docker.pid and /run/docker/containerd/containerd.pid survive the
#    processes (a session's processes are killed when it stops). A stale pid file whose number now belongs
#    to another process makes dockerd refuse to start, so we remove pid files that name no live daemon.
#  - Two docker clients may exist: /usr/local/bin/docker (28.x) and Debian's /usr/bin/docker (20.10);
#    both talk to Debian's dockerd (API 1.41; the 28.x client downgrades by itself).

HECD_DEFAULT_PACKAGES=(docker.io etcd-server etcd-client haproxy nginx busybox-static
    libcurl4-openssl-dev pkg-config iproute2 curl wrk iptables)
# What only the tests need, installed by Deploy/test.sh on top of the default set (not by up.sh: on a host with
# systemd, installing docker-registry starts a registry service). Docker over TLS (DockerTLSIntegrationTests:
# openssl) and a private registry with htpasswd auth (PrivateRegistryIntegrationTests: docker-registry, and
# `htpasswd -B` from apache2-utils); Go's own text/template, which the template engine's differential tests
# (TemplatesTests: golang-go) compare hecd's output with (without it they are skipped with a message).
HECD_TEST_PACKAGES=(openssl docker-registry apache2-utils golang-go socat)
# A real Prometheus and promtool for the metrics tests (OperationsTests, 22 MB). Headless Chromium for the status
# page test (124 MB to download) only with HECD_TEST_BROWSER=1; without it that test skips.
HECD_TEST_PACKAGES+=(prometheus)
if [ "${HECD_TEST_BROWSER:-0}" = 1 ]; then HECD_TEST_PACKAGES+=(chromium); fi
HECD_DOCKER_SOCK=/var/run/docker.sock
HECD_DOCKERD_LOG=${HECD_DOCKERD_LOG:-/tmp/hecd-dockerd.log}
HECD_DEMO_IMAGE_DEFAULT=hecd-demo:1

hecd_log()  { printf '[hecd %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
hecd_fail() { printf '[hecd %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; return 1; }

# Runs a command as root (directly, or through sudo when we are not root).
hecd_as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else hecd_fail "need root for: $* (run as root or install sudo)"; fi
}

# hecd_ensure_packages [PKG...]: installs the Debian packages that are missing (default: HECD_DEFAULT_PACKAGES;
# Deploy/test.sh adds HECD_TEST_PACKAGES).
# Runs `apt-get update` only when something must be installed.
hecd_ensure_packages() {
    local pkgs=("$@") missing=() p
    [ ${#pkgs[@]} -gt 0 ] || pkgs=("${HECD_DEFAULT_PACKAGES[@]}")
    for p in "${pkgs[@]}"; do
        if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
            missing+=("$p")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        hecd_log "packages: all ${#pkgs[@]} present"
        return 0
    fi
    hecd_log "packages: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Wait for another apt/dpkg run instead of failing at once on its lock.
    local apt=(apt-get -q -y -o DPkg::Lock::Timeout=300)
    hecd_as_root "${apt[@]}" update \
        || hecd_fail "apt-get update failed: is Debian's mirror reachable? (see /etc/apt/sources.list*)" || return 1
    hecd_as_root "${apt[@]}" install --no-install-recommends "${missing[@]}" \
        || hecd_fail "apt-get install ${missing[*]} failed: read apt's message above; try 'apt-get -f install' if dpkg was interrupted" \
        || return 1
    hecd_log "packages: installed ${missing[*]}"
}

# True when the Docker socket answers GET /_ping with OK.
hecd_docker_ping() {
    [ -S "$HECD_DOCKER_SOCK" ] &&
        [ "$(curl -s -m 3 --unix-socket "$HECD_DOCKER_SOCK" http://localhost/_ping 2>/dev/null)" = "OK" ]
}

# Removes a pid file whose process is gone or is not the named program (left over from an earlier session).
hecd_remove_stale_pidfile() {
    local file=$1 name=$2 pid comm
    [ -f "$file" ] || return 0
    pid=$(cat "$file" 2>/dev/null || true)
    comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
    if [ -z "$pid" ] || [ "$comm" != "$name" ]; then
        hecd_log "dockerd: removing stale pid file $file (pid '${pid}' is ${comm:-not running})"
        hecd_as_root rm -f "$file"
    fi
}

# Starts dockerd in the background, detached (setsid + nohup) so it outlives this script. Waits up to 30 s.
hecd_launch_dockerd() {
    local args=("$@")
    hecd_log "dockerd: starting 'dockerd ${args[*]}' (log: $HECD_DOCKERD_LOG)"
    # Keep the previous log's tail for diagnosis; start this one fresh.
    [ -f "$HECD_DOCKERD_LOG" ] && mv -f "$HECD_DOCKERD_LOG" "$HECD_DOCKERD_LOG.prev"
    hecd_as_root setsid nohup dockerd "${args[@]}" >"$HECD_DOCKERD_LOG" 2>&1 </dev/null &
    local i
    for i in $(seq 1 60); do
        sleep 0.5
        if hecd_docker_ping; then
            hecd_log "dockerd: up after $((i * 500)) ms ($(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?'))"
            return 0
        fi
        # Gave up early if it already died.
        hecd_main_dockerd_pid >/dev/null || break
    done
    return 1
}

# Prints the pid of the main dockerd (the one of /var/run/docker.pid, not an extra instance's); fails if none runs.
hecd_main_dockerd_pid() {
    local pid
    pid=$(cat /var/run/docker.pid 2>/dev/null) || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] && echo "$pid"
}

# hecd_start_dockerd: makes sure /var/run/docker.sock answers, starting dockerd if needed.
hecd_start_dockerd() {
    if hecd_docker_ping; then
        hecd_log "dockerd: already answering on $HECD_DOCKER_SOCK"
        return 0
    fi
    command -v dockerd >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
    command -v dockerd >/dev/null 2>&1 \
        || hecd_fail "dockerd not found: run 'hecd_ensure_packages docker.io' (apt-get install docker.io)" || return 1

    # A dockerd that runs but does not answer yet may still be starting: give it the same 30 s.
    if hecd_main_dockerd_pid >/dev/null; then
        hecd_log "dockerd: a dockerd process (pid $(hecd_main_dockerd_pid)) runs but does not answer; waiting"
        local i
        for i in $(seq 1 30); do hecd_docker_ping && { hecd_log "dockerd: answering"; return 0; }; sleep 1; done
        hecd_fail "dockerd runs but $HECD_DOCKER_SOCK does not answer /_ping after 30 s. Look at $HECD_DOCKERD_LOG;
  if it is hung, stop it (kill \$(cat /var/run/docker.pid)) and run this again." || return 1
    fi

    hecd_remove_stale_pidfile /var/run/docker.pid dockerd
    hecd_remove_stale_pidfile /var/run/docker/containerd/containerd.pid containerd

    # shellcheck disable=SC2206 # word splitting of extra flags is intended
    local extra=(${HECD_DOCKERD_ARGS:-})
    if hecd_launch_dockerd "${extra[@]}"; then return 0; fi

    # One retry with the usual workarounds for restricted kernels, chosen from the log.
    local retry=("${extra[@]}")
    grep -qiE 'iptables' "$HECD_DOCKERD_LOG" && retry+=(--iptables=false)
    grep -qiE 'overlay|graphdriver|storage.driver' "$HECD_DOCKERD_LOG" && retry+=(--storage-driver=vfs)
    if [ ${#retry[@]} -gt ${#extra[@]} ]; then
        hecd_log "dockerd: first start failed; log tail:"; tail -n 15 "$HECD_DOCKERD_LOG" >&2
        # Stop the dockerd we just started, if it still lingers (its pid file names it).
        local pid; pid=$(cat /var/run/docker.pid 2>/dev/null || true)
        if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
            hecd_as_root kill "$pid" 2>/dev/null || true
            sleep 2
        fi
        hecd_remove_stale_pidfile /var/run/docker.pid dockerd
        if hecd_launch_dockerd "${retry[@]}"; then
            hecd_log "dockerd: NOTE this machine needs: ${retry[*]} (set HECD_DOCKERD_ARGS to pass it directly)"
            return 0
        fi
    fi
    hecd_log "dockerd: last lines of $HECD_DOCKERD_LOG:"
    tail -n 30 "$HECD_DOCKERD_LOG" >&2 || true
    hecd_fail "dockerd did not answer on $HECD_DOCKER_SOCK within 30 s. Read $HECD_DOCKERD_LOG; extra flags can be
  given in HECD_DOCKERD_ARGS (e.g. '--iptables=false' or '--storage-driver=vfs')."
}

# The demo image's entrypoint: a page naming the container, /healthz, and a prompt exit on TERM/INT
# (busybox httpd ignores SIGTERM as PID 1, so a shell runs it and traps the signal).
hecd_demo_serve_script() {
    cat <<'EOF'
#!/bin/sh
# hecd demo server: GET / names the container (its hostname) and $GREETING; GET /healthz says ok.
mkdir -p /www
{ echo "hello from $(hostname)"; if [ -n "${GREETING:-}" ]; then echo "$GREETING"; fi; } > /www/index.html
echo ok > /www/healthz
httpd -f -p "${PORT:-80}" -h /www &
pid=$!
trap 'kill -9 "$pid" 2>/dev/null; exit 0' TERM INT
echo "serving on port ${PORT:-80} as $(hostname)"
wait "$pid"
EOF
}

# busybox applets linked into the demo image.
HECD_DEMO_APPLETS="sh ash httpd hostname cat echo sleep ls mkdir kill env printf true false rm mv cp ps
    wget nc grep sed head tail date id test [ uname pwd touch"

# hecd_build_demo_image [NAME:TAG]: imports a tiny busybox web server image offline, unless the tag already
# holds the same content (label io.hecd.demo.digest), then checks that it serves and stops promptly.
# Runs in a subshell so its temp dir and test container are cleaned up on any exit.
hecd_build_demo_image() (
    set -euo pipefail
    local image=${1:-$HECD_DEMO_IMAGE_DEFAULT} busybox=/bin/busybox
    [ -x "$busybox" ] || busybox=/usr/bin/busybox
    [ -x "$busybox" ] || hecd_fail "busybox not found: apt-get install busybox-static" || exit 1
    # A dynamically linked busybox would need libc inside the image.
    if ldd "$busybox" >/dev/null 2>&1; then
        hecd_fail "$busybox is dynamically linked: install busybox-static (apt-get install busybox-static)" || exit 1
    fi

    local digest
    digest=$({ hecd_demo_serve_script; echo "$HECD_DEMO_APPLETS"; sha256sum <"$busybox"; } | sha256sum | cut -c1-16)
    local have
    have=$(docker image inspect -f '{{ index .Config.Labels "io.hecd.demo.digest" }}' "$image" 2>/dev/null || true)
    if [ "$have" = "$digest" ]; then
        hecd_log "image: $image is up to date (digest $digest)"
    else
        local old_id; old_id=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
        if [ -n "$old_id" ]; then
            hecd_log "image: rebuilding $image (content digest $digest, the image has '${have}')"
        else
            hecd_log "image: building $image (content digest $digest)"
        fi
        tmp=$(mktemp -d /tmp/hecd-demo-image.XXXXXX)
        trap 'rm -rf "$tmp"' EXIT
        mkdir -p "$tmp/bin" "$tmp/www" "$tmp/etc" "$tmp/tmp" "$tmp/proc" "$tmp/sys" "$tmp/dev"
        chmod 1777 "$tmp/tmp"
        cp "$busybox" "$tmp/bin/busybox"
        local applet
        for applet in $HECD_DEMO_APPLETS; do ln -s busybox "$tmp/bin/$applet"; done
        hecd_demo_serve_script >"$tmp/bin/serve"
        chmod 755 "$tmp/bin/serve"
        printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$tmp/etc/passwd"
        printf 'root:x:0:\nnogroup:x:65534:\n' >"$tmp/etc/group"
        tar --numeric-owner --owner=0 --group=0 -C "$tmp" -c . |
            docker import \
                -c 'CMD ["/bin/serve"]' -c 'EXPOSE 80' -c 'ENV PATH=/bin' \
                -c "LABEL io.hecd.demo.digest=$digest" \
                -m "hecd demo web server (busybox httpd)" - "$image" >/dev/null \
            || hecd_fail "docker import of $image failed (is dockerd running? see messages above)" || exit 1
        # Drop the image this tag held before, unless a container still uses it.
        if [ -n "$old_id" ] && [ "$old_id" != "$(docker image inspect -f '{{.Id}}' "$image")" ]; then
            docker image rm "$old_id" >/dev/null 2>&1 || true
        fi
        hecd_log "image: built $image"
    fi
    hecd_check_demo_image "$image"
)

# hecd_check_demo_image IMAGE: runs the image with -P, reads / and /healthz on 127.0.0.1, checks that
# `docker stop -t 2` ends it at once with exit code 0 (the TERM trap), and removes the container.
hecd_check_demo_image() (
    set -euo pipefail
    local image=$1 name="hecd-demo-check-$$"
    trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
    docker rm -f "$name" >/dev/null 2>&1 || true
    docker run -d -P --name "$name" --hostname "$name" --label io.hecd.test=1 \
        -e GREETING="greetings from the check" "$image" >/dev/null \
        || hecd_fail "could not run $image: see docker's message above" || exit 1
    local port body="" i
    port=$(docker port "$name" 80/tcp | head -n 1 | sed 's/.*://')
    [ -n "$port" ] || hecd_fail "$image: no published host port for 80/tcp (docker port $name)" || exit 1
    for i in $(seq 1 50); do
        body=$(curl -sf -m 2 "http://127.0.0.1:$port/" 2>/dev/null || true)
        [ -n "$body" ] && break
        sleep 0.2
    done
    grep -q "hello from $name" <<<"$body" \
        || hecd_fail "$image: GET http://127.0.0.1:$port/ gave '${body}', expected 'hello from $name'.
  Container log: $(docker logs "$name" 2>&1 | tail -n 5)" || exit 1
    grep -q "greetings from the check" <<<"$body" || hecd_fail "$image: page lacks \$GREETING: '$body'" || exit 1
    [ "$(curl -sf -m 2 "http://127.0.0.1:$port/healthz")" = "ok" ] \
        || hecd_fail "$image: GET /healthz did not answer 'ok'" || exit 1
    local t0 t1 code
    t0=$(date +%s%N)
    docker stop -t 2 "$name" >/dev/null
    t1=$(date +%s%N)
    code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
    [ "$code" = 0 ] || hecd_fail "$image: exit code $code after docker stop (the TERM trap in /bin/serve did not run)" || exit 1
    hecd_log "image: $image OK (served 'hello from $name' on 127.0.0.1:$port, /healthz ok, stopped in $(((t1 - t0) / 1000000)) ms, exit 0)"
)

# Puts Swift on PATH when it is not there yet.
hecd_swift_path() {
    if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
        export PATH=/opt/swift/usr/bin:$PATH
    fi
    command -v swift >/dev/null 2>&1 \
        || hecd_fail "swift not found on PATH nor at /opt/swift/usr/bin: install the Swift toolchain" || return 1
}

# hecd_swift_build [ARGS...]: swift build with Swift on PATH.
hecd_swift_build() {
    hecd_swift_path || return 1
    hecd_log "swift build $*"
    swift build "$@" || hecd_fail "swift build $* failed: read the compiler errors above" || return 1
}

# hecd_release_build [ARGS...]: the release build that is deployed and measured (of HECD_RELEASE_PRODUCT, default
# hecd): the Swift runtime and Foundation
# linked in statically and lld's packed relocations, which the loader no longer has to read and copy at start
# (the agent: 11 MB less resident memory than a dynamically linked build with 200 containers). The static
# runtime's link flags export every symbol of hecd's own code (-export-dynamic); nothing looks them up, and
# --no-export-dynamic drops a 0.7 MB symbol table the loader would otherwise read at every start (0.8 MB RSS).
hecd_release_build() {
    # The toolchain's FoundationEssentials archive goes first on the link line (Package.swift says why): with it,
    # nothing of Foundation, CoreFoundation or ICU is linked (the binary: 94 MB → 44 MB).
    local swift_bin
    hecd_swift_path || return 1
    swift_bin=$(command -v swift) || return 1
    HECD_ESSENTIALS_ARCHIVE="$(dirname "$(readlink -f "$swift_bin")")/../lib/swift_static/linux/libFoundationEssentials.a" \
    hecd_swift_build -c release --product "${HECD_RELEASE_PRODUCT:-hecd}" --static-swift-stdlib \
        -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic "$@"
}

# Removes the containers that tests label io.hecd.test=1 (leftovers of aborted runs).
hecd_remove_test_containers() {
    local ids
    ids=$(docker ps -aq --filter label=io.hecd.test=1 2>/dev/null || true)
    [ -n "$ids" ] || return 0
    hecd_log "removing $(wc -w <<<"$ids") leftover test container(s) labelled io.hecd.test=1"
    xargs -r docker rm -f <<<"$ids" >/dev/null || true
}
