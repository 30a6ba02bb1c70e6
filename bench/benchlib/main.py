"""bench/run: sets the stack up, runs the cases, writes bench/results/latest.{md,json}, cleans up."""

import argparse
import datetime
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

from . import cases as C
from . import util
from .dockerapi import Docker, EventLog
from .etcd import EtcdServer
from .hecd import find_binary, has_render
from .peers import Compose, Swarm
from .report import Report
from .util import BenchError, log, now

CASES = ["scale", "kill", "render", "footprint", "rolling", "slow", "templates"]
CASE_HELP = {
    "scale": "1. scale-up 0→10 and 0→50 against docker run, Swarm and docker-compose",
    "kill": "2. a killed container: deregistered, replaced; against Swarm's restart",
    "render": "3. an etcd change until HAProxy routes (needs hecd render)",
    "footprint": "4+5. etcd requests/s of an idle agent with 10 and 200 containers; agent memory and CPU",
    "rolling": "6. failed requests during scale-down and a rolling replacement (needs hecd render)",
    "slow": "7. apps that ignore SIGTERM: scale-up and a killed container while 10 stops wait out their timeout; keepalive delays",
    "templates": "8. template render time and memory against Go's text/template at 10,000 and 50,000 keys (needs go)",
}


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench/run",
        description="Benchmarks hecd side by side with docker run (the engine's limit), Docker Swarm mode, "
                    "docker-compose and confd-style polling, on this machine, in one run.",
        epilog="Cases: " + "; ".join(f"{k}: {v}" for k, v in CASE_HELP.items()))
    p.add_argument("--runs", type=int, default=5, help="runs per figure (default 5); each figure is their median")
    p.add_argument("--quick", action="store_true", help="2 runs per figure")
    p.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}")
    p.add_argument("--hecd", help="the hecd binary (default: .build-bench/release/hecd, built when missing)")
    p.add_argument("--rebuild", action="store_true", help="run `swift build -c release` first even if built")
    p.add_argument("--idle-window", type=float, default=30, help="seconds of idle per heartbeat sample (default 30)")
    p.add_argument("--no-swarm", action="store_true", help="leave Docker Swarm mode out")
    p.add_argument("--haproxy-confdir", help="confd folder to render for HAProxy instead of Deploy/confd/haproxy "
                                             "(conf.d/haproxy.toml + templates/, same environment variables)")
    p.add_argument("--out", help="results directory (default: bench/results)")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    if a.quick:
        a.runs = 2
    a.cases = [c.strip() for c in a.cases.split(",") if c.strip()]
    bad = [c for c in a.cases if c not in CASES]
    if bad:
        p.error(f"unknown case(s) {bad}; choose from {CASES}")
    if a.runs < 1:
        p.error("--runs must be at least 1")
    return a


def sh_lib(repo, script):
    """Runs a function of Deploy/lib.sh (dockerd start, package installs), its log on our stderr."""
    subprocess.run(["bash", "-c", f". '{repo}/Deploy/lib.sh' && {script}"], check=True, stdout=sys.stderr)


def version_of(cmd, pick=lambda s: s.splitlines()[0] if s else ""):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return pick((p.stdout or p.stderr).strip())
    except (OSError, subprocess.TimeoutExpired):
        return None


def machine_info(docker, repo, binary):
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    v = docker.version()
    info = docker.info()
    commit = version_of(["git", "-C", repo, "rev-parse", "--short", "HEAD"])
    dirty = version_of(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no", "--", "Sources",
                        "Package.swift"])
    return {
        "cores": os.cpu_count(), "cpu": model, "memory": mem, "kernel": platform.release(),
        "os": version_of(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "docker": f"{v.get('Version')} (API {v.get('ApiVersion')}), {info.get('Driver')}, "
                  f"cgroup v{info.get('CgroupVersion', '?')}",
        "etcd": version_of(["etcd", "--version"], lambda s: s.splitlines()[0].replace("etcd Version: ", "")),
        "haproxy": version_of(["haproxy", "-v"], lambda s: s.split()[2] if s else None),
        "docker_compose": Compose.available(),
        "wrk": version_of(["wrk", "-v"], lambda s: s.split()[1] if s else None),
        "hecd": f"{commit}{' + uncommitted changes' if dirty else ''} ({os.path.relpath(binary, repo)})",
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
    }


def main(argv):
    args = parse_args(argv)
    util.VERBOSE = args.verbose
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out_dir = args.out or os.path.join(repo, "bench", "results")
    if os.geteuid() != 0:
        raise SystemExit("bench/run needs root (it runs Docker, Swarm mode and HAProxy): run it as root")

    # SIGTERM cleans up like Ctrl-C does.
    def on_term(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)

    packages = ["docker.io", "etcd-server", "etcd-client", "busybox-static", "curl", "docker-compose"]
    if {"render", "rolling", "scale"} & set(args.cases):
        packages += ["haproxy", "wrk"]
    sh_lib(repo, "hecd_ensure_packages " + " ".join(packages))
    sh_lib(repo, "hecd_start_dockerd")
    docker = Docker()
    if subprocess.run(["docker", "image", "inspect", "hecd-demo:1"], capture_output=True).returncode != 0:
        subprocess.run([os.path.join(repo, "Deploy/build-demo-image.sh")], check=True, stdout=sys.stderr)

    binary = None if args.rebuild else find_binary(args.hecd, repo)
    if binary is None:
        if args.hecd:
            raise SystemExit(f"--hecd {args.hecd}: not an executable file")
        log("building hecd: Deploy/lib.sh's release build, --scratch-path .build-bench (several minutes on 2 cores)")
        sh_lib(repo, f"cd '{repo}' && hecd_release_build --scratch-path .build-bench")
        binary = find_binary(None, repo)
    render_ok, _ = has_render(binary)
    log(f"hecd binary {binary}; `hecd render` {'available' if render_ok else 'not built'}")

    baseline = {c["Id"] for c in docker.containers()}
    workdir = tempfile.mkdtemp(prefix="hecd-bench.")
    run_id = str(os.getpid())
    report = Report()
    etcd = EtcdServer()
    events = EventLog(docker)
    swarm = None
    ctx = None
    meta = machine_info(docker, repo, binary)
    meta.update({"runs": args.runs, "quick": args.quick, "cases": args.cases, "idle_window_s": args.idle_window,
                 "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                 "command": "bench/run " + " ".join(argv)})
    log(f"machine: {meta['cores']} cores, {meta['memory']}, kernel {meta['kernel']}, load {meta['loadavg_start']}")
    t_start = now()
    render = None
    try:
        events.start()
        etcd.start()
        if not args.no_swarm and {"scale", "kill"} & set(args.cases):
            try:
                swarm = Swarm(docker, run_id)
                swarm.setup()
            except BenchError as e:
                log(f"swarm mode unavailable: {e}")
                report.notes.append(f"Swarm mode unavailable: {e}")
                swarm = None
        if render_ok and {"render", "rolling", "scale"} & set(args.cases):
            from .render import Render
            render = Render(binary, etcd, workdir, repo, args.haproxy_confdir)
            render.start()
            meta["render_template"] = render.describe()
        ctx = C.Context(docker, events, etcd, binary, workdir, run_id, args.runs, report, render=render,
                        swarm=swarm, idle_window=args.idle_window)
        steps = {"scale": lambda: C.scale_up(ctx), "kill": lambda: C.killed(ctx),
                 "render": lambda: C.etcd_to_haproxy(ctx), "footprint": lambda: C.footprint(ctx),
                 "rolling": lambda: C.rolling(ctx), "slow": lambda: C.slow_stops(ctx),
                 "templates": lambda: C.templates(ctx)}
        for name in args.cases:
            log(f"=== case {name}: {CASE_HELP[name]}")
            t = now()
            try:
                steps[name]()
            except KeyboardInterrupt:
                raise
            except Exception as e:  # noqa: BLE001 - one broken case must not hide the others
                log(f"case {name} failed: {e}")
                if args.verbose:
                    traceback.print_exc()
                report.fail(CASE_HELP[name].split(" ", 1)[0] + " " + name, e)
            log(f"=== case {name} took {now() - t:.0f} s")
    except KeyboardInterrupt:
        log("interrupted: cleaning up, writing no results")
        report = None
    finally:
        cleanup(docker, ctx, swarm, render, events, etcd, workdir, baseline, run_id)
    if report is None:
        return 130
    meta["duration_s"] = round(now() - t_start)
    meta["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    write_results(report, meta, out_dir)
    return 0 if not any(r["label"] == "**failed**" for r in report.rows) else 1


def cleanup(docker, ctx, swarm, render, events, etcd, workdir, baseline, run_id):
    log("cleaning up")
    for step in (
        lambda: [a.stop() for a in list(ctx.agents)] if ctx else None,
        lambda: render.stop() if render else None,
        lambda: swarm.teardown() if swarm else None,
        lambda: [docker.remove_all(label) for label in (
            f"io.hecd.bench.plain={run_id}", f"com.docker.compose.project=hecdbench{run_id}",
            f"io.hecd.bench.run={run_id}")],
        lambda: [docker.remove_all(f"io.hecd.agent={a}") for a in
                 {c["Labels"].get("io.hecd.agent") for c in docker.containers("io.hecd.agent")}
                 if a and a.startswith(f"bench-{run_id}-")],
        lambda: events.close(),
        lambda: etcd.stop(),
        lambda: shutil.rmtree(workdir, ignore_errors=True),
    ):
        try:
            step()
        except Exception as e:  # noqa: BLE001 - clean up as much as possible
            log(f"cleanup step failed: {e}")
    ours = [f"io.hecd.bench.plain={run_id}", f"com.docker.compose.project=hecdbench{run_id}",
            f"io.hecd.bench.run={run_id}"]
    for _ in range(5):  # containers whose creation was under way when we stopped may appear a moment later
        agents = {c["Labels"].get("io.hecd.agent") for c in docker.containers("io.hecd.agent")}
        labels = ours + [f"io.hecd.agent={a}" for a in agents if a and a.startswith(f"bench-{run_id}-")]
        if sum(docker.remove_all(label) for label in labels) == 0:
            break
        time.sleep(1)
    left = {c["Id"] for c in docker.containers()} - baseline
    if left:
        log(f"WARNING: {len(left)} container(s) exist now that did not before (another user's, or ours): "
            + ", ".join(c["Names"][0] for c in docker.containers() if c["Id"] in left))


def write_results(report, meta, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    table = report.markdown()
    md = [f"# hecd benchmarks: {meta['date']}", "",
          f"`{meta['command'].strip()}`: each figure is the median of {meta['runs']} runs (spread: min–max, IQR "
          "when there are 4 or more), all measured in this one invocation; ratios are of medians from the same "
          "invocation. The limit is the fastest way to start the same number of plain containers on this engine.",
          "", table, "Machine: " + machine_line(meta), ""]
    if report.notes:
        md += ["Notes:", ""] + [f"- {n}" for n in report.notes] + [""]
    with open(os.path.join(out_dir, "latest.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(out_dir, "latest.json"), "w") as f:
        f.write(report.to_json(meta))
    print(table)
    print("Machine: " + machine_line(meta))
    log(f"wrote {out_dir}/latest.md and latest.json ({meta['duration_s']} s)")


def machine_line(m):
    return (f"{m['cores']} cores ({m['cpu']}), {m['memory']} RAM, kernel {m['kernel']}, {m['os']}; "
            f"Docker {m['docker']}; etcd {m['etcd']}; HAProxy {m['haproxy']}; docker-compose {m['docker_compose']}; "
            f"wrk {m['wrk']}; hecd {m['hecd']}; load average at start {' '.join(m['loadavg_start'])}, "
            f"at end {' '.join(m.get('loadavg_end', ['?']))}; took {m.get('duration_s', '?')} s.")
