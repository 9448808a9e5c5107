"""Collection statistics: books, volumes, pages and characters by institution, dynasty, edition
type, classification (经史子集丛) and grade, as a table, JSON, CSV and an SVG chart.

Computed from the search index (public items only). Grade (定级) is a restricted field: the index
holds only the number of books per grade, never an item's grade, and so do these statistics.
"""

from __future__ import annotations

import csv
import io
from html import escape
from typing import Any

DIMENSIONS = ("institution", "dynasty", "edition_type", "classification")
MEASURES = ("books", "volumes", "pages", "characters")
UNKNOWN = "(未详)"
CLASS_ORDER = ["经", "史", "子", "集", "丛"]


def compute(items: list[dict[str, Any]], grades: dict[str, int]) -> dict[str, Any]:
    totals = {m: 0 for m in MEASURES}
    by: dict[str, dict[str, dict[str, int]]] = {d: {} for d in DIMENSIONS}
    for it in items:
        vals = {"books": 1, "volumes": it.get("volumes") or 0, "pages": it.get("canvases") or it.get("pages") or 0,
                "characters": it.get("chars") or 0}
        for m in MEASURES:
            totals[m] += vals[m]
        for d in DIMENSIONS:
            key = it.get(d) or UNKNOWN
            row = by[d].setdefault(key, {m: 0 for m in MEASURES})
            for m in MEASURES:
                row[m] += vals[m]
    for d in DIMENSIONS:
        order = (lambda kv: (CLASS_ORDER.index(kv[0]) if kv[0] in CLASS_ORDER else 9, kv[0])) if d == "classification" \
            else (lambda kv: (-kv[1]["books"], kv[0]))
        by[d] = dict(sorted(by[d].items(), key=order))
    return {"totals": totals, "by": by,
            "grade": {"books": dict(sorted(grades.items())), "note": "restricted field: counts only"}}


def to_csv(stats: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["dimension", "value", *MEASURES])
    w.writerow(["total", "", *(stats["totals"][m] for m in MEASURES)])
    for d, rows in stats["by"].items():
        for v, row in rows.items():
            w.writerow([d, v, *(row[m] for m in MEASURES)])
    for g, n in stats["grade"]["books"].items():
        w.writerow(["grade", g, n, "", "", ""])
    return buf.getvalue()


def to_table(stats: dict[str, Any]) -> str:
    lines = []
    t = stats["totals"]
    lines.append(f"total: {t['books']} books, {t['volumes']} volumes, {t['pages']} pages, {t['characters']} characters")
    for d, rows in stats["by"].items():
        lines.append("")
        lines.append(f"by {d}:")
        width = max([len(v) for v in rows] + [8])
        lines.append(f"  {'':<{width}}  {'books':>7} {'volumes':>8} {'pages':>8} {'characters':>11}")
        for v, row in rows.items():
            lines.append(f"  {v:<{width}}  {row['books']:>7} {row['volumes']:>8} {row['pages']:>8} {row['characters']:>11}")
    if stats["grade"]["books"]:
        lines.append("")
        lines.append("by grade (restricted: counts only):")
        for g, n in stats["grade"]["books"].items():
            lines.append(f"  {g}: {n} books")
    return "\n".join(lines) + "\n"


def to_svg(stats: dict[str, Any], measure: str = "pages") -> str:
    """Horizontal bar charts (one panel per dimension); plain SVG, no scripts, deterministic."""
    panels = [(d, stats["by"][d]) for d in DIMENSIONS] + [("grade", {g: {"books": n} for g, n in stats["grade"]["books"].items()})]
    bar_h, gap, label_w, chart_w, width = 18, 4, 150, 300, 540
    y = 30
    parts = []
    for name, rows in panels:
        m = measure if name != "grade" else "books"
        rows = dict(list(rows.items())[:12])
        parts.append(f'<text x="10" y="{y}" font-weight="bold">{escape(name)} ({m})</text>')
        y += 10
        top = max([r.get(m, 0) for r in rows.values()] + [1])
        for v, r in rows.items():
            n = r.get(m, 0)
            w = max(1, round(chart_w * n / top)) if n else 0
            parts.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(str(v))[:20]}</text>'
                         f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#8b3a2b"/>'
                         f'<text x="{label_w + w + 4}" y="{y + 13}">{n}</text>')
            y += bar_h + gap
        y += 24
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" viewBox="0 0 {width} {y}" '
            f'font-family="sans-serif" font-size="12" role="img" aria-label="collection statistics">')
    return head + "".join(parts) + "</svg>\n"
