#!/usr/bin/env python3
"""Where a process's resident memory is: /proc/PID/smaps per mapping (file-backed and anonymous), and for its
executable, which parts of the binary its resident pages belong to (read from /proc/PID/pagemap, as root; with
`--map FILE`, lld's `-Map` output, each page is charged to the library or object file whose input section holds it).

    python3 bench/smaps.py PID [--map hecd.map] [--top 25]
    python3 bench/smaps.py --scale 200 --hecd PATH [--map hecd.map]   # runs etcd and an agent itself: 0, peak, 200
"""

import argparse
import bisect
import collections
import os
import re
import struct
import sys
import tempfile
import time

PAGE = os.sysconf("SC_PAGE_SIZE")


def mappings(pid):
    """smaps entries: dicts with start, end, offset, perms, path and the kB fields."""
    out, cur = [], None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) \S+ \d+\s*(.*)$", line)
            if head:
                cur = {"start": int(head[1], 16), "end": int(head[2], 16), "perms": head[3],
                       "offset": int(head[4], 16), "path": head[5].strip()}
                out.append(cur)
            elif cur is not None and line.split()[0].endswith(":") and len(line.split()) >= 2 \
                    and line.split()[1].isdigit():
                cur[line.split()[0][:-1]] = int(line.split()[1])
    return out


def summary(pid):
    """Rss kB by mapping name ([heap], [stack], [anon], files), with the anonymous and file-backed totals."""
    by = collections.Counter()
    anon = file = 0
    for m in mappings(pid):
        name = m["path"] or "[anon]"
        if name.startswith("/") and not name.endswith("(deleted)"):
            file += m.get("Rss", 0) - m.get("Anonymous", 0)
            anon += m.get("Anonymous", 0)
            if m.get("Anonymous", 0):
                by[name + " (copy-on-write)"] += m.get("Anonymous", 0)
            by[name] += m.get("Rss", 0) - m.get("Anonymous", 0)
        else:
            anon += m.get("Rss", 0)
            by[name] += m.get("Rss", 0)
    return by, anon, file


def resident_pages(pid, m):
    """Virtual addresses of the mapping's pages that are present."""
    n = (m["end"] - m["start"]) // PAGE
    with open(f"/proc/{pid}/pagemap", "rb") as f:
        f.seek(m["start"] // PAGE * 8)
        data = f.read(n * 8)
    return [m["start"] + i * PAGE for i, (e,) in enumerate(struct.iter_unpack("<Q", data)) if e >> 63 & 1]


def read_map(path):
    """lld -Map: sorted (vaddr, size, owner, output section) of the input sections that are loaded; the owner is
    the archive (`libFoundation.a`) or, for hecd's and the packages' object files, the module (`Agent.build`)."""
    rows, section = [], None
    line_re = re.compile(r"^\s*([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+(\d+) (\s*)(.*)$")
    with open(path) as f:
        for line in f:
            m = line_re.match(line)
            if not m:
                continue
            vaddr, size, indent, text = int(m[1], 16), int(m[3], 16), len(m[5]), m[6]
            # Output sections are not indented, input sections ("path.a(obj.o):(.text.x)") by 8, symbols by 16.
            if indent == 0:
                if vaddr == 0 and rows:
                    break  # .comment, .debug_*, .symtab: not loaded
                section = text.strip()
                continue
            if size == 0 or indent != 8 or ":(" not in text:
                continue
            owner = text.split(":(")[0]
            lib = re.match(r"^(.*?\.a)\((.*)\)$", owner)
            owner = os.path.basename(lib[1]) if lib else os.path.basename(os.path.dirname(owner)) or owner
            rows.append((vaddr, size, owner, section))
    rows.sort()
    return rows


def owner_of(rows, starts, addr):
    i = bisect.bisect_right(starts, addr) - 1
    if i >= 0 and rows[i][0] <= addr < rows[i][0] + rows[i][1]:
        return rows[i][2], rows[i][3]
    return None, None


def binary_breakdown(pid, map_rows):
    """kB of resident pages of the executable, by owner (libraries/objects) when a map is given."""
    exe = os.readlink(f"/proc/{pid}/exe")
    maps = [m for m in mappings(pid) if m["path"] == exe]
    if not maps:
        return {}, exe
    base = min(m["start"] - m["offset"] for m in maps)  # PIE load bias (first mapping has offset 0)
    starts = [r[0] for r in map_rows]
    by = collections.Counter()
    for m in maps:
        for addr in resident_pages(pid, m):
            if not map_rows:
                by[m["perms"]] += PAGE // 1024
                continue
            # A page can hold several input sections: charge it to each owner in equal parts.
            owners = collections.Counter()
            for off in range(0, PAGE, 256):
                o, sec = owner_of(map_rows, starts, addr - base + off)
                owners[(o or "(linker: headers, dynsym, relocations, padding)", sec or "")] += 1
            for o, c in owners.items():
                by[o] += PAGE / 1024 * c / sum(owners.values())
    return by, exe


def group(owner):
    """The component an owner belongs to (the libraries of the toolchain, hecd's modules, packages)."""
    o = owner
    for key, names in [("ICU (_FoundationICU)", ["lib_FoundationICU"]),
                       ("FoundationInternationalization", ["libFoundationInternationalization"]),
                       ("Foundation (corelibs) + CoreFoundation", ["libFoundation.a", "libCoreFoundation"]),
                       ("FoundationEssentials", ["libFoundationEssentials", "lib_FoundationCollections",
                                                 "lib_FoundationCShims"]),
                       ("Swift runtime + stdlib", ["libswiftCore", "libswift_Concurrency", "libswiftSynchronization",
                                                   "libswift_StringProcessing", "libswift_RegexParser",
                                                   "libswiftGlibc", "libswift_Volatile", "libswiftDispatch"]),
                       ("libdispatch + BlocksRuntime", ["libdispatch", "libBlocksRuntime"])]:
        if any(o.startswith(n) for n in names):
            return key
    if o.endswith(".build"):
        return "module " + o[:-len(".build")]
    return o


def report(pid, map_path=None, top=25, title=""):
    by, anon, file = summary(pid)
    with open(f"/proc/{pid}/status") as f:
        st = {l.split(":")[0]: l.split(":", 1)[1].strip() for l in f}
    print(f"== {title} pid {pid}: VmRSS {st.get('VmRSS')}, RssAnon {st.get('RssAnon')}, RssFile {st.get('RssFile')}, "
          f"Threads {st.get('Threads')}, VmHWM {st.get('VmHWM')}")
    print(f"   smaps: file-backed {file / 1024:.1f} MB, anonymous {anon / 1024:.1f} MB")
    for name, kb in by.most_common(top):
        if kb:
            print(f"   {kb / 1024:7.2f} MB  {name}")
    anon_maps = sorted((m for m in mappings(pid) if not m["path"].startswith("/") and m.get("Rss", 0)),
                       key=lambda m: -m.get("Rss", 0))
    print("   largest anonymous mappings (Rss of size; 8 MB ones are thread stacks): " + ", ".join(
        f"{m.get('Rss', 0) / 1024:.2f} of {(m['end'] - m['start']) / 1048576:.1f} MB {m['path'] or ''}".rstrip()
        for m in anon_maps[:8]))
    rows = read_map(map_path) if map_path else []
    bb, exe = binary_breakdown(pid, rows)
    total = sum(bb.values())
    print(f"   resident pages of {exe}: {total / 1024:.2f} MB (pagemap)")
    grouped, sections = collections.Counter(), collections.Counter()
    for key, kb in bb.items():
        o, sec = key if isinstance(key, tuple) else (key, "")
        grouped[group(o)] += kb
        sections[sec] += kb
    print("   by component:")
    for name, kb in grouped.most_common(top):
        print(f"   {kb / 1024:7.2f} MB  {name}")
    if rows:
        print("   by section: " + ", ".join(f"{sec or '?'} {kb / 1024:.2f}" for sec, kb in sections.most_common(8)))
    sys.stdout.flush()
    return {"rss": int(st.get("VmRSS", "0 kB").split()[0]), "anon": anon, "file": file}


def scale_probe(args):
    """etcd + agent: idle with 0 containers, peak RSS during 0→N, idle with N; then back to 0."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    from benchlib.etcd import EtcdServer, Gateway
    from benchlib.hecd import Agent
    from benchlib.util import Sampler, wait_until
    from benchlib.dockerapi import Docker
    work = tempfile.mkdtemp(prefix="hecd-smaps.")
    etcd = EtcdServer()
    etcd.start()
    gw = Gateway(etcd.url)
    docker = Docker()
    agent = Agent(args.hecd, etcd.url, f"smaps-{os.getpid()}", work)
    label = f"{agent.label[0]}={agent.label[1]}"
    try:
        agent.write_manifest("web", 0, prefix="/smaps/web")
        agent.start()
        wait_until(lambda: gw.count(f"/hecd/agents/{agent.agent_id}") == 1, 30, 0.05, "agent record")
        time.sleep(args.settle)
        report(agent.pid, args.map, args.top, "idle, 0 containers")
        sampler = Sampler(agent.pid, 0.02)
        sampler.start()
        t0 = time.monotonic()
        agent.write_manifest("web", args.scale)
        wait_until(lambda: gw.count("/smaps/web/") == args.scale, 60 + 3 * args.scale, 0.2, "all registered")
        t1 = time.monotonic()
        time.sleep(1)
        peak = sampler.stop()
        print(f"== 0→{args.scale} registered in {t1 - t0:.1f} s; peak VmRSS during it {peak / 1024:.1f} MB")
        time.sleep(args.settle)
        report(agent.pid, args.map, args.top, f"idle, {args.scale} containers")
        agent.write_manifest("web", 0)
        wait_until(lambda: len(docker.containers(label)) == 0, 60 + 3 * args.scale, 0.5, "no containers")
    finally:
        agent.stop()
        docker.remove_all(label)
        etcd.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pid", nargs="?", type=int)
    p.add_argument("--map", help="lld -Map output of the binary")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--scale", type=int, help="run etcd and an agent, scale 0→N")
    p.add_argument("--hecd", help="hecd binary (with --scale)")
    p.add_argument("--settle", type=float, default=10, help="seconds idle before a snapshot")
    args = p.parse_args()
    if args.scale:
        scale_probe(args)
    elif args.pid:
        report(args.pid, args.map, args.top)
    else:
        p.error("give a PID or --scale N --hecd PATH")


if __name__ == "__main__":
    main()
