#!/usr/bin/env python3
"""Template rendering side by side with Go's text/template: time and peak memory.

Each program (hecd's Templates through `hecd-template-bench`, Go's text/template with confd's functions through
Tests/TemplatesTests/GoReference `-bench`) renders a template over a key set the way confd renders on a change:
builds the store from the keys, parses the template, executes it. Each process does `--renders` renders and reports
their times and its peak RSS; the figure is the median over `--runs` processes. The two outputs must be
byte-identical, or the benchmark fails.

Templates: the seed article's (`{{range gets "/app/servers/*"}} server {{base .Key}} {{.Value}} check{{end}}`)
over 10,000 and 50,000 servers, and nested ranges (apps from `lsdir`, each app's servers from `gets`), over 100
apps with 100 and 500 servers each.

Usage: bench/templates.py [--runs 5] [--renders 5] [--out bench/results/templates.md] [--json FILE]
(bench/run --cases templates runs it too and puts its figures in bench/results/latest.md.)
Needs swift and go (golang-go); builds both programs (release) under .build-bench-templates.
"""
import argparse, json, os, platform, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BUILD = os.path.join(REPO, ".build-bench-templates")

SEED = '{{range gets "/app/servers/*"}}\n    server {{base .Key}} {{.Value}} check\n{{end}}'
NESTED = ('{{range $app := lsdir "/apps"}}\nbackend {{$app}}\n    balance roundrobin\n'
          '{{range gets (printf "/apps/%s/servers/*" $app)}}    server {{base .Key}} {{.Value}} check'
          '{{if eq (getv (printf "/apps/%s/tls" $app) "off") "on"}} ssl{{end}}\n{{end}}{{end}}')


def seed_keys(n):
    return {f"/app/servers/web-{i:06d}": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}:{30000 + i % 10000}"
            for i in range(n)}


def nested_keys(apps, per_app):
    keys = {}
    for a in range(apps):
        if a % 2 == 0:
            keys[f"/apps/app{a:03d}/tls"] = "on"
        for s in range(per_app):
            keys[f"/apps/app{a:03d}/servers/s{s:04d}"] = f"10.1.{a}.{s % 256}:{30000 + s}"
    return keys


CASES = [
    ("one key, an empty template (the process alone)", "", lambda: {"/a": "b"}),
    ("seed template, 10,000 keys", SEED, lambda: seed_keys(10_000)),
    ("seed template, 50,000 keys", SEED, lambda: seed_keys(50_000)),
    ("nested ranges, 100 apps × 100 servers", NESTED, lambda: nested_keys(100, 100)),
    ("nested ranges, 100 apps × 500 servers", NESTED, lambda: nested_keys(100, 500)),
]


def log(message):
    print(f"[templates] {message}", file=sys.stderr, flush=True)


def build():
    log("building hecd-template-bench (release, linked as hecd is: hecd_release_build) and goreference")
    subprocess.run(["bash", "-c", '. Deploy/lib.sh && HECD_RELEASE_PRODUCT=hecd-template-bench hecd_release_build '
                    '--scratch-path "$1"', "bash", BUILD], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    swift = os.path.join(BUILD, "release", "hecd-template-bench")
    go = os.path.join(BUILD, "goreference")
    env = dict(os.environ, GOFLAGS="-mod=mod")
    env.setdefault("GOCACHE", os.path.join(BUILD, "go-cache"))
    subprocess.run(["go", "build", "-o", go, "."], cwd=os.path.join(REPO, "Tests", "TemplatesTests", "GoReference"),
                   env=env, check=True)
    return {"hecd": [swift], "Go": [go, "-bench"]}


def measure(command, template, keys, renders, output):
    result = subprocess.run(command + [template, keys, str(renders), output], capture_output=True, text=True,
                            timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return statistics.median(report["ns"]) / 1e6, report["maxrss_kb"] / 1024, report["bytes"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5, help="processes per figure (median; default 5)")
    p.add_argument("--renders", type=int, default=5, help="renders per process (median; default 5)")
    p.add_argument("--out", default=os.path.join(HERE, "results", "templates.md"))
    p.add_argument("--json", help="also write the figures as JSON here (bench/run's `templates` case reads them)")
    a = p.parse_args()
    programs = build()
    rows = []
    with tempfile.TemporaryDirectory(prefix="hecd-templates-") as work:
        for title, text, make_keys in CASES:
            template = os.path.join(work, "bench.tmpl")
            keys_file = os.path.join(work, "keys.tsv")
            with open(template, "w") as f:
                f.write(text)
            keys = make_keys()
            with open(keys_file, "w") as f:
                f.writelines(f"{k}\t{v}\n" for k, v in keys.items())
            figures, outputs = {}, {}
            for name, command in programs.items():
                output = os.path.join(work, f"out-{name}")
                runs = [measure(command, template, keys_file, a.renders, output) for _ in range(a.runs)]
                figures[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), runs[0][2])
                with open(output, "rb") as f:
                    outputs[name] = f.read()
            if outputs["hecd"] != outputs["Go"]:
                raise SystemExit(f"{title}: hecd's output differs from Go's ({len(outputs['hecd'])} vs "
                                 f"{len(outputs['Go'])} bytes)")
            h, g = figures["hecd"], figures["Go"]
            log(f"{title}: hecd {h[0]:.1f} ms {h[1]:.1f} MB, Go {g[0]:.1f} ms {g[1]:.1f} MB")
            rows.append((title, len(keys), h, g))
    lines = [
        "# Templates: hecd against Go's text/template",
        "",
        f"`bench/templates.py --runs {a.runs} --renders {a.renders}` on {platform.node()} ({os.cpu_count()} cores), "
        f"hecd {subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=REPO, capture_output=True, text=True).stdout.strip()}, "
        f"{subprocess.run(['go', 'version'], capture_output=True, text=True).stdout.strip()}.",
        "A render is what confd does on a change: the store built from the keys, the template parsed and executed. "
        "Time: median render; memory: peak RSS of the process (the keys read from a file of tab-separated lines, the "
        "store, the output). Both outputs "
        "are byte-identical.",
        "",
        "| case | keys | output | hecd | Go | hecd / Go | hecd RSS | Go RSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for title, count, h, g in rows:
        lines.append(f"| {title} | {count} | {h[2] / 1024:.0f} KB | {h[0]:.1f} ms | {g[0]:.1f} ms | "
                     f"{h[0] / g[0]:.2f}× | {h[1]:.1f} MB | {g[1]:.1f} MB |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump([{"case": title, "keys": count, "hecd_ms": h[0], "go_ms": g[0], "hecd_mb": h[1], "go_mb": g[1]}
                       for title, count, h, g in rows], f)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
