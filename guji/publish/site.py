"""What publish adds to the build: the search index, catalogue, record pages, reading room, statistics.

Written to ``WORK/publish/site/`` and published after the collections: ``search/index.sqlite``,
``index.html`` (catalogue), ``viewer/books/<item>.html`` (record pages),
``search/records.json`` (:mod:`guji.publish.catalogue`), ``search/text/`` (the reader's page texts and
whole-book texts), ``stats/`` (``index.html``, ``stats.{json,csv,svg}``) and the reading room
``viewer/`` of :mod:`guji.publish.viewer` with the pages' CSS and scripts in ``viewer/assets/``. All of
it lies under the prefixes publish prunes, so nothing of a withdrawn book stays online. Every page is rendered from the Jinja2 templates in
``guji/publish/templates/`` (package data). Everything here is deterministic (no timestamps), so an
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


def templates():
    """The Jinja2 environment of the publication's pages (package data ``guji/publish/templates``)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    from guji.publish import i18n

    env = Environment(loader=PackageLoader("guji.publish", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=False, lstrip_blocks=False, keep_trailing_newline=True)
    env.globals.update(t=i18n.t, label=i18n.label,
                       i18n_json=json.dumps(i18n.table(), ensure_ascii=False, sort_keys=True).replace("</", "<\\/"))
    return env


def _script_json(obj: Any) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")


ASSETS = ("guji.css", "i18n.js", "catalogue.js", "reader.js", "cite.js")


def _write(path: Path, text: str, written: set[str], site: Path) -> None:
    try:
        same = path.read_text("utf-8") == text
    except OSError:
        same = False
    if not same:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    written.add(path.relative_to(site).as_posix())


def write_site(site: Path, build: Path, title: str, *, work: Path | None = None, batch: Any = None,
               base_url: str = "") -> dict[str, Any]:
    """Catalogue, record pages, reading room, statistics and the reader's texts, from the index already
    written at ``site/search/index.sqlite`` and (with ``work`` and ``batch``) the public records.

    Files of earlier publishes that are no longer produced (a book withdrawn or made restricted)
    are removed (record pages ``viewer/books/``, ``search/text/``, ``viewer/assets/``)."""
    from importlib import resources

    from guji.publish import catalogue as cat
    from guji.publish.viewer import install_viewer

    written: set[str] = set()
    env = templates()
    with SearchIndex(site / uris.search_index_path()) as idx:
        st = stats_mod.compute(idx.items_rows(), idx.grade_counts())
    _write(site / "stats" / "stats.json", json.dumps(st, ensure_ascii=False, indent=2) + "\n", written, site)
    _write(site / "stats" / "stats.csv", stats_mod.to_csv(st), written, site)
    _write(site / "stats" / "stats.svg", stats_mod.to_svg(st), written, site)
    _write(site / "stats" / "index.html", env.get_template("stats.html").render(
        root="../", site_title=title, stats=st, rows=stats_mod.display_rows(st)), written, site)
    assets = resources.files("guji.publish").joinpath("assets")
    for name in ASSETS:
        _write(site / "viewer" / "assets" / name, assets.joinpath(name).read_text("utf-8"), written, site)

    records: list[dict[str, Any]] = []
    if work is not None and batch is not None:
        from guji.model import load_canvases

        records = cat.build_records(work, build, batch, base_url)
        try:
            canvases = load_canvases(work)
        except Exception:  # noqa: BLE001 - no clean output: records without texts
            canvases = []
        by_item: dict[str, list] = {}
        for c in canvases:
            by_item.setdefault(c.item_id, []).append(c)
        written |= cat.write_texts(work, site, records, by_item)
    public = cat.public_records(records)
    _write(site / cat.RECORDS_PATH, json.dumps(public, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n",
           written, site)
    rec_tpl = env.get_template("record.html")
    for rec in public:
        cite = {k: rec.get(k) for k in ("item_id", "title", "author", "edition", "institution", "year_from")}
        _write(site / rec["record_page"], rec_tpl.render(root="../../", site_title=title, rec=rec,
                                                          cite_json=_script_json(cite)), written, site)

    v = install_viewer(site, env, title)
    written |= v
    _write(site / "index.html", env.get_template("catalogue.html").render(
        root="", site_title=title, config_json=_script_json({"root": "", "viewer": bool(v)})), written, site)
    # stale files of books no longer published
    for sub in ("search/text", "viewer/assets", "viewer/books"):
        d = site / sub
        if not d.exists():
            continue
        for p in sorted(d.rglob("*"), reverse=True):
            if p.is_file() and p.relative_to(site).as_posix() not in written and p.suffix != ".sqlite":
                p.unlink()
            elif p.is_dir() and not any(p.iterdir()):
                p.rmdir()
    return st
