"""The structure report: ``WORK/structure/report.html`` (Jinja2 template, Chinese first) and
``report.json``; and the structure section of the QC report (``guji.clean.qc`` reads
``report.json``, see :func:`refresh_qc_report`)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from guji.errors import Problem
from guji.fsutil import atomic_write_json, atomic_write_text
from guji.structure.model import STRUCTURE_DIR, ItemStructure


def report_doc(structures: list[ItemStructure], relayed: list[Problem], batch_id: str) -> dict[str, Any]:
    probs = [p for st in structures for p in st.problems] + relayed
    counts = dict(sorted(Counter(p.code for p in probs).items()))
    return {
        "batch": batch_id,
        "counts": counts,
        "items": [{"item": st.item, "source": st.source, "census": st.census,
                   "juans": [juan_entry(st, j) for j in st.juans],
                   "problems": [p.to_dict() for p in st.problems]} for st in structures],
        "relayed": [p.to_dict() for p in relayed],
    }


def juan_entry(st: ItemStructure, j: Any) -> dict[str, Any]:
    """A juan boundary for people and machines: first / last canvas and file, volumes spanned."""
    files = {c.canvas: c.file for c in st.canvases}
    return {"label": j.label, "start": j.start, "end": j.end, "start_file": files.get(j.start),
            "end_file": files.get(j.end), "volumes": j.volumes, "crosses_volumes": len(j.volumes) > 1,
            "leaves": j.leaves, "missing": j.missing}


def render_html(doc: dict[str, Any], structures: list[ItemStructure], relayed: list[Problem]) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("guji.structure", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]), keep_trailing_newline=True)
    counts = doc["counts"]
    seq = ("leaf-missing", "leaf-misordered", "leaf-duplicated", "leaf-number-repeated")
    other = sum(v for k, v in counts.items() if k not in seq)
    return env.get_template("report.html").render(batch_id=doc["batch"], items=structures, relayed=relayed,
                                                  counts=counts, other=other,
                                                  juans={it["item"]: it["juans"] for it in doc["items"]})


def write_report(work: Path, structures: list[ItemStructure], relayed: list[Problem], batch: Any) -> None:
    doc = report_doc(structures, relayed, batch.id)
    atomic_write_json(work / STRUCTURE_DIR / "report.json", doc, indent=1)
    atomic_write_text(work / STRUCTURE_DIR / "report.html", render_html(doc, structures, relayed))
    atomic_write_text(work / STRUCTURE_DIR / "review.csv", review_csv(structures, batch))
    refresh_qc_report(work)


# the metadata review's CSV columns (guji metadata review / apply): reviewers fill corrected_value
REVIEW_COLUMNS = ["item", "census_no", "row", "field", "severity", "rule", "message", "original_value",
                  "corrected_value", "reviewer"]


def review_csv(structures: list[ItemStructure], batch: Any) -> str:
    """The census cross-check findings (存卷, 题名卷数, 册数 against the centre column) as rows in
    the metadata review's CSV format, for the protection centre's reviewers."""
    import csv
    import io

    from guji.textfold import convert

    items = {it.id: it for it in batch.items}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REVIEW_COLUMNS)
    for st in structures:
        it = items.get(st.item)
        record = {convert("t2s", str(k)).strip(): str(v or "") for k, v in ((it.record if it else {}) or {}).items()}
        for p in st.problems:
            if not p.code.startswith("census-"):
                continue
            w.writerow([st.item, (it.census_no if it else "") or "", (it.record_row if it else "") or "", p.field or "",
                        p.severity, p.code, p.message, record.get(p.field or "", ""), "", ""])
    return "\ufeff" + buf.getvalue()


def refresh_qc_report(work: Path) -> None:
    """Re-render the QC report so its structure section shows this run's findings (the QC report
    is written by clean, which runs before this stage)."""
    qc_json = work / "clean" / "qc" / "qc.json"
    if not qc_json.is_file():
        return
    from guji.clean import qc

    doc = json.loads(qc_json.read_text("utf-8"))
    qc.write_reports(work, doc["pages"], doc["thresholds"])


SEQUENCE_CODES = ("leaf-missing", "leaf-misordered", "leaf-duplicated", "leaf-number-repeated")


def qc_section(doc: dict[str, Any]) -> str:
    """The QC report's structure section (HTML fragment) from ``report.json``: leaf findings only."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("guji.structure", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]))
    findings = [p for it in doc.get("items", []) for p in it.get("problems", []) if p["code"] in SEQUENCE_CODES]
    findings += [p for p in doc.get("relayed", [])]
    return env.get_template("qc_section.html").render(counts=doc.get("counts", {}), findings=findings)
