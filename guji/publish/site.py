"""What publish adds to the build: the search index, the catalogue page and statistics.

Written to ``WORK/publish/site/`` (``search/index.sqlite``, ``index.html``, ``stats/stats.{json,csv,svg}``,
the Mirador reading room ``viewer/`` of :mod:`guji.publish.viewer`) and published after the collections. Everything here is deterministic (no timestamps), so an
unchanged build gives the same bytes and a second publish uploads nothing.
"""

from __future__ import annotations

import json
import logging
from array import array
from pathlib import Path
from typing import Any

from guji.errors import Problem
from guji.fsutil import atomic_write_text
from guji.iiif import uris
from guji.model import ACCESS_PUBLIC, IDENTITY, invert_affine, ocr_json_path
from guji.publish import stats as stats_mod
from guji.publish.index import IndexWriter, PageContent, PageText, SearchIndex, page_content_from_ocr
from guji.publish.meta import item_info

log = logging.getLogger("guji.publish")

VIEWER_CANDIDATES = ("viewer/index.html", "mirador/index.html")


def detect_base_url(build: Path, default: str = "http://127.0.0.1:8000/") -> str:
    """The base URL the build's ids are under, read from its first manifest."""
    for p in sorted(build.glob("iiif/*/manifest.json")):
        try:
            mid = json.loads(p.read_text("utf-8")).get("id", "")
        except (OSError, ValueError):
            continue
        item = p.parent.name
        suffix = uris.manifest_path(item)
        if mid.endswith(suffix):
            return mid[: -len(suffix)]
    return uris.norm_base(default)


def _label(v: Any) -> str:
    if isinstance(v, dict):
        for vals in v.values():
            if vals:
                return str(vals[0])
        return ""
    return str(v or "")


def _manifest_facts(build: Path, item_id: str) -> tuple[dict[str, dict[str, Any]], str]:
    """Per canvas URI: label/width/height; and a thumbnail URI for the item."""
    p = build / uris.manifest_path(item_id)
    facts: dict[str, dict[str, Any]] = {}
    thumb = ""
    if not p.exists():
        return facts, thumb
    try:
        m = json.loads(p.read_text("utf-8"))
    except (OSError, ValueError):
        return facts, thumb
    for t in m.get("thumbnail") or []:
        thumb = thumb or t.get("id", "")
    for c in m.get("items") or []:
        facts[c.get("id", "")] = {"label": _label(c.get("label")), "width": c.get("width") or 0,
                                  "height": c.get("height") or 0}
        if not thumb:
            for t in c.get("thumbnail") or []:
                thumb = thumb or t.get("id", "")
    return facts, thumb


def _canvas_grey(work: Path, canvas) -> Any:
    """The canvas (access image) in greyscale at half size, for narrowing highlight boxes to the ink."""
    if canvas.access is None:
        return None
    import cv2

    return cv2.imread(str(work / canvas.access.path), cv2.IMREAD_REDUCED_GRAYSCALE_2)


def build_index(work: Path, build: Path, dest: Path, base_url: str) -> tuple[dict[str, Any], list[Problem]]:
    """Index every public item: metadata + OCR text of its canvases with canvas-space char boxes."""
    from guji.model import load_batch, load_canvases

    problems: list[Problem] = []
    batch = load_batch(work)
    try:
        canvases = load_canvases(work)
    except Exception:  # noqa: BLE001 - no cleanup output yet: index metadata only
        canvases = []
        problems.append(Problem("warning", "no-canvases", "WORK/clean/canvases.json missing: no full text indexed",
                                stage="publish"))
    by_item: dict[str, list] = {}
    for c in canvases:
        by_item.setdefault(c.item_id, []).append(c)
    institution = str(batch.institution.get("institution", "") or "")
    w = IndexWriter(dest)
    n_items = n_pages = n_text = 0
    for item in batch.items:
        if not item.ok or item.access != ACCESS_PUBLIC:
            continue
        info = item_info(work, item, institution)
        info.manifest = uris.uri(base_url, uris.manifest_path(item.id)) if (build / uris.manifest_path(item.id)).exists() else ""
        facts, info.thumbnail = _manifest_facts(build, item.id)

        def pages(item=item, facts=facts):
            nonlocal n_pages, n_text
            for c in sorted(by_item.get(item.id, []), key=lambda c: c.order):
                curi = uris.canvas_uri(base_url, item.id, c.id)
                f = facts.get(curi, {})
                ocr_path = ocr_json_path(work, item.id, c.id)
                pc = PageContent("", array("H"), b"", None, "")
                if ocr_path.exists():
                    try:
                        doc = json.loads(ocr_path.read_text("utf-8"))
                        to_canvas = invert_affine(tuple(c.access.to_master)) if c.access else IDENTITY
                        grey = _canvas_grey(work, c)
                        pc = page_content_from_ocr(doc, to_canvas, image=grey, image_scale=0.5)
                        n_text += 1
                    except (OSError, ValueError, KeyError, TypeError) as e:
                        problems.append(Problem("warning", "ocr-unreadable", f"{ocr_path}: {e}", item=item.id,
                                                page=c.id, stage="publish"))
                n_pages += 1
                yield PageText(c.id, curi, c.order, pc.text, pc.boxes, label=f.get("label") or c.label or "",
                               width=f.get("width") or (c.access.width if c.access else 0),
                               height=f.get("height") or (c.access.height if c.access else 0),
                               confidences=pc.confidences, alternatives=pc.alternatives, centre=pc.centre)

        w.add_item(info, pages())
        n_items += 1
    w.set_meta("base_url", base_url)
    w.set_meta("batch", batch.id)
    w.close()
    return {"items": n_items, "canvases": n_pages, "canvases_with_text": n_text}, problems


def viewer_path(build: Path) -> str | None:
    for v in VIEWER_CANDIDATES:
        if (build / v).exists():
            return v
    return None


def write_site(site: Path, build: Path, title: str) -> dict[str, Any]:
    """Catalogue page, statistics and viewer from the index already written at ``site/search/index.sqlite``."""
    from html import escape

    with SearchIndex(site / uris.search_index_path()) as idx:
        st = stats_mod.compute(idx.items_rows(), idx.grade_counts())
    atomic_write_text(site / "stats" / "stats.json", json.dumps(st, ensure_ascii=False, indent=2) + "\n")
    atomic_write_text(site / "stats" / "stats.csv", stats_mod.to_csv(st))
    atomic_write_text(site / "stats" / "stats.svg", stats_mod.to_svg(st))
    tpl = (Path(__file__).parent / "catalogue.html").read_text("utf-8")
    from guji.publish.viewer import install_viewer

    v = install_viewer(site) or viewer_path(build)
    html = tpl.replace("{{TITLE}}", escape(title)).replace("{{VIEWER}}", json.dumps(v))
    atomic_write_text(site / "index.html", html)
    return st
