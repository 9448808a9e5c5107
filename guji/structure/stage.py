"""The ``structure`` stage (between ocr and metadata): leaf order, missing / misordered / duplicated
leaves, juan ranges and page labels from the centre column (版心).

Inputs: ``WORK/ingest/batch.json`` (items, volumes, census row, ``structure.csv`` juan starts),
``WORK/clean/canvases.json`` (reading order, thumbnails), ``WORK/ocr/<item>/<canvas-slug>.json``
(``centre_column`` and the centre-column region's lines). Outputs, per item (one resumable task
each, fingerprinted on those inputs): ``WORK/structure/<item>.json`` (:class:`ItemStructure`).
Then, rebuilt every run from those: ``WORK/structure/report.{html,json}`` (Chinese first) and the
structure section of the QC report (``WORK/clean/qc/report.html`` / ``qc.json``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from guji.errors import Problem
from guji.fsutil import atomic_write_json, canonical_json, sha256_bytes
from guji.model import PROFILE_RARE_BOOK, ocr_json_path
from guji.settings import ENGINE_PLUGIN, Setting, StageSettings
from guji.stage import PageTask, StageContext, StageResult, TaskOutput, run_tasks
from guji.structure.model import STRUCTURE_DIR, ItemStructure, load_item_structure, structure_json_path

log = logging.getLogger("guji")

STAGE = "structure"
VERSION = "6"  # bump when the analysis changes its outputs
SETTINGS = StageSettings("structure", (
    Setting("text_similarity", 0.6, "正文相似度高於此值的兩頁視為同一葉", "body-text ratio above which two canvases show the same leaf",
            min=0, max=1),
    Setting("image_similarity", 0.9, "文字太少時用縮略圖相關度判斷同一葉", "thumbnail correlation used when there is too little text",
            min=-1, max=1),
    Setting("min_text_chars", 20, "少於此字數時改用圖像比較", "fewer characters than this: compare images instead", min=0),
    Setting("reread", True, "在版心裁切圖上重新識別葉碼", "re-read the leaf number in the centre column's crop"),
    Setting("engine", "rapidocr", "重新識別用的 OCR 引擎", "OCR engine for the re-reading", choices=("rapidocr", "tesseract"),
            pattern=ENGINE_PLUGIN, pattern_doc="module:factory (plugin)"),
))
DEFAULTS: dict[str, Any] = SETTINGS.defaults()


# -- per-item worker ---------------------------------------------------------------------------

def centre_pieces(model: dict[str, Any]) -> list[str]:
    for reg in model.get("regions") or []:
        if reg.get("type") == "centre-column":
            return [ln.get("text", "") for ln in reg.get("lines") or [] if (ln.get("text") or "").strip()]
    text = (model.get("centre_column") or {}).get("text") or ""
    return text.split()


def _thumb(path: Path) -> Any:
    import cv2
    import numpy as np

    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        return None
    img = cv2.resize(img, (96, 128), interpolation=cv2.INTER_AREA).astype(np.float32)
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    img -= img.mean()
    n = float(np.linalg.norm(img))
    return img / n if n > 0 else None


_ENGINES: dict[str, Any] = {}  # one engine per worker process, loaded on first use


def reread_engine(prm: dict[str, Any]) -> Any:
    """The OCR engine for the crop re-reading (None when ``reread`` is off)."""
    if not prm.get("reread"):
        return None
    from guji.ocr.engines import get_engine

    name = str(prm["engine"])
    if name not in _ENGINES:
        _ENGINES[name] = get_engine(name)
    return _ENGINES[name]


def with_reread(readings: list[Any], pieces: list[str], engine: Any, image: Path, model: dict[str, Any],
                 to_master: Any) -> list[Any]:
    """Add the leaf-number candidates of the crop re-reading to the OCR stage's readings."""
    import cv2

    from guji.structure.centre import Reading, rank, read_centre
    from guji.structure.reread import leaf_pieces

    img = cv2.imread(str(image), cv2.IMREAD_COLOR)
    if img is None:
        return readings
    best: dict[tuple, Reading] = {(r.juan, r.leaf): r for r in readings}
    for text, cost in leaf_pieces(engine, img, model, to_master):
        for r in read_centre([pieces[0], text]):
            if r.leaf is None:
                continue
            r = Reading(r.title, r.juan, r.leaf, r.cost + cost)
            key = (r.juan, r.leaf)
            if key not in best or best[key].cost > r.cost:
                best[key] = r
    return rank(list(best.values()))[:8]


def find_and_read(engine: Any, image: Path) -> tuple[list[Any], list[str]]:
    """No centre column in the OCR layout (e.g. a leaf with little text): find it by its rules
    and read it here (guji/structure/reread.py)."""
    import cv2

    from guji.structure.centre import Reading, rank, read_centre
    from guji.structure.reread import find_centre, read_strip

    img = cv2.imread(str(image), cv2.IMREAD_COLOR)
    box = find_centre(img) if img is not None else None
    if box is None:
        return [], []
    strips = read_strip(engine, img, box)
    best: dict[tuple, Reading] = {}
    for pieces, cost in strips:
        for r in read_centre(pieces):
            r = Reading(r.title, r.juan, r.leaf, r.cost + cost)
            key = (r.juan, r.leaf)
            if key not in best or best[key].cost > r.cost:
                best[key] = r
    readings = rank(list(best.values()))[:8]
    return readings, (strips[0][0] if strips else [])


PARTIAL_WHEN_READ = 2.0


def demote_partial(readings: list[Any]) -> list[Any]:
    """A reading without a leaf number fits any leaf of its juan cheaply; once another reading of
    the same centre column does give a leaf number (cost < 1), the partial one only stands for "that
    leaf reading is wrong" and costs ``PARTIAL_WHEN_READ`` more."""
    from guji.structure.centre import Reading, rank

    if not any(r.leaf is not None and r.cost < 1.0 for r in readings):
        return readings
    return rank([Reading(r.title, r.juan, r.leaf, r.cost + (PARTIAL_WHEN_READ if r.leaf is None else 0.0))
                 for r in readings])


def worker(task: PageTask) -> TaskOutput:
    from difflib import SequenceMatcher

    from guji.structure.build import item_structure
    from guji.structure.centre import read_centre
    from guji.structure.sequence import Obs

    work = Path(task.payload["_work"])
    prm = task.payload["_params"]
    obs: list[Obs] = []
    thumbs: list[str | None] = []
    engine = reread_engine(prm)
    for c in task.payload["canvases"]:
        model = None
        p = ocr_json_path(work, task.payload["item"], c["canvas"])
        if p.is_file():
            model = json.loads(p.read_text("utf-8"))
        pieces = centre_pieces(model) if model else []
        readings = read_centre(pieces)
        if engine is not None and model and c.get("ocr") and pieces:
            readings = with_reread(readings, pieces, engine, work / c["ocr"], model, c["to_master"])
        elif engine is not None and model and c.get("ocr") and c["part"] == "full":
            readings, pieces = find_and_read(engine, work / c["ocr"])
        readings = demote_partial(readings)
        obs.append(Obs(canvas=c["canvas"], page=c["page"], volume=c["volume"], file=c["file"],
                       readings=readings, text=(model or {}).get("text") or "", part=c["part"],
                       centre_text=" ".join(pieces)))
        thumbs.append(c.get("thumb"))
    cache: dict[tuple[int, int], bool | None] = {}
    vecs: dict[int, Any] = {}

    def vec(i: int) -> Any:
        if i not in vecs:
            vecs[i] = _thumb(work / thumbs[i]) if thumbs[i] else None
        return vecs[i]

    def similar(i: int, j: int) -> bool | None:
        key = (min(i, j), max(i, j))
        if key in cache:
            return cache[key]
        a, b = obs[i].text.replace("\n", ""), obs[j].text.replace("\n", "")
        res: bool | None = None
        if min(len(a), len(b)) >= int(prm["min_text_chars"]):
            res = SequenceMatcher(None, a, b, autojunk=False).ratio() >= float(prm["text_similarity"])
        else:
            va, vb = vec(i), vec(j)
            if va is not None and vb is not None:
                res = float((va * vb).sum()) >= float(prm["image_similarity"])
        cache[key] = res
        return res

    st = item_structure(task.payload["item"], obs, similar, structure_rows=task.payload["structure_rows"],
                        record=task.payload["record"], n_volumes=task.payload["n_volumes"])
    rel = (STRUCTURE_DIR / f"{task.payload['item']}.json").as_posix()
    digest = atomic_write_json(work / rel, st.to_dict(), indent=1)
    return TaskOutput(outputs={rel: digest}, info={"canvases": len(obs), "findings": len(st.problems)})


# -- the stage ---------------------------------------------------------------------------------

def _tasks(ctx: StageContext) -> list[PageTask]:
    batch = ctx.batch()
    canvases = ctx.canvases()
    pages = {p.id: p for p in batch.pages(ok_only=False)}
    tasks = []
    for item in batch.items:
        if not item.ok or item.profile != PROFILE_RARE_BOOK:
            continue
        cs = [c for c in canvases if c.item_id == item.id]
        if not cs:
            continue
        inputs: dict[str, str] = {}
        rows = []
        for c in cs:
            p = ocr_json_path(ctx.work, item.id, c.id)
            inputs[f"ocr:{c.id}"] = sha256_bytes(p.read_bytes()) if p.is_file() else "absent"
            if c.thumbnail is not None:
                inputs[f"thumb:{c.id}"] = c.thumbnail.sha256 or c.thumbnail.path
            if c.ocr is not None:
                inputs[f"ocr-image:{c.id}"] = c.ocr.sha256 or c.ocr.path
            page = pages.get(c.page_id)
            rows.append({"canvas": c.id, "page": c.page_id, "volume": c.volume_id, "part": c.part,
                         "file": page.master if page else c.page_id,
                         "thumb": c.thumbnail.path if c.thumbnail is not None else None,
                         "ocr": c.ocr.path if c.ocr is not None else None,
                         "to_master": list(c.ocr.to_master) if c.ocr is not None else None})
        structure_rows = [{"label": j.label, "start_page": j.start_page} for j in item.juan]
        payload = {"item": item.id, "canvases": rows, "structure_rows": structure_rows, "record": item.record,
                   "n_volumes": len(item.volumes)}
        inputs["item"] = sha256_bytes(canonical_json(payload).encode("utf-8"))
        tasks.append(PageTask(key=item.id, inputs=inputs, item_id=item.id, payload=payload))
    return tasks


def run(ctx: StageContext) -> StageResult:
    from guji.structure.report import write_report

    params = ctx.params(STAGE, DEFAULTS)
    tasks = _tasks(ctx)
    if tasks and not (ctx.work / "ocr").is_dir():
        from guji.errors import NotReady

        raise NotReady(f"{ctx.work / 'ocr'} not found: run `guji ocr --work {ctx.work}` first")
    tools = {"guji-structure": VERSION}
    if params.get("reread") and tasks:
        tools.update(reread_engine(params).describe())  # a missing engine stops here (exit code 6)
    res = run_tasks(ctx, STAGE, tasks, worker, params=params, tools=tools, description="structure")
    structures: list[ItemStructure] = []
    for t in tasks:
        st = load_item_structure(ctx.work, t.key)
        if st is not None:
            structures.append(st)
    # findings are re-read from the item files, so a resumed run reports the same as a fresh one
    res.problems = [p for p in res.problems if p.code.endswith("-failed")]
    for st in structures:
        res.problems.extend(st.problems)
    relayed = ingest_duplicates(ctx)
    res.problems.extend(relayed)
    write_report(ctx.work, structures, relayed, ctx.batch())
    res.info.update({"items": len(structures), "report": str(STRUCTURE_DIR / "report.html"),
                     "findings": sum(len(s.problems) for s in structures) + len(relayed)})
    return res


def ingest_duplicates(ctx: StageContext) -> list[Problem]:
    """Byte-identical images found by ingest in items that ingest blocked for another reason (so they
    are never analysed here) are duplicated leaves too: relayed so the structure report lists every
    duplicate. In items that go on, the sequence analysis names them itself."""
    out = []
    for item in ctx.batch().items:
        if item.ok:
            continue
        found = [(p, pr) for p in item.pages() for pr in p.problems]
        found += [(None, pr) for pr in item.problems]
        for p, pr in found:
            if pr.code == "duplicate-image":
                    out.append(Problem("warning", "leaf-duplicated",
                                       f"重葉（位元組完全相同，該書入庫時被攔下）：{pr.message} (byte-identical image, "
                                       "found at ingest; the item is blocked)", path=pr.path or (p.master if p else None),
                                       item=item.id, page=p.id if p else pr.page, stage=STAGE,
                                       extra={"kind": "duplicate", "witness": "byte-identical",
                                              "files": [pr.path or (p.master if p else "")]}))
    return out


def status(ctx: StageContext) -> dict[str, Any]:
    p = ctx.work / STRUCTURE_DIR / "report.json"
    if not p.is_file():
        return {"structure": "no structure report yet (run `guji structure`)"}
    d = json.loads(p.read_text("utf-8"))
    return {"items": len(d.get("items", [])), "finding_counts": d.get("counts", {})}


__all__ = ["run", "worker", "status", "structure_json_path"]
