"""The hecd agent (and `hecd render`, when built) as processes the benchmark starts and stops."""

import json
import os
import shutil
import signal
import subprocess
import tempfile

from .util import BenchError, log, now, proc_stat, wait_until


class Agent:
    """`hecd agent` on a temporary manifest directory, registering under one agent id."""

    def __init__(self, binary, etcd_url, agent_id, workdir, extra_args=()):
        self.binary = binary
        self.etcd_url = etcd_url
        self.agent_id = agent_id
        self.dir = tempfile.mkdtemp(prefix="manifests.", dir=workdir)
        self.log_path = os.path.join(workdir, f"{agent_id}.log")
        self.extra_args = list(extra_args)
        self.proc = None
        self.label = ("io.hecd.agent", agent_id)
        self.manifests = {}

    def start(self):
        cmd = [self.binary, "agent", "--manifests", self.dir, "--etcd", self.etcd_url, "--host-ip", "127.0.0.1",
               "--agent-id", self.agent_id, *self.extra_args]
        self.logfile = open(self.log_path, "a")
        self.proc = subprocess.Popen(cmd, stdout=self.logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        log(f"hecd agent {self.agent_id} (pid {self.proc.pid}, log {self.log_path})")

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self):
        if not self.alive():
            raise BenchError(f"hecd agent exited with {self.proc.returncode}; log tail:\n{self.log_tail()}")

    def log_tail(self, n=20):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def write_manifest(self, name, replicas, **fields):
        """Writes (atomically) the app's manifest; fields not given (image, prefix, drain) stay as the last write of
        this app set them. Returns the monotonic time of the rename."""
        spec = {"image": "hecd-demo:1", "prefix": "/bench/" + name, "drain": 0, "stop_timeout": 2, "command": None,
                **self.manifests.get(name, {}), **fields}
        self.manifests[name] = spec
        text = (f"name: {name}\nimage: {spec['image']}\nreplicas: {replicas}\n"
                f"register:\n  prefix: {spec['prefix']}\n  drain: {spec['drain']}\n")
        if spec["stop_timeout"] is not None:  # None: the default (10 s)
            text += f"stop_timeout: {spec['stop_timeout']}\n"
        if spec["command"]:
            text += "command: [" + ", ".join(json.dumps(w) for w in spec["command"]) + "]\n"
        tmp = os.path.join(self.dir, f".{name}.yaml.tmp")
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        t = now()
        os.rename(tmp, os.path.join(self.dir, f"{name}.yaml"))
        return t

    def remove_manifest(self, name):
        try:
            os.unlink(os.path.join(self.dir, f"{name}.yaml"))
        except FileNotFoundError:
            pass

    def usage(self):
        """(cpu seconds, rss kB, hwm kB) of the agent process."""
        return proc_stat(self.pid)

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                log("hecd agent did not stop within 15 s of SIGTERM: killing it")
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def find_binary(path_hint, repo):
    """The hecd binary: the one given, else the release build in .build-bench; None if missing."""
    candidates = [path_hint] if path_hint else [os.path.join(repo, ".build-bench/release/hecd")]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return os.path.abspath(c)
    return None


def has_render(binary):
    """Whether the binary has a `render` subcommand (listed in `hecd --help`); and its help text."""
    top = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    if not any(line.strip().startswith("render ") or line.strip() == "render" for line in top.splitlines()):
        return False, ""
    p = subprocess.run([binary, "render", "--help"], capture_output=True, text=True)
    return p.returncode == 0, p.stdout + p.stderr


def wait_alive(agent, seconds):
    wait_until(lambda: agent.alive(), seconds, 0.05, "the agent")
