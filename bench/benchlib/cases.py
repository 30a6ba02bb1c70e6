"""The benchmark cases. Each appends rows to the report and raw samples to the JSON."""

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

from .dockerapi import nth_event, parallel
from .etcd import Gateway, RequestRecorder, Watch, grpc_breakdown, sum_metric
from .hecd import Agent
from .peers import Compose, Plain
from .util import BenchError, Sampler, Stats, binary_size, log, now, proc_usage, smaps_split, wait_until
from .util import run as sh

NA_RENDER = "n/a (render not built)"


class Context:
    """What every case needs: the engine, its event log, etcd, the hecd binary, where to report."""

    def __init__(self, docker, events, etcd, binary, workdir, run_id, runs, report, render=None, swarm=None,
                 idle_window=30.0):
        self.docker, self.events, self.etcd, self.binary = docker, events, etcd, binary
        self.gw = Gateway(etcd.url)
        self.workdir, self.run_id, self.runs, self.report = workdir, run_id, runs, report
        self.render = render  # a benchlib.render.Render, or None when `hecd render` is not built
        self.swarm = swarm
        self.idle_window = idle_window
        self.agents = []

    def new_agent(self, name, extra=(), etcd_url=None):
        agent = Agent(self.binary, etcd_url or self.etcd.url, f"bench-{self.run_id}-{name}", self.workdir, extra)
        self.agents.append(agent)
        return agent

    def stop_agent(self, agent, app="web"):
        """Scales the agent's app to 0, waits for its containers to go, stops the agent."""
        try:
            if agent.alive():
                agent.write_manifest(app, 0)
                self.wait_no_containers(agent.label, 300)
        finally:
            agent.stop()
            self.docker.remove_all(f"{agent.label[0]}={agent.label[1]}")
            if agent in self.agents:
                self.agents.remove(agent)

    def wait_no_containers(self, label, timeout):
        wait_until(lambda: not self.docker.containers(f"{label[0]}={label[1]}"), timeout, 0.1,
                   f"containers labelled {label[0]}={label[1]} to go")

    def wait_agent_ready(self, agent, timeout=30):
        """The agent has written its record (it has a lease and has done a pass)."""
        wait_until(lambda: (agent.check_alive() or True) and self.gw.count(f"/hecd/agents/{agent.agent_id}") == 1,
                   timeout, 0.05, f"agent {agent.agent_id} to register its record")

    def settle(self, seconds=1.0):
        """Lets the engine finish asynchronous cleanup (network namespaces, proxies) between measurements."""
        time.sleep(seconds)


def _timeout(n):
    return 60 + 3 * n


# ----------------------------------------------------------------------------------------------------------
# 1. Scale-up 0 → N

def scale_up(ctx, sizes=(10, 50)):
    rep = ctx.report
    agent = ctx.new_agent("scale")
    agent.write_manifest("web", 0, prefix="/app/servers")
    agent.start()
    ctx.wait_agent_ready(agent)
    watch = Watch(ctx.etcd.url, "/app/servers/").start()
    plain = Plain(ctx.docker, ctx.run_id)
    compose_version = Compose.available()
    compose = Compose(ctx.docker, ctx.run_id, ctx.workdir) if compose_version else None
    swarm_svc = None
    if ctx.swarm:
        swarm_svc = ctx.swarm.create("scale", 0)

    def timed_until_started(label, n, action):
        m = ctx.events.mark()
        t0 = now()
        action()
        t_end = ctx.events.wait(nth_event("start", label[0], label[1], n), m, _timeout(n),
                                f"{n} containers labelled {label[0]}={label[1]} to start")
        return t_end - t0

    def hecd(n, s):
        reloads = ctx.render.reloads() if ctx.render else 0
        m = ctx.events.mark()
        since = watch.mark()
        t0 = agent.write_manifest("web", n)
        t_start = ctx.events.wait(nth_event("start", agent.label[0], agent.label[1], n), m, _timeout(n),
                                  f"hecd's {n} containers to start")
        t_reg = watch.wait_count(n, _timeout(n), since)
        s["hecd_running"].append(t_start - t0)
        s["hecd_registered"].append(t_reg - t0)
        first_start = next(t for t, act, _, a in ctx.events.events[m:]
                           if act == "start" and a.get(agent.label[0]) == agent.label[1])
        first_put = next(t for t, kind, _, _ in watch.events[since:] if kind == "PUT")
        s["hecd_first_running"].append(first_start - t0)
        s["hecd_first_registered"].append(first_put - t0)
        if ctx.render:
            t_routed = ctx.render.wait_backend_servers(n, set(watch.keys), _timeout(n))
            s["hecd_routed"].append(t_routed - t0)
            s["reloads"].append(ctx.render.reloads() - reloads)
        agent.check_alive()
        since = watch.mark()
        agent.write_manifest("web", 0)
        watch.wait_count(0, _timeout(n), since)
        ctx.wait_no_containers(agent.label, _timeout(n))
        if ctx.render:
            ctx.render.wait_backend_servers(0, set(), 60)

    def docker_seq(n, s):
        s["docker_seq"].append(timed_until_started(plain.label, n, lambda: plain.sequential(n)))
        plain.clean()

    def docker_par(n, s):
        s["docker_par"].append(timed_until_started(plain.label, n, lambda: plain.parallel_cli(n)))
        plain.clean()

    def docker_api(n, s):
        s["docker_api"].append(timed_until_started(plain.label, n, lambda: plain.parallel_api(n)))
        plain.clean()

    def swarm(n, s):
        label = ctx.swarm.service_label(swarm_svc)
        s["swarm"].append(timed_until_started(label, n, lambda: ctx.swarm.scale(swarm_svc, n)))
        ctx.swarm.scale(swarm_svc, 0)
        ctx.swarm.wait_empty(swarm_svc)

    def compose_up(n, s):
        s["compose"].append(timed_until_started(compose.label, n, lambda: compose.up(n)))
        compose.clean()

    systems = [("hecd", hecd), ("docker run, sequential", docker_seq), ("docker run, xargs -P 8", docker_par),
               ("Engine API, 8 parallel", docker_api)]
    if swarm_svc:
        systems.append(("swarm", swarm))
    if compose:
        systems.append(("compose", compose_up))

    raw = {}
    try:
        for n in sizes:
            s = {k: [] for k in ("hecd_running", "hecd_registered", "hecd_routed", "docker_seq", "docker_par",
                                 "docker_api", "swarm", "compose", "reloads", "hecd_first_running",
                                 "hecd_first_registered")}
            for r in range(ctx.runs):
                k = r % len(systems)
                for name, fn in systems[k:] + systems[:k]:
                    log(f"scale-up 0→{n}, run {r + 1}/{ctx.runs}: {name}")
                    fn(n, s)
                    ctx.settle()
            raw[str(n)] = s
            _scale_rows(rep, n, s, ctx, compose_version, bool(swarm_svc))
    finally:
        watch.close()
        if swarm_svc:
            ctx.swarm.remove(swarm_svc)
        if compose:
            compose.clean()
        plain.clean()
        ctx.stop_agent(agent)
    rep.raw["scale_up"] = raw


def _scale_rows(rep, n, s, ctx, compose_version, have_swarm):
    case = f"1. Scale-up 0→{n}"
    limits = {"docker_seq": Stats(s["docker_seq"]), "docker_par": Stats(s["docker_par"]),
              "docker_api": Stats(s["docker_api"])}
    limit_key = min(limits, key=lambda k: limits[k].median)
    limit = limits[limit_key].median
    labels = {"docker_seq": f"`docker run -d -P` ×{n}, one after another",
              "docker_par": f"`docker run -d -P` ×{n}, `xargs -P 8`",
              "docker_api": f"Engine API create+start ×{n}, 8 at a time"}
    for key in ("docker_seq", "docker_par", "docker_api"):
        tag = " **(limit)**" if key == limit_key else ""
        rep.row(case, labels[key] + tag, limits[key], ratio=limits[key].median / limit)
    rep.row(case, "hecd: first container running", Stats(s["hecd_first_running"]))
    rep.row(case, "hecd: first container registered", Stats(s["hecd_first_registered"]))
    st = Stats(s["hecd_running"])
    rep.row(case, "hecd: all containers running", st, ratio=st.median / limit)
    st = Stats(s["hecd_registered"])
    ratio = st.median / limit
    rep.row(case, "hecd: all registered in etcd", st, ratio=ratio, target="≤ 1.2× limit", met=ratio <= 1.2)
    if ctx.render:
        st = Stats(s["hecd_routed"])
        ratio = st.median / limit
        reloads = Stats(s["reloads"]).median
        rep.row(case, f"hecd: HAProxy routes to all ({reloads:.0f} reload{'' if reloads == 1 else 's'})", st,
                ratio=ratio,
                target="≤ 1.2× limit", met=ratio <= 1.2)
    else:
        rep.row(case, "hecd: HAProxy routes to all", NA_RENDER, target="≤ 1.2× limit")
    if have_swarm:
        st = Stats(s["swarm"])
        rep.row(case, "Swarm `docker service scale` (host-mode ports): all running", st, ratio=st.median / limit)
    else:
        rep.row(case, "Swarm `docker service scale`", "n/a (swarm mode unavailable)")
    if compose_version:
        st = Stats(s["compose"])
        rep.row(case, f"docker-compose {compose_version} `up -d --scale web={n}`: all running", st,
                ratio=st.median / limit)
    else:
        rep.row(case, "docker-compose", "n/a (docker-compose not installed)")


# ----------------------------------------------------------------------------------------------------------
# 2. A killed container

def killed(ctx, replicas=10):
    rep = ctx.report
    case = "2. Killed container"
    # A kill is a crash to hecd: the first one is replaced at once, a second one within --backoff-reset (10 min)
    # waits 10 s, doubling. Several kills in a row within a minute would measure that backoff, not the
    # replacement: --backoff-initial 0 turns the backoff off, so every kill is measured as a first failure.
    agent = ctx.new_agent("kill", ["--backoff-initial", "0"])
    agent.write_manifest("web", replicas, prefix="/bench/kill")
    agent.start()
    watch = Watch(ctx.etcd.url, "/bench/kill/").start()
    s = {"die_event": [], "deregistered": [], "replacement_running": [], "replacement_registered": [], "swarm_5s": [],
         "swarm_0s": []}
    try:
        watch.wait_keys(replicas, _timeout(replicas))
        for r in range(ctx.runs):
            victim = _stable_victim(ctx, agent.label, replicas, watch, "/bench/kill/")
            key = "/bench/kill/" + victim["Names"][0].lstrip("/")
            before_keys = set(watch.keys)
            before_ids = {c["Id"] for c in ctx.docker.containers(f"{agent.label[0]}={agent.label[1]}")}
            m = ctx.events.mark()
            since = watch.mark()
            t0 = now()
            ctx.docker.kill(victim["Id"])
            t_die = ctx.events.wait(lambda evs: next((t for t, act, cid, _a in evs
                                                      if act == "die" and cid == victim["Id"]), None), m, 30,
                                    "the die event")
            t_del = watch.wait(lambda evs, _k: next((t for t, kind, k, _ in evs[since:]
                                                     if kind == "DELETE" and k == key), None),
                               30, f"DELETE of {key}")
            t_new = ctx.events.wait(lambda evs: next((t for t, act, cid, a in evs
                                                      if act == "start" and a.get(agent.label[0]) == agent.label[1]
                                                      and cid not in before_ids), None), m, 60, "a replacement")
            t_reg = watch.wait(lambda evs, _k: next((t for t, kind, k, _ in evs[since:]
                                                     if kind == "PUT" and k not in before_keys), None),
                               60, "the replacement's key")
            s["die_event"].append(t_die - t0)
            s["deregistered"].append(t_del - t0)
            s["replacement_running"].append(t_new - t0)
            s["replacement_registered"].append(t_reg - t0)
            log(f"kill run {r + 1}/{ctx.runs}: deregistered {1000 * (t_del - t0):.0f} ms, replacement running "
                f"{1000 * (t_new - t0):.0f} ms, registered {1000 * (t_reg - t0):.0f} ms")
            agent.check_alive()
    finally:
        watch.close()
        ctx.stop_agent(agent)

    if ctx.swarm:
        for key, delay in (("swarm_5s", None), ("swarm_0s", "0s")):
            svc = ctx.swarm.create(f"kill{key[-2:]}", replicas, delay)
            label = ctx.swarm.service_label(svc)
            try:
                wait_until(lambda: len(ctx.swarm.running(svc)) == replicas, _timeout(replicas), 0.1,
                           f"{replicas} tasks of {svc}")
                for r in range(ctx.runs):
                    victim = _stable_victim(ctx, label, replicas)
                    before_ids = {c["Id"] for c in ctx.docker.containers(f"{label[0]}={label[1]}")}
                    m = ctx.events.mark()
                    t0 = now()
                    ctx.docker.kill(victim["Id"])
                    t_new = ctx.events.wait(lambda evs: next((t for t, act, cid, a in evs
                                                              if act == "start" and a.get(label[0]) == label[1]
                                                              and cid not in before_ids), None), m, 60,
                                            "swarm's replacement")
                    s[key].append(t_new - t0)
                    log(f"swarm (restart delay {delay or 'default'}) kill run {r + 1}/{ctx.runs}: replacement "
                        f"running after {1000 * (t_new - t0):.0f} ms")
            finally:
                ctx.swarm.remove(svc)

    rep.raw["killed"] = s
    rep.row(case, "engine: `docker kill` → its `die` event (for reference)", Stats(s["die_event"]), unit="ms")
    rep.row(case, "hecd: killed → key deleted from etcd", Stats(s["deregistered"]), unit="ms",
            target="< 100 ms", met=Stats(s["deregistered"]).median < 0.1)
    rep.row(case, "hecd: killed → replacement running", Stats(s["replacement_running"]), unit="ms")
    reg = Stats(s["replacement_registered"])
    rep.row(case, "hecd: killed → replacement registered", reg, unit="ms", target="< 1.5 s", met=reg.median < 1.5)
    if ctx.swarm:
        for key, what in (("swarm_5s", "Swarm (default restart delay 5 s): killed → replacement running"),
                          ("swarm_0s", "Swarm (`--restart-delay 0s`): killed → replacement running")):
            st = Stats(s[key])
            rep.row(case, what, st, unit="ms", ratio=st.median / reg.median, ratio_of="hecd registered")
    else:
        rep.row(case, "Swarm: killed → replacement running", "n/a (swarm mode unavailable)")


def _stable_victim(ctx, label, replicas, watch=None, prefix=None, age=3.0):
    """A random running container of the set, once all replicas run (and are registered, with a watch) and
    have run for `age` seconds."""

    def all_up():
        running = ctx.docker.containers(f"{label[0]}={label[1]}", all=False)
        if len(running) != replicas:
            return None
        if watch is not None and {prefix + c["Names"][0].lstrip("/") for c in running} != set(watch.keys):
            return None
        return running

    wait_until(all_up, 120, 0.2, f"{replicas} running replicas")
    time.sleep(age)
    running = wait_until(all_up, 120, 0.2, f"{replicas} running replicas")
    return random.choice(running)


# ----------------------------------------------------------------------------------------------------------
# 4 + 5. Heartbeat load on etcd, and the agent's footprint

def footprint(ctx, small=10, large=200):
    rep = ctx.report
    # The idle windows count every etcd request: `hecd render` (a watch, idle here) is stopped meanwhile.
    if ctx.render:
        ctx.render.stop_render()
    try:
        _footprint(ctx, small, large)
    finally:
        if ctx.render:
            ctx.render.start_render()


def _footprint(ctx, small, large):
    rep = ctx.report
    agent = ctx.new_agent("footprint")
    agent.write_manifest("web", 0, prefix="/bench/fp")
    agent.start()
    ctx.wait_agent_ready(agent)
    time.sleep(3)
    s = {"rss_idle_0": [], f"req_{small}": [], f"req_{large}": [], f"rss_{small}": [], f"rss_{large}": [],
         f"cpu_{small}": [], f"cpu_{large}": [], "peak_rss_scale": [], "cpu_scale": [], "scale_time": [],
         "anon_large": [], "file_large": [], "breakdown": []}
    window = ctx.idle_window
    # A fresh agent with no containers, once per run (a used one keeps the heap it grew).
    for r in range(ctx.runs):
        fresh = ctx.new_agent(f"fresh{r}")
        fresh.start()
        ctx.wait_agent_ready(fresh)
        time.sleep(3)
        u = proc_usage(fresh.pid)
        s["rss_idle_0"].append(u["rss"] / 1024)
        s.setdefault("idle_0_detail", []).append(u)
        ctx.stop_agent(fresh)

    def idle_window(n):
        before = ctx.gw.metrics()
        u0 = proc_usage(agent.pid)
        time.sleep(window)
        u1 = proc_usage(agent.pid)
        after = ctx.gw.metrics()
        total = sum_metric(after, "grpc_server_started_total") - sum_metric(before, "grpc_server_started_total")
        s[f"req_{n}"].append(total / window)
        s[f"cpu_{n}"].append(100 * (u1["cpu"] - u0["cpu"]) / window)
        s[f"rss_{n}"].append(u1["rss"] / 1024)
        s["breakdown"].append({"containers": n, **{k: v / window for k, v in grpc_breakdown(before, after).items()}})
        if n == large:
            s["anon_large"].append(u1.get("anon", 0) / 1024)
            s["file_large"].append(u1.get("file", 0) / 1024)
            s.setdefault("pss_large", []).append(u1.get("pss", 0) / 1024)
            s.setdefault("private_large", []).append(u1.get("private", 0) / 1024)
            split = smaps_split(agent.pid)
            s.setdefault("exe_large", []).append(split["exe"] / 1024)
            s.setdefault("libs_large", []).append(split["libs"] / 1024)
        log(f"idle {window:.0f} s with {n} containers: {total / window:.2f} etcd requests/s "
            f"({grpc_breakdown(before, after)}), agent CPU {s[f'cpu_{n}'][-1]:.2f} %, RSS {u1['rss'] / 1024:.1f} MB")

    watch = Watch(ctx.etcd.url, "/bench/fp/").start()
    try:
        for r in range(ctx.runs):
            log(f"footprint run {r + 1}/{ctx.runs}: scaling 0→{large}")
            since = watch.mark()
            sampler = Sampler(agent.pid)
            sampler.start()
            c0 = proc_usage(agent.pid)["cpu"]
            t0 = agent.write_manifest("web", large)
            t_reg = watch.wait_count(large, _timeout(large), since)
            time.sleep(1)
            c1 = proc_usage(agent.pid)["cpu"]
            s["peak_rss_scale"].append(sampler.stop() / 1024)
            s["cpu_scale"].append(c1 - c0)
            s["scale_time"].append(t_reg - t0)
            log(f"0→{large} registered in {t_reg - t0:.1f} s; agent CPU {c1 - c0:.2f} s, "
                f"peak RSS {s['peak_rss_scale'][-1]:.1f} MB")
            watch.close()  # the idle windows count every etcd request, so nothing else may talk to etcd
            time.sleep(5)
            agent.check_alive()
            idle_window(large)
            watch = Watch(ctx.etcd.url, "/bench/fp/").start()
            since = watch.mark()
            agent.write_manifest("web", small)
            watch.wait_count(small, _timeout(large), since)
            wait_until(lambda: len(ctx.docker.containers(f"{agent.label[0]}={agent.label[1]}")) == small,
                       _timeout(large), 0.2, f"{small} containers")
            watch.close()
            time.sleep(5)
            idle_window(small)
            watch = Watch(ctx.etcd.url, "/bench/fp/").start()
            since = watch.mark()
            agent.write_manifest("web", 0)
            watch.wait_count(0, _timeout(large), since)
            ctx.wait_no_containers(agent.label, _timeout(large))
            ctx.settle(2)
    finally:
        watch.close()
        ctx.stop_agent(agent)
    rep.raw["footprint"] = s

    case = "4. Heartbeat load"
    req_small, req_large = Stats(s[f"req_{small}"]), Stats(s[f"req_{large}"])
    rep.row(case, f"etcd requests/s from one idle agent, {small} containers", req_small, unit="/s")
    ratio = req_large.median / req_small.median if req_small.median else None
    rep.row(case, f"etcd requests/s from one idle agent, {large} containers", req_large, unit="/s", ratio=ratio,
            ratio_of=f"{small} containers", target="independent of the count",
            met=ratio is not None and abs(ratio - 1) <= 0.15)
    by_method = {}
    for b in s["breakdown"]:
        if b["containers"] == large:
            for k, v in b.items():
                if k != "containers":
                    by_method.setdefault(k, []).append(v)
    for method, values in sorted(by_method.items()):
        what = {"LeaseKeepAlive": "lease keepalives", "Put": "puts", "Range": "reads", "DeleteRange": "deletes",
                "Txn": "transactions", "LeaseGrant": "lease grants"}.get(method, method)
        rep.row(case, f"… of which {what} ({method}), {large} containers", Stats(values), unit="/s")
    case = "5. Agent footprint"
    rep.row(case, "agent resident memory, idle, no containers", Stats(s["rss_idle_0"]), unit="MB")
    rep.row(case, f"agent resident memory, idle, {small} containers", Stats(s[f"rss_{small}"]), unit="MB")
    big = Stats(s[f"rss_{large}"])
    rep.row(case, f"agent resident memory, idle, {large} containers", big, unit="MB", target="< 20 MB",
            met=big.median < 20)
    peak = Stats(s["peak_rss_scale"])
    rep.row(case, f"… of which file-backed (the hecd binary's code, libcurl, OpenSSL, libc, …)",
            Stats(s["file_large"]), unit="MB")
    if s.get("exe_large"):
        rep.row(case, "… … the hecd binary's pages (code, constants)", Stats(s["exe_large"]), unit="MB")
        rep.row(case, "… … shared libraries' pages (libcurl and what it loads: OpenSSL, GnuTLS, Kerberos, …; libc, "
                "libstdc++)", Stats(s["libs_large"]), unit="MB")
    rep.row(case, f"… of which anonymous (heap, stacks, relocated data)", Stats(s["anon_large"]), unit="MB")
    if s.get("pss_large"):
        rep.row(case, f"agent proportional memory (PSS: shared pages split among their users), {large} containers",
                Stats(s["pss_large"]), unit="MB")
        rep.row(case, f"agent private memory (USS: pages no other process maps), {large} containers",
                Stats(s["private_large"]), unit="MB")
    rep.row(case, f"agent peak resident memory while scaling 0→{large}", peak, unit="MB", target="< 20 MB",
            met=peak.median < 20)
    size, loaded = binary_size(ctx.binary)
    rep.row(case, "hecd binary size (file)", f"{size / 1e6:.1f} MB", unit="",
            note=f"{loaded / 1e6:.1f} MB of it code and data sections; the rest debug info and symbols")
    rep.row(case, f"agent CPU, idle, {small} containers", Stats(s[f"cpu_{small}"]), unit="% of a core")
    rep.row(case, f"agent CPU, idle, {large} containers", Stats(s[f"cpu_{large}"]), unit="% of a core")
    rep.row(case, f"agent CPU time for 0→{large}", Stats(s["cpu_scale"]), unit="s")
    rep.row(case, f"time 0→{large} registered (for scale)", Stats(s["scale_time"]), unit="s")


# ----------------------------------------------------------------------------------------------------------
# 3. An etcd change until HAProxy routes; 6. failed requests under load (both need `hecd render`)

def etcd_to_haproxy(ctx):
    rep = ctx.report
    case = "3. etcd change → HAProxy"
    target = "< 50 ms incl. the check"
    if not ctx.render:
        rep.row(case, "hecd render: config changed / HAProxy routes", NA_RENDER, target=target)
        rep.row(case, "confd polling every 10 s (the seed article)", "n/a (needs the routing time of render)")
        return
    rd = ctx.render
    label = {"io.hecd.bench.run": ctx.run_id}
    cid = ctx.docker.create_and_start("hecd-demo:1", label)
    name = ctx.docker.inspect(cid)["Config"]["Hostname"]  # the page says "hello from <hostname>"
    addr = f"127.0.0.1:{ctx.docker.host_port(cid)}"
    # A new key each run, as a new container has a new name.
    keys = iter(f"/app/servers/bench-probe-{i}" for i in range(10_000))
    wait_until(lambda: rd.get(int(addr.split(":")[1]))[0] == 200, 30, 0.05, "the probe container to answer")
    s = {}

    def measure(mode, runs, timeout, pause=(0.3, 0.8)):
        cfg, routed = [], []
        for r in range(runs):
            ctx.gw.delete_prefix("/app/servers/bench-probe-")
            wait_until(lambda: rd.get(rd.web_port)[0] == 503, timeout, 0.01, "HAProxy to drop the probe server")
            key = next(keys)
            # With polling, a change lands at a random moment of the poll cycle: a random pause gives that.
            time.sleep(random.uniform(*pause))
            before = rd.dest_id()
            t0 = now()
            ctx.gw.put(key, addr)
            t_cfg = None
            deadline = t0 + timeout
            while True:
                t = now()
                if t_cfg is None and rd.dest_id() != before:
                    t_cfg = t
                status, body = rd.get(rd.web_port, timeout=1)
                if status == 200 and f"hello from {name}" in body:
                    t_route = now()
                    break
                if t > deadline:
                    raise BenchError(f"{mode}: HAProxy did not route to the new server within {timeout} s "
                                     f"(last answer {status}); render log:\n{rd.log_tail()}")
                time.sleep(0.001)
            cfg.append((t_cfg or t_route) - t0)
            routed.append(t_route - t0)
            log(f"etcd → HAProxy, {mode}, run {r + 1}/{runs}: config replaced after {1000 * cfg[-1]:.0f} ms, "
                f"routing after {1000 * routed[-1]:.0f} ms")
        s[mode] = {"config": cfg, "routed": routed}

    try:
        s["haproxy_check"] = [rd.check_time() for _ in range(ctx.runs)]
        s["haproxy_reload"] = [rd.reload_time() for _ in range(ctx.runs)]
        runtime_before, reloads_before = rd.runtime_updates(), rd.reloads()
        measure("watch", ctx.runs, 30)
        s["watch_runtime_updates"] = rd.runtime_updates() - runtime_before
        s["watch_reloads"] = rd.reloads() - reloads_before
        rd.restart([], confdir=rd.reload_only_confdir())
        measure("watch_reload", ctx.runs, 30)
        rd.restart(["--interval", "10"], confdir=rd.reload_only_confdir())
        measure("poll10", ctx.runs, 40, pause=(0.3, 10.3))
    finally:
        rd.restart([])
        ctx.gw.delete_prefix("/app/servers/bench-probe-")
        ctx.docker.remove(cid)
    rep.raw["etcd_to_haproxy"] = s

    rep.row(case, "HAProxy alone: `haproxy -c -q -f` of this config (the check)", Stats(s["haproxy_check"]),
            unit="ms")
    rep.row(case, "HAProxy alone: USR2 reload until the new worker answers", Stats(s["haproxy_reload"]), unit="ms")
    w_cfg, w_route = Stats(s["watch"]["config"]), Stats(s["watch"]["routed"])
    how = f"{s['watch_runtime_updates']} runtime changes, {s['watch_reloads']} reloads"
    rep.row(case, "hecd render (default: watch, runtime API): HAProxy config replaced (checked)", w_cfg, unit="ms")
    rep.row(case, f"hecd render (default: watch, runtime API): HAProxy routes ({how})", w_route, unit="ms",
            target=target, met=w_route.median < 0.05)
    r_cfg, r_route = Stats(s["watch_reload"]["config"]), Stats(s["watch_reload"]["routed"])
    rep.row(case, "hecd render, `haproxy_runtime_api = false` (a reload each change): config replaced", r_cfg,
            unit="ms")
    rep.row(case, "hecd render, `haproxy_runtime_api = false` (a reload each change): HAProxy routes", r_route,
            unit="ms", target=target, met=r_route.median < 0.05)
    p_route = Stats(s["poll10"]["routed"])
    rep.row(case, "hecd render `--interval 10` (confd's polling, reloads): HAProxy routes", p_route, unit="s",
            ratio=p_route.median / w_route.median, ratio_of="watch")
    # Polling at a random moment of a 10 s cycle waits 5 s on average (0–10 s), then renders, checks and reloads
    # like the watch does with reloads.
    after = r_route.median
    rep.row(case, "confd polling every 10 s (seed article), computed: mean 5 s + render/check/reload",
            f"{5 + after:.2f} s (worst {10 + after:.2f} s)", unit="s",
            ratio=(5 + after) / w_route.median, ratio_of="watch")


def rolling(ctx, replicas=10):
    rep = ctx.report
    case = "6. Under load (wrk)"
    whats = ("scale-down 10→1", "rolling replacement of 10 (image change)")
    if not ctx.render:
        for what in whats:
            rep.row(case, f"failed requests during {what}", NA_RENDER, unit="", target="0")
        return
    rd = ctx.render
    tag = f"hecd-demo:bench-{ctx.run_id}"
    sh(["docker", "tag", "hecd-demo:1", tag])
    script = f"{ctx.workdir}/pace.lua"
    with open(script, "w") as f:
        f.write("-- a steady load: each connection waits 10 ms between requests\nfunction delay()\n  return 10\nend\n")
    agent = ctx.new_agent("roll")
    images = ["hecd-demo:1", tag]
    image = images[0]
    agent.write_manifest("web", replicas, image=image, drain=2, prefix="/app/servers")
    agent.start()
    watch = Watch(ctx.etcd.url, "/app/servers/").start()
    s = {"scale_down": [], "rolling": [], "scale_down_requests": [], "rolling_requests": [], "scale_down_time": [],
         "rolling_time": [], "scale_down_reloads": [], "rolling_reloads": [], "wrk": []}

    def steady(n):
        watch.wait_keys(n, _timeout(n))
        wait_until(lambda: len(ctx.docker.containers(f"{agent.label[0]}={agent.label[1]}")) == n, _timeout(n), 0.2,
                   f"{n} containers")
        rd.wait_backend_servers(n, set(watch.wait_keys(n, _timeout(n))), _timeout(n))

    def under_load(action, done, what):
        """Starts wrk, runs action after 2 s, waits for done(), then 3 s more; returns (failed, total, seconds)."""
        p = subprocess.Popen(["wrk", "-t", "2", "-c", "8", "-d", "600s", "-s", script,
                              f"http://127.0.0.1:{rd.web_port}/"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        try:
            time.sleep(2)
            reloads = rd.reloads()
            t0 = now()
            action()
            done()
            took = now() - t0
            time.sleep(3)
            reloads = rd.reloads() - reloads
        finally:
            p.send_signal(signal.SIGINT)
            out, _ = p.communicate(timeout=30)
        failed, total = parse_wrk(out)
        s["wrk"].append({"what": what, "output": out})
        s[f"{'scale_down' if what == 'scale-down' else 'rolling'}_reloads"].append(reloads)
        log(f"{what}: {failed} failed of {total} requests; change done in {took:.1f} s; {reloads} HAProxy reloads")
        return failed, total, took

    try:
        steady(replicas)
        for r in range(ctx.runs):
            log(f"under load, run {r + 1}/{ctx.runs}: scale-down {replicas}→1")
            failed, total, took = under_load(lambda: agent.write_manifest("web", 1, image=image, drain=2),
                                             lambda: steady(1), "scale-down")
            s["scale_down"].append(failed)
            s["scale_down_requests"].append(total)
            s["scale_down_time"].append(took)
            agent.write_manifest("web", replicas, image=image, drain=2)
            steady(replicas)
            time.sleep(1)
            image = images[(images.index(image) + 1) % 2]
            new_image = image

            def rolled():
                def ok():
                    cs = ctx.docker.containers(f"{agent.label[0]}={agent.label[1]}")
                    return len(cs) == replicas and all(c["Image"] == new_image for c in cs)
                wait_until(ok, 300, 0.2, f"all {replicas} containers on {new_image}")
                steady(replicas)

            log(f"under load, run {r + 1}/{ctx.runs}: rolling replacement to {image}")
            failed, total, took = under_load(lambda: agent.write_manifest("web", replicas, image=new_image, drain=2),
                                             rolled, "rolling replacement")
            s["rolling"].append(failed)
            s["rolling_requests"].append(total)
            s["rolling_time"].append(took)
            agent.check_alive()
    finally:
        watch.close()
        ctx.stop_agent(agent)
        sh(["docker", "image", "rm", tag], check=False)
        rd.wait_backend_servers(0, set(), 60)
    rep.raw["under_load"] = {k: v for k, v in s.items() if k != "wrk"}
    rep.raw["under_load"]["wrk_last_output"] = s["wrk"][-1]["output"] if s["wrk"] else None
    for key, what in (("scale_down", whats[0]), ("rolling", whats[1])):
        st = Stats(s[key])
        reqs = Stats(s[f"{key}_requests"])
        rep.row(case, f"failed requests during {what} (of ~{reqs.median:.0f} requests at ~{reqs.median / (Stats(s[key + '_time']).median + 5):.0f}/s "
                      f"from 8 connections; the change took {Stats(s[key + '_time']).median:.1f} s, "
                      f"{Stats(s[key + '_reloads']).median:.0f} HAProxy reload(s))", st, unit="", target="0",
                met=st.max == 0)


def parse_wrk(out):
    """(failed, total) from wrk's report: non-2xx/3xx responses plus socket errors, and all requests."""
    total = failed = 0
    m = re.search(r"(\d+) requests in", out)
    if m:
        total = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        failed += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        failed += int(m.group(1))
    if not total:
        raise BenchError(f"could not read wrk's report:\n{out[-800:]}")
    return failed, total


# ----------------------------------------------------------------------------------------------------------
# 7. Slow stops: apps that ignore SIGTERM, so that every stop waits out its stop timeout

STUBBORN = ["/bin/httpd", "-f", "-p", "80", "-h", "/www"]  # busybox httpd as PID 1 ignores SIGTERM
STOP_TIMEOUT = 10  # Docker's and hecd's default


def _plain_stubborn(ctx, n, label):
    body = {"Image": "hecd-demo:1", "Cmd": STUBBORN, "Labels": {label[0]: label[1]},
            "HostConfig": {"PublishAllPorts": True}}
    ids = []
    parallel(lambda _: ids.append(ctx.docker.request("POST", "/containers/create", body)["Id"]), range(n), 8)
    parallel(lambda cid: ctx.docker.request("POST", f"/containers/{cid}/start"), ids, 8)
    return ids


def slow_stops(ctx, stopping=10, scale=5):
    rep = ctx.report
    case = "7. Slow stops"
    recorder = RequestRecorder(ctx.etcd.url)
    # TTL 3: a keepalive every second, so that a second's worth of delay would show at once.
    agent = ctx.new_agent("slow", ["--ttl", "3", "--backoff-initial", "0"], etcd_url=recorder.url)
    agent.write_manifest("stubborn", 0, prefix="/bench/stubborn", command=STUBBORN, stop_timeout=None)
    agent.write_manifest("web", 0, prefix="/bench/slowweb")
    agent.write_manifest("victim", 3, prefix="/bench/victim")
    agent.start()
    ctx.wait_agent_ready(agent)
    stubborn_keys = Watch(ctx.etcd.url, "/bench/stubborn/").start()
    web_keys = Watch(ctx.etcd.url, "/bench/slowweb/").start()
    victim_keys = Watch(ctx.etcd.url, "/bench/victim/").start()
    plain = Plain(ctx.docker, ctx.run_id)
    plain_slow = ("io.hecd.bench.plainslow", ctx.run_id)
    s = {k: [] for k in ("limit_idle", "limit_stopping", "hecd_running", "hecd_registered", "stops_done",
                         "plain_stops_done", "limit_one_stopping", "victim_died", "victim_running", "victim_registered", "keepalive_late_ms",
                         "keepalive_idle_late_ms")}
    web_label = ("io.hecd.app", "web")

    def web_started(n):
        return nth_event("start", agent.label[0], agent.label[1], n)

    def stubborn_up():
        since = stubborn_keys.mark()
        agent.write_manifest("stubborn", stopping)
        stubborn_keys.wait_count(stopping, _timeout(stopping), since)

    def keepalive_lateness(t0, t1):
        times = recorder.between(t0, t1)
        gaps = [b - a for a, b in zip(times, times[1:])]
        return max(0.0, max(gaps) - 1.0) if gaps else None

    try:
        for r in range(ctx.runs):
            log(f"slow stops, run {r + 1}/{ctx.runs}")
            # The engine's limit: create+start ×scale through the API, 8 at a time, with nothing stopping, and
            # while `stopping` plain containers wait out their stop timeout.
            m = ctx.events.mark()
            t0 = now()
            plain.parallel_api(scale)
            s["limit_idle"].append(ctx.events.wait(nth_event("start", plain.label[0], plain.label[1], scale), m,
                                                   60, "plain starts") - t0)
            plain.clean()
            ids = _plain_stubborn(ctx, stopping, plain_slow)
            time.sleep(1)
            stopper = threading.Thread(target=lambda: parallel(
                lambda cid: ctx.docker.request("POST", f"/containers/{cid}/stop?t={STOP_TIMEOUT}", timeout=60),
                ids, len(ids)))
            t_stop = now()
            stopper.start()
            time.sleep(0.2)
            m = ctx.events.mark()
            t0 = now()
            plain.parallel_api(scale)
            s["limit_stopping"].append(ctx.events.wait(nth_event("start", plain.label[0], plain.label[1], scale), m,
                                                       60, "plain starts while stopping") - t0)
            plain.clean()
            m = ctx.events.mark()
            t0 = now()
            plain.parallel_api(1)
            s["limit_one_stopping"].append(ctx.events.wait(nth_event("start", plain.label[0], plain.label[1], 1), m,
                                                           60, "a plain start while stopping") - t0)
            stopper.join()
            s["plain_stops_done"].append(now() - t_stop)
            plain.clean()
            ctx.docker.remove_all(f"{plain_slow[0]}={plain_slow[1]}")
            ctx.settle()

            # hecd: `stopping` stubborn replicas to 0 and, at once, web 0 → scale.
            stubborn_up()
            time.sleep(2)
            idle_from = now()
            time.sleep(3.5)
            s["keepalive_idle_late_ms"].append(keepalive_lateness(idle_from, now()))
            m = ctx.events.mark()
            since = web_keys.mark()
            gone_since = stubborn_keys.mark()
            t_scale_down = agent.write_manifest("stubborn", 0)
            t0 = agent.write_manifest("web", scale)
            t_run = ctx.events.wait(lambda evs: (lambda ts: ts[scale - 1] if len(ts) >= scale else None)(
                [t for t, act, _c, a in evs if act == "start" and a.get(web_label[0]) == web_label[1]
                 and a.get(agent.label[0]) == agent.label[1]]), m, 60, "web's starts")
            t_reg = web_keys.wait_count(scale, 60, since)
            stubborn_keys.wait_count(0, 60, gone_since)
            ctx.wait_no_containers(("io.hecd.app", "stubborn"), 60)
            t_done = now()
            s["hecd_running"].append(t_run - t0)
            s["hecd_registered"].append(t_reg - t0)
            s["stops_done"].append(t_done - t_scale_down)
            s["keepalive_late_ms"].append(keepalive_lateness(t_scale_down, t_done))
            log(f"  web {scale} registered {t_reg - t0:.2f} s (limit {s['limit_stopping'][-1]:.2f} s while stopping),"
                f" {stopping} stops done {t_done - t_scale_down:.1f} s")
            since = web_keys.mark()
            agent.write_manifest("web", 0)
            web_keys.wait_count(0, 60, since)

            # A killed container of a third app while the stubborn ones stop.
            stubborn_up()
            victim = _stable_victim(ctx, ("io.hecd.app", "victim"), 3, victim_keys, "/bench/victim/", age=1.0)
            before_keys = set(victim_keys.keys)
            before_ids = {c["Id"] for c in ctx.docker.containers("io.hecd.app=victim")}
            agent.write_manifest("stubborn", 0)
            time.sleep(1.0)  # the stops are in flight
            m = ctx.events.mark()
            since = victim_keys.mark()
            t0 = now()
            ctx.docker.kill(victim["Id"])
            t_die = ctx.events.wait(lambda evs: next((t for t, act, cid, _a in evs
                                                      if act == "die" and cid == victim["Id"]), None), m, 30,
                                    "the die event")
            t_new = ctx.events.wait(lambda evs: next((t for t, act, cid, a in evs
                                                      if act == "start" and a.get("io.hecd.app") == "victim"
                                                      and cid not in before_ids), None), m, 60, "a replacement")
            t_reg = victim_keys.wait(lambda evs, _k: next((t for t, kind, k, _ in evs[since:]
                                                           if kind == "PUT" and k not in before_keys), None),
                                     60, "the replacement's key")
            s["victim_died"].append(t_die - t0)
            s["victim_running"].append(t_new - t0)
            s["victim_registered"].append(t_reg - t0)
            log(f"  killed victim replaced and registered after {1000 * (t_reg - t0):.0f} ms")
            ctx.wait_no_containers(("io.hecd.app", "stubborn"), 60)
            agent.check_alive()
    finally:
        for w in (stubborn_keys, web_keys, victim_keys):
            w.close()
        for app in ("stubborn", "web", "victim"):
            if agent.alive():
                agent.write_manifest(app, 0)
        try:
            ctx.wait_no_containers(agent.label, 120)
        finally:
            ctx.stop_agent(agent)
            plain.clean()
            ctx.docker.remove_all(f"{plain_slow[0]}={plain_slow[1]}")
            recorder.close()

    rep.raw["slow_stops"] = s
    limit = Stats(s["limit_stopping"])
    idle = Stats(s["limit_idle"])
    what = f"{stopping} replicas that ignore SIGTERM scaled to 0 (stop timeout {STOP_TIMEOUT} s), at once another app 0→{scale}"
    rep.row(case, f"Engine API create+start ×{scale}, 8 at a time, nothing stopping", idle)
    rep.row(case, f"Engine API create+start ×{scale}, 8 at a time, while {stopping} stops wait **(limit)**", limit,
            ratio=1.0, ratio_of="limit")
    st = Stats(s["hecd_running"])
    rep.row(case, f"hecd: {what}: all {scale} running", st, ratio=st.median / limit.median, ratio_of="limit")
    st = Stats(s["hecd_registered"])
    rep.row(case, f"hecd: … all {scale} registered in etcd", st, ratio=st.median / limit.median, ratio_of="limit",
            target="≤ 1.2× limit", met=st.median <= 1.2 * limit.median)
    rep.row(case, f"engine: {stopping} `docker stop -t {STOP_TIMEOUT}` side by side, until all stopped",
            Stats(s["plain_stops_done"]))
    rep.row(case, f"hecd: the {stopping} stops, until all removed", Stats(s["stops_done"]))
    reg = Stats(s["victim_registered"])
    rep.row(case, f"engine: `docker kill` → its `die` event, while {stopping} stop (for reference)",
            Stats(s["victim_died"]), unit="ms")
    rep.row(case, f"engine: one create+start through the API while {stopping} stops wait (for reference)",
            Stats(s["limit_one_stopping"]), unit="ms")
    rep.row(case, f"hecd: killed container of a third app → replacement running, while {stopping} stop",
            Stats(s["victim_running"]), unit="ms")
    rep.row(case, f"hecd: … → replacement registered", reg, unit="ms", target="< 0.5 s", met=reg.median < 0.5)
    late = Stats([x for x in s["keepalive_late_ms"] if x is not None])
    rep.row(case, "lease keepalive (every 1 s at --ttl 3), idle: latest arrival beyond its second",
            Stats([x for x in s["keepalive_idle_late_ms"] if x is not None]), unit="ms")
    rep.row(case, "lease keepalive during the stops and the scale-up: latest arrival beyond its second", late,
            unit="ms", target="≤ 50 ms", met=late.n > 0 and late.max <= 0.05)


def templates(ctx):
    """8. Template rendering side by side with Go's text/template (bench/templates.py: its own table too)."""
    case = "8. Template render vs Go's text/template"
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates.py")
    figures = os.path.join(ctx.workdir, "templates.json")
    subprocess.run([sys.executable, script, "--runs", str(ctx.runs), "--json", figures], check=True,
                   stdout=subprocess.DEVNULL)
    with open(figures) as f:
        rows = json.load(f)
    for row in rows:
        if row["keys"] < 1000:
            continue
        ratio = row["hecd_ms"] / row["go_ms"]
        ctx.report.row(case, f"{row['case']}: render time (Go {row['go_ms']:.1f} ms)", f"{row['hecd_ms']:.1f} ms",
                       unit="", ratio=ratio, ratio_of="Go", target="≤ 1× Go", met=ratio <= 1.0)
        ctx.report.row(case, f"{row['case']}: peak RSS (Go {row['go_mb']:.1f} MB)", f"{row['hecd_mb']:.1f} MB",
                       unit="", ratio=row["hecd_mb"] / row["go_mb"], ratio_of="Go", target="≤ 1× Go",
                       met=row["hecd_mb"] <= row["go_mb"])
