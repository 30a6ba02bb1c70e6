"""A private etcd on loopback, its JSON gateway, a timestamped watch and its metrics."""

import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading

from .util import BenchError, Timeout, free_port, log, now, wait_until


def b64(s):
    return base64.b64encode(s.encode()).decode()


def unb64(s):
    return base64.b64decode(s).decode(errors="replace") if s else ""


def prefix_end(prefix):
    b = bytearray(prefix.encode())
    while b and b[-1] == 0xFF:
        b.pop()
    if not b:
        return "AA=="
    b[-1] += 1
    return base64.b64encode(bytes(b)).decode()


class EtcdServer:
    """etcd with a temporary data dir on free loopback ports; stopped and deleted by stop()."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hecd-bench-etcd.")
        self.client_port = free_port()
        self.peer_port = free_port()
        while self.peer_port == self.client_port:
            self.peer_port = free_port()
        self.url = f"http://127.0.0.1:{self.client_port}"
        self.proc = None

    def start(self):
        peer = f"http://127.0.0.1:{self.peer_port}"
        cmd = ["etcd", "--name", "bench", "--data-dir", os.path.join(self.dir, "data"),
               "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
               "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
               "--initial-cluster", f"bench={peer}", "--log-level", "warn"]
        self.log_path = os.path.join(self.dir, "etcd.log")
        self.proc = subprocess.Popen(cmd, stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        gw = Gateway(self.url)
        try:
            wait_until(lambda: self.proc.poll() is None and gw.healthy(), 20, 0.1, "etcd to answer")
        except Timeout:
            raise BenchError(f"etcd did not start; log: {open(self.log_path).read()[-1500:]}")
        log(f"etcd {self.url} (pid {self.proc.pid}, data in {self.dir})")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Gateway:
    """The v3 JSON gateway, one keep-alive connection per thread."""

    def __init__(self, url):
        self.host, port = url.split("//")[1].split(":")
        self.port = int(port)
        self._local = threading.local()

    def _conn(self):
        c = getattr(self._local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(self.host, self.port, timeout=10)
            self._local.conn = c
        return c

    def post(self, path, body):
        for attempt in range(2):
            c = self._conn()
            try:
                c.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
                r = c.getresponse()
                data = r.read()
                if r.status != 200:
                    raise BenchError(f"etcd {path}: {r.status} {data[:200]!r}")
                return json.loads(data)
            except (OSError, http.client.HTTPException):
                c.close()
                self._local.conn = None
                if attempt:
                    raise
        return None

    def healthy(self):
        try:
            self.post("/v3/kv/range", {"key": b64("/"), "count_only": True})
            return True
        except (OSError, BenchError, http.client.HTTPException, ValueError):
            return False

    def put(self, key, value):
        return self.post("/v3/kv/put", {"key": b64(key), "value": b64(value)})

    def delete(self, key):
        return self.post("/v3/kv/deleterange", {"key": b64(key)})

    def delete_prefix(self, prefix):
        return self.post("/v3/kv/deleterange", {"key": b64(prefix), "range_end": prefix_end(prefix)})

    def range(self, prefix):
        r = self.post("/v3/kv/range", {"key": b64(prefix), "range_end": prefix_end(prefix)})
        return {unb64(kv["key"]): unb64(kv.get("value")) for kv in r.get("kvs", [])}

    def count(self, prefix):
        r = self.post("/v3/kv/range", {"key": b64(prefix), "range_end": prefix_end(prefix), "count_only": True})
        return int(r.get("count", 0))

    def metrics(self):
        """Prometheus text from /metrics as {(name, labels-string): value}."""
        c = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            c.request("GET", "/metrics")
            text = c.getresponse().read().decode()
        finally:
            c.close()
        out = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            name_labels, _, value = line.rpartition(" ")
            if "{" in name_labels:
                name, labels = name_labels.split("{", 1)
                labels = "{" + labels
            else:
                name, labels = name_labels, ""
            try:
                out[(name, labels)] = float(value)
            except ValueError:
                pass
        return out


class Watch(threading.Thread):
    """A watch on a prefix from the current revision; every event is kept with its arrival time.

    Keeps `keys` (the keys under the prefix that exist now, from an initial range plus events)."""

    def __init__(self, url, prefix):
        super().__init__(daemon=True)
        self.gw = Gateway(url)
        self.prefix = prefix
        self.events = []  # (t, "PUT"|"DELETE", key, value)
        self.counts = []  # number of keys after each event, same index as events
        self.keys = {}
        self.cond = threading.Condition()
        self.created = threading.Event()
        self._conn = None
        self._closing = False

    def start(self):
        r = self.gw.post("/v3/kv/range", {"key": b64(self.prefix), "range_end": prefix_end(self.prefix)})
        self.keys = {unb64(kv["key"]): unb64(kv.get("value")) for kv in r.get("kvs", [])}
        self.start_revision = int(r["header"]["revision"]) + 1
        super().start()
        if not self.created.wait(10):
            raise BenchError("etcd watch was not created")
        return self

    def run(self):
        c = http.client.HTTPConnection(self.gw.host, self.gw.port, timeout=None)
        self._conn = c
        body = {"create_request": {"key": b64(self.prefix), "range_end": prefix_end(self.prefix),
                                   "start_revision": str(self.start_revision)}}
        try:
            c.request("POST", "/v3/watch", body=json.dumps(body), headers={"Content-Type": "application/json"})
            r = c.getresponse()
            while True:
                line = r.readline()
                if not line:
                    break
                t = now()
                try:
                    res = json.loads(line).get("result", {})
                except ValueError:
                    continue
                if res.get("created"):
                    self.created.set()
                with self.cond:
                    for ev in res.get("events", []):
                        kind = ev.get("type", "PUT")
                        key = unb64(ev["kv"]["key"])
                        value = unb64(ev["kv"].get("value"))
                        self.events.append((t, kind, key, value))
                        if kind == "DELETE":
                            self.keys.pop(key, None)
                        else:
                            self.keys[key] = value
                        self.counts.append(len(self.keys))
                    self.cond.notify_all()
        except (OSError, http.client.HTTPException, ValueError) as e:
            if not self._closing:
                log(f"etcd watch on {self.prefix} ended: {e}")
        finally:
            with self.cond:
                self._closing = True
                self.cond.notify_all()

    def close(self):
        self._closing = True
        try:
            if self._conn and self._conn.sock:
                self._conn.sock.shutdown(2)
        except OSError:
            pass
        self.join(2)

    def mark(self):
        with self.cond:
            return len(self.events)

    def wait(self, predicate, timeout, what="etcd keys"):
        """predicate(events, keys) returns a truthy value when satisfied; returns it."""
        deadline = now() + timeout
        with self.cond:
            while True:
                result = predicate(self.events, self.keys)
                if result:
                    return result
                left = deadline - now()
                if left <= 0:
                    raise Timeout(f"timed out after {timeout:.0f} s waiting for {what} "
                                  f"(have {len(self.keys)} keys under {self.prefix})")
                self.cond.wait(min(left, 0.5))

    def wait_keys(self, count, timeout):
        """Waits until exactly `count` keys exist now; returns the keys."""
        return self.wait(lambda _e, keys: dict(keys) if len(keys) == count else None, timeout,
                         f"{count} keys under {self.prefix}")

    def wait_count(self, count, timeout, since=0):
        """Waits until exactly `count` keys exist; returns the arrival time of the event that made it so
        (or now, if it already held and no event came since `since`)."""

        def pred(events, keys):
            for i in range(since, len(events)):
                if self.counts[i] == count:
                    return events[i][0]
            if len(keys) == count and len(events) == since:
                return now()
            return None

        return self.wait(pred, timeout, f"{count} keys under {self.prefix}")


def sum_metric(metrics, name, match=None):
    return sum(v for (n, labels), v in metrics.items() if n == name and (match is None or match in labels))


def grpc_breakdown(before, after):
    """Requests per gRPC method between two metric snapshots (grpc_server_started_total)."""
    out = {}
    for (n, labels), v in after.items():
        if n != "grpc_server_started_total":
            continue
        d = v - before.get((n, labels), 0)
        if d:
            method = labels.split('grpc_method="', 1)[1].split('"', 1)[0]
            out[method] = out.get(method, 0) + d
    return out



class RequestRecorder:
    """A loopback TCP relay in front of etcd that timestamps every request whose request line starts with one
    of `paths` (e.g. the agent's lease keepalives), so that their spacing can be read: a keepalive held up
    behind other work arrives late. Adds one loopback hop (well under a millisecond)."""

    def __init__(self, target_url, paths=("POST /v3/lease/keepalive",)):
        import socket
        self.target = target_url.split("//", 1)[1].split(":")
        self.paths = [p.encode() for p in paths]
        self.times = []
        self.lock = threading.Lock()
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import socket
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection((self.target[0], int(self.target[1])))
            for conn in (client, upstream):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src, dst, requests):
        import socket
        tail = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if requests:
                    t = now()
                    seen = tail + data
                    hits = sum(seen.count(p) for p in self.paths) - sum(tail.count(p) for p in self.paths)
                    if hits:
                        with self.lock:
                            self.times.extend([t] * hits)
                    tail = seen[-64:]
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for conn in (src, dst):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def between(self, t0, t1):
        with self.lock:
            return [t for t in self.times if t0 <= t <= t1]

    def close(self):
        self.closed = True
        self.server.close()
