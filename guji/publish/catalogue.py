"""The catalogue: one public record per book, facets that filter and combine, sorting and paging.

At publish, :func:`build_records` writes ``search/records.json`` (public items only): the
catalogue fields of :class:`guji.publish.meta.ItemInfo`, the 四部 classification as a path
(經部 › 四書類 › 論語之屬), every public field of the manifest (its ``metadata`` pairs), paths of
the manifest, MODS/DC and thumbnails *relative to the publication root* (so the catalogue works on
any host), and the book's volumes and juan (from the manifest's ``structures``) with the canvas
each starts at. :func:`write_texts` writes the reader's text files
(``search/text/<item>/<canvas>.json``:
lines and characters with boxes in canvas pixels, low-confidence characters flagged; and the
whole book as ``search/text/<item>.txt``). Everything is under prefixes that publish prunes
(``search/``, ``viewer/``), so a book withdrawn or made restricted leaves nothing behind.

At serve time, :class:`Catalogue` answers ``/api/catalogue``: full text and metadata through
:meth:`guji.publish.index.SearchIndex.search` (the index stays the only full-text engine), then
facet filters (values of one facet OR, facets AND; a classification value matches its subtree),
a year range, facet counts (each facet counted with the *other* facets' filters applied, so
choices stay visible), sorting (relevance, title, date) and paging. The catalogue page does the
same filtering over ``search/records.json`` in the browser when no server answers (a plain static host),
without full text.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guji.iiif import uris

RECORDS_PATH = "search/records.json"
TEXT_DIR = "search/text"
FACETS = ("classification", "dynasty", "edition_type", "institution", "profile")
SORTS = ("relevance", "title", "date")
PER_PAGE = 20
MAX_PER_PAGE = 100
_CLASS_SPLIT = re.compile(r"\s*(?:/|›|>|－|—|－|\|)\s*")


def class_path(value: str) -> list[str]:
    """``經部/四書類/論語之屬`` (or ``經部 › 四書類``) → its parts; a bare 經 becomes 經部."""
    parts = [p for p in _CLASS_SPLIT.split(value or "") if p]
    if len(parts) == 1 and len(parts[0]) == 1 and parts[0] in "經经史子集叢丛":
        parts = [parts[0] + "部"]
    return parts


def _lang_value(v: Any, lang: str = "zh-Hant") -> str:
    if isinstance(v, dict):
        for k in (lang, "zh-Hant", "zh-Hans", "zh", "none", "en"):
            if v.get(k):
                return "；".join(str(x) for x in v[k])
        for vals in v.values():
            if vals:
                return "；".join(str(x) for x in vals)
        return ""
    if isinstance(v, list):
        return "；".join(str(x) for x in v)
    return str(v or "")


def relative(uri: str, base_url: str) -> str:
    """A URI under the publication's base as a path relative to the publication root."""
    if uri and base_url and uri.startswith(base_url):
        from urllib.parse import unquote

        return unquote(uri[len(base_url):])
    return uri


def _volumes_as_one(build: Path, collection_path: str, base_url: str) -> dict[str, Any]:
    """The volume manifests of an item's multi-part collection merged into one manifest-like dict
    (first volume's descriptive fields, every volume's canvases and ranges), or {}."""
    try:
        coll = json.loads((build / collection_path).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    merged: dict[str, Any] = {}
    for ref in coll.get("items") or []:
        if ref.get("type") != "Manifest":
            continue
        try:
            m = json.loads((build / relative(ref.get("id", ""), base_url)).read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if not merged:
            merged = {**m, "label": coll.get("label") or m.get("label"), "items": [], "structures": []}
        merged["items"] += m.get("items") or []
        merged["structures"] += m.get("structures") or []
    return merged


def _structures(manifest: dict[str, Any], canvas_index: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    """Volumes and juan of a manifest: [{label, start (canvas index), count}]."""
    out: dict[str, list[dict[str, Any]]] = {"juan": [], "volumes": []}
    for top in manifest.get("structures") or []:
        rid = top.get("id", "")
        kind = "juan" if re.search(r"[/-]juan$", rid) else "volumes" if re.search(r"[/-]volumes$", rid) else None
        if kind is None:
            continue
        for r in top.get("items") or []:
            idx = [canvas_index[c["id"]] for c in r.get("items") or [] if c.get("id") in canvas_index]
            if idx:
                out[kind].append({"label": r.get("label") or {}, "start": min(idx), "count": len(idx),
                                  "canvases": sorted(idx)})
    return out


def build_records(work: Path, build: Path, batch: Any, base_url: str) -> list[dict[str, Any]]:
    """One public record per public, ingested item of ``batch`` (see the module doc)."""
    from guji.model import ACCESS_PUBLIC
    from guji.publish.meta import item_info

    institution = str(batch.institution.get("institution", "") or "")
    records = []
    for item in batch.items:
        if not item.ok or item.access != ACCESS_PUBLIC:
            continue
        info = item_info(work, item, institution)
        rec: dict[str, Any] = info.public_dict()
        for k in ("canvases", "chars"):  # counted by the index writer, not known here
            rec.pop(k, None)
        raw = dict(item.record or {})
        pub = {}
        pp = Path(work) / "metadata" / f"{item.id}.public.json"
        if pp.exists():
            try:
                pub = json.loads(pp.read_text("utf-8"))
            except (OSError, ValueError):
                pub = {}
        pub = pub if isinstance(pub, dict) else {}
        cls = pub.get("classification")
        cls_text = _lang_value(cls.get("path") or cls.get("value") or cls) if isinstance(cls, dict) else \
            ("/".join(cls) if isinstance(cls, list) else str(cls or ""))
        rec["class_path"] = class_path(cls_text or str(raw.get("分类") or ""))
        mpath = uris.manifest_path(item.id)
        manifest: dict[str, Any] = {}
        if (build / mpath).exists():
            try:
                manifest = json.loads((build / mpath).read_text("utf-8"))
            except (OSError, ValueError):
                manifest = {}
        rec["manifest"] = mpath if manifest else ""
        rec["collection"] = ""
        if not manifest:  # published one manifest per volume ([iiif] multi_part): read them all
            manifest = _volumes_as_one(build, uris.item_collection_path(item.id), base_url)
            rec["collection"] = uris.item_collection_path(item.id) if manifest else ""
        rec["label"] = manifest.get("label") or {"zh-Hant": [info.title or item.id]}
        rec["fields"] = [{"label": p.get("label") or {}, "value": p.get("value") or {}}
                         for p in manifest.get("metadata") or []]
        rs = manifest.get("requiredStatement")
        if rs:
            rec["fields"].append({"label": rs.get("label") or {}, "value": rs.get("value") or {}})
        rec["summary"] = manifest.get("summary") or {}
        rec["viewing_direction"] = manifest.get("viewingDirection") or "left-to-right"
        thumb = ""
        for t in manifest.get("thumbnail") or []:
            thumb = thumb or t.get("id", "")
        canvases = []
        for c in manifest.get("items") or []:
            ct = ""
            for t in c.get("thumbnail") or []:
                ct = ct or t.get("id", "")
            canvases.append({"id": c.get("id", ""), "label": c.get("label") or {}, "thumbnail": relative(ct, base_url)})
            thumb = thumb or ct
        rec["thumbnail"] = relative(thumb or info.thumbnail, base_url)
        rec["_labels"] = {uris.slug(relative(c["id"], base_url).rsplit("/", 1)[-1]): _lang_value(c["label"])
                          for c in canvases}
        index = {c["id"]: i for i, c in enumerate(canvases)}
        st = _structures(manifest, index)
        for kind in ("volumes", "juan"):
            for r in st[kind]:
                r["thumbnail"] = canvases[r["start"]]["thumbnail"]
                r["canvas"] = uris.slug(relative(canvases[r["start"]]["id"], base_url).rsplit("/", 1)[-1])
                r.pop("canvases")
        if rec["collection"]:  # one manifest per volume: the reader needs the volume (?vol=N) too
            starts = [v["start"] for v in st["volumes"]]
            for r in st["volumes"] + st["juan"]:
                r["vol"] = sum(1 for x in starts if x <= r["start"]) or 1
        rec["volume_list"], rec["juan_list"] = st["volumes"], st["juan"]
        rec["canvas_count"] = len(canvases)
        rec["links"] = {k: p for k, p in (("mods", f"metadata/{item.id}.mods.xml"), ("dc", f"metadata/{item.id}.dc.xml"))
                        if (build / p).exists()}
        rec["text"] = f"{TEXT_DIR}/{item.id}.txt"
        rec["record_page"] = record_page_path(item.id)
        records.append(rec)
    records.sort(key=lambda r: r["item_id"])
    return records


def public_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records as published (without the working keys that start with ``_``)."""
    return [{k: v for k, v in r.items() if not k.startswith("_")} for r in records]


def record_page_path(item_id: str) -> str:
    """The book's record page (under ``viewer/``, a prefix publish prunes)."""
    return f"viewer/books/{item_id}.html"


# -- the reader's text files ------------------------------------------------------------------------

def page_text(doc: dict[str, Any], to_master, width: int, height: int) -> dict[str, Any]:
    """The reader's view of one OCR page model: lines in reading order with canvas-pixel boxes."""
    from guji.iiif.annotations import master_box_to_canvas

    lines = []
    for region in doc.get("regions") or []:
        rtype = region.get("type") or "body"
        for line in region.get("lines") or []:
            text = line.get("text") or ""
            if not text.strip():
                continue
            lb = master_box_to_canvas(to_master, line["box"], width, height) if line.get("box") else None
            chars = []
            for ch in line.get("chars") or []:
                b = master_box_to_canvas(to_master, ch["box"], width, height) if ch.get("box") else None
                conf = ch.get("confidence")
                chars.append({"t": ch.get("text", ""), "b": list(b) if b else None,
                              "low": bool(ch.get("low") or (isinstance(conf, (int, float)) and conf < 0.5))})
            lines.append({"id": line.get("id") or "", "type": rtype, "kind": line.get("kind") or "text",
                          "column": line.get("column"), "text": text, "box": list(lb) if lb else None,
                          "chars": chars})
    return {"layout": doc.get("layout") or "", "language": doc.get("language") or "", "lines": lines}


def write_texts(work: Path, site: Path, records: list[dict[str, Any]], canvases_by_item: dict[str, list]) -> set[str]:
    """Write ``text/<item>/<canvas>.json`` and ``text/<item>.txt``; the set of paths written."""
    from guji.fsutil import atomic_write_text
    from guji.model import IDENTITY, ocr_json_path

    written: set[str] = set()
    for rec in records:
        item = rec["item_id"]
        book: list[str] = [rec.get("title") or item, ""]
        for c in sorted(canvases_by_item.get(item, []), key=lambda c: c.order):
            p = ocr_json_path(work, item, c.id)
            if not p.exists() or not c.access:
                continue
            try:
                doc = json.loads(p.read_text("utf-8"))
            except (OSError, ValueError):
                continue
            to_master = tuple(c.access.to_master) if c.access else IDENTITY
            pt = page_text(doc, to_master, c.access.width, c.access.height)
            pt["canvas"] = uris.slug(c.id)
            rel = f"{TEXT_DIR}/{item}/{uris.slug(c.id)}.json"
            _write_if_changed(site / rel, json.dumps(pt, ensure_ascii=False, separators=(",", ":")) + "\n",
                              atomic_write_text)
            written.add(rel)
            body = [ln["text"] for ln in pt["lines"] if ln["type"] != "centre-column"]
            book += [f"【{rec.get('_labels', {}).get(uris.slug(c.id)) or c.label or c.id}】", *body, ""]
        _write_if_changed(site / rec["text"], "\n".join(book) + "\n", atomic_write_text)
        written.add(rec["text"])
    return written


def _write_if_changed(path: Path, text: str, writer) -> None:
    try:
        if path.read_text("utf-8") == text:
            return
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    writer(path, text)


# -- querying -------------------------------------------------------------------------------------

@dataclass
class CatalogueQuery:
    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)  # facet -> values (OR)
    year: tuple[int, int] | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_params(cls, params: dict[str, list[str]], max_query: int = 200) -> "CatalogueQuery":
        """``q=``, ``f=facet:value`` (repeat), ``year=FROM-TO``, ``sort=``, ``page=``, ``per_page=``."""
        q = (params.get("q") or [""])[0].strip()
        if len(q) > max_query:
            raise ValueError(f"query longer than {max_query} characters")
        filters: dict[str, list[str]] = {}
        for f in params.get("f") or []:
            name, _, value = f.partition(":")
            if name not in FACETS or not value:
                raise ValueError(f"unknown facet filter {f!r} (facets: {', '.join(FACETS)})")
            filters.setdefault(name, []).append(value)
        year = None
        y = (params.get("year") or [""])[0].strip()
        if y:
            m = re.fullmatch(r"(-?\d{1,4})?\s*[-–~]\s*(-?\d{1,4})?|(-?\d{1,4})", y)
            if not m:
                raise ValueError(f"year must be FROM-TO, not {y!r}")
            if m.group(3):
                year = (int(m.group(3)), int(m.group(3)))
            else:
                year = (int(m.group(1)) if m.group(1) else -9999, int(m.group(2)) if m.group(2) else 9999)
        sort = (params.get("sort") or ["relevance"])[0]
        if sort not in SORTS:
            raise ValueError(f"sort must be one of {', '.join(SORTS)}")

        def num(name: str, default: int, lo: int, hi: int) -> int:
            try:
                return max(lo, min(hi, int((params.get(name) or [default])[0])))
            except ValueError:
                raise ValueError(f"{name} must be a number") from None

        return cls(q, filters, year, sort, num("page", 1, 1, 10**6), num("per_page", PER_PAGE, 1, MAX_PER_PAGE))


def facet_values(rec: dict[str, Any], facet: str) -> list[str]:
    if facet == "classification":
        path = rec.get("class_path") or []
        return ["/".join(path[:i + 1]) for i in range(len(path))]
    v = rec.get(facet)
    return [str(v)] if v not in (None, "") else []


class Catalogue:
    def __init__(self, records: list[dict[str, Any]]):
        self.records = records
        self.by_id = {r["item_id"]: r for r in records}

    @classmethod
    def load(cls, root: Path) -> "Catalogue":
        p = Path(root) / RECORDS_PATH
        return cls(json.loads(p.read_text("utf-8")) if p.exists() else [])

    @staticmethod
    def _passes(rec: dict[str, Any], filters: dict[str, list[str]], year: tuple[int, int] | None,
                skip: str | None = None) -> bool:
        for f, wanted in filters.items():
            if f == skip:
                continue
            have = set(facet_values(rec, f))
            if not have & set(wanted):
                return False
        if year is not None and skip != "year":
            y0 = rec.get("year_from")
            y1 = rec.get("year_to") if rec.get("year_to") is not None else y0
            if y0 is None or y0 > year[1] or y1 < year[0]:
                return False
        return True

    def query(self, cq: CatalogueQuery, index: Any = None) -> dict[str, Any]:
        hits: dict[str, dict[str, Any]] = {}
        order: list[str] = []
        total_page_hits, exact = 0, True
        if cq.text:
            r = index.search(cq.text, limit=max(1, len(self.records)), offset=0, hits_per_item=3)
            total_page_hits, exact = r["total_page_hits"], r["counts_exact"]
            for it in r["items"]:
                if it["item_id"] in self.by_id:
                    hits[it["item_id"]] = it
                    order.append(it["item_id"])
            pool = [self.by_id[i] for i in order]
        else:
            pool = list(self.records)
        chosen = [rec for rec in pool if self._passes(rec, cq.filters, cq.year)]
        facets: dict[str, Any] = {}
        for f in FACETS:
            counts: dict[str, int] = {}
            for rec in pool:
                if self._passes(rec, cq.filters, cq.year, skip=f):
                    for v in facet_values(rec, f):
                        counts[v] = counts.get(v, 0) + 1
            selected = set(cq.filters.get(f, []))
            if f == "classification":
                facets[f] = _tree(counts, selected)
            else:
                facets[f] = [{"value": v, "count": n, "selected": v in selected}
                             for v, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        years = [r.get("year_from") for r in pool if self._passes(r, cq.filters, None) and r.get("year_from") is not None]
        if cq.sort == "title":
            chosen.sort(key=lambda r: (r.get("title") or r["item_id"], r["item_id"]))
        elif cq.sort == "date":
            chosen.sort(key=lambda r: (r.get("year_from") is None, r.get("year_from") or 0, r["item_id"]))
        elif cq.text:
            rank = {i: n for n, i in enumerate(order)}
            chosen.sort(key=lambda r: (-(hits[r["item_id"]]["page_hits"]) - (1000 if hits[r["item_id"]].get("metadata_match") else 0),
                                       rank[r["item_id"]]))
        n = len(chosen)
        pages = max(1, math.ceil(n / cq.per_page))
        page = min(cq.page, pages)
        shown = chosen[(page - 1) * cq.per_page: page * cq.per_page]
        items = []
        for rec in shown:
            h = hits.get(rec["item_id"])
            items.append({**{k: rec.get(k) for k in LIST_FIELDS},
                          "page_hits": h["page_hits"] if h else 0,
                          "metadata_match": bool(h and h.get("metadata_match")),
                          "pages_found": h["pages_found"] if h else []})
        return {"query": {"text": cq.text, "filters": cq.filters, "year": list(cq.year) if cq.year else None,
                          "sort": cq.sort, "page": page, "per_page": cq.per_page},
                "total": n, "pages": pages, "page": page, "total_page_hits": total_page_hits,
                "counts_exact": exact, "items": items, "facets": facets,
                "year_range": [min(years), max(years)] if years else None, "full_text": True}


LIST_FIELDS = ("item_id", "title", "author", "edition", "census_no", "institution", "dynasty", "edition_type",
               "year_from", "year_to", "profile", "class_path", "canvas_count", "manifest", "thumbnail",
               "record_page", "viewing_direction")


def _tree(counts: dict[str, int], selected: set[str]) -> list[dict[str, Any]]:
    """Classification values (path prefixes joined by "/") as a nested list, children under parents."""
    nodes: dict[str, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for v in sorted(counts, key=lambda v: (v.count("/"), _class_rank(v), v)):
        node = {"value": v, "label": v.rsplit("/", 1)[-1], "count": counts[v], "selected": v in selected,
                "children": []}
        nodes[v] = node
        parent = v.rsplit("/", 1)[0] if "/" in v else None
        (nodes[parent]["children"] if parent in nodes else roots).append(node)
    return roots


def _class_rank(v: str) -> int:
    order = "經经史子集叢丛"
    c = v[:1]
    return order.index(c) if c in order else 99
