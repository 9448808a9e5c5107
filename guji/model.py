"""The one data model that flows through every stage: batch → item (book) → volume (册) → page.

Defined once here. Ingest builds it from the batch folder and writes it to
``WORK/ingest/batch.json``; every later stage loads it with :func:`load_batch` and adds its
outputs on disk beside it (never by mutating masters).

Terms (see docs/glossary.md):

- **Batch**: one delivery of scans plus a census sheet (``batch.toml`` + ``records.csv``).
- **Item**: one book (古籍) or document (地方文献), one census record, one IIIF manifest.
- **Volume** (册, fascicle): a physically separate part of an item; a folder of images.
- **Page**: one master image file in capture order. A page may show one half-leaf (半叶) or,
  for a two-page spread, two; cleanup then splits it into two **canvases**.
- **Canvas**: one displayed page surface (one IIIF canvas), made by cleanup from a page:
  ``part`` is ``full`` for a single page, ``right``/``left`` for the halves of a spread.
  For a thread-bound book the right-hand half comes first in reading order.

Identifiers are stable strings built from folder and file names, so a re-run of ingest over
the same batch yields the same ids: item ``<folder>``, volume ``<item>/<volume folder or v1>``,
page ``<volume id>/<file name without extension>`` (stable when pages are inserted), canvas ``<page id>`` or ``<page id>-r`` / ``<page id>-l``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

# affine maps derivative → master live in guji.affine; importable from here as before
from guji.affine import IDENTITY, Affine, apply_affine, box_to_master, invert_affine  # noqa: F401
from guji.errors import NotReady, Problem

MODEL_VERSION = 1

# Layout / QC profiles: thread-bound rare book (vertical, right to left) or modern local document.
PROFILE_RARE_BOOK = "rare-book"
PROFILE_LOCAL_DOCUMENT = "local-document"
PROFILES = (PROFILE_RARE_BOOK, PROFILE_LOCAL_DOCUMENT)

ACCESS_PUBLIC = "public"
ACCESS_RESTRICTED = "restricted"


@dataclass
class Page:
    """One master image in capture order, with what ingest measured of it."""

    id: str
    item_id: str
    volume_id: str
    seq: int  # 1-based position in the volume's capture order
    master: str  # path relative to the batch folder (POSIX separators)
    sha256: str = ""
    size: int = 0
    format: str = ""  # PIL format name: TIFF, JPEG, PNG, JPEG2000
    width: int = 0
    height: int = 0
    bit_depth: int = 0  # bits per sample
    mode: str = ""  # PIL mode: RGB, L, 1, CMYK, I;16 ...
    icc_profile: str | None = None  # ICC profile description, when embedded
    ppi: tuple[float, float] | None = None  # resolution as stored in the file
    compression: str | None = None
    number: int | None = None  # page number parsed from the file name, if any
    status: str = "ok"  # ok | blocked
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class Juan:
    """A juan (卷) boundary from ``structure.csv``: starts at a page, may cross volumes."""

    label: str
    start_page: str  # page id
    end_page: str | None = None


@dataclass
class Volume:
    id: str
    item_id: str
    label: str  # the folder name, or "1" when the item has no volume folders
    seq: int
    pages: list[Page] = field(default_factory=list)


@dataclass
class Item:
    id: str  # folder name: census number (普查编号) or local id
    folder: str  # relative to batch
    census_no: str | None = None
    record: dict[str, str] = field(default_factory=dict)  # raw census sheet row, original strings
    record_row: int | None = None  # 1-based sheet row (header = 1)
    profile: str = PROFILE_RARE_BOOK
    access: str = ACCESS_PUBLIC
    volumes: list[Volume] = field(default_factory=list)
    juan: list[Juan] = field(default_factory=list)
    status: str = "ok"  # ok | blocked
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def pages(self) -> Iterator[Page]:
        for v in self.volumes:
            yield from v.pages


@dataclass
class Batch:
    id: str
    root: str  # absolute path of the batch folder at ingest time
    config: dict[str, Any] = field(default_factory=dict)  # batch.toml as read
    sheet: str | None = None  # census sheet file name
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # batch-level findings
    model_version: int = MODEL_VERSION

    # -- navigation -------------------------------------------------------------------------
    def pages(self, *, ok_only: bool = True) -> Iterator[Page]:
        for item in self.items:
            if ok_only and not item.ok:
                continue
            for page in item.pages():
                if ok_only and not page.ok:
                    continue
                yield page

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    def page(self, page_id: str) -> Page:
        for p in self.pages(ok_only=False):
            if p.id == page_id:
                return p
        raise KeyError(page_id)

    def all_problems(self) -> list[Problem]:
        out = list(self.problems)
        for it in self.items:
            out.extend(it.problems)
            for p in it.pages():
                out.extend(p.problems)
        return out

    @property
    def institution(self) -> dict[str, Any]:
        return self.config.get("batch", {})

    # -- serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Batch":
        d = dict(d)
        items = []
        for it in d.pop("items", []):
            it = dict(it)
            vols = []
            for v in it.pop("volumes", []):
                v = dict(v)
                pages = []
                for p in v.pop("pages", []):
                    p = dict(p)
                    p["problems"] = [Problem.from_dict(x) for x in p.get("problems", [])]
                    if p.get("ppi") is not None:
                        p["ppi"] = tuple(p["ppi"])
                    pages.append(Page(**p))
                vols.append(Volume(pages=pages, **v))
            it["problems"] = [Problem.from_dict(x) for x in it.get("problems", [])]
            juan = [Juan(**j) for j in it.pop("juan", [])]
            items.append(Item(volumes=vols, juan=juan, **it))
        d["problems"] = [Problem.from_dict(x) for x in d.get("problems", [])]
        return cls(items=items, **d)


# -- canvases: output of cleanup, input of OCR and IIIF ----------------------------------------

@dataclass
class Derivative:
    """An image made from a master: its path (relative to WORK), size and mapping to master pixels."""

    path: str
    width: int
    height: int
    to_master: Affine = IDENTITY  # derivative pixel → master pixel
    sha256: str = ""


@dataclass
class Canvas:
    """One displayed page surface (IIIF canvas), in reading order within its volume."""

    id: str  # page id, or page id + "-r"/"-l" for the halves of a spread
    page_id: str
    item_id: str
    volume_id: str
    order: int  # 1-based reading order within the item (across volumes)
    part: str = "full"  # full | right | left
    access: Derivative | None = None  # sRGB JPEG, paper colour kept
    ocr: Derivative | None = None  # greyscale/binarised, normalised background
    thumbnail: Derivative | None = None
    skew_deg: float = 0.0  # skew measured before correction
    rotation: int = 0  # 0/90/180/270 applied to upright the page
    qc_flags: list[str] = field(default_factory=list)
    label: str | None = None
    # printed frame (版框) as clean measured it: (x, y, w, h) as fractions of the canvas, so it maps to
    # any derivative by its width and height (None: no frame found, or a half of a split spread)
    frame: tuple[float, float, float, float] | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Canvas":
        d = dict(d)
        for k in ("access", "ocr", "thumbnail"):
            if d.get(k):
                dv = dict(d[k])
                dv["to_master"] = tuple(dv.get("to_master", IDENTITY))
                d[k] = Derivative(**dv)
        if d.get("frame") is not None:
            d["frame"] = tuple(d["frame"])
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- loading what earlier stages wrote ---------------------------------------------------------

BATCH_JSON = Path("ingest") / "batch.json"
OCR_DIR = Path("ocr")


def canvas_slug(canvas_id: str, parent: str = "") -> str:
    """A canvas (page, item) id as one file-name segment, relative to the folder it is written in.

    The one slug rule of the project: the id below ``parent`` (an id prefix), ``/`` → ``_``.
    ``ITEM/v1/0003-r`` → ``ITEM_v1_0003-r`` (batch-wide: IIIF paths, image services),
    ``canvas_slug(c, "ITEM")`` → ``v1_0003-r`` (the item's OCR folder),
    ``canvas_slug(c, "ITEM/v1")`` → ``0003-r`` (the volume's clean folder)."""
    rest = canvas_id[len(parent) + 1:] if parent and canvas_id.startswith(parent + "/") else canvas_id
    return rest.replace("/", "_")


def ocr_json_path(work: str | Path, item_id: str, canvas_id: str) -> Path:
    """Where ``guji ocr`` writes a canvas's page model (docs/architecture.md)."""
    return Path(work) / OCR_DIR / item_id / f"{canvas_slug(canvas_id, item_id)}.json"
CANVASES_JSON = Path("clean") / "canvases.json"


def load_batch(work: str | Path) -> Batch:
    path = Path(work) / BATCH_JSON
    if not path.exists():
        raise NotReady(f"{path} not found: run `guji ingest BATCH --work {work}` first")
    return Batch.from_dict(json.loads(path.read_text("utf-8")))


def load_canvases(work: str | Path) -> list[Canvas]:
    """Canvases of all ok pages, in item order then reading order (written by ``guji clean``)."""
    path = Path(work) / CANVASES_JSON
    if not path.exists():
        raise NotReady(f"{path} not found: run `guji clean --work {work}` first")
    data = json.loads(path.read_text("utf-8"))
    return [Canvas.from_dict(c) for c in data["canvases"]]
