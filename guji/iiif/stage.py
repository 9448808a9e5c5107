"""The ``iiif`` stage: static level-0 tiles, Presentation 3 manifests, OCR annotations, collections.

Inputs: ``WORK/clean/canvases.json`` (access derivative = the image to tile), ``WORK/ingest/batch.json``,
``WORK/ocr/<item>/<canvas-slug>.json`` (optional), ``WORK/metadata/<item>.public.json`` and
``<item>.mods.xml`` (optional), ``WORK/structure/<item>.json`` (optional: page labels 卷一 葉三 and,
when the batch has no structure.csv, the juan ranges read from the centre column). Output: ``WORK/build/`` laid out by :mod:`guji.iiif.uris`.

Tiling is the per-canvas work (``run_tasks``: resumable, parallel). Documents (info.json,
annotation pages, manifests, collections, build index) are cheap and rebuilt every run, but a file
is only written when its bytes change, so a re-run with nothing changed rewrites nothing.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from guji.errors import Problem
from guji.exitcodes import ExitCode, worst
from guji.fsutil import atomic_write_bytes, sha256_file
from guji.iiif import uris
from guji.model import ocr_json_path
from guji.settings import Setting, StageSettings
from guji.stage import PageTask, StageContext, StageResult, TaskOutput, run_tasks
from guji.structure.model import load_item_structure

log = logging.getLogger("guji")

STAGE = "iiif"
BUILD = "build"
SETTINGS = StageSettings("iiif", (
    Setting("base_url", uris.DEFAULT_BASE_URL, "發佈地址：所有 id 以此開頭", "where the build will be published: every id starts with it",
            option="--base-url"),
    Setting("tile_size", 512, "切片邊長（像素）", "tile size, px", min=64, max=4096),
    Setting("quality", 85, "切片和縮略圖的 JPEG 品質", "JPEG quality of tiles and thumbnails", min=1, max=100),
    Setting("thumb_widths", [90, 200, 400], "在金字塔旁另存的整圖寬度", "whole-image widths written beside the pyramid (UV asks 90,)",
            min=1),
    Setting("multi_part", 0, "頁數多於此值的書每冊一個 manifest（0 = 從不）",
            "items with more canvases than this get one manifest per volume in a multi-part collection (0 = never)",
            min=0, option="--multi-part"),
    Setting("homepage", "{base_url}index.html#{item}", "每書網頁（publish 的目錄）", "the item's web page (publish's catalogue)"),
    Setting("schema", "", "用以驗證的 IIIF Presentation 3 JSON Schema 文件（可選）",
            "IIIF Presentation 3 JSON Schema file to validate manifests and collections against (optional)",
            option="--schema"),
))
DEFAULTS: dict[str, Any] = SETTINGS.defaults()
TILE_PARAMS = ("tile_size", "quality", "thumb_widths")


# -- per-canvas tiling (runs in worker processes) ----------------------------------------------

def tile_worker(task: PageTask) -> TaskOutput:
    from guji.iiif.tiles import make_tiles, tile_files

    work = Path(task.payload["_work"])
    p = task.payload["_params"]
    dest_rel = task.payload["dest"]
    dest = work / dest_rel
    facts = make_tiles(work / task.payload["src"], dest, tile_size=int(p["tile_size"]), quality=int(p["quality"]),
                       thumb_widths=tuple(int(w) for w in p["thumb_widths"]))
    outputs = {f"{dest_rel}/{k}": v for k, v in tile_files(dest).items()}
    return TaskOutput(outputs=outputs, info=facts)


# -- helpers -----------------------------------------------------------------------------------

def dumps(doc: Any) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


class Writer:
    """Writes build files only when their bytes change; remembers what the build holds."""

    def __init__(self, root: Path):
        self.root = root
        self.written = 0
        self.unchanged = 0

    def bytes(self, rel: str, data: bytes) -> None:
        path = self.root / rel
        if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
            self.unchanged += 1
            return
        atomic_write_bytes(path, data)
        self.written += 1

    def json(self, rel: str, doc: Any) -> None:
        self.bytes(rel, dumps(doc))


def _facts(info: dict[str, Any]) -> dict[str, Any]:
    """Tiler facts in one key order, whether fresh or read back from the state store (sorted keys)."""
    return {
        "width": int(info["width"]), "height": int(info["height"]),
        "tiles": [{"width": int(t["width"]), "height": int(t["height"]),
                   "scaleFactors": [int(x) for x in t["scaleFactors"]]} for t in info["tiles"]],
        "sizes": [{"width": int(z["width"]), "height": int(z["height"])} for z in info["sizes"]],
    }


def _read_ocr(work: Path, item_id: str, canvas_id: str) -> dict[str, Any] | None:
    """The OCR page model of a canvas (``guji.model.ocr_json_path``), or None."""
    return _read_json(ocr_json_path(work, item_id, canvas_id))


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    return json.loads(path.read_text("utf-8"))


# -- the stage ---------------------------------------------------------------------------------

def run(ctx: StageContext) -> StageResult:
    from guji.iiif.annotations import annotation_page
    from guji.iiif.manifest import (NON_PAGED_FLAGS, RIGHTS_PREFIXES, CanvasInfo, ItemBuild, build_collection,
                                    build_manifest, descriptive, manifest_ref, zh_map)
    from guji.iiif.tiles import info_json, vips_version
    from guji.iiif.validate import BuildChecker, load_schema

    batch = ctx.batch()
    canvases = ctx.canvases()
    params = ctx.params(STAGE, DEFAULTS)
    base = uris.norm_base(str(params["base_url"]))
    params["base_url"] = base
    build_root = ctx.work / BUILD
    problems: list[Problem] = []

    items_ok = {it.id: it for it in batch.items if it.ok}
    tasks = []
    for c in canvases:
        if c.item_id not in items_ok:
            continue
        if c.access is None or not (ctx.work / c.access.path).is_file():
            problems.append(Problem("error", "iiif-no-access-image", f"canvas {c.id} has no access image to tile",
                                    item=c.item_id, page=c.id, stage=STAGE))
            continue
        digest = c.access.sha256 or sha256_file(ctx.work / c.access.path)
        tasks.append(PageTask(key=c.id, inputs={"access": digest}, item_id=c.item_id,
                              payload={"src": c.access.path, "dest": f"{BUILD}/{uris.image_service_path(c.id)}"}))

    facts: dict[str, dict[str, Any]] = {}
    tile_params = {k: params[k] for k in TILE_PARAMS}
    result = run_tasks(ctx, STAGE, tasks, tile_worker, params=tile_params, tools={"libvips": vips_version()},
                       description="iiif tiles", on_result=lambda t, out: facts.__setitem__(t.key, _facts(out.info)))
    result.problems[:0] = problems
    if problems:
        result.exit_code = worst(result.exit_code, ExitCode.ITEMS_BLOCKED)

    schema = None
    if params.get("schema"):
        sp = Path(str(params["schema"]))
        if sp.is_file():
            schema = load_schema(sp)
        else:
            result.problems.append(Problem("warning", "iiif-schema-missing", f"schema {sp} not found: not validated",
                                           stage=STAGE))
    checker = BuildChecker(build_root, base, schema)
    w = Writer(build_root)
    config = batch.config or ctx.config
    cfg_batch = config.get("batch", {}) or {}
    rights = cfg_batch.get("rights")
    if rights and not str(rights).startswith(RIGHTS_PREFIXES):
        result.problems.append(Problem("warning", "iiif-rights-uri", f"rights {rights!r} is not a Creative Commons "
                                       "or RightsStatements.org URI: left out of the manifests", stage=STAGE))

    index: dict[str, Any] = {"base_url": base, "items": {}, "collections": []}
    public_refs: list[dict[str, Any]] = []
    n_manifests = n_annotations = 0
    for item in batch.items:
        if not item.ok:
            continue
        # never publish a book with pages missing: every ok page needs its canvases, all tiled
        have_pages = {c.page_id for c in canvases if c.item_id == item.id}
        missing = [p.id for p in item.pages() if p.ok and p.id not in have_pages]
        missing += [c.id for c in canvases if c.item_id == item.id and c.id not in facts]
        if missing:
            shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            result.problems.append(Problem("error", "iiif-item-incomplete",
                                           f"no manifest built: {len(missing)} page(s) have no tiled canvas "
                                           f"(failed in clean or tiling): {shown}", item=item.id, stage=STAGE))
            result.exit_code = worst(result.exit_code, ExitCode.ITEMS_BLOCKED)
            continue
        item_canvases = [c for c in canvases if c.item_id == item.id and c.id in facts]
        if not item_canvases:
            result.problems.append(Problem("warning", "iiif-no-canvases", "no tiled canvases: no manifest",
                                           item=item.id, stage=STAGE))
            continue
        structure = load_item_structure(ctx.work, item.id)
        page_labels = structure.labels() if structure is not None else {}
        infos: list[CanvasInfo] = []
        files: list[str] = []
        for c in item_canvases:
            f = facts[c.id]
            svc = uris.image_service_path(c.id)
            info_rel = f"{svc}/info.json"
            w.json(info_rel, info_json(uris.image_service_uri(base, c.id), f))
            checker.add(info_rel, {}, item.id)
            files.append(svc + "/")
            ocr = _read_ocr(ctx.work, item.id, c.id)
            has_ann = False
            if ocr is not None:
                doc, n = annotation_page(base, item.id, c.id, ocr, c.access.to_master, f["width"], f["height"])
                rel = uris.annotation_page_path(item.id, c.id)
                w.json(rel, doc)
                checker.add(rel, doc, item.id)
                n_annotations += n
                has_ann = True
            infos.append(CanvasInfo(
                id=c.id, page_id=c.page_id, volume_id=c.volume_id, order=c.order, width=f["width"],
                height=f["height"], sizes=f["sizes"], tiles=f["tiles"], label=c.label or str(c.order),
                non_paged=bool(set(c.qc_flags) & NON_PAGED_FLAGS),
                has_text=bool(ocr and (ocr.get("text") or "").strip()), annotations=has_ann, part=c.part,
                label_map=page_labels.get(c.id)))
        first_paged = next((ci for ci in infos if not ci.non_paged), None)
        if first_paged is not None and first_paged.part == "right":
            result.problems.append(Problem(
                "warning", "iiif-first-opening", f"first page {first_paged.id} is the right half of a spread: paged "
                "viewers show the first page alone, so the openings are shifted by one", item=item.id, stage=STAGE))

        mods_src = ctx.work / "metadata" / f"{item.id}.mods.xml"
        if mods_src.is_file():
            w.bytes(uris.mods_path(item.id), mods_src.read_bytes())
            files.append(uris.mods_path(item.id))
        public = _read_json(ctx.work / "metadata" / f"{item.id}.public.json")
        build = ItemBuild(item=item, canvases=infos, desc=descriptive(item, public, config),
                          has_mods=mods_src.is_file(), config=config,
                          juan_ranges=[{"label": j.label, "canvases": j.canvases} for j in structure.juans]
                          if structure is not None and not item.juan else None)
        multi = int(params.get("multi_part") or 0)
        vols = [v for v in item.volumes if any(ci.volume_id == v.id for ci in infos)]
        if multi > 0 and len(infos) > multi and len(vols) > 1:
            coll_rel = uris.item_collection_path(item.id)
            coll_id = uris.uri(base, coll_rel)
            refs = []
            for v in vols:
                rel = uris.volume_manifest_path(item.id, v.seq)
                m = build_manifest(base, build, params, canvases=[ci for ci in infos if ci.volume_id == v.id],
                                   manifest_id=uris.uri(base, rel), part_of=coll_id, volume_seq=v.seq)
                w.json(rel, m)
                checker.add(rel, m, item.id)
                refs.append(manifest_ref(base, m))
                n_manifests += 1
            extra = {k: build.desc[k] for k in ("summary", "metadata", "navDate", "requiredStatement") if build.desc.get(k)}
            if refs and refs[0].get("thumbnail"):
                extra["thumbnail"] = refs[0]["thumbnail"]
            top = build_collection(coll_id, build.desc["label"], refs, behavior=["multi-part"], extra=extra)
            w.json(coll_rel, top)
            checker.add(coll_rel, top, item.id)
            entry_rel, entry = coll_rel, manifest_ref(base, top)
        else:
            rel = uris.manifest_path(item.id)
            m = build_manifest(base, build, params)
            w.json(rel, m)
            checker.add(rel, m, item.id)
            n_manifests += 1
            entry_rel, entry = rel, manifest_ref(base, m)
        files.append(f"iiif/{item.id}/")
        index["items"][item.id] = {"access": item.access, "profile": item.profile, "entry": entry_rel,
                                   "paths": sorted(set(files))}
        if item.access == "public":
            public_refs.append(entry)
        # restricted items are built (so staff can view them) but left out of the collections and
        # flagged in build-index.json, which publish reads to skip their paths

    inst = cfg_batch.get("institution")
    colls = [("batch", batch.id, {"none": [batch.id]})]
    if inst:
        colls.append(("institution", str(cfg_batch.get("institution_code") or uris.slug(inst)), zh_map(inst)))
    for kind, name, label in colls:
        rel = uris.collection_path(kind, name)
        doc = build_collection(uris.uri(base, rel), label, public_refs)
        w.json(rel, doc)
        checker.add(rel, doc)
        index["collections"].append(rel)
    w.json(uris.build_index_path(), index)

    result.problems.extend(checker.finish())
    errors = [p for p in checker.problems if p.severity == "error"]
    if errors:
        result.exit_code = worst(result.exit_code, ExitCode.VALIDATION_FAILED)
    result.info.update({"manifests": n_manifests, "annotations": n_annotations, "collections": len(colls),
                        "files_written": w.written, "files_unchanged": w.unchanged,
                        "validation_errors": len(errors), "schema_validated": schema is not None,
                        "base_url": base})
    log.info("iiif: %d manifests, %d annotations, %d files written, %d unchanged, %d validation errors",
             n_manifests, n_annotations, w.written, w.unchanged, len(errors))
    return result
