"""The peers hecd is measured against: plain `docker run`, Docker Swarm mode and docker-compose."""

import os
import subprocess

from .dockerapi import parallel
from .util import BenchError, log, run, wait_until

IMAGE = "hecd-demo:1"


class Plain:
    """`docker run -d -P` as fast as the engine allows: the physical limit."""

    def __init__(self, docker, run_id):
        self.docker = docker
        self.label = ("io.hecd.bench.plain", run_id)

    def _cli_args(self):
        return ["docker", "run", "-d", "-P", "--label", f"{self.label[0]}={self.label[1]}", IMAGE]

    def sequential(self, n):
        for _ in range(n):
            run(self._cli_args())

    def parallel_cli(self, n, jobs=8):
        """`seq N | xargs -P 8 docker run -d -P ...`."""
        p = subprocess.run(["xargs", "-P", str(jobs), "-I{}", *self._cli_args()], input="\n".join(map(str, range(n))),
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise BenchError(f"xargs docker run: {p.stderr[-500:]}")

    def parallel_api(self, n, jobs=8):
        """The same through the Engine API (create + start), 8 at a time: no CLI process per container."""
        parallel(lambda _: self.docker.create_and_start(IMAGE, {self.label[0]: self.label[1]}), range(n), jobs)

    def clean(self):
        self.docker.remove_all(f"{self.label[0]}={self.label[1]}")


class Swarm:
    """A replicated Swarm service with host-mode published ports (the ingress routing mesh does not work here)."""

    def __init__(self, docker, run_id):
        self.docker = docker
        self.run_id = run_id
        self.initialized_here = False
        self.gwbridge_existed = False
        self.services = []

    @staticmethod
    def state(docker):
        return docker.info().get("Swarm", {}).get("LocalNodeState", "")

    def setup(self):
        st = self.state(self.docker)
        if st == "active":
            log("swarm: this engine is already a swarm node; using it (and leaving it as it is)")
            return
        if st != "inactive":
            raise BenchError(f"swarm: node state is '{st}'; cannot use Swarm mode")
        self.gwbridge_existed = any(n["Name"] == "docker_gwbridge" for n in self.docker.request("GET", "/networks"))
        run(["docker", "swarm", "init", "--advertise-addr", "127.0.0.1"])
        self.initialized_here = True
        log("swarm: initialized a single-node swarm (left again at the end)")

    def service_label(self, name):
        return ("com.docker.swarm.service.name", name)

    def create(self, suffix, replicas=0, restart_delay=None):
        name = f"hecd-bench-{self.run_id}-{suffix}"
        cmd = ["docker", "service", "create", "--detach", "--name", name, "--mode", "replicated",
               "--replicas", str(replicas), "--publish", "mode=host,target=80", "--stop-grace-period", "2s",
               "--label", "io.hecd.bench=1"]
        if restart_delay is not None:
            cmd += ["--restart-delay", restart_delay]
        run(cmd + [IMAGE])
        self.services.append(name)
        return name

    def scale(self, name, n):
        run(["docker", "service", "scale", "--detach", f"{name}={n}"])

    def running(self, name):
        return self.docker.containers(f"com.docker.swarm.service.name={name}", all=False)

    def wait_empty(self, name, timeout=300):
        wait_until(lambda: not self.docker.containers(f"com.docker.swarm.service.name={name}"), timeout, 0.2,
                   f"swarm service {name} to have no containers")

    def remove(self, name):
        run(["docker", "service", "rm", name], check=False)
        try:
            self.wait_empty(name, 120)
        finally:
            if name in self.services:
                self.services.remove(name)

    def teardown(self):
        for name in list(self.services):
            self.remove(name)
        if self.initialized_here:
            run(["docker", "swarm", "leave", "--force"], check=False)
            self.initialized_here = False
            if not self.gwbridge_existed:
                run(["docker", "network", "rm", "docker_gwbridge"], check=False)
            log("swarm: left the swarm")


class Compose:
    """docker-compose (Debian's 1.29, the Python tool) with one service on the default bridge."""

    def __init__(self, docker, run_id, workdir):
        self.docker = docker
        self.project = f"hecdbench{run_id}"
        self.dir = os.path.join(workdir, "compose")
        os.makedirs(self.dir, exist_ok=True)
        with open(os.path.join(self.dir, "docker-compose.yml"), "w") as f:
            f.write(f'version: "2.4"\nservices:\n  web:\n    image: {IMAGE}\n    ports: ["80"]\n'
                    '    network_mode: bridge\n    stop_grace_period: 2s\n')
        self.label = ("com.docker.compose.project", self.project)

    @staticmethod
    def available():
        try:
            p = subprocess.run(["docker-compose", "version", "--short"], capture_output=True, text=True, timeout=30)
            return p.stdout.strip() if p.returncode == 0 else None
        except (OSError, subprocess.TimeoutExpired):
            return None

    def up(self, n):
        run(["docker-compose", "-p", self.project, "up", "-d", "--scale", f"web={n}"],
            env={**os.environ, "COMPOSE_FILE": os.path.join(self.dir, "docker-compose.yml")})

    def clean(self):
        self.docker.remove_all(f"{self.label[0]}={self.label[1]}")
