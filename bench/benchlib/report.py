"""The results table: Markdown for people, JSON for tools. Both are written deterministically (commit-friendly)."""

import json

from .util import Stats

UNIT_SCALE = {"s": 1, "ms": 1000, "/s": 1, "MB": 1, "% of a core": 1}


def _fmt_number(v, unit):
    v = v * UNIT_SCALE.get(unit, 1)
    if unit == "":
        return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"
    if unit == "ms":
        return f"{v:.0f}" if v >= 10 else f"{v:.1f}"
    if unit == "s":
        return f"{v:.2f}" if v < 10 else f"{v:.1f}"
    if unit in ("/s", "% of a core"):
        return f"{v:.2f}"
    return f"{v:.1f}"


def _unit_suffix(unit):
    return {"% of a core": " %", "/s": "/s", "": ""}.get(unit, f" {unit}")


class Report:
    def __init__(self):
        self.rows = []
        self.raw = {}
        self.notes = []

    def row(self, case, label, value, unit="s", ratio=None, ratio_of="limit", target=None, met=None, note=None):
        self.rows.append({"case": case, "label": label, "value": value, "unit": unit, "ratio": ratio,
                          "ratio_of": ratio_of, "target": target, "met": met, "note": note})

    def fail(self, case, error):
        text = " ".join(str(error).split())
        text = text if len(text) <= 300 else text[:300] + "…"
        self.rows.append({"case": case, "label": "**failed**", "value": f"error: {text}", "unit": "", "ratio": None,
                          "ratio_of": None, "target": None, "met": None, "note": None})

    @staticmethod
    def _cells(r):
        v = r["value"]
        if isinstance(v, Stats) and v.n:
            median = _fmt_number(v.median, r["unit"]) + _unit_suffix(r["unit"])
            spread = f"{_fmt_number(v.min, r['unit'])}–{_fmt_number(v.max, r['unit'])}"
            if v.n >= 4 and v.iqr:
                spread += f" (IQR {_fmt_number(v.iqr[0], r['unit'])}–{_fmt_number(v.iqr[1], r['unit'])})"
            spread += f", n={v.n}"
        elif isinstance(v, Stats):
            median, spread = "no samples", ""
        else:
            median, spread = str(v), ""
        ratio = ""
        if r["ratio"] is not None:
            ratio = f"{r['ratio']:.2f}× {r['ratio_of']}" if r["ratio_of"] else f"{r['ratio']:.2f}×"
        met = {True: "met", False: "**missed**", None: ""}[r["met"]]
        if r["target"] and r["met"] is None and not isinstance(v, Stats):
            met = "–"
        return [r["label"], median, spread, ratio, r["target"] or "", met]

    def markdown(self):
        lines = ["| Case | Measurement | Median | Spread: min–max | Ratio | Target | |",
                 "| --- | --- | --- | --- | --- | --- | --- |"]
        last = None
        for r in self.rows:
            case = r["case"] if r["case"] != last else ""
            last = r["case"]
            cells = [case] + self._cells(r)
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines) + "\n"

    def to_json(self, meta):
        rows = []
        for r in self.rows:
            v = r["value"]
            rows.append({
                "case": r["case"], "measurement": r["label"], "unit": r["unit"],
                "value": _round(v.to_json()) if isinstance(v, Stats) else v,
                "ratio": _round(r["ratio"]), "ratio_of": r["ratio_of"] if r["ratio"] is not None else None,
                "target": r["target"], "met": r["met"],
            })
        return json.dumps(_round({"meta": meta, "rows": rows, "raw": self.raw, "notes": self.notes}),
                          indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _round(x):
    if isinstance(x, float):
        return round(x, 4)
    if isinstance(x, dict):
        return {k: _round(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_round(v) for v in x]
    return x
