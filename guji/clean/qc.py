"""Scan quality control: thresholds from named profiles, per-page flags, volume checks, reports.

Page tasks only *measure* (metrics go in the state record); flags are decided here in the main
process from the metrics and the thresholds, so changing a threshold in ``batch.toml [clean.qc]``
re-decides the flags and rewrites the report without re-rendering any image.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from statistics import median
from typing import Any

from guji.fsutil import atomic_write_json, atomic_write_text

# Profiles: rare-book follows the national ancient-book digitisation practice (≥ 600 ppi optical,
# ≥ 24-bit colour, uncompressed TIFF masters); local-document asks ≥ 300 ppi and accepts greyscale.
COMMON = {
    "max_skew_deg": 2.0,            # skew before correction above this → re-shoot candidate
    "min_sharpness": 60.0,          # variance of the Laplacian at analysis scale (long side 1600 px)
    "max_clipped_highlights": 0.02,  # fraction of page pixels at ≥ 254
    "max_clipped_shadows": 0.02,     # fraction of page pixels at ≤ 1
    "min_crop_confidence": 0.5,
    "size_tolerance": 0.08,         # page size differs from the volume median by more than this
    "duplicate_max_distance": 24,   # Hamming distance (of 256 bits) for near-duplicate pages
    "blank_max_ink": 0.002,         # ink fraction below which a page counts as blank
    "min_pixels_side": 1000,        # shorter side of the master below this → "too-small"
    "min_rotation_confidence": 0.3,   # below: "orientation-uncertain" (text direction not clear)
    "min_upside_down_confidence": 0.6,  # above: "maybe-upside-down" (ragged line starts)
}
PROFILES: dict[str, dict[str, Any]] = {
    "rare-book": {**COMMON, "min_ppi": 600, "min_bits": 24, "uncompressed_tiff": True},
    "local-document": {**COMMON, "min_ppi": 300, "min_bits": 8, "uncompressed_tiff": False},
}
# Flags that do not by themselves put a page on the re-shoot list (informational).
INFO_FLAGS = {"blank", "rotated", "spread-split", "no-bed"}


def thresholds(profile: str, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Profile thresholds ← ``[clean.qc]`` flat keys ← ``[clean.qc.<profile>]`` keys."""
    t = dict(PROFILES.get(profile, PROFILES["rare-book"]))
    ov = overrides or {}
    t.update({k: v for k, v in ov.items() if not isinstance(v, dict)})
    t.update(ov.get(profile, {}) if isinstance(ov.get(profile), dict) else {})
    return t


def page_flags(m: dict[str, Any], t: dict[str, Any]) -> list[str]:
    """Flags for one canvas from its page metrics ``m`` (see stage worker) and thresholds ``t``."""
    f: list[str] = list(m.get("source_flags", []))
    ppi = m.get("ppi")
    if not ppi:
        f.append("ppi-unknown")
    elif ppi < t["min_ppi"]:
        f.append(f"ppi<{t['min_ppi']}")
    if m.get("bits", 0) < t["min_bits"]:
        f.append(f"bit-depth<{t['min_bits']}")
    if t.get("uncompressed_tiff") and not (m.get("format") == "TIFF" and (m.get("compression") in (None, "", "raw", "none"))):
        f.append("not-uncompressed-tiff")
    if m.get("size") and min(m["size"]) < t["min_pixels_side"]:
        f.append("too-small")
    blank = m.get("ink_fraction", 0.0) < t["blank_max_ink"]
    if blank:
        f.append("blank")
    elif m.get("sharpness", 0.0) < t["min_sharpness"]:
        f.append("blurred")
    if m.get("clipped_highlights", 0.0) > t["max_clipped_highlights"]:
        f.append("clipped-highlights")
    if m.get("clipped_shadows", 0.0) > t["max_clipped_shadows"]:
        f.append("clipped-shadows")
    if abs(m.get("skew_deg", 0.0)) > t["max_skew_deg"]:
        f.append("skewed")
    if m.get("crop_confidence", 1.0) < t["min_crop_confidence"]:
        f.append("crop-uncertain")
    if m.get("rotation"):
        f.append("rotated")
    if not blank and m.get("rotation_confidence", 1.0) < t["min_rotation_confidence"]:
        f.append("orientation-uncertain")
    if m.get("upside_down_confidence", 0.0) > t["min_upside_down_confidence"]:
        f.append("maybe-upside-down")
    return sorted(dict.fromkeys(f))


def volume_flags(canvases: list[dict[str, Any]], t_for: Any) -> dict[str, list[str]]:
    """Size outliers and near-duplicates within each volume. ``canvases`` carry ``volume_id``,
    ``part``, ``size_px`` [w, h] and ``hash``; ``t_for(canvas)`` gives its thresholds."""
    out: dict[str, list[str]] = {}
    by_vol: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for c in canvases:
        by_vol.setdefault((c["volume_id"], "half" if c["part"] != "full" else "full"), []).append(c)
    for (_, _), cs in by_vol.items():
        if len(cs) >= 3:
            mw = median(c["size_px"][0] for c in cs)
            mh = median(c["size_px"][1] for c in cs)
            for c in cs:
                tol = t_for(c)["size_tolerance"]
                if abs(c["size_px"][0] / mw - 1) > tol or abs(c["size_px"][1] / mh - 1) > tol:
                    out.setdefault(c["id"], []).append("size-outlier")
    from guji.clean.derivatives import hamming

    vols: dict[str, list[dict[str, Any]]] = {}
    for c in canvases:
        vols.setdefault(c["volume_id"], []).append(c)
    for cs in vols.values():
        for i in range(len(cs)):
            for j in range(i + 1, len(cs)):
                a, b = cs[i], cs[j]
                if a["page_id"] == b["page_id"] or not a.get("hash") or not b.get("hash"):
                    continue
                if a.get("blank") or b.get("blank"):
                    continue  # blank leaves look alike; they are flagged as blank
                if hamming(a["hash"], b["hash"]) <= t_for(a)["duplicate_max_distance"]:
                    out.setdefault(a["id"], []).append(f"near-duplicate:{b['id']}")
                    out.setdefault(b["id"], []).append(f"near-duplicate:{a['id']}")
    return out


def reshoot_reasons(flags: list[str]) -> list[str]:
    return [f for f in flags if f not in INFO_FLAGS]


def write_reports(work: Path, rows: list[dict[str, Any]], profiles: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Write qc.json, reshoot.csv and report.html under WORK/clean/qc. Returns {relpath: sha256}."""
    qc_dir = work / "clean" / "qc"
    counts: dict[str, int] = {}
    for r in rows:
        for f in r["flags"]:
            key = f.split(":")[0]
            counts[key] = counts.get(key, 0) + 1
    reshoot = [r for r in rows if r["reshoot"]]
    doc = {
        "canvases": len(rows),
        "flagged": sum(1 for r in rows if r["flags"]),
        "reshoot": len({r["page_id"] for r in reshoot}),
        "flag_counts": dict(sorted(counts.items())),
        "thresholds": profiles,
        "pages": rows,
    }
    structure = work / "structure" / "report.json"  # leaf-sequence findings (guji structure), when run
    if structure.is_file():
        doc["structure"] = json.loads(structure.read_text("utf-8"))
    out = {"clean/qc/qc.json": atomic_write_json(qc_dir / "qc.json", doc)}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["item", "volume", "page", "canvas", "master", "reasons"])
    seen = set()
    for r in reshoot:
        if r["canvas"] in seen:
            continue
        seen.add(r["canvas"])
        w.writerow([r["item"], r["volume"], r["page_id"], r["canvas"], r["master"], "; ".join(r["reshoot"])])
    out["clean/qc/reshoot.csv"] = atomic_write_text(qc_dir / "reshoot.csv", buf.getvalue())
    out["clean/qc/report.html"] = atomic_write_text(qc_dir / "report.html", render_html(doc))
    return out


FLAG_LABELS = {
    "ppi-unknown": "分辨率不明", "ppi<": "分辨率不足", "bit-depth<": "色深不足", "not-uncompressed-tiff": "非无压缩 TIFF",
    "too-small": "图像过小", "blank": "空白页", "blurred": "模糊", "clipped-highlights": "高光溢出",
    "clipped-shadows": "暗部溢出", "skewed": "倾斜", "crop-uncertain": "裁切不确定", "rotated": "已转正",
    "orientation-uncertain": "方向不确定", "maybe-upside-down": "可能倒置", "size-outlier": "尺寸异常",
    "near-duplicate:": "疑似重复", "spread-split": "已拆分跨页", "no-bed": "无扫描底板",
}


def flag_label(code: str) -> str:
    """The Chinese name of a QC flag code (``ppi<600`` → 分辨率不足 (<600))."""
    if code in FLAG_LABELS:
        return FLAG_LABELS[code]
    for prefix, label in FLAG_LABELS.items():
        if prefix.endswith(("<", ":")) and code.startswith(prefix):
            return f"{label}（{code[len(prefix) - 1 if prefix.endswith('<') else len(prefix):]}）"
    return code


def render_html(doc: dict[str, Any]) -> str:
    """report.html from the Jinja2 template ``guji/clean/report.html`` (package data)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("guji.clean", "."), autoescape=select_autoescape(["html"]),
                      keep_trailing_newline=True)
    pages = []
    for r in doc["pages"]:
        flags, m = r["flags"], r["metrics"]
        pages.append({"cls": "card flagged" if r["reshoot"] else ("card info" if flags else "card"),
                      "n_reshoot": len(reshoot_reasons(flags)), "flags": flags, "canvas": r["canvas"],
                      "master": r["master"], "skew": m.get("skew_deg", 0), "sharp": m.get("sharpness", 0),
                      "ppi": m.get("ppi"),
                      "thumb": "../" + r["thumb"].removeprefix("clean/") if r.get("thumb") else ""})
    from guji.publish import i18n

    return env.get_template("report.html").render(
        doc=doc, pages=pages, flag_label=flag_label, t=i18n.t, i18n_json=i18n.table_json(), i18n_js=i18n.script(),
        thresholds=json.dumps(doc["thresholds"], ensure_ascii=False, indent=1),
        structure=_structure_section(doc.get("structure")))


def _structure_section(doc: dict[str, Any] | None) -> str:
    """The leaf-sequence section (an HTML fragment rendered by guji.structure's own template)."""
    if not doc:
        return ""
    from markupsafe import Markup

    from guji.structure.report import qc_section

    return Markup(qc_section(doc))
