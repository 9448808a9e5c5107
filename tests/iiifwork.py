"""A small synthetic work folder with the iiif stage's inputs, for tests and the tile benchmark.

Built with the model dataclasses exactly as ingest/clean/ocr write them:

- ``RB-0001``: rare book, public, two volumes (册); v1 = cover + two spreads split into right/left
  halves, v2 = one spread; juan 卷一 starts at v1/0002, 卷二 at v1/0003 and runs into v2.
  Every canvas has its own flat colour (``COLOURS``) so a browser test can tell pages apart.
  OCR page model for the first text page (boxes in MASTER pixels), a MODS record.
- ``DF-0001``: local document, restricted, one volume of two pages, left to right.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from guji.fsutil import atomic_write_json, atomic_write_text, sha256_file
from guji.model import Batch, Canvas, Derivative, Item, Juan, Page, Volume

# access image size of a half page; masters are twice as large (spreads four times as wide)
HALF = (300, 450)
COLOURS = {
    "RB-0001/v1/0001": (120, 120, 120),
    "RB-0001/v1/0002-r": (220, 30, 30),
    "RB-0001/v1/0002-l": (30, 30, 220),
    "RB-0001/v1/0003-r": (30, 180, 30),
    "RB-0001/v1/0003-l": (220, 200, 30),
    "RB-0001/v2/0001-r": (200, 30, 200),
    "RB-0001/v2/0001-l": (30, 200, 200),
    "DF-0001/v1/0001": (240, 240, 240),
    "DF-0001/v1/0002": (10, 10, 10),
}
CONFIG = {
    "batch": {"id": "test-batch", "institution": "示例市图书馆", "institution_code": "350000-2001",
              "rights": "http://creativecommons.org/licenses/by-nc-sa/4.0/", "access": "public",
              "profile": "rare-book"},
}


def _image(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> None:
    import pyvips

    img = (pyvips.Image.black(size[0], size[1], bands=3) + list(colour)).cast("uchar")
    # a dark frame line so tiles are not all one colour
    img = img.draw_rect([0, 0, 0], 8, 8, size[0] - 16, size[1] - 16, fill=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.jpegsave(str(path), Q=90, **({"keep": 0} if pyvips.version(1) >= 15 else {"strip": True}))


def make_work(work: Path, *, half: tuple[int, int] = HALF, config: dict[str, Any] | None = None,
              ocr: bool = True, mods: bool = True, public: dict[str, Any] | None = None) -> Path:
    work = Path(work)
    w, h = half
    cfg = config or CONFIG
    rb = Item(id="RB-0001", folder="RB-0001", census_no="RB-0001", profile="rare-book", access="public",
              record={"题名卷数": "論語注疏十卷", "著者": "魏何晏集解", "版本": "清乾隆四十年（1775）武英殿刻本",
                      "定级": "三级乙等"})
    spreads = {"RB-0001/v1/0001": False, "RB-0001/v1/0002": True, "RB-0001/v1/0003": True,
               "RB-0001/v2/0001": True}
    for vseq, vname, seqs in ((1, "v1", (1, 2, 3)), (2, "v2", (1,))):
        vol = Volume(id=f"RB-0001/{vname}", item_id=rb.id, label=vname, seq=vseq)
        for s in seqs:
            pid = f"{vol.id}/{s:04d}"
            mw = 4 * w if spreads[pid] else 2 * w
            vol.pages.append(Page(id=pid, item_id=rb.id, volume_id=vol.id, seq=s, master=f"RB-0001/{vname}/{s:04d}.tif",
                                  width=mw, height=2 * h, format="TIFF", mode="RGB", bit_depth=8))
        rb.volumes.append(vol)
    rb.juan = [Juan("卷一", "RB-0001/v1/0002"), Juan("卷二", "RB-0001/v1/0003")]
    df = Item(id="DF-0001", folder="DF-0001", profile="local-document", access="restricted",
              record={"题名卷数": "某村契约文书"})
    dv = Volume(id="DF-0001/v1", item_id=df.id, label="1", seq=1)
    for s in (1, 2):
        dv.pages.append(Page(id=f"DF-0001/v1/{s:04d}", item_id=df.id, volume_id=dv.id, seq=s,
                             master=f"DF-0001/{s:04d}.jpg", width=2 * h, height=2 * w, format="JPEG"))
    df.volumes.append(dv)
    batch = Batch(id=cfg["batch"]["id"], root=str(work / "batch"), config=cfg, items=[rb, df])
    atomic_write_json(work / "ingest" / "batch.json", batch.to_dict())

    canvases: list[Canvas] = []
    for item in (rb, df):
        order = 0
        for vol in item.volumes:
            for page in vol.pages:
                if item is rb and spreads[page.id]:
                    # right half first in reading order; master x offset 2w for the right half
                    parts = (("right", "-r", 2 * w), ("left", "-l", 0))
                else:
                    parts = (("full", "", 0),)
                for part, suffix, x0 in parts:
                    order += 1
                    cid = page.id + suffix
                    size = (w, h) if item is rb else (h, w)
                    rel = f"clean/{item.id}/{vol.label}/{cid.rsplit('/', 1)[1]}.access.jpg"
                    _image(work / rel, size, COLOURS[cid])
                    access = Derivative(path=rel, width=size[0], height=size[1], to_master=(2.0, 0.0, float(x0), 0.0, 2.0, 0.0),
                                        sha256=sha256_file(work / rel))
                    canvases.append(Canvas(id=cid, page_id=page.id, item_id=item.id, volume_id=vol.id, order=order,
                                           part=part, access=access, thumbnail=access))
    atomic_write_json(work / "clean" / "canvases.json", {"canvases": [c.to_dict() for c in canvases]})

    if ocr:
        # first text page: RB-0001/v1/0002-r; master x of this half starts at 2w
        page = {
            "canvas": "RB-0001/v1/0002-r", "page": "RB-0001/v1/0002", "item": "RB-0001", "engine": "test",
            "layout": "vertical-rtl", "language": "zh-Hant", "master_size": [4 * w, 2 * h],
            "regions": [{"id": "r1", "type": "body", "box": [2 * w + 40, 40, 2 * w - 80, 2 * h - 80], "lines": [
                {"id": "r1l1", "box": [4 * w - 100, 40, 40, 2 * h - 80], "direction": "ttb", "text": "學而時習之",
                 "confidence": 0.9, "chars": []},
                {"id": "r1l2", "box": [4 * w - 160, 40, 40, 2 * h - 80], "direction": "ttb", "text": "不亦說乎",
                 "confidence": 0.9, "chars": []},
            ]}],
            "text": "學而時習之\n不亦說乎", "flags": [],
        }
        atomic_write_json(work / "ocr" / "RB-0001" / "v1_0002-r.json", page)  # as guji ocr names it
    if mods:
        atomic_write_text(work / "metadata" / "RB-0001.mods.xml",
                          '<?xml version="1.0" encoding="UTF-8"?>\n<mods xmlns="http://www.loc.gov/mods/v3">'
                          "<titleInfo><title>論語注疏</title></titleInfo></mods>\n")
    if public is not None:
        atomic_write_json(work / "metadata" / "RB-0001.public.json", public)
    return work
