"""Ingest reports: JSON for machines, plain text for people. Deterministic (no timestamps)."""

from __future__ import annotations

from typing import Any

from guji.model import Batch


def report_dict(batch: Batch) -> dict[str, Any]:
    items = []
    for it in batch.items:
        pages = list(it.pages())
        items.append({
            "id": it.id, "status": it.status, "census_no": it.census_no, "profile": it.profile,
            "access": it.access, "record_row": it.record_row,
            "volumes": [{"id": v.id, "label": v.label, "pages": len(v.pages)} for v in it.volumes],
            "pages": len(pages), "pages_blocked": sum(1 for p in pages if not p.ok),
            "bytes": sum(p.size for p in pages),
            "juan": [{"label": j.label, "start": j.start_page, "end": j.end_page} for j in it.juan],
            "problems": [p.to_dict() for p in it.problems]
                        + [pr.to_dict() for p in pages for pr in p.problems],
        })
    probs = batch.all_problems()
    return {
        "batch": batch.id, "root": batch.root, "sheet": batch.sheet,
        "summary": {
            "items": len(batch.items), "items_ok": sum(1 for i in batch.items if i.ok),
            "items_blocked": sum(1 for i in batch.items if not i.ok),
            "pages": sum(1 for _ in batch.pages(ok_only=False)), "pages_ok": sum(1 for _ in batch.pages()),
            "errors": sum(1 for p in probs if p.severity == "error"),
            "warnings": sum(1 for p in probs if p.severity == "warning"),
        },
        "batch_problems": [p.to_dict() for p in batch.problems],
        "items": items,
    }


def render_text_report(rep: dict[str, Any]) -> str:
    s = rep["summary"]
    lines = [
        f"guji ingest report — batch {rep['batch']}",
        f"folder: {rep['root']}",
        f"sheet:  {rep['sheet']}",
        "",
        f"items: {s['items']} ({s['items_ok']} ok, {s['items_blocked']} blocked)",
        f"pages: {s['pages']} ({s['pages_ok']} ok)",
        f"findings: {s['errors']} errors, {s['warnings']} warnings",
        "",
    ]
    if rep["batch_problems"]:
        lines.append("Batch:")
        for p in rep["batch_problems"]:
            lines.append("  " + _line(p))
        lines.append("")
    for it in rep["items"]:
        vols = ", ".join(f"{v['label']}: {v['pages']}" for v in it["volumes"])
        lines.append(f"{it['id']}  [{it['status'].upper()}]  {it['pages']} pages ({vols})  "
                     f"profile {it['profile']}, access {it['access']}")
        for p in it["problems"]:
            lines.append("  " + _line(p))
    lines.append("")
    return "\n".join(lines)


def _line(p: dict[str, Any]) -> str:
    where = p.get("path") or p.get("item") or ""
    if p.get("row") is not None:
        where += f", row {p['row']}"
    if p.get("field"):
        where += f", field {p['field']}"
    return f"{p['severity'].upper():7} {p['code']:<28} {where}: {p['message']}"
