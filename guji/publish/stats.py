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


CLASS_LABELS = {"经": "经部", "史": "史部", "子": "子部", "集": "集部", "丛": "丛部"}
DIMENSION_LABELS = {"institution": "收藏单位", "dynasty": "朝代", "edition_type": "版本类型", "classification": "四部分类",
                    "grade": "定级"}
MEASURE_LABELS = {"books": "部", "volumes": "册", "pages": "叶", "characters": "字"}


def value_label(dimension: str, value: str) -> str:
    """A human label for a statistics value (经 → 经部; the unknown marker → 未详)."""
    if value == UNKNOWN:
        return "未详"
    return CLASS_LABELS.get(value, value) if dimension == "classification" else value


def display_rows(stats: dict[str, Any], bar_px: int = 120) -> list[dict[str, Any]]:
    """Per dimension: rows with a human label and a bar width (pages) for the statistics page."""
    out = []
    for d, rows in stats["by"].items():
        top = max([r["pages"] for r in rows.values()] + [1])
        out.append({"name": d, "rows": [{"label": value_label(d, v), "unknown": v == UNKNOWN,
                                         "bar": round(bar_px * r["pages"] / top), **r} for v, r in rows.items()]})
    return out


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
    """Horizontal bar charts (one panel per dimension, its total in the title); plain SVG, no scripts,
    deterministic. Labels are human (经 → 经部), long ones are shortened with … and kept whole in a
    <title> tooltip; the label column is as wide as the longest label shown, so nothing is clipped."""
    panels = [(d, stats["by"][d]) for d in DIMENSIONS] + [("grade", {g: {"books": n} for g, n in stats["grade"]["books"].items()})]
    bar_h, gap, chart_w, font = 18, 4, 300, 12
    max_chars = 16

    def short(s: str) -> str:
        return s if len(s) <= max_chars else s[:max_chars - 1] + "…"

    def text_w(s: str) -> int:  # CJK glyphs are one em wide, ASCII about half
        return sum(font if ord(ch) > 0x2E7F else font * 0.6 for ch in s)

    labels = [short(value_label(d, str(v))) for d, rows in panels for v in list(rows)[:12]]
    label_w = int(max([text_w(s) for s in labels] + [60])) + 16
    width = label_w + chart_w + 80
    t = stats["totals"]
    y = 24
    parts = [f'<text x="10" y="{y}" font-weight="bold" font-size="14">合计 Totals: {t["books"]} 部 · {t["volumes"]} 册 · '
             f'{t["pages"]} 叶 · {t["characters"]} 字</text>']
    y += 24
    for name, rows in panels:
        m = measure if name != "grade" else "books"
        total = sum(r.get(m, 0) for r in rows.values())
        rows = dict(list(rows.items())[:12])
        parts.append(f'<text x="10" y="{y}" font-weight="bold">{escape(DIMENSION_LABELS.get(name, name))} '
                     f'({MEASURE_LABELS.get(m, m)}, 合计 {total})</text>')
        y += 10
        top = max([r.get(m, 0) for r in rows.values()] + [1])
        for v, r in rows.items():
            n = r.get(m, 0)
            w = max(1, round(chart_w * n / top)) if n else 0
            full = value_label(name, str(v))
            parts.append(f'<g><title>{escape(full)}: {n}</title>'
                         f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(short(full))}</text>'
                         f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#8b3a2b"/>'
                         f'<text x="{label_w + w + 4}" y="{y + 13}">{n}</text></g>')
            y += bar_h + gap
        y += 24
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" viewBox="0 0 {width} {y}" '
            f'font-family="Noto Sans CJK SC, sans-serif" font-size="{font}" role="img" aria-label="馆藏统计 collection statistics">')
    return head + "".join(parts) + "</svg>\n"
