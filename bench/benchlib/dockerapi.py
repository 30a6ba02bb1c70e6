"""Docker Engine API (1.41) over the Unix socket, and a timestamped container event log."""

import http.client
import json
import socket
import threading
import urllib.parse

from .util import BenchError, log, now

SOCK = "/var/run/docker.sock"
API = "/v1.41"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s


class Docker:
    """One connection per call (cheap on a Unix socket, and safe from any thread)."""

    def __init__(self, sock=SOCK):
        self.sock = sock

    def request(self, method, path, body=None, timeout=120, ok=(200, 201, 204, 304)):
        conn = _UnixConnection(self.sock, timeout=timeout)
        try:
            headers = {}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, API + path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            if resp.status not in ok:
                raise BenchError(f"docker {method} {path}: {resp.status} {raw[:300].decode(errors='replace')}")
            if raw and resp.getheader("Content-Type", "").startswith("application/json"):
                return json.loads(raw)
            return raw
        finally:
            conn.close()

    def ping(self):
        try:
            conn = _UnixConnection(self.sock, timeout=3)
            conn.request("GET", "/_ping")
            return conn.getresponse().read() == b"OK"
        except OSError:
            return False

    def containers(self, label=None, all=True):
        filters = {"label": [label]} if label else {}
        q = urllib.parse.urlencode({"all": "true" if all else "false", "filters": json.dumps(filters)})
        return self.request("GET", f"/containers/json?{q}")

    def kill(self, cid):
        self.request("POST", f"/containers/{cid}/kill")

    def remove(self, cid):
        self.request("DELETE", f"/containers/{cid}?force=true&v=true", ok=(204, 404, 409))

    def remove_all(self, label, parallel=8):
        """Force-removes every container carrying the label; returns how many."""
        ids = [c["Id"] for c in self.containers(label)]
        _parallel(lambda cid: self.remove(cid), ids, parallel)
        return len(ids)

    def create_and_start(self, image, labels, name=None):
        q = f"?name={name}" if name else ""
        body = {"Image": image, "Labels": labels, "HostConfig": {"PublishAllPorts": True}}
        cid = self.request("POST", f"/containers/create{q}", body)["Id"]
        self.request("POST", f"/containers/{cid}/start")
        return cid

    def inspect(self, cid):
        return self.request("GET", f"/containers/{cid}/json")

    def host_port(self, cid, port=80):
        ports = self.inspect(cid)["NetworkSettings"]["Ports"].get(f"{port}/tcp") or []
        for b in ports:
            if ":" not in b.get("HostIp", ""):
                return int(b["HostPort"])
        return None

    def info(self):
        return self.request("GET", "/info")

    def version(self):
        return self.request("GET", "/version")


def _parallel(fn, items, n):
    items = list(items)
    errors = []
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not items:
                    return
                item = items.pop()
            try:
                fn(item)
            except Exception as e:  # noqa: BLE001 - collected and re-raised
                errors.append(e)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, n))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


parallel = _parallel


class EventLog(threading.Thread):
    """Follows the engine's container events; each event is stored with the monotonic time it arrived.

    Waiters look at events from a mark on: `mark()` then `wait(pred, timeout)`."""

    def __init__(self, docker):
        super().__init__(daemon=True)
        self.docker = docker
        self.events = []  # (t, action, id, attributes)
        self.cond = threading.Condition()
        self.connected = threading.Event()
        self.closed = False
        self._conn = None

    def run(self):
        filters = json.dumps({"type": ["container"]})
        conn = _UnixConnection(self.docker.sock, timeout=None)
        self._conn = conn
        try:
            conn.request("GET", f"{API}/events?filters={urllib.parse.quote(filters)}")
            resp = conn.getresponse()
            self.connected.set()
            while True:
                line = resp.readline()
                if not line:
                    break
                t = now()
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                actor = ev.get("Actor", {})
                item = (t, ev.get("Action", ev.get("status", "")), actor.get("ID", ev.get("id", "")),
                        actor.get("Attributes", {}))
                with self.cond:
                    self.events.append(item)
                    self.cond.notify_all()
        except (OSError, http.client.HTTPException, ValueError) as e:
            if not self.closed:
                log(f"docker event stream ended: {e}")
        finally:
            with self.cond:
                self.closed = True
                self.cond.notify_all()

    def start(self):
        super().start()
        if not self.connected.wait(10):
            raise BenchError("could not follow the Docker event stream")

    def close(self):
        self.closed = True
        try:
            if self._conn and self._conn.sock:
                self._conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def mark(self):
        with self.cond:
            return len(self.events)

    def wait(self, predicate, since, timeout, what="docker events"):
        """predicate(events_since_mark) returns a time (truthy) when satisfied; returns it."""
        deadline = now() + timeout
        with self.cond:
            while True:
                result = predicate(self.events[since:])
                if result:
                    return result
                left = deadline - now()
                if left <= 0:
                    raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")
                self.cond.wait(min(left, 0.5))

    def starts(self, label_key, label_value, since):
        with self.cond:
            return [(t, cid) for t, action, cid, attrs in self.events[since:]
                    if action == "start" and attrs.get(label_key) == label_value]


def nth_event(action, label_key, label_value, count):
    """A predicate: the time of the count-th `action` event of containers with the label, else None."""

    def pred(events):
        seen = 0
        for t, act, _, attrs in events:
            if act == action and attrs.get(label_key) == label_value:
                seen += 1
                if seen >= count:
                    return t
        return None

    return pred

