"""The ingest stage: check a batch folder, measure every master, record fixity.

Outputs: ``WORK/ingest/batch.json`` (the data model for all later stages),
``WORK/ingest/report.json`` and ``report.txt``, and the masters' SHA-256 in the state store's
fixity ledger. An item with any error is blocked (left out of later stages); the rest go on.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

from guji.errors import BadBatch, NotReady, Problem
from guji.exitcodes import ExitCode, worst
from guji.fsutil import atomic_write_json, atomic_write_text, remove_stale_temps
from guji.ingest.batchconf import read_batch_toml
from guji.ingest.images import file_identity, inspect_page
from guji.ingest.report import render_text_report, report_dict
from guji.ingest.scan import find_sheet, scan_batch
from guji.model import BATCH_JSON, Batch, Page
from guji.settings import Setting, StageSettings
from guji.stage import PageTask, StageContext, StageResult, TaskOutput, run_tasks

log = logging.getLogger("guji")

STAGE = "ingest"
SETTINGS = StageSettings("ingest", (
    Setting("max_pixels", 600_000_000, "像素超過此數的圖不解碼（防解壓炸彈）",
            "refuse images above this many pixels (decompression-bomb guard)", min=1, option="--max-pixels"),
    # a gap in the file numbering is a warning: the leaf may be missing from the book itself, which the
    # structure stage reads from the centre column (版心); false makes a gap block the item
    Setting("allow_number_gaps", True, "文件編號有缺號只警告（缺葉由 structure 從版心判斷）；false：缺號阻止該書",
            "a gap in the file numbering is a warning (structure reads missing leaves from the centre column); "
            "false: a gap blocks the item"),
))
DEFAULTS: dict[str, Any] = SETTINGS.defaults()


def _tools() -> dict[str, str]:
    import PIL

    return {"pillow": PIL.__version__}


def run(ctx: StageContext) -> StageResult:
    if ctx.batch_dir is None:
        raise NotReady("ingest needs the batch folder: guji ingest BATCH --work DIR")
    root = Path(ctx.batch_dir).resolve()
    if not root.is_dir():
        raise BadBatch(f"{root}: not a folder")
    remove_stale_temps(ctx.work)
    config = read_batch_toml(root)
    ctx.config = config
    params = ctx.params(STAGE, DEFAULTS)

    sheet_path = find_sheet(root, config)
    sheet_rows: list[Any] = []
    sheet_problems: list[Problem] = []
    if sheet_path is None:
        raise BadBatch(f"{root}: no census sheet (records.csv, records.xlsx or [batch] sheet in batch.toml)")
    from guji.metadata.sheet import read_sheet

    sheet = read_sheet(sheet_path)
    sheet_rows = sheet.rows
    for p in sheet.problems:
        p.path = p.path or sheet_path.name
        sheet_problems.append(p)

    batch = scan_batch(root, config, sheet_rows, sheet_path.name,
                       allow_gaps=bool(params.get("allow_number_gaps")))
    batch.problems[:0] = sheet_problems

    pages: dict[str, Page] = {p.id: p for p in batch.pages(ok_only=False)}
    tasks = [
        PageTask(key=f"{batch.id}:{p.master}", inputs={"file": file_identity(root / p.master)},
                 payload={"path": str(root / p.master), "page_id": p.id}, item_id=p.item_id)
        for p in pages.values()
    ]
    measured: dict[str, dict[str, Any]] = {}

    def on_result(task: PageTask, out: TaskOutput) -> None:
        measured[task.payload["page_id"]] = out.info

    tparams = {"max_pixels": int(params["max_pixels"])}
    result = run_tasks(ctx, STAGE, tasks, inspect_page, params=tparams, tools=_tools(),
                       description="ingest: checking images", on_result=on_result)

    for pid, info in measured.items():
        page = pages[pid]
        for k, v in info.items():
            if k == "problems":
                continue
            if k == "ppi" and v is not None:
                v = tuple(v)
            setattr(page, k, v)
        for pd in info.get("problems", []):
            page.problems.append(Problem(pd["severity"], pd["code"], pd["message"], path=page.master,
                                         item=page.item_id, page=page.id))
    for pr in result.problems:  # worker crashed on a page (should not happen): block it
        pid = next((p.id for p in pages.values() if f"{batch.id}:{p.master}" == pr.page), None)
        if pid:
            pages[pid].problems.append(Problem("error", "inspection-failed", pr.message,
                                               path=pages[pid].master, item=pages[pid].item_id, page=pid))

    _check_duplicates(batch)
    _check_fixity_ledger(ctx, batch)
    _block(batch)

    ok_masters = [(p.id, p.master, p.sha256, p.size) for p in batch.pages(ok_only=False) if p.sha256]
    ctx.store.record_masters(ok_masters)
    _write_outputs(ctx, batch)

    res = StageResult(stage=STAGE, done=result.done, skipped=result.skipped, failed=result.failed)
    res.problems = batch.all_problems()
    blocked_items = [i.id for i in batch.items if not i.ok]
    has_errors = any(p.severity == "error" for p in res.problems)
    res.info = {
        "batch": batch.id, "items": len(batch.items), "items_blocked": blocked_items,
        "pages": len(pages), "pages_ok": sum(1 for _ in batch.pages()),
        "report": str(ctx.work / "ingest" / "report.txt"),
    }
    if has_errors:
        res.exit_code = worst(res.exit_code, ExitCode.ITEMS_BLOCKED)
    ctx.reload()  # later stages read the batch.json just written
    log.info("ingest: %d items (%d blocked), %d pages; report %s", len(batch.items), len(blocked_items),
             len(pages), res.info["report"])
    return res


def _check_duplicates(batch: Batch) -> None:
    by_hash: dict[str, list[Page]] = defaultdict(list)
    for p in batch.pages(ok_only=False):
        if p.sha256:
            by_hash[p.sha256].append(p)
    for digest, same in by_hash.items():
        if len(same) < 2:
            continue
        names = [p.master for p in same]
        for p in same:
            others = [n for n in names if n != p.master]
            # a warning, not a block: both captures are kept and the structure stage tells a
            # duplicated leaf (重葉) from a re-shoot; staff remove the extra file
            p.problems.append(Problem("warning", "duplicate-image",
                                      f"byte-identical to {', '.join(others)} (SHA-256 {digest[:12]}…)",
                                      path=p.master, item=p.item_id, page=p.id))


def _check_fixity_ledger(ctx: StageContext, batch: Batch) -> None:
    """A master re-ingested with other bytes than first recorded is an error (the ledger keeps the first)."""
    known = {path: digest for _pid, path, digest, _size in ctx.store.masters()}
    for p in batch.pages(ok_only=False):
        recorded = known.get(p.master)
        if recorded and p.sha256 and recorded != p.sha256:
            p.problems.append(Problem("error", "master-changed",
                                      f"SHA-256 differs from the one recorded at first ingest ({recorded[:12]}…); "
                                      f"masters must not change — restore it, or ingest into a new --work folder",
                                      path=p.master, item=p.item_id, page=p.id))


def _block(batch: Batch) -> None:
    for item in batch.items:
        for page in item.pages():
            if any(pr.severity == "error" for pr in page.problems):
                page.status = "blocked"
        if any(pr.severity == "error" for pr in item.problems) or any(not p.ok for p in item.pages()):
            item.status = "blocked"
            bad = [p.master for p in item.pages() if not p.ok]
            if bad:
                item.problems.append(Problem("error", "item-blocked",
                                             f"blocked: {len(bad)} bad page(s): {', '.join(bad[:5])}"
                                             + (" …" if len(bad) > 5 else ""), path=item.folder, item=item.id))


def _write_outputs(ctx: StageContext, batch: Batch) -> None:
    out = ctx.work / "ingest"
    atomic_write_json(ctx.work / BATCH_JSON, batch.to_dict(), durable=True)
    rep = report_dict(batch)
    atomic_write_json(out / "report.json", rep)
    atomic_write_text(out / "report.txt", render_text_report(rep))


def status(ctx: StageContext) -> dict[str, Any]:
    b = ctx.batch()
    probs = b.all_problems()
    return {"errors": sum(1 for p in probs if p.severity == "error"),
            "warnings": sum(1 for p in probs if p.severity == "warning")}
