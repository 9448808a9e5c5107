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
                   "juans": [{"label": j.label, "start": j.start, "end": j.end, "volumes": j.volumes,
                              "leaves": j.leaves, "missing": j.missing} for j in st.juans],
                   "problems": [p.to_dict() for p in st.problems]} for st in structures],
        "relayed": [p.to_dict() for p in relayed],
    }


def render_html(doc: dict[str, Any], structures: list[ItemStructure], relayed: list[Problem]) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("guji.structure", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]), keep_trailing_newline=True)
    counts = doc["counts"]
    seq = ("leaf-missing", "leaf-misordered", "leaf-duplicated", "leaf-number-repeated")
    other = sum(v for k, v in counts.items() if k not in seq)
    return env.get_template("report.html").render(batch_id=doc["batch"], items=structures, relayed=relayed,
                                                  counts=counts, other=other)


def write_report(work: Path, structures: list[ItemStructure], relayed: list[Problem], batch: Any) -> None:
    doc = report_doc(structures, relayed, batch.id)
    atomic_write_json(work / STRUCTURE_DIR / "report.json", doc, indent=1)
    atomic_write_text(work / STRUCTURE_DIR / "report.html", render_html(doc, structures, relayed))
    refresh_qc_report(work)


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
