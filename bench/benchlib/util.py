"""Small helpers: logging, clocks, free ports, statistics, subprocesses."""

import os
import socket
import statistics
import subprocess
import sys
import threading
import time

now = time.monotonic
_START = now()
VERBOSE = False


def log(msg):
    print(f"[bench {now() - _START:7.1f}s] {msg}", file=sys.stderr, flush=True)


def debug(msg):
    if VERBOSE:
        log(msg)


class BenchError(Exception):
    pass


class Timeout(BenchError):
    pass


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, interval=0.01, what="condition"):
    """Polls predicate() until it returns something truthy; returns that value or raises Timeout."""
    deadline = now() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if now() >= deadline:
            raise Timeout(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def run(cmd, check=True, timeout=600, capture=True, env=None, input=None):
    """Runs a command; returns CompletedProcess (text). Raises BenchError with stderr on failure."""
    debug("$ " + " ".join(cmd))
    try:
        p = subprocess.run(cmd, capture_output=capture, text=True, timeout=timeout, env=env, input=input)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"{' '.join(cmd)}: timed out after {timeout} s") from e
    if check and p.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} exited with {p.returncode}: {(p.stderr or '').strip()[-800:]}")
    return p


class Stats:
    """Median and spread of a list of samples."""

    def __init__(self, samples):
        self.samples = [s for s in samples if s is not None]

    @property
    def n(self):
        return len(self.samples)

    @property
    def median(self):
        return statistics.median(self.samples) if self.samples else None

    @property
    def min(self):
        return min(self.samples) if self.samples else None

    @property
    def max(self):
        return max(self.samples) if self.samples else None

    @property
    def iqr(self):
        if len(self.samples) < 4:
            return None
        q = statistics.quantiles(self.samples, n=4, method="inclusive")
        return (q[0], q[2])

    def to_json(self):
        return {"median": self.median, "min": self.min, "max": self.max, "iqr": self.iqr, "n": self.n,
                "samples": self.samples}


def proc_stat(pid):
    """(utime+stime in seconds, VmRSS kB, VmHWM kB) of a process."""
    u = proc_usage(pid)
    return u["cpu"], u["rss"], u["hwm"]


def proc_usage(pid):
    """CPU seconds (utime+stime) and memory (kB: VmRSS, VmHWM, RssAnon, RssFile) of a process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    out = {"cpu": (int(fields[11]) + int(fields[12])) / ticks}  # utime, stime (fields 14 and 15 of stat)
    names = {"VmRSS:": "rss", "VmHWM:": "hwm", "RssAnon:": "anon", "RssFile:": "file", "Threads:": "threads"}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(None, 1)[0] if line.strip() else ""
            if key in names:
                out[names[key]] = int(line.split()[1])
    # Proportional (shared pages divided among the processes mapping them) and private (the process's own).
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            rollup = {line.split()[0]: int(line.split()[1]) for line in f if line.split()[0].endswith(":")
                      and len(line.split()) >= 2 and line.split()[1].isdigit()}
        out["pss"] = rollup.get("Pss:", 0)
        out["private"] = rollup.get("Private_Clean:", 0) + rollup.get("Private_Dirty:", 0)
    except OSError:
        pass
    return out


def smaps_split(pid):
    """kB resident, from /proc/PID/smaps: the executable's own file pages, other files' (shared libraries), and
    anonymous memory (heap, stacks, copy-on-write pages of the binary and the libraries)."""
    exe = os.readlink(f"/proc/{pid}/exe")
    maps = []
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if parts and "-" in parts[0] and not parts[0].endswith(":"):
                maps.append({"path": parts[5] if len(parts) > 5 else "", "Rss:": 0, "Anonymous:": 0})
            elif maps and parts and parts[0] in ("Rss:", "Anonymous:"):
                maps[-1][parts[0]] = int(parts[1])
    out = {"exe": 0, "libs": 0, "anon": 0}
    for m in maps:
        if m["path"].startswith("/"):
            out["exe" if m["path"] == exe else "libs"] += m["Rss:"] - m["Anonymous:"]
            out["anon"] += m["Anonymous:"]
        else:
            out["anon"] += m["Rss:"]
    return out


def binary_size(path):
    """Bytes of the file, and of the sections it loads into memory (code, data: no debug info, no symbols)."""
    loaded = 0
    try:
        out = subprocess.run(["size", "-A", path], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit() and int(parts[2]) != 0:
                loaded += int(parts[1])
    except OSError:
        pass
    return os.path.getsize(path), loaded


class Sampler(threading.Thread):
    """Samples a process's RSS every `interval` seconds; keeps the peak."""

    def __init__(self, pid, interval=0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = 0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            try:
                _, rss, _ = proc_stat(self.pid)
                self.peak_rss = max(self.peak_rss, rss or 0)
            except OSError:
                return
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join()
        return self.peak_rss
