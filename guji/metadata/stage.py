"""The `metadata` stage: census rows of WORK/ingest/batch.json → normalised, validated records.

Per item (``<item>`` = item id) under WORK/metadata/:

- ``<item>.json``: the normalised record (guji/schemas/record.schema.json), original strings kept,
  restricted fields included, ``findings`` listed.
- ``<item>.public.json``: :func:`guji.metadata.record.public_view` (no 定级, 破损级别, internal 附注,
  findings) plus ``iiif``: ``{"label", "summary", "metadata": [{"label", "value"}], "navDate",
  "requiredStatement", "rights"}`` — language maps (zh-Hant first, zh-Hans, en) that the IIIF stage
  copies into the manifest as they are. ``navDate`` is ``YYYY-01-01T00:00:00+08:00`` or null.
- ``<item>.mods.xml`` (MODS 3.8), ``<item>.dc.xml`` (oai_dc): public fields only.

Batch files: ``review.html``, ``review.csv``, ``review.json``. Corrections applied with
``guji metadata apply`` (``corrections.jsonl``) override the sheet value per field.
Cross-checks with images (warnings): 册数 vs volumes scanned; with OCR page JSON in WORK/ocr/<item>/
(``layout_facts``): 版式 lines/characters vs measured, frame size vs measured, 存卷 vs juan seen in
the centre column; 存卷 vs juan of structure.csv.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from guji.errors import Problem
from guji.exitcodes import ExitCode, worst
from guji.fsutil import atomic_write_json, atomic_write_text, sha256_bytes, sha256_file
from guji.settings import Setting, StageSettings
from guji.stage import StageContext, StageResult
from guji.state import fingerprint

STAGE = "metadata"
SETTINGS = StageSettings("metadata", (
    Setting("frame_tolerance_cm", 1.0, "著錄版框尺寸與測得尺寸相差超過此值（厘米）時提示",
            "warn when the catalogued frame size and the measured one differ by more than this (cm)", min=0),
    Setting("layout_tolerance", 1, "著錄行款與識別測得行數、字數相差超過此值時提示",
            "warn when the catalogued 行款 and the measured lines / characters differ by more than this", min=0),
))
DEFAULTS: dict[str, Any] = SETTINGS.defaults()
VERSION = "2"  # 2: typed record (census.CensusRecord), edition layers, facets, reviewer checks


def _tools() -> dict[str, str]:
    from importlib import resources

    import opencc  # noqa: F401

    table = resources.files("guji.metadata").joinpath("data/reign_eras.tsv").read_bytes()
    from guji.metadata.record import record_schema

    return {"guji-metadata": VERSION, "reign_eras": sha256_bytes(table),
            "schema": sha256_bytes(json.dumps(record_schema(), sort_keys=True).encode())}


def ocr_facts(work: Path, item: str) -> tuple[list[dict], dict[str, str]]:
    """The OCR stage's page models of ``item`` (their measured layout facts) and their hashes; the
    metadata stage and the workspace's live checks compare the record with them."""
    d = work / "ocr" / item
    pages, hashes = [], {}
    if d.is_dir():
        for p in sorted(d.rglob("*.json")):
            try:
                pages.append(json.loads(p.read_text("utf-8")))
                hashes[str(p.relative_to(work))] = sha256_file(p)
            except (OSError, ValueError):
                continue
    return pages, hashes


def median_fact(facts: list[dict], key: str, idx: int | None = None) -> float | None:
    """The median over pages of a measured layout fact (``layout_facts[key]``; ``idx``: one element of
    a pair such as ``frame_cm``), None when no page measured it."""
    vals = []
    for f in facts:
        v = f.get(key)
        if v is None:
            continue
        if idx is not None:
            if not isinstance(v, (list, tuple)) or len(v) <= idx or v[idx] is None:
                continue
            v = v[idx]
        vals.append(float(v))
    return statistics.median(vals) if vals else None


def cross_check(rec: dict, item: Any, ocr_pages: list[dict], params: dict) -> list[tuple]:
    """(severity, code, field, message zh, message en) warnings comparing the record with what was
    scanned/measured."""
    out = []
    vols = rec.get("volumes")
    n_scanned = len(getattr(item, "volumes", []) or [])
    if vols and vols.get("unit") in ("册", "冊") and n_scanned and vols["count"] != n_scanned:
        out.append(("warning", "volumes-vs-scanned", "册数",
                    f"册数为{vols['count']}，但扫描了{n_scanned}册（文件夹）",
                    f"册数 says {vols['count']} but {n_scanned} volume folder(s) were scanned"))
    facts = [p.get("layout_facts") or {} for p in ocr_pages]
    lay = rec.get("layout") or {}
    tol = params["layout_tolerance"]

    def med(key: str, idx: int | None = None) -> float | None:
        return median_fact(facts, key, idx)

    cols = med("columns_per_half_leaf")
    if lay.get("lines") and cols is not None and abs(cols - lay["lines"]) > tol:
        out.append(("warning", "layout-vs-measured", "版式",
                    f"版式著录每半叶{lay['lines']}行，识别测得{cols:g}行（{len(facts)}页的中位数）",
                    f"版式 says {lay['lines']} lines per half-leaf, OCR measured {cols:g} (median of {len(facts)} pages)"))
    chars = med("chars_per_column")
    if lay.get("chars") and chars is not None:
        hi = lay.get("chars_max") or lay["chars"]
        if chars < lay["chars"] - tol or chars > hi + tol:
            out.append(("warning", "layout-vs-measured", "版式",
                        f"版式著录每行{lay['chars']}字，识别测得{chars:g}字",
                        f"版式 says {lay['chars']} characters per column, OCR measured {chars:g}"))
    frame = (rec.get("size") or {}).get("frame_cm")
    fw, fh = med("frame_cm", 0), med("frame_cm", 1)
    if frame and fw is not None and fh is not None:
        t = params["frame_tolerance_cm"]
        if abs(fw - frame[0]) > t or abs(fh - frame[1]) > t:
            out.append(("warning", "frame-vs-measured", "尺寸",
                        f"尺寸著录版框{frame[1]}×{frame[0]}厘米（高×宽），测得{fh:g}×{fw:g}厘米",
                        f"尺寸 gives a frame of {frame[1]}×{frame[0]} cm (h×w), measured {fh:g}×{fw:g} cm"))
    extant = rec.get("extant") or {}
    if extant.get("count"):
        from guji.metadata.eras import cn_to_int

        seen = set()
        for p in ocr_pages:
            j = (p.get("centre_column") or {}).get("juan")
            if j:
                jn = cn_to_int(str(j).replace("卷", "").strip()) if not isinstance(j, int) else j
                seen.add(jn if jn is not None else str(j))
        if seen and len(seen) > extant["count"]:
            out.append(("warning", "extant-vs-detected", "存卷",
                        f"存卷著录{extant['count']}卷，但版心显示{len(seen)}个不同的卷次",
                        f"存卷 gives {extant['count']} juan but the centre column shows {len(seen)} different juan"))
        if extant.get("juan") and seen and all(isinstance(x, int) for x in seen) and not seen <= set(extant["juan"]):
            out.append(("warning", "extant-vs-detected", "存卷",
                        f"版心显示卷{sorted(seen)}，不全在存卷{extant['juan']}之内",
                        f"centre column shows juan {sorted(seen)} not all in 存卷 {extant['juan']}"))
        structure = getattr(item, "juan", None) or []
        if structure and len(structure) != extant["count"]:
            out.append(("warning", "extant-vs-structure", "存卷",
                        f"存卷著录{extant['count']}卷，structure.csv 标了{len(structure)}卷",
                        f"存卷 gives {extant['count']} juan, structure.csv marks {len(structure)}"))
    return out


def run(ctx: StageContext) -> StageResult:
    from guji.metadata import crosswalk
    from guji.metadata.record import normalise, public_view
    from guji.metadata.review import load_corrections, review_entries, write_csv, write_html

    result = StageResult(stage=STAGE)
    batch = ctx.batch()
    params = ctx.params(STAGE, DEFAULTS)
    binfo = batch.institution
    inst_code, institution, rights = binfo.get("institution_code"), binfo.get("institution"), binfo.get("rights")
    tools = _tools()
    out_dir = ctx.work / "metadata"
    corrections = load_corrections(ctx.work)

    inputs = {"batch.json": sha256_file(ctx.work / "ingest" / "batch.json")}
    cpath = out_dir / "corrections.jsonl"
    if cpath.exists():
        inputs["corrections"] = sha256_file(cpath)
    ocr = {}
    for it in batch.items:
        pages, hashes = ocr_facts(ctx.work, it.id)
        ocr[it.id] = pages
        inputs.update(hashes)
    fp = fingerprint(inputs, params, tools)
    if not ctx.force and ctx.store.is_current(STAGE, "batch", fp):
        rec = ctx.store.get(STAGE, "batch")
        assert rec is not None
        result.skipped = len(batch.items)
        result.info = dict(rec.info)
        result.problems = [Problem.from_dict(p) for p in rec.info.get("problems", [])]
        result.exit_code = ExitCode.VALIDATION_FAILED if rec.info.get("errors") else ExitCode.OK
        return result

    records, problems, outputs = [], [], {}
    census_seen: dict[str, str] = {}
    for it in batch.items:
        fields = dict(it.record)
        fields.update(corrections.get(it.id, {}))
        try:
            rec, probs = _normalise_guarded(normalise, fields, it, inst_code=inst_code, institution=institution)
        except _RecordFailed as e:  # not even without any one field: this item has no record, others go on
            problems.append(e.problem)
            result.failed += 1
            continue
        cn = (rec.get("census_no") or {}).get("value")
        if cn:
            if cn in census_seen:
                probs.append(Problem("error", "census-no-duplicate", f"普查编号 {cn} 与条目 {census_seen[cn]} 重复",
                                     item=it.id, row=it.record_row, field="普查编号", stage=STAGE,
                                     extra={"message_en": f"普查编号 {cn} also used by item {census_seen[cn]}"}))
            census_seen.setdefault(cn, it.id)
        for sev, code, fld, msg, en in cross_check(rec, it, ocr[it.id], params):
            probs.append(Problem(sev, code, msg, item=it.id, row=it.record_row, field=fld, stage=STAGE,
                                 extra={"message_en": en}))
        rec["findings"] = [p.to_dict() for p in probs]
        try:  # everything that may raise is built before any file is written: no half-written record
            pub = public_view(rec)
            pub["iiif"] = crosswalk.iiif_block(pub, rights=rights, institution=institution)
            mods = crosswalk.to_mods(pub, rights=rights, institution=institution)
            dc = crosswalk.to_dc(pub, rights=rights, institution=institution)
        except Exception as e:  # noqa: BLE001 - one record's crosswalk must not stop the batch
            problems.extend(probs)
            problems.append(_failure(it, None, e, "crosswalk"))
            result.failed += 1
            continue
        outputs[f"metadata/{it.id}.json"] = atomic_write_json(out_dir / f"{it.id}.json", rec)
        outputs[f"metadata/{it.id}.public.json"] = atomic_write_json(out_dir / f"{it.id}.public.json", pub)
        outputs[f"metadata/{it.id}.mods.xml"] = _write_bytes(out_dir / f"{it.id}.mods.xml", mods)
        outputs[f"metadata/{it.id}.dc.xml"] = _write_bytes(out_dir / f"{it.id}.dc.xml", dc)
        records.append(rec)
        problems.extend(probs)
        result.done += 1
    entries = review_entries(records, problems)
    outputs["metadata/review.json"] = atomic_write_json(out_dir / "review.json", {"batch": batch.id, "records": entries})
    outputs["metadata/review.csv"] = write_csv(out_dir / "review.csv", records, entries)
    outputs["metadata/review.html"] = write_html(out_dir / "review.html", records, entries, batch.id)
    errs = sum(1 for e in entries if e["errors"])
    warns = sum(1 for e in entries if e["warnings"])
    result.problems = problems
    result.info = {"records": len(records), "errors": errs, "warnings": warns,
                   "problems": [p.to_dict() for p in problems]}
    ctx.store.record(STAGE, "batch", fingerprint=fp, inputs=inputs, params=params, tools=tools, outputs=outputs,
                     info=result.info)
    if errs:
        result.exit_code = worst(result.exit_code, ExitCode.VALIDATION_FAILED)
    return result


class _RecordFailed(Exception):
    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


def _failure(it: Any, field: str | None, e: BaseException, step: str) -> Problem:
    what = f"字段「{field}」" if field else "此条记录"
    en = f"field {field!r}" if field else "this record"
    return Problem("error", "metadata-record-failed",
                   f"处理{what}时出错（{type(e).__name__}: {e}）；其他条目照常处理 / processing {en} raised "
                   f"{type(e).__name__}: {e} ({step}); the other records went on",
                   item=it.id, row=it.record_row, field=field, stage=STAGE,
                   extra={"exception": type(e).__name__, "step": step})


def _normalise_guarded(normalise: Any, fields: dict, it: Any, *, inst_code: Any, institution: Any
                       ) -> tuple[dict, list[Problem]]:
    """:func:`~guji.metadata.record.normalise` of one row; when it raises (a parser bug meets a value
    nobody foresaw), the field is found by normalising the row without each field in turn: the
    record is kept without that field, with an error finding naming row and field. When no single
    field explains it, :class:`_RecordFailed` (the item gets no record; the batch goes on)."""
    def run(f: dict) -> tuple[dict, list[Problem]]:
        return normalise(f, item=it.id, row=it.record_row, institution_code=inst_code, default_access=it.access,
                         default_profile=it.profile, institution=institution)

    try:
        return run(fields)
    except Exception as e:  # noqa: BLE001 - reported per record
        err = e
    import logging

    logging.getLogger("guji").debug("metadata: row %s of item %s raised", it.record_row, it.id, exc_info=err)
    for name, value in fields.items():
        if not (value or "").strip():
            continue
        try:
            rec, probs = run({k: v for k, v in fields.items() if k != name})
        except Exception:  # noqa: BLE001 - not this field
            continue
        return rec, probs + [_failure(it, name, err, "normalise")]
    raise _RecordFailed(_failure(it, None, err, "normalise"))


def _write_bytes(path: Path, data: bytes) -> str:
    from guji.fsutil import atomic_write_bytes

    return atomic_write_bytes(path, data)


def status(ctx: StageContext) -> dict:
    rec = ctx.store.get(STAGE, "batch")
    if rec is None:
        return {"records": 0, "records_with_errors": 0, "records_with_warnings": 0, "done": False}
    return {"records": rec.info.get("records", 0), "records_with_errors": rec.info.get("errors", 0),
            "records_with_warnings": rec.info.get("warnings", 0), "done": True}


_ = atomic_write_text  # re-exported for callers writing review files
