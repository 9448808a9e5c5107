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
import html
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


def _parsed_summary(rec: dict) -> str:
    bits = []
    t = rec.get("title") or {}
    if t:
        bits.append("題名: " + " / ".join(f"{w['title']}{'' if w.get('juan') is None else ' ' + str(w['juan']) + '卷'}"
                                         for w in t.get("works", [])))
    if rec.get("authors"):
        bits.append("著者: " + "；".join(f"{p.get('dynasty') or ''} {p['name']} [{p.get('role') or '?'}]" for p in rec["authors"]))
    ed = rec.get("edition") or {}
    if ed:
        when = ed.get("year") or ("–".join(map(str, ed["year_range"])) if ed.get("year_range") else "?")
        bits.append(f"版本: {ed.get('dynasty') or ''} {ed.get('era') or ''} → {when}; {ed.get('publisher') or ''} "
                    f"{ed.get('edition_type') or ''}")
    lay = rec.get("layout") or {}
    if lay:
        bits.append(f"版式: {lay.get('lines')}行 {lay.get('chars')}字")
    if rec.get("extant"):
        bits.append(f"存卷: {rec['extant'].get('count')}")
    if rec.get("volumes"):
        bits.append(f"册数: {rec['volumes']['count']}{rec['volumes']['unit']}")
    sz = rec.get("size") or {}
    if sz.get("frame_cm") or sz.get("page_cm"):
        bits.append(f"尺寸: frame {sz.get('frame_cm')} page {sz.get('page_cm')} (w,h cm)")
    return "\n".join(bits)


_JS = """
function sortBy(th){const t=th.closest('table'),i=[...th.parentNode.children].indexOf(th),asc=th.dataset.asc!=='1';
th.dataset.asc=asc?'1':'0';const rows=[...t.tBodies[0].rows];rows.sort((a,b)=>{const x=a.cells[i].dataset.v??a.cells[i].innerText,
y=b.cells[i].dataset.v??b.cells[i].innerText;const nx=parseFloat(x),ny=parseFloat(y);
const c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y,'zh');return asc?c:-c});rows.forEach(r=>t.tBodies[0].appendChild(r));}
function filt(){const q=document.getElementById('q').value.toLowerCase(),s=document.getElementById('sev').value;
for(const r of document.querySelectorAll('#rec tbody tr')){const okq=!q||r.innerText.toLowerCase().includes(q);
const oks=!s||(s==='error'&&r.dataset.errors>0)||(s==='warning'&&r.dataset.warnings>0)||(s==='clean'&&r.dataset.errors==0&&r.dataset.warnings==0);
r.style.display=(okq&&oks)?'':'none';}}
"""


def write_html(path: Path, records: list[dict], entries: list[dict], batch_id: str) -> str:
    e = html.escape
    recs = {r["item"]: r for r in records}
    n_err = sum(1 for x in entries if x["errors"])
    n_warn = sum(1 for x in entries if x["warnings"] and not x["errors"])
    rows = []
    for ent in entries:
        r = recs[ent["item"]]
        orig = "".join(f"<div><b>{e(k)}</b>: {e(v)}</div>" for k, v in (r.get("original") or {}).items())
        finds = "".join(f"<div class='{e(f['severity'])}'>{e(f['severity'])} <code>{e(f['code'])}</code> "
                        f"[{e(f.get('field') or '')}] {e(f['message'])}</div>" for f in ent["findings"]) or "ok"
        rows.append(f"<tr data-errors='{ent['errors']}' data-warnings='{ent['warnings']}'>"
                    f"<td data-v='{ent['row'] or 0}'>{ent['row'] or ''}</td><td>{e(ent['item'])}</td>"
                    f"<td>{e(ent['census_no'] or '')}</td><td class='o'>{orig}</td>"
                    f"<td class='p'>{e(_parsed_summary(r))}</td>"
                    f"<td data-v='{ent['errors'] * 1000 + ent['warnings']}'>{finds}</td></tr>")
    page = f"""<!doctype html><html lang="zh-Hant"><head><meta charset="utf-8">
<title>guji metadata review {e(batch_id)}</title><style>
body{{font-family:sans-serif;margin:1em}} table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #ccc;padding:4px;vertical-align:top;font-size:13px}} th{{cursor:pointer;background:#eee}}
.p{{white-space:pre-wrap}} .error{{color:#b00}} .warning{{color:#a60}} code{{font-size:12px}}
</style><script>{_JS}</script></head><body>
<h1>Metadata review: {e(batch_id)}</h1>
<p>{len(entries)} records; {n_err} with errors; {n_warn} with warnings only. Click a column header to sort.
Corrections: fill <code>corrected_value</code> and <code>reviewer</code> in review.csv, then run
<code>guji metadata apply review.csv --work WORK</code>.</p>
<p><input id="q" placeholder="filter…" oninput="filt()"> <select id="sev" onchange="filt()">
<option value="">all</option><option value="error">with errors</option><option value="warning">with warnings</option>
<option value="clean">clean</option></select></p>
<table id="rec"><thead><tr><th onclick="sortBy(this)">row</th><th onclick="sortBy(this)">item</th>
<th onclick="sortBy(this)">普查编号</th><th onclick="sortBy(this)">original</th><th onclick="sortBy(this)">parsed</th>
<th onclick="sortBy(this)">findings</th></tr></thead><tbody>
{''.join(rows)}
</tbody></table></body></html>
"""
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
