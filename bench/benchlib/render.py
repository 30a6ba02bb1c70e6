"""`hecd render` driving a real HAProxy (master-worker, reloaded with USR2), and ways to see what HAProxy does."""

import http.client
import os
import signal
import subprocess
import time

from .util import BenchError, Timeout, free_port, log, now, wait_until

# The resource the benchmark renders: the shipped one (Deploy/confd/haproxy: the seed article's layout, one backend
# `servers` fed by /app/servers/*), pointed at loopback ports and files of our own through its environment
# variables and --dest-root. When a checkout lacks it, this copy of the same shape stands in.
FALLBACK_TOML = """[template]
src = "haproxy.cfg.tmpl"
dest = "/etc/hecd/haproxy.cfg"
keys = ["/app/servers", "/hecd/haproxy"]
mode = "0644"
check_cmd = "haproxy -c -q -f {{.src}}"
reload_cmd = "kill -USR2 $(cat ${HECD_HAPROXY_PIDFILE:-/run/hecd-haproxy.pid})"
"""

FALLBACK_TEMPLATE = """global
    master-worker
    maxconn 5000
    hard-stop-after 30s

defaults
    mode http
    option dontlognull
    option forwardfor
    option redispatch
    retries 3
    maxconn 2000
    timeout connect 5s
    timeout client 50s
    timeout server 50s
    timeout http-request 10s
    timeout queue 30s
    timeout check 2s

frontend http
    bind {{getenv "HECD_HAPROXY_BIND" "*:80"}}
    default_backend servers

backend servers
    balance roundrobin
    option httpchk
    http-check send meth GET uri {{getenv "HECD_HAPROXY_CHECK_URI" "/"}}
{{- range gets "/app/servers/*"}}
    server {{base .Key}} {{.Value}} check inter 2s fall 2 rise 1
{{- end}}

listen stats
    bind 127.0.0.1:{{getenv "HECD_HAPROXY_STATS_PORT" "8404"}}
    stats enable
    stats uri /
"""

PREFIX = "/app/servers"
BACKEND = "servers"


class Render:
    """HAProxy plus `hecd render` (watching etcd by default; `restart(interval=10)` polls like confd)."""

    def __init__(self, binary, etcd, workdir, repo, confdir=None):
        self.binary, self.etcd = binary, etcd
        self.dir = os.path.join(workdir, "render")
        self.confdir = confdir or os.path.join(repo, "Deploy", "confd", "haproxy")
        self.custom = confdir is not None
        self.shipped = os.path.exists(os.path.join(self.confdir, "conf.d", "haproxy.toml"))
        if not self.shipped and self.custom:
            raise BenchError(f"{self.confdir}: no conf.d/haproxy.toml there")
        if not self.shipped:
            self.confdir = os.path.join(self.dir, "confd")
        self.root = os.path.join(self.dir, "root")
        self.dest = os.path.join(self.root, "etc", "hecd", "haproxy.cfg")
        self.pidfile = os.path.join(self.dir, "haproxy.pid")
        self.web_port, self.stats_port = free_port(), free_port()
        self.env = {**os.environ, "HECD_HAPROXY_BIND": f"127.0.0.1:{self.web_port}",
                    "HECD_HAPROXY_STATS_PORT": str(self.stats_port), "HECD_HAPROXY_PIDFILE": self.pidfile,
                    "HECD_HAPROXY_SOCKET": os.path.join(self.dir, "haproxy.sock"),
                    "HECD_HAPROXY_CHECK_URI": "/healthz", "HECD_DEST_ROOT": self.root}
        self.haproxy = None
        self.proc = None
        self.args = []
        self.log_path = os.path.join(workdir, "render.log")

    def describe(self):
        if self.custom:
            return self.confdir
        return "Deploy/confd/haproxy (shipped)" if self.shipped else "bench's copy of Deploy/confd/haproxy's shape"

    def start(self):
        os.makedirs(os.path.dirname(self.dest), exist_ok=True)
        if not self.shipped:
            os.makedirs(os.path.join(self.confdir, "conf.d"), exist_ok=True)
            os.makedirs(os.path.join(self.confdir, "templates"), exist_ok=True)
            with open(os.path.join(self.confdir, "conf.d", "haproxy.toml"), "w") as f:
                f.write(FALLBACK_TOML)
            with open(os.path.join(self.confdir, "templates", "haproxy.cfg.tmpl"), "w") as f:
                f.write(FALLBACK_TEMPLATE)
        # The first file, before HAProxy runs: rendered once, without check or reload.
        p = subprocess.run([self.binary, "render", "--confdir", self.confdir, "--etcd", self.etcd.url, "--onetime",
                            "--sync-only"], capture_output=True, text=True, env=self.env, timeout=60)
        if p.returncode != 0 or not os.path.exists(self.dest):
            raise BenchError(f"hecd render --onetime failed ({p.returncode}): {p.stderr[-800:]}")
        self.haproxy_log = open(os.path.join(self.dir, "haproxy.log"), "w")
        self.haproxy = subprocess.Popen(
            ["haproxy", "-W", "-S", os.path.join(self.dir, "master.sock"), "-p", self.pidfile, "-f", self.dest],
            stdout=self.haproxy_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        wait_until(lambda: self._haproxy_alive() and self.stats() is not None, 20, 0.05, "HAProxy to answer")
        log(f"haproxy (master pid {self.haproxy.pid}) on 127.0.0.1:{self.web_port}, stats 127.0.0.1:{self.stats_port}"
            f"; template {self.describe()}")
        self.start_render()

    def _haproxy_alive(self):
        if self.haproxy.poll() is not None:
            raise BenchError(f"haproxy exited with {self.haproxy.returncode}; see {self.dir}/haproxy.log")
        return True

    def start_render(self, args=(), confdir=None):
        self.args = list(args)
        self.logfile = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.binary, "render", "--confdir", confdir or self.confdir,
                                      "--etcd", self.etcd.url, *self.args], stdout=self.logfile, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env, start_new_session=True)
        time.sleep(1.0)  # its first read of etcd and its watch
        if self.proc.poll() is not None:
            raise BenchError(f"hecd render {' '.join(self.args)} exited with {self.proc.returncode}; "
                             f"log: {self.log_tail()}")
        log(f"hecd render {' '.join(self.args) or '(watching etcd)'} (pid {self.proc.pid}, log {self.log_path})")

    def stop_render(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, args=(), confdir=None):
        self.stop_render()
        self.start_render(args, confdir)

    def reloads(self):
        """How many times render has reloaded HAProxy so far (runtime-API changes are not reloads)."""
        return self._log_count("reloaded in ")

    def runtime_updates(self):
        """How many times render has changed HAProxy's servers through the runtime API so far."""
        return self._log_count("HAProxy changed at run time")

    def _log_count(self, needle):
        try:
            with open(self.log_path) as f:
                return sum(1 for line in f if needle in line)
        except OSError:
            return 0

    def reload_only_confdir(self):
        """A copy of the confd folder with `haproxy_runtime_api = false`: every change is a reload."""
        import shutil
        copy = os.path.join(self.dir, "confd-reload-only")
        if not os.path.exists(copy):
            shutil.copytree(self.confdir, copy)
            toml = os.path.join(copy, "conf.d", "haproxy.toml")
            with open(toml) as f:
                text = f.read()
            if "haproxy_runtime_api = true" not in text:
                raise BenchError(f"{toml}: no `haproxy_runtime_api = true` to turn off")
            with open(toml, "w") as f:
                f.write(text.replace("haproxy_runtime_api = true", "haproxy_runtime_api = false"))
        return copy

    def log_tail(self, n=15):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        self.stop_render()
        if self.haproxy and self.haproxy.poll() is None:
            self.haproxy.send_signal(signal.SIGTERM)
            try:
                self.haproxy.wait(10)
            except subprocess.TimeoutExpired:
                self.haproxy.kill()
                self.haproxy.wait()
        # Workers of earlier reloads end with the master (they are its children); make sure.
        try:
            pid = int(open(self.pidfile).read().strip())
            os.kill(pid, 0)
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass

    # --- what HAProxy does -----------------------------------------------------------------------------------

    def stats(self):
        """{backend: [(server, addr, status)]} from the stats page (CSV) of the current worker."""
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.stats_port, timeout=2)
            c.request("GET", "/;csv;norefresh", headers={"Connection": "close"})
            text = c.getresponse().read().decode()
            c.close()
        except (OSError, http.client.HTTPException):
            return None
        lines = text.splitlines()
        if not lines or not lines[0].startswith("# "):
            return None
        header = lines[0][2:].split(",")
        ix = {name: i for i, name in enumerate(header)}
        out = {}
        for line in lines[1:]:
            f = line.split(",")
            if len(f) < len(header) or f[ix["svname"]] in ("FRONTEND", "BACKEND"):
                continue
            out.setdefault(f[ix["pxname"]], []).append((f[ix["svname"]], f[ix["addr"]], f[ix["status"]]))
        return out

    def wait_backend_servers(self, n, keys, timeout, backend=BACKEND, interval=0.005):
        """Waits until the backend holds exactly the servers named after `keys` (n of them: registry keys, whose
        last part names the server), all UP; returns the time. (The stats CSV leaves `addr` empty here.)"""
        names = {k.rsplit("/", 1)[1] for k in keys}

        def ok():
            st = self.stats()
            if st is None:
                return None
            servers = st.get(backend, [])
            if len(servers) != n or {name for name, _, _ in servers} != names:
                return None
            if any(not status.startswith("UP") and status != "no check" for _, _, status in servers):
                return None
            return now()

        try:
            return wait_until(ok, timeout, interval, f"HAProxy backend {backend} to route to {n} servers")
        except Timeout as e:
            raise BenchError(f"{e}: HAProxy has {(self.stats() or {}).get(backend)}, the registry "
                             f"{sorted(names)}; render log:\n{self.log_tail(6)}") from e

    def get(self, port, timeout=2):
        """(status, body) of GET / through HAProxy on a new connection; (None, error) when it fails."""
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            c.request("GET", "/", headers={"Connection": "close"})
            r = c.getresponse()
            body = r.read().decode(errors="replace")
            c.close()
            return r.status, body
        except (OSError, http.client.HTTPException) as e:
            return None, str(e)

    def worker_pid(self):
        """The pid of the worker answering the stats page now (on a new connection)."""
        import re
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.stats_port, timeout=2)
            c.request("GET", "/", headers={"Connection": "close"})
            html = c.getresponse().read().decode(errors="replace")
            c.close()
        except (OSError, http.client.HTTPException):
            return None
        m = re.search(r"pid = </b>\s*(\d+)|pid = (\d+)", html)
        return int(m.group(1) or m.group(2)) if m else None

    def check_time(self):
        """Seconds `haproxy -c -q -f` takes on the current config."""
        t0 = now()
        subprocess.run(["haproxy", "-c", "-q", "-f", self.dest], check=True, capture_output=True)
        return now() - t0

    def reload_time(self):
        """Seconds from USR2 to the master until a new worker answers."""
        old = wait_until(self.worker_pid, 10, 0.01, "HAProxy's stats page")
        t0 = now()
        os.kill(self.haproxy.pid, signal.SIGUSR2)
        wait_until(lambda: (p := self.worker_pid()) is not None and p != old, 10, 0.001, "a new HAProxy worker")
        t = now() - t0
        time.sleep(0.3)
        return t

    def dest_id(self):
        try:
            st = os.stat(self.dest)
            return (st.st_ino, st.st_mtime_ns)
        except FileNotFoundError:
            return None
