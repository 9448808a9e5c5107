"""A small hand-made work folder for the publish/search/serve/stats tests.

Until the earlier stages write them, the tests build their outputs here: batch.json (3 items, one
restricted), canvases.json (access images at half the master size, so canvas = master / 2),
OCR page JSON with character boxes in master pixels, and a static IIIF build (manifests,
annotation pages, image services with tiles, MODS, a collection). Nothing here is copied from
../shared/.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from guji.iiif import uris
from guji.model import Batch, Canvas, Derivative, Item, Page, Volume, ocr_json_path

BASE = "http://127.0.0.1:8000/"
A = "110000-0101-0010283"  # the public book with OCR text (items below)

# item -> (access, census row, pages: list of OCR columns (text per column) or None for no char boxes)
ITEMS = {
    "110000-0101-0010283": ("public", {
        "普查编号": "110000-0101-0010283", "题名卷数": "［萬曆］金華府志三十卷", "著者": "（明）王懋德（明）陸鳳儀纂修",
        "版本": "明萬曆刻本", "分类": "史部", "定级": "二级"},
        [["萬曆金華府志卷之一", "金華府知府王懋德"], ["東陽縣志於萬曆六年", "之乎者也"]]),
    "DF-0001": ("public", {
        "本地编号": "DF-0001", "题名卷数": "通書類聚尅擇大全", "著者": "", "版本": "清乾隆刻本", "分类": "子部",
        "定级": "三级"},
        [["万历年间通书一卷", "人"]]),
    "DF-SECRET": ("restricted", {
        "本地编号": "DF-SECRET", "题名卷数": "密藏萬曆檔案", "版本": "民国抄本", "分类": "史部", "定级": "一级"},
        [["萬曆密檔不得公開"]]),
}

MASTER_W, MASTER_H = 2000, 1400
CELL_Y0, CELL_H, CELL_W = 100, 60, 50  # master pixels


def char_box(col: int, row: int) -> list[int]:
    """Master-pixel box of character ``row`` in column ``col`` (columns right to left)."""
    return [1800 - col * 100, CELL_Y0 + row * CELL_H, CELL_W, 54]


def ocr_page(item: str, canvas_id: str, columns: list[str], with_chars: bool = True) -> dict:
    lines = []
    for col, text in enumerate(columns):
        chars = [{"text": ch, "box": char_box(col, r), "confidence": 0.9} for r, ch in enumerate(text)]
        x, y, w, _ = char_box(col, 0)
        lines.append({"id": f"r1l{col + 1}", "box": [x, y, w, CELL_H * len(text)], "direction": "ttb",
                      "text": text, "confidence": 0.9, "chars": chars if with_chars else []})
    return {"canvas": canvas_id, "page": canvas_id, "item": item, "engine": "test", "layout": "vertical-rtl",
            "master_size": [MASTER_W, MASTER_H],
            "regions": [{"id": "r1", "type": "body", "box": [0, 0, MASTER_W, MASTER_H], "lines": lines}],
            "text": "\n".join(columns), "flags": []}


def _write(p: Path, data: bytes | str) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def make_work(root: Path, *, big_tile_bytes: int = 0, base: str = BASE, publish_cfg: dict | None = None) -> Path:
    """Write a work folder under ``root`` and return it. ``big_tile_bytes`` adds one large tile."""
    work = root / "work"
    rng = random.Random(5)
    items, canvases = [], []
    for n_item, (item_id, (access, rec, pages)) in enumerate(ITEMS.items()):
        vol = Volume(id=f"{item_id}/v1", item_id=item_id, label="1", seq=1)
        for seq, cols in enumerate(pages, 1):
            pid = f"{item_id}/v1/{seq:04d}"
            vol.pages.append(Page(id=pid, item_id=item_id, volume_id=vol.id, seq=seq, master=f"{item_id}/{seq:04d}.tif",
                                  width=MASTER_W, height=MASTER_H))
            acc = Derivative(path=f"clean/{item_id}/v1/{uris.slug(pid)}.access.jpg", width=MASTER_W // 2,
                             height=MASTER_H // 2, to_master=(2.0, 0.0, 0.0, 0.0, 2.0, 0.0))
            canvases.append(Canvas(id=pid, page_id=pid, item_id=item_id, volume_id=vol.id, order=seq, access=acc,
                                   label=f"{seq}"))
            with_chars = not (item_id == "DF-0001")  # DF-0001 has line boxes only
            _write(ocr_json_path(work, item_id, pid),
                   json.dumps(ocr_page(item_id, pid, cols, with_chars), ensure_ascii=False))
        items.append(Item(id=item_id, folder=item_id, census_no=rec.get("普查编号"), record=rec, access=access,
                          volumes=[vol]))
    batch = Batch(id="demo", root=str(root / "batch"), items=items,
                  config={"batch": {"id": "demo", "institution": "示例市图书馆"}, "publish": publish_cfg or {}})
    _write(work / "ingest" / "batch.json", json.dumps(batch.to_dict(), ensure_ascii=False))
    _write(work / "clean" / "canvases.json", json.dumps({"canvases": [c.to_dict() for c in canvases]}, ensure_ascii=False))

    # the static build the iiif stage would write
    build = work / "build"
    manifests = []
    for item in items:
        mid = uris.uri(base, uris.manifest_path(item.id))
        cvs = []
        for c in (c for c in canvases if c.item_id == item.id):
            curi = uris.canvas_uri(base, item.id, c.id)
            svc = uris.uri(base, uris.image_service_path(c.id))
            sdir = build / uris.image_service_path(c.id)
            _write(sdir / "info.json", json.dumps({"id": svc, "type": "ImageService3", "width": 1000, "height": 700}))
            for t in ("0,0,512,512/512,/0/default.jpg", "full/200,/0/default.jpg"):
                _write(sdir / t, bytes(rng.getrandbits(8) for _ in range(3000)))
            ap = uris.annotation_page_path(item.id, c.id)
            _write(build / ap, json.dumps({"id": uris.uri(base, ap), "type": "AnnotationPage", "items": []}))
            cvs.append({"id": curi, "type": "Canvas", "label": {"none": [c.label]}, "width": 1000, "height": 700,
                        "items": [{"id": curi + "/p", "type": "AnnotationPage", "items": [{
                            "id": curi + "/p/a", "type": "Annotation", "motivation": "painting", "target": curi,
                            "body": {"id": svc + "/full/max/0/default.jpg", "type": "Image",
                                     "service": [{"id": svc, "type": "ImageService3", "profile": "level0"}]}}]}],
                        "annotations": [{"id": uris.uri(base, ap), "type": "AnnotationPage"}]})
        manifest = {"@context": "http://iiif.io/api/presentation/3/context.json", "id": mid, "type": "Manifest",
                    "label": {"zh": [item.record["题名卷数"]]}, "items": cvs,
                    "thumbnail": [{"id": uris.uri(base, uris.image_size_path(canvases[0].id, "200,")), "type": "Image"}]
                    if False else [{"id": cvs[0]["items"][0]["items"][0]["body"]["id"], "type": "Image"}],
                    "seeAlso": [{"id": uris.uri(base, uris.mods_path(item.id)), "type": "Dataset"}]}
        _write(build / uris.manifest_path(item.id), json.dumps(manifest, ensure_ascii=False))
        _write(build / uris.mods_path(item.id), f"<mods><titleInfo><title>{item.record['题名卷数']}</title></titleInfo></mods>")
        if item.access == "public":
            manifests.append({"id": mid, "type": "Manifest"})
    _write(build / uris.collection_path("batch", "demo"),
           json.dumps({"id": uris.uri(base, uris.collection_path("batch", "demo")), "type": "Collection",
                       "items": manifests}))
    _write(build / "build-index.json", "{}")
    if big_tile_bytes:
        first = canvases[0]
        _write(build / uris.image_service_path(first.id) / "full/max/0/default.jpg",
               bytes(rng.getrandbits(8) for _ in range(big_tile_bytes)))
    return work


def publish_folder(work: Path, out: Path, *extra: str, expect: int = 0) -> tuple[int, dict]:
    """`guji publish --work WORK --out OUT --json` in this process: (exit code, the stage's JSON entry).
    The exit code must be ``expect`` (0; 7 where a test plants something publish must hold back)."""
    from click.testing import CliRunner

    from guji.cli import main

    r = CliRunner().invoke(main, ["publish", "--work", str(work), "--out", str(out), "--json", "-j", "1", *extra])
    assert r.exit_code == expect, r.output
    return r.exit_code, json.loads(r.stdout)["stages"][0]


def edit_batch_items(work: Path, edit) -> None:
    """Rewrite WORK/ingest/batch.json's items with ``edit(items) -> items``, as a re-ingest would."""
    bj = work / "ingest" / "batch.json"
    b = json.loads(bj.read_text("utf-8"))
    b["items"] = edit(b["items"])
    bj.write_text(json.dumps(b, ensure_ascii=False), "utf-8")
