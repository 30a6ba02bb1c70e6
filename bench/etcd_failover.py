#!/usr/bin/env python3
"""A 3-member etcd loses its leader (SIGKILL) or has a member hang (SIGSTOP): how long until hecd's new key is in.

Starts a 3-member etcd on loopback with etcd's default election settings (heartbeat 100 ms, election 1000 ms: what
users run), and per run: injects the fault, then at once runs `hecd apply` (one etcd transaction through hecd's
client, `--etcd` listing all three members in the order the scenario names) with a manifest whose text is new, and
times from the fault to the new value being readable on every live member (a serializable read of each member's own
store, polled every 10 ms). Also times the election itself (from the fault until a live member reports a new leader)
and `hecd apply`'s own run on a healthy cluster, so that what the client adds can be read off.

Scenarios (the client's first endpoint is the one it talks to first, like a long-running agent's current one):
  leader killed, client starts at a follower  | leader killed, client starts at the dead leader
  leader paused, client starts at it           | follower paused, client starts at it

With --quorum-loss SECONDS it also runs `hecd agent` while two members are down that long and reports the agent's
CPU and log lines a minute (it must stay quiet), and how soon it is registered again once they are back.

Usage: bench/etcd_failover.py [--runs 5] [--hecd PATH] [--baseline PATH] [--election-ms MS] [--agent] [--ttl 10]
                              [--quorum-loss SECONDS]
                              [--out bench/results/etcd-failover.md]
--baseline runs the same scenarios with a second binary (e.g. one built before a change) for comparison.
Needs /usr/bin/etcd (Debian etcd-server); --quorum-loss needs dockerd. Leaves nothing running.
"""
import argparse, base64, http.client, json, os, shutil, signal, statistics, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
from benchlib.util import free_port, log  # noqa: E402

ETCD = os.environ.get("ETCD_BINARY", "/usr/bin/etcd")
KEY = "/hecd/apps/web"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def post(port, path, body, timeout):
    """One gateway call on a fresh connection; (status, decoded JSON) or None when nothing answered in time."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        c.close()


class Member:
    def __init__(self, index, folder):
        self.name = f"m{index}"
        self.dir = os.path.join(folder, self.name)
        self.client_port, self.peer_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.client_port}"
        self.peer_url = f"http://127.0.0.1:{self.peer_port}"
        self.proc = None

    def start(self, cluster, token, election_ms=None):
        timing = ["--heartbeat-interval", str(max(10, election_ms // 10)), "--election-timeout", str(election_ms)] if election_ms else []
        cmd = [ETCD, "--name", self.name, "--data-dir", os.path.join(self.dir, "data"),
               "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
               "--listen-peer-urls", self.peer_url, "--initial-advertise-peer-urls", self.peer_url,
               "--initial-cluster", cluster, "--initial-cluster-token", token, "--log-level", "warn"] + timing
        os.makedirs(self.dir, exist_ok=True)
        self.proc = subprocess.Popen(cmd, stdout=open(os.path.join(self.dir, "etcd.log"), "a"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def signal(self, sig):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def status(self, timeout=0.3):
        answer = post(self.client_port, "/v3/maintenance/status", {}, timeout)
        if not answer or answer[0] != 200:
            return None
        return answer[1]

    def value(self, key):
        answer = post(self.client_port, "/v3/kv/range", {"key": b64(key), "serializable": True}, 0.3)
        if not answer or answer[0] != 200:
            return None
        kvs = answer[1].get("kvs") or []
        return base64.b64decode(kvs[0].get("value", "")).decode() if kvs else None


class Cluster:
    def __init__(self, election_ms=None):
        self.election_ms = election_ms
        self.folder = tempfile.mkdtemp(prefix="hecd-bench-etcdha.")
        self.members = [Member(i, self.folder) for i in range(3)]
        self.spec = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
        self.token = "bench-" + os.path.basename(self.folder)

    def start(self):
        for m in self.members:
            m.start(self.spec, self.token, self.election_ms)
        self.wait_healthy()

    def wait_healthy(self, timeout=30):
        """Every member runs, answers, and agrees on one leader."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for m in self.members:
                if m.proc is None:
                    m.start(self.spec, self.token, self.election_ms)
            statuses = [m.status() for m in self.members]
            leaders = {s.get("leader") for s in statuses if s}
            if all(statuses) and len(leaders) == 1 and None not in leaders and not any(s.get("errors") for s in statuses):
                return
            time.sleep(0.1)
        raise SystemExit("etcd cluster not healthy: " + open(os.path.join(self.members[0].dir, "etcd.log")).read()[-1500:])

    def leader(self):
        for i, m in enumerate(self.members):
            s = m.status()
            if s and s.get("leader") == s["header"]["member_id"]:
                return i
        return None

    def stop(self):
        for m in self.members:
            m.signal(signal.SIGCONT)
            m.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


SCENARIOS = [
    ("leader killed, client starts at a follower", "kill", "leader", "follower-first"),
    ("leader killed, client starts at the dead leader", "kill", "leader", "victim-first"),
    ("leader paused (SIGSTOP), client starts at it", "pause", "leader", "victim-first"),
    ("follower paused (SIGSTOP), client starts at it", "pause", "follower", "victim-first"),
]


def one_run(cluster, hecd, scenario, run, folder):
    _, fault, target, order = scenario
    leader = cluster.leader()
    victim = leader if target == "leader" else (leader + 1) % 3
    others = [i for i in range(3) if i != victim]
    endpoints = [victim] + others if order == "victim-first" else others + [victim]
    text = f"name: web\nimage: hecd-demo:1\nreplicas: {run + 10}\nport: 80\n# {time.time()}\n"
    path = os.path.join(folder, "web.yaml")
    open(path, "w").write(text)
    old_leader_id = cluster.members[leader].status()["header"]["member_id"]
    elected = {}

    def watch_election():
        while "t" not in elected and time.monotonic() - t0 < 20:
            for i in others:
                s = cluster.members[i].status(0.2)
                if s and s.get("leader") and s.get("leader") != old_leader_id:
                    elected["t"] = time.monotonic() - t0
                    return
            time.sleep(0.01)

    victim_member = cluster.members[victim]
    t0 = time.monotonic()
    if fault == "kill":
        victim_member.signal(signal.SIGKILL)
    else:
        victim_member.signal(signal.SIGSTOP)
    apply = subprocess.Popen([hecd, "apply", path, "--etcd", ",".join(cluster.members[i].url for i in endpoints)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if target == "leader":
        threading.Thread(target=watch_election, daemon=True).start()
    readable = None
    while time.monotonic() - t0 < 30:
        if all(cluster.members[i].value(KEY) == text for i in others):
            readable = time.monotonic() - t0
            break
        if apply.poll() not in (None, 0):
            break
        time.sleep(0.01)
    output, _ = apply.communicate(timeout=60)
    applied = time.monotonic() - t0
    failure = None if readable is not None else output.strip().splitlines()[-1] if output.strip() else "no key"
    if fault == "kill":
        victim_member.kill()
    else:
        victim_member.signal(signal.SIGCONT)
    cluster.wait_healthy()
    time.sleep(0.5)
    return readable, elected.get("t"), applied, failure


def baseline(cluster, hecd, folder, runs):
    times = []
    for run in range(runs):
        path = os.path.join(folder, "web.yaml")
        text = f"name: web\nimage: hecd-demo:1\nreplicas: {run + 100}\nport: 80\n"
        open(path, "w").write(text)
        t0 = time.monotonic()
        subprocess.run([hecd, "apply", path, "--etcd", ",".join(m.url for m in cluster.members)], capture_output=True, check=True)
        while not all(m.value(KEY) == text for m in cluster.members):
            time.sleep(0.005)
        times.append(time.monotonic() - t0)
    return times


def measure(hecd, runs, folder, election_ms):
    cluster = Cluster(election_ms)
    results = {}
    try:
        cluster.start()
        results["healthy"] = baseline(cluster, hecd, folder, runs)
        for scenario in SCENARIOS:
            rows = []
            for run in range(runs):
                readable, elected, applied, failure = one_run(cluster, hecd, scenario, run, folder)
                outcome = f"readable everywhere after {readable:.2f} s" if failure is None else f"FAILED ({failure})"
                log(f"{hecd}: {scenario[0]}, run {run + 1}: {outcome}"
                    + (f" (new leader after {elected:.2f} s)" if elected else "") + f", hecd apply exited after {applied:.2f} s")
                rows.append((readable, elected, failure))
            results[scenario[0]] = rows
    finally:
        cluster.stop()
    return results


AGENT_ID = "bench-etcdha"


def agent_manifest(folder, replicas):
    path = os.path.join(folder, "agent-manifests", "web.yaml")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = path + ".tmp"
    open(temporary, "w").write(f"name: web\nimage: hecd-demo:1\nreplicas: {replicas}\nport: 80\nstop_timeout: 1\n"
                               "register: {prefix: /app/servers, drain: 0.2}\n")
    os.rename(temporary, path)
    return os.path.dirname(path)


def remove_agent_containers():
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=io.hecd.agent={AGENT_ID}"],
                         capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)


def registered(member):
    answer = post(member.client_port, "/v3/kv/range", {"key": b64("/app/servers/"), "range_end": b64("/app/servers0"),
                                                       "serializable": True}, 0.3)
    if not answer or answer[0] != 200:
        return None
    return {base64.b64decode(kv["key"]).decode(): kv.get("lease") for kv in answer[1].get("kvs") or []}


def agent_run(cluster, hecd, scenario, folder, ttl):
    """One run through `hecd agent --ttl TTL`: one replica registered, then the fault and at once a scale to two;
    the time until the second container's key is on every live member. The first key must keep its lease."""
    _, fault, target, order = scenario
    leader = cluster.leader()
    victim = None if fault is None else leader if target == "leader" else (leader + 1) % 3
    others = [i for i in range(3) if i != victim]
    endpoints = others if victim is None else [victim] + others if order == "victim-first" else others + [victim]
    manifests = agent_manifest(folder, 1)
    log_path = os.path.join(folder, "agent-run.log")
    agent = subprocess.Popen(
        [hecd, "agent", "--manifests", manifests, "--etcd", ",".join(cluster.members[i].url for i in endpoints),
         "--host-ip", "127.0.0.1", "--agent-id", AGENT_ID, "--ttl", str(ttl)],
        stdout=open(log_path, "w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        end = time.monotonic() + 30
        first = None
        while time.monotonic() < end:
            keys = [registered(cluster.members[i]) for i in range(3)]
            if all(k is not None and len(k) == 1 for k in keys) and len({tuple(k.items()) for k in keys}) == 1:
                first = keys[0]
                break
            time.sleep(0.05)
        if first is None:
            raise SystemExit("the agent did not register its first container: " + open(log_path).read()[-1500:])
        time.sleep(1.5)
        t0 = time.monotonic()
        if victim is not None:
            cluster.members[victim].signal(signal.SIGKILL if fault == "kill" else signal.SIGSTOP)
        agent_manifest(folder, 2)
        took = None
        while time.monotonic() - t0 < 30:
            keys = [registered(cluster.members[i]) for i in others]
            if all(k is not None and len(k) == 2 for k in keys):
                took = time.monotonic() - t0
                kept = all(k.get(key) == lease for k in keys for key, lease in first.items())
                break
            time.sleep(0.01)
        failure = None if took is not None else "the second key did not appear within 30 s"
        if took is not None and not kept:
            failure = "the first key lost its lease (registered again)"
        return took, failure
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(20)
        except subprocess.TimeoutExpired:
            agent.kill()
        remove_agent_containers()
        if victim is not None:
            if fault == "kill":
                cluster.members[victim].kill()
            else:
                cluster.members[victim].signal(signal.SIGCONT)
        cluster.wait_healthy()
        for m in cluster.members:
            post(m.client_port, "/v3/kv/deleterange", {"key": b64("/"), "range_end": "AA=="}, 2)
            break
        time.sleep(0.5)


def measure_agent(hecd, runs, folder, election_ms, ttl):
    cluster = Cluster(election_ms)
    results = {}
    try:
        cluster.start()
        for scenario in [("healthy", None, None, None)] + SCENARIOS:
            rows = []
            for run in range(runs):
                took, failure = agent_run(cluster, hecd, scenario, folder, ttl)
                log(f"{hecd} agent: {scenario[0]}, run {run + 1}: "
                    + (f"second key on every live member after {took:.2f} s" if failure is None else f"FAILED ({failure})"))
                rows.append((took, None, failure))
            results[scenario[0]] = rows
    finally:
        cluster.stop()
    return results


def agent_during_quorum_loss(hecd, seconds, folder, ttl):
    """`hecd agent --ttl TTL` (no apps) with all three members in --etcd while two of them are down for `seconds`:
    its CPU (utime + stime from /proc), its log lines, and how long after the quorum is back its lease is renewed."""
    cluster = Cluster()
    manifests = os.path.join(folder, "quiet-manifests")
    os.makedirs(manifests, exist_ok=True)
    log_path = os.path.join(folder, "agent.log")
    agent = None
    try:
        cluster.start()
        agent = subprocess.Popen(
            [hecd, "agent", "--manifests", manifests, "--etcd", ",".join(m.url for m in cluster.members),
             "--host-ip", "127.0.0.1", "--agent-id", "bench-etcdha-quiet", "--ttl", str(ttl)],
            stdout=open(log_path, "w"), stderr=subprocess.STDOUT, start_new_session=True)
        end = time.monotonic() + 20
        while time.monotonic() < end and not any(m.value("/hecd/agents/bench-etcdha-quiet") for m in cluster.members):
            time.sleep(0.1)
        time.sleep(2)
        leader = cluster.leader()
        killed = [leader, (leader + 1) % 3]

        def cpu_ticks():
            fields = open(f"/proc/{agent.pid}/stat").read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])

        def lines():
            return sum(1 for _ in open(log_path))

        for i in killed:
            cluster.members[i].kill()
        ticks, logged, t0 = cpu_ticks(), lines(), time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - t0
        cpu = (cpu_ticks() - ticks) / os.sysconf("SC_CLK_TCK") / elapsed * 100
        per_minute = (lines() - logged) / elapsed * 60
        for i in killed:
            cluster.members[i].start(cluster.spec, cluster.token)
        back = time.monotonic()
        end = back + 60
        recovered = None
        while time.monotonic() < end:
            if "etcd reachable again" in open(log_path).read():
                recovered = time.monotonic() - back
                break
            time.sleep(0.05)
        return {"seconds": seconds, "ttl": ttl, "cpu": cpu, "lines_per_minute": per_minute, "recovered": recovered,
                "log": open(log_path).read().strip().splitlines()[-6:]}
    finally:
        if agent and agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
            try:
                agent.wait(20)
            except subprocess.TimeoutExpired:
                agent.kill()
        cluster.stop()


def cell(samples, failures=()):
    failures = [f for f in failures if f]
    done = [s for s in samples if s is not None]
    text = f"median {statistics.median(done):.2f} s, max {max(done):.2f} s" if done else "–"
    if failures:
        text += f"; {len(failures)} of {len(samples)} runs failed: `{failures[0][:160]}`"
    return text


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--hecd", default=None)
    p.add_argument("--baseline", default=None, help="a second hecd binary to compare with (e.g. built before a change)")
    p.add_argument("--baseline-label", default="before")
    p.add_argument("--election-ms", type=int, default=None,
                   help="etcd --election-timeout (heartbeat a tenth of it) instead of etcd's defaults (1000 ms, 100 ms)")
    p.add_argument("--agent", action="store_true",
                   help="also time the same faults through `hecd agent` (needs dockerd and hecd-demo:1): scale 1 → 2 "
                        "at the fault, until the new container's key is on every live member")
    p.add_argument("--ttl", type=int, default=10, help="the agent's --ttl (default 10, hecd's own default)")
    p.add_argument("--quorum-loss", type=int, default=0, metavar="SECONDS",
                   help="also run `hecd agent` (needs dockerd) while the quorum is lost this long; 0 skips it")
    p.add_argument("--out", default=os.path.join(HERE, "results", "etcd-failover.md"))
    a = p.parse_args()
    hecd = a.hecd or next(path for path in [os.path.join(REPO, ".build", c, "hecd") for c in ("release", "debug")] if os.path.exists(path))
    folder = tempfile.mkdtemp(prefix="hecd-bench-etcdha-apps.")
    try:
        binaries = [("hecd", hecd)] + ([(a.baseline_label, a.baseline)] if a.baseline else [])
        measured = {label: measure(path, a.runs, folder, a.election_ms) for label, path in binaries}
        agents = {label: measure_agent(path, a.runs, folder, a.election_ms, a.ttl) for label, path in binaries} if a.agent else None
        quiet = agent_during_quorum_loss(hecd, a.quorum_loss, folder, a.ttl) if a.quorum_loss else None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    labels = [label for label, _ in binaries]
    head = "| fault → new key written and readable on every live member | " + " | ".join(
        f"{label} (`{os.path.relpath(path, REPO) if path.startswith(REPO) else path}`)" for label, path in binaries) + " | election alone | hecd after the election |"
    lines = [
        "# etcd failover: a 3-member etcd loses its leader or has a member hang",
        "",
        f"hecd {commit}, `bench/etcd_failover.py --runs {a.runs}" + (f" --election-ms {a.election_ms}" if a.election_ms else "")
        + (f" --baseline {a.baseline}" if a.baseline else "")
        + (f" --agent --ttl {a.ttl}" if a.agent else "") + (f" --quorum-loss {a.quorum_loss}" if a.quorum_loss else "") + f"`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        + "etcd 3.4 (Debian), 3 members on loopback with "
        + (f"election timeout {a.election_ms} ms, heartbeat {max(10, a.election_ms // 10)} ms. " if a.election_ms
           else "etcd's default heartbeat 100 ms and election timeout 1000 ms. ")
        + 
        "Each run: the fault, then at once `hecd apply` (one transaction through hecd's etcd client, all three members in "
        "`--etcd`), timed until the new value is in every live member's own store. \"election alone\" is the time until a "
        "live member reports a new leader: no client can write before that; \"hecd after the election\" is the first "
        "column minus it, per run (what the client adds).",
        "",
        head,
        "|---|" + "---|" * (len(labels) + 2),
        "| no fault (hecd apply's own run, process start included) | " + " | ".join(cell(measured[l]["healthy"]) for l in labels) + " | – | – |",
    ]
    for name, *_ in SCENARIOS:
        elections = [e for l in labels for _, e, _ in measured[l][name] if e is not None]
        after = [r - e for r, e, _ in measured[labels[0]][name] if r is not None and e is not None]
        lines.append(f"| {name} | " + " | ".join(
            cell([r for r, _, _ in measured[l][name]], [f for _, _, f in measured[l][name]]) for l in labels)
            + f" | {cell(elections)} | {cell(after)} |")
    lines.append("")
    if agents:
        lines += [
            f"Through `hecd agent --ttl {a.ttl}` (request timeout {min(5, max(1, a.ttl / 3)):.2f} s; all three members in `--etcd`, the scenario's member first): one replica "
            "registered, then the fault and at once the manifest scaled to two; timed until the new container's key is "
            "on every live member (container start included: see \"no fault\"). A run in which the first key lost its lease (the agent registered again) counts as failed.",
            "",
            "| fault → new container's key on every live member | " + " | ".join(labels) + " |",
            "|---|" + "---|" * len(labels),
        ]
        for name in ["healthy"] + [n for n, *_ in SCENARIOS]:
            title = "no fault" if name == "healthy" else name
            lines.append(f"| {title} | " + " | ".join(
                cell([r for r, _, _ in agents[l][name]], [f for _, _, f in agents[l][name]]) for l in labels) + " |")
        lines.append("")
    if quiet:
        lines += [
            f"Quorum lost for {quiet['seconds']} s (2 of 3 members killed) under `hecd agent --ttl {quiet['ttl']}` (no apps, all three "
            f"members in `--etcd`): agent CPU {quiet['cpu']:.2f}% of a core, {quiet['lines_per_minute']:.1f} log lines a "
            "minute; lease renewed and keys rewritten "
            + (f"{quiet['recovered']:.1f} s after the two members were started again." if quiet["recovered"] is not None
               else "NOT within 60 s after the two members were started again.")
            + " Its last log lines:", "", "```"] + quiet["log"] + ["```", ""]
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    open(a.out, "w").write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
