"""Review report for the protection centre (HTML / CSV / JSON) and feeding corrections back.

- ``review.html``: one row per record, original vs parsed, findings with their rule (code), sortable
  (click a header) and filterable (text box, severity select) with plain JS in the page.
- ``review.csv``: one line per finding (or one ``ok`` line per clean record) with empty
  ``corrected_value`` and ``reviewer`` columns; fill them and run ``guji metadata apply``.
- ``review.json``: one entry per record with its census number and findings.
- :func:`apply_corrections` appends to ``WORK/metadata/corrections.jsonl`` (who, when, field, old,
  new, from which file); the stage reads it and uses the newest value per (item, field). The
  original sheet values stay in batch.json and in ``original`` of each record.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

from guji.errors import BadBatch, Problem
from guji.fsutil import atomic_write_text
from guji.metadata.sheet import CANONICAL_FIELDS, canonical_field

CSV_COLUMNS = ["item", "census_no", "row", "field", "severity", "rule", "message", "original_value",
               "corrected_value", "reviewer"]
CORRECTIONS = "corrections.jsonl"


def review_entries(records: list[dict], problems: list[Problem]) -> list[dict]:
    by_item: dict[str, list[dict]] = {}
    for p in problems:
        by_item.setdefault(p.item or "", []).append(p.to_dict())
    out = []
    for r in records:
        f = by_item.get(r["item"], [])
        out.append({"item": r["item"], "census_no": (r.get("census_no") or {}).get("value"), "row": r.get("row"),
                    "errors": sum(1 for x in f if x["severity"] == "error"),
                    "warnings": sum(1 for x in f if x["severity"] == "warning"), "findings": f})
    return out


def _orig_value(rec: dict, field: str) -> str:
    for k, v in (rec.get("original") or {}).items():
        if canonical_field(k) == field or k == field:
            return v
    return ""


def write_csv(path: Path, records: list[dict], entries: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    recs = {r["item"]: r for r in records}
    for e in entries:
        if not e["findings"]:
            w.writerow([e["item"], e["census_no"] or "", e["row"] or "", "", "ok", "", "", "", "", ""])
        for f in e["findings"]:
            fld = f.get("field") or ""
            w.writerow([e["item"], e["census_no"] or "", e["row"] or "", fld, f["severity"], f["code"], f["message"],
                        _orig_value(recs[e["item"]], fld) if fld else "", "", ""])
    return atomic_write_text(path, "\ufeff" + buf.getvalue())  # BOM: opens right in Excel


ROLE_ZH = {"base": "底本", "recut": "修版", "reprint": "後印", "supplement": "配補", "model": "所據", "other": "其他"}
SEVERITY_ZH = {"error": "錯誤", "warning": "警告", "info": "提示"}


def _when(d: dict) -> str:
    if d.get("year") is not None:
        return str(d["year"])
    if d.get("year_range"):
        return "–".join(map(str, d["year_range"]))
    return "?"


def parsed_summary(rec: dict) -> list[tuple[str, str]]:
    """(label, value) pairs of what the parsers read, for people (Chinese labels)."""
    bits: list[tuple[str, str]] = []
    t = rec.get("title") or {}
    if t:
        bits.append(("題名", " / ".join(f"{w['title']}{'' if w.get('juan') is None else ' ' + str(w['juan']) + '卷'}"
                                       for w in t.get("works", []))))
    if rec.get("authors"):
        bits.append(("著者", "；".join(f"{p.get('dynasty') or '？'} {p['name']}［{p.get('role') or '？'}］"
                                      for p in rec["authors"])))
    ed = rec.get("edition") or {}
    if ed:
        bits.append(("版本", f"{ed.get('dynasty') or ''}{ed.get('era') or ''} → {_when(ed)}；"
                             f"{ed.get('publisher') or ''} {ed.get('edition_type') or ''}（{ed.get('category') or '？'}）"))
        for L in (ed.get("layers") or [])[1:]:
            evs = "；".join(f"{e.get('dynasty') or ''}{e.get('era') or ''} {_when(e)} {e.get('agent') or ''}".strip()
                           for e in L.get("events") or [])
            bits.append((ROLE_ZH.get(L.get("role"), L.get("role") or ""), f"{L.get('text')}（{evs}）" if evs else L.get("text")))
    lay = rec.get("layout") or {}
    if lay:
        bits.append(("版式", f"{lay.get('lines')}行{lay.get('chars')}字"))
    if rec.get("extant"):
        bits.append(("存卷", f"{rec['extant'].get('count')}卷"))
    if rec.get("volumes"):
        bits.append(("冊數", f"{rec['volumes']['count']}{rec['volumes']['unit']}"))
    sz = rec.get("size") or {}
    if sz.get("frame_cm") or sz.get("page_cm"):
        bits.append(("尺寸", f"版框 {sz.get('frame_cm')} 開本 {sz.get('page_cm')}（寬、高，厘米）"))
    cls = rec.get("classification")
    if isinstance(cls, dict) and cls.get("path"):
        bits.append(("分類", " › ".join(cls["path"])))
    return bits


def code_counts(entries: list[dict]) -> list[dict]:
    """One row per (code, severity): count, fields, one example message."""
    by: dict[tuple[str, str], dict] = {}
    for e in entries:
        for f in e["findings"]:
            k = (f["code"], f["severity"])
            d = by.setdefault(k, {"code": k[0], "severity": k[1], "count": 0, "fields": set(), "example": f["message"]})
            d["count"] += 1
            if f.get("field"):
                d["fields"].add(f["field"])
    out = sorted(by.values(), key=lambda d: (d["severity"] != "error", -d["count"], d["code"]))
    for d in out:
        d["fields"] = "、".join(sorted(d["fields"]))
    return out


def write_html(path: Path, records: list[dict], entries: list[dict], batch_id: str) -> str:
    """review.html from the Jinja2 template ``review.html`` beside this module (autoescaped)."""
    from importlib import resources

    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    tpl = env.from_string(resources.files("guji.metadata").joinpath("review.html").read_text("utf-8"))
    recs = {r["item"]: r for r in records}
    rows = []
    for ent in entries:
        r = recs[ent["item"]]
        rows.append({
            "row": ent["row"], "item": ent["item"], "census_no": ent["census_no"],
            "errors": ent["errors"], "warnings": ent["warnings"],
            "codes": " ".join(sorted({f["code"] for f in ent["findings"]})),
            "original": list((r.get("original") or {}).items()), "parsed": parsed_summary(r),
            "findings": [{"severity": f["severity"], "code": f["code"], "field": f.get("field") or "",
                          "message": f["message"], "message_en": (f.get("extra") or {}).get("message_en", "")}
                         for f in ent["findings"]],
        })
    n_err = sum(1 for x in entries if x["errors"])
    n_warn = sum(1 for x in entries if x["warnings"] and not x["errors"])
    page = tpl.render(batch_id=batch_id, total=len(entries), n_errors=n_err, n_warnings=n_warn,
                      n_clean=len(entries) - n_err - n_warn, codes=code_counts(entries), rows=rows,
                      severity_zh=SEVERITY_ZH)
    return atomic_write_text(path, page)


# -- corrections --------------------------------------------------------------------------------

def load_corrections(work: Path) -> dict[str, dict[str, str]]:
    """item -> {canonical field: newest corrected value}."""
    p = Path(work) / "metadata" / CORRECTIONS
    out: dict[str, dict[str, str]] = {}
    if not p.exists():
        return out
    for line in p.read_text("utf-8").splitlines():
        if line.strip():
            c = json.loads(line)
            out.setdefault(c["item"], {})[c["field"]] = c["new"]
    return out


def apply_corrections(csv_path: Path, work: Path, *, who: str, now: datetime | None = None) -> tuple[list[dict], list[Problem]]:
    """Read a filled review CSV; append one JSON line per correction to WORK/metadata/corrections.jsonl."""
    from guji.model import load_batch

    batch = load_batch(work)
    items = {it.id: it for it in batch.items}
    try:
        text = Path(csv_path).read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise BadBatch(f"cannot read corrections file {csv_path}: {e}") from e
    reader = csv.DictReader(io.StringIO(text))
    missing = {"item", "field", "corrected_value"} - set(reader.fieldnames or [])
    if missing:
        raise BadBatch(f"{csv_path}: missing columns {', '.join(sorted(missing))}")
    now = now or datetime.now(timezone.utc)
    current = load_corrections(work)
    done: list[dict] = []
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(reader, start=2):
        new = (row.get("corrected_value") or "").strip()
        if not new:
            continue
        item, fld = (row.get("item") or "").strip(), (row.get("field") or "").strip()
        canon = canonical_field(fld) or (fld if fld in CANONICAL_FIELDS else None)
        if item not in items:
            problems.append(Problem("error", "unknown-item", f"item {item!r} is not in the batch",
                                    path=str(csv_path), row=i, field="item"))
            continue
        if canon is None:
            problems.append(Problem("error", "unknown-field", f"field {fld!r} is not a census field",
                                    path=str(csv_path), row=i, field="field"))
            continue
        if (item, canon) in seen:
            continue  # several findings on one field: one correction
        seen.add((item, canon))
        old = current.get(item, {}).get(canon, items[item].record.get(canon, ""))
        if old == new:
            continue
        done.append({"item": item, "field": canon, "old": old, "new": new, "who": (row.get("reviewer") or "").strip() or who,
                     "when": now.isoformat(timespec="seconds"), "source": str(csv_path), "source_row": i})
    if done:
        p = Path(work) / "metadata" / CORRECTIONS
        p.parent.mkdir(parents=True, exist_ok=True)
        prev = p.read_text("utf-8") if p.exists() else ""
        atomic_write_text(p, prev + "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in done), durable=True)
    return done, problems
