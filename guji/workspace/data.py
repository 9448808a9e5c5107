"""What the workspace knows about its work folders: items, census records, findings, canvases, page
models, images; and who may see or change what (roles × institutions × access).

Items are read from the stage outputs (``WORK/ingest/batch.json``, ``WORK/metadata/<item>.json``,
``WORK/clean/canvases.json``, ``WORK/ocr/…``, ``WORK/build/``); the workspace never writes there
except through the two exports: metadata corrections (``guji metadata apply``'s CSV form, applied to
``WORK/metadata/corrections.jsonl``) and proofreading (``WORK/proofread/``, :mod:`guji.proofread`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guji.errors import NotReady

# what each role may do; "all" = every institution's items, "restricted" = restricted items and the
# internal fields (定级, 破损级别, internal 附注)
RIGHTS: dict[str, set[str]] = {
    "reviewer": {"all", "restricted", "review", "edit", "export"},
    "cataloguer": {"restricted", "edit", "submit"},
    "proofreader": {"proofread"},
    "admin": {"all", "restricted", "review", "edit", "submit", "proofread", "export", "admin"},
}
# rights that let a role see page images (and their tiles)
IMAGE_RIGHTS = ("proofread", "edit", "review")
RESTRICTED_FIELDS = ("定级", "破损级别", "附注")
# states of a record in the review rounds and which right moves it where
STATES = ("draft", "submitted", "returned", "resubmitted", "approved")
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    # action: (from states, to state, right needed)
    "submit": (("draft",), "submitted", "submit"),
    "return": (("submitted", "resubmitted"), "returned", "review"),
    "resubmit": (("returned",), "resubmitted", "submit"),
    "approve": (("submitted", "resubmitted"), "approved", "review"),
}


def can(user: dict, right: str) -> bool:
    return right in RIGHTS.get(user["role"], set())


@dataclass
class ItemInfo:
    id: str
    work: Path
    batch: Any  # guji.model.Batch
    item: Any  # guji.model.Item
    title: str
    codes: set[str] = field(default_factory=set)  # institution codes and names the item belongs to
    restricted: bool = False
    canvases: list[Any] = field(default_factory=list)


class Workspace:
    """The items of one or more work folders (item ids must be unique across them)."""

    def __init__(self, works: list[Path]):
        from guji.model import load_batch, load_canvases

        self.works = [Path(w).resolve() for w in works]
        self.items: dict[str, ItemInfo] = {}
        for w in self.works:
            if not (w / "ingest" / "batch.json").exists():
                raise NotReady(f"{w}: nothing ingested yet (run `guji run BATCH --work {w}` first)")
            batch = load_batch(w)
            try:
                canvases = load_canvases(w)
            except Exception:  # noqa: BLE001 - not cleaned yet: records only
                canvases = []
            inst = batch.institution
            for it in batch.items:
                if it.id in self.items:
                    raise NotReady(f"item {it.id} is in two work folders: {self.items[it.id].work} and {w}")
                rec = self.record(w, it.id) or {}
                titles = [x["title"] for x in ((rec.get("title") or {}).get("works") or [])]
                codes = {c for c in (inst.get("institution_code"), inst.get("institution"), rec.get("institution"),
                                     ((rec.get("census_no") or {}).get("value") or "")[:11] or None) if c}
                self.items[it.id] = ItemInfo(
                    it.id, w, batch, it, "、".join(titles) or it.record.get("题名卷数") or it.id, codes,
                    (rec.get("access") or it.access) == "restricted",
                    [c for c in canvases if c.item_id == it.id])

    # -- rights -----------------------------------------------------------------------------------
    def may_see(self, user: dict, item_id: str) -> bool:
        info = self.items.get(item_id)
        if info is None:
            return False
        if info.restricted and not can(user, "restricted"):
            return False
        return can(user, "all") or user["institution"] in info.codes

    def visible(self, user: dict) -> list[ItemInfo]:
        return [i for i in self.items.values() if self.may_see(user, i.id)]

    # -- stage outputs ----------------------------------------------------------------------------
    @staticmethod
    def record(work: Path, item_id: str) -> dict | None:
        p = Path(work) / "metadata" / f"{item_id}.json"
        if not p.is_file():
            return None
        return json.loads(p.read_text("utf-8"))

    def canvas(self, canvas_id: str) -> tuple[ItemInfo, Any] | None:
        for info in self.items.values():
            for c in info.canvases:
                if c.id == canvas_id:
                    return info, c
        return None

    def canvas_by_slug(self, slug: str) -> tuple[ItemInfo, Any] | None:
        """The canvas whose IIIF image-service folder is ``iiif/images/<slug>`` (the tiles' URL)."""
        from guji.iiif import uris

        for info in self.items.values():
            for c in info.canvases:
                if uris.slug(c.id) == slug:
                    return info, c
        return None

    @staticmethod
    def tiles_dir(work: Path, canvas: Any) -> Path | None:
        """The canvas's level-0 IIIF image service in the work folder's build (``info.json`` + tiles),
        or None when the iiif stage has not tiled it."""
        from guji.iiif import uris

        d = Path(work) / "build" / uris.image_service_path(canvas.id)
        return d if (d / "info.json").is_file() else None

    @staticmethod
    def machine_model(work: Path, item_id: str, canvas_id: str) -> dict | None:
        """The recogniser's page model of a canvas (before any correction), or None before OCR."""
        from guji.model import ocr_json_path
        from guji.proofread import machine_rel

        for p in (Path(work) / machine_rel(item_id, canvas_id), ocr_json_path(work, item_id, canvas_id)):
            if p.is_file():
                return json.loads(p.read_text("utf-8"))
        return None

    @staticmethod
    def image_file(work: Path, canvas: Any) -> Path | None:
        """The canvas image to show: the IIIF full image of the build when the iiif stage ran, else
        the clean stage's access JPEG."""
        from guji.iiif import uris

        p = Path(work) / "build" / uris.image_size_path(canvas.id, "max")
        if p.is_file():
            return p
        if canvas.access is not None and (Path(work) / canvas.access.path).is_file():
            return Path(work) / canvas.access.path
        return None

    @staticmethod
    def structure(work: Path, item_id: str) -> dict | None:
        p = Path(work) / "structure" / f"{item_id}.json"
        return json.loads(p.read_text("utf-8")) if p.is_file() else None


def measured(work: Path, info: ItemInfo) -> dict[str, Any]:
    """Measured 行款, frame and leaf structure of the item (median of its pages' layout facts, as the
    metadata stage's cross-checks take them)."""
    from guji.metadata.stage import median_fact, ocr_facts

    facts = [p.get("layout_facts") or {} for p in ocr_facts(work, info.id)[0]]

    def med(key: str, idx: int | None = None) -> float | None:
        v = median_fact(facts, key, idx)
        return None if v is None else round(v, 1)

    out: dict[str, Any] = {"pages": len(facts), "columns": med("columns_per_half_leaf"),
                           "chars": med("chars_per_column"), "frame_cm": [med("frame_cm", 0), med("frame_cm", 1)]}
    st = Workspace.structure(work, info.id) or {}
    out["juan"] = [{"label": j.get("label") or j.get("juan"), "start": j.get("start"), "end": j.get("end")}
                   for j in (st.get("juan") or st.get("juan_ranges") or []) if isinstance(j, dict)]
    out["leaf_findings"] = [f.get("message") or f.get("code") for f in (st.get("findings") or []) if isinstance(f, dict)]
    return out
