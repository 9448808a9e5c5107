"""Presentation 3 manifests and collections (built with iiif-prezi3, always with explicit ids).

Descriptive fields come from ``WORK/metadata/<item>.public.json`` (key ``iiif``: ready language
maps ``label``, ``summary``, ``metadata``, ``navDate``, ``requiredStatement``). When that file is
missing (metadata stage not run) we fall back to the raw census sheet row: title 题名卷数 (else the
folder name), 著者 and 版本 as metadata, the first four-digit year in 版本 as navDate, all as
zh-Hant/zh-Hans maps made with OpenCC. Only those three fields are used by the fallback: other
sheet columns (定级, 破损级别 …) are never published from here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from guji.iiif import uris
from guji.textfold import convert
from guji.model import PROFILE_LOCAL_DOCUMENT, Item

LANG_ORDER = ("zh-Hant", "zh-Hans", "en")
NON_PAGED_FLAGS = {"colour-bar", "color-bar", "colour-target", "case-photo", "non-paged"}
RIGHTS_PREFIXES = ("http://creativecommons.org/", "https://creativecommons.org/",
                   "http://rightsstatements.org/", "https://rightsstatements.org/")
CN_DIGITS = "〇一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 105 → 一〇五 (plain digits above 99)."""
    if n < 10:
        return CN_DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return (CN_DIGITS[tens] if tens > 1 else "") + "十" + (CN_DIGITS[ones] if ones else "")
    return "".join(CN_DIGITS[int(c)] for c in str(n))


def zh_map(text: str, en: str | None = None) -> dict[str, list[str]]:
    """A language map with zh-Hant first, zh-Hans second (OpenCC), then en when given."""
    hans = convert("t2s", text)
    # text already written in traditional characters is kept as is (s2t would turn 注 into 註)
    hant = text if hans != text else convert("s2t", text)
    m = {"zh-Hant": [hant], "zh-Hans": [hans]}
    if en:
        m["en"] = [en]
    return m


def order_map(m: Any) -> Any:
    """Reorder a language map's keys: zh-Hant, zh-Hans, en, then the rest as given."""
    if not isinstance(m, dict):
        return m
    keys = [k for k in LANG_ORDER if k in m] + [k for k in m if k not in LANG_ORDER]
    return {k: m[k] for k in keys}


def order_pairs(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"label": order_map(p["label"]), "value": order_map(p["value"])} for p in pairs]


YEAR_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def nav_date_from_text(text: str | None) -> str | None:
    if not text:
        return None
    m = YEAR_RE.search(text)
    if not m:
        return None
    return f"{int(m.group(1)):04d}-01-01T00:00:00Z"


def descriptive(item: Item, public: dict[str, Any] | None, config: dict[str, Any]) -> dict[str, Any]:
    """label, summary, metadata, navDate, requiredStatement for one item (see module doc)."""
    batch_cfg = config.get("batch", {}) or {}
    inst = batch_cfg.get("institution") or ""
    out: dict[str, Any] = {}
    pub = (public or {}).get("iiif") or {}
    if pub.get("label"):
        out["label"] = order_map(pub["label"])
    if pub.get("summary"):
        out["summary"] = order_map(pub["summary"])
    if pub.get("metadata"):
        out["metadata"] = order_pairs(pub["metadata"])
    if pub.get("navDate"):
        out["navDate"] = pub["navDate"]
    if pub.get("requiredStatement"):
        rs = pub["requiredStatement"]
        out["requiredStatement"] = {"label": order_map(rs["label"]), "value": order_map(rs["value"])}

    rec = _folded(item.record)
    if "label" not in out:
        out["label"] = zh_map(rec.get("题名卷数") or item.id)
    if "metadata" not in out:
        pairs = []
        for key, en in (("题名卷数", "Title"), ("著者", "Author"), ("版本", "Edition")):
            if rec.get(key):
                pairs.append({"label": zh_map(key, en), "value": zh_map(rec[key])})
        out["metadata"] = pairs
    if "summary" not in out and (rec.get("著者") or rec.get("版本")):
        out["summary"] = zh_map("　".join(x for x in (rec.get("著者"), rec.get("版本")) if x))
    if "navDate" not in out:
        nd = nav_date_from_text(rec.get("版本"))
        if nd:
            out["navDate"] = nd
    if "requiredStatement" not in out and inst:
        out["requiredStatement"] = {"label": zh_map("收藏单位", "Holding institution"), "value": zh_map(inst)}
    return out


def _folded(record: dict[str, str]) -> dict[str, str]:
    """Sheet row with header names in simplified form (the sheet may use traditional headers)."""
    out = {}
    for k, v in (record or {}).items():
        if v is None:
            continue
        out[convert("t2s", str(k)).strip()] = str(v).strip()
    return out


@dataclass
class CanvasInfo:
    """What the manifest needs of one canvas (from canvases.json and the tiler)."""

    id: str
    page_id: str
    volume_id: str
    order: int
    width: int
    height: int
    sizes: list[dict[str, int]]
    tiles: list[dict[str, Any]]
    label: str
    non_paged: bool = False
    has_text: bool = False
    annotations: bool = False
    part: str = "full"
    label_map: dict[str, list[str]] | None = None  # page label from the centre column (卷一 葉三), zh-Hant/zh-Hans/en


@dataclass
class ItemBuild:
    item: Item
    canvases: list[CanvasInfo]
    desc: dict[str, Any]
    has_mods: bool
    config: dict[str, Any] = field(default_factory=dict)
    # juan ranges from the centre column (guji structure), used when the batch has no structure.csv:
    # [{"label": language map, "canvases": [canvas id, …]}] in book order
    juan_ranges: list[dict[str, Any]] | None = None


def _image_ref(base: str, c: CanvasInfo, size: dict[str, int]) -> dict[str, Any]:
    return {"id": uris.uri(base, uris.image_size_path(c.id, f"{size['width']},{size['height']}")),
            "type": "Image", "format": "image/jpeg", "width": size["width"], "height": size["height"],
            "service": [_service(base, c)]}


def _service(base: str, c: CanvasInfo) -> dict[str, Any]:
    # sizes are repeated here so viewers (Mirador) choose a thumbnail without fetching info.json
    return {"id": uris.image_service_uri(base, c.id), "type": "ImageService3", "profile": "level0",
            "width": c.width, "height": c.height, "sizes": c.sizes}


def _thumb(base: str, c: CanvasInfo, want: int = 200) -> list[dict[str, Any]]:
    if not c.sizes:
        return []
    fit = [s for s in c.sizes if s["width"] >= want]
    size = fit[0] if fit else c.sizes[-1]
    return [_image_ref(base, c, size)]


def start_canvas(canvases: list[CanvasInfo]) -> CanvasInfo | None:
    """First page of text: first paged canvas with OCR text, else first paged, else first."""
    for c in canvases:
        if c.has_text and not c.non_paged:
            return c
    for c in canvases:
        if not c.non_paged:
            return c
    return canvases[0] if canvases else None


def _canvas(base: str, item_id: str, c: CanvasInfo) -> Any:
    from iiif_prezi3 import AnnotationPageRef, Canvas

    cid = uris.canvas_uri(base, item_id, c.id)
    d: dict[str, Any] = {
        "id": cid, "label": order_map(c.label_map) if c.label_map else {"none": [c.label]},
        "width": c.width, "height": c.height,
        "thumbnail": _thumb(base, c, 90),
        "items": [{
            "id": cid + "/page", "type": "AnnotationPage",
            "items": [{
                "id": cid + "/page/image", "type": "Annotation", "motivation": "painting",
                "body": {"id": uris.uri(base, uris.image_size_path(c.id, "max")), "type": "Image",
                         "format": "image/jpeg", "width": c.width, "height": c.height,
                         "service": [_service(base, c)]},
                "target": cid,
            }],
        }],
    }
    if c.non_paged:
        d["behavior"] = ["non-paged"]
    if c.annotations:
        d["annotations"] = [AnnotationPageRef(id=uris.uri(base, uris.annotation_page_path(item_id, c.id)),
                                              type="AnnotationPage")]
    return Canvas(**d)


def _structures(base: str, build: ItemBuild, canvases: list[CanvasInfo], prefix: str = "") -> list[Any]:
    from iiif_prezi3 import CanvasRef

    item = build.item
    iid = item.id
    ref = lambda c: CanvasRef(id=uris.canvas_uri(base, iid, c.id), type="Canvas")  # noqa: E731
    ranges: list[Any] = []
    # juan tree (卷) first: each juan runs from its start page to the next juan's start, over the
    # whole item (a juan may cross volumes), then kept to the canvases of this manifest
    whole = build.canvases
    shown = {c.id for c in canvases}
    starts = [(j, next((i for i, c in enumerate(whole) if c.page_id == j.start_page), None)) for j in item.juan]
    starts = [(j, i) for j, i in starts if i is not None]
    if not starts and build.juan_ranges:
        # no structure.csv: the juan as the centre column shows them (may cross volumes)
        children = []
        for n, jr in enumerate(build.juan_ranges):
            members = [c for c in whole if c.id in set(jr["canvases"]) and c.id in shown]
            if members:
                children.append({"id": uris.range_uri(base, iid, f"{prefix}juan-{n + 1}"), "type": "Range",
                                 "label": order_map(jr["label"]), "items": [ref(c) for c in members]})
        if children:
            ranges.append({"id": uris.range_uri(base, iid, f"{prefix}juan"), "type": "Range",
                           "label": zh_map("卷", "Juan"), "items": children})
    if starts:
        children = []
        for n, (j, i) in enumerate(starts):
            end = starts[n + 1][1] if n + 1 < len(starts) else len(whole)
            members = [c for c in whole[i:end] if c.id in shown]
            if not members:
                continue
            children.append({"id": uris.range_uri(base, iid, f"{prefix}juan-{n + 1}"), "type": "Range",
                             "label": zh_map(j.label), "items": [ref(c) for c in members]})
        if children:
            ranges.append({"id": uris.range_uri(base, iid, f"{prefix}juan"), "type": "Range",
                           "label": zh_map("卷", "Juan"), "items": children})
    # volume tree (册) second
    vchildren = []
    for v in item.volumes:
        cs = [c for c in canvases if c.volume_id == v.id]
        if not cs:
            continue
        vchildren.append({"id": uris.range_uri(base, iid, f"{prefix}volume-{v.seq}"), "type": "Range",
                          "label": {"zh-Hant": [f"第{cn_number(v.seq)}冊"], "zh-Hans": [f"第{cn_number(v.seq)}册"],
                                    "en": [f"Volume {v.seq}"]},
                          "items": [ref(c) for c in cs]})
    if vchildren:
        ranges.append({"id": uris.range_uri(base, iid, f"{prefix}volumes"), "type": "Range",
                       "label": {"zh-Hant": ["冊"], "zh-Hans": ["册"], "en": ["Volumes"]}, "items": vchildren})
    return [_range(r) for r in ranges]


def _range(d: Any) -> Any:
    from iiif_prezi3 import Range

    if not isinstance(d, dict):
        return d
    return Range(**{**d, "type": "Range", "items": [_range(x) for x in d["items"]]})


def _common(base: str, build: ItemBuild, params: dict[str, Any]) -> dict[str, Any]:
    item = build.item
    cfg = build.config.get("batch", {}) or {}
    d: dict[str, Any] = {}
    desc = build.desc
    for k in ("label", "summary", "metadata", "navDate", "requiredStatement"):
        if desc.get(k):
            d[k] = desc[k]
    rights = cfg.get("rights")
    if rights and str(rights).startswith(RIGHTS_PREFIXES):
        d["rights"] = str(rights)
    inst = cfg.get("institution")
    if inst:
        code = cfg.get("institution_code") or "institution"
        # the Agent's id resolves: the catalogue page (written by publish) at the institution's anchor
        d["provider"] = [{"id": f"{base}index.html#institution-{code}", "type": "Agent", "label": zh_map(inst),
                          "homepage": [{"id": base, "type": "Text", "label": zh_map(inst), "format": "text/html"}]}]
    d["homepage"] = [{"id": params["homepage"].format(base_url=base, item=uris.encode_path(item.id)), "type": "Text",
                      "label": desc["label"], "format": "text/html"}]
    if build.has_mods:
        d["seeAlso"] = [{"id": uris.uri(base, uris.mods_path(item.id)), "type": "Dataset", "format": "application/xml",
                         "profile": "http://www.loc.gov/mods/v3", "label": zh_map("MODS 记录", "MODS record")}]
    if item.profile == PROFILE_LOCAL_DOCUMENT:
        d["viewingDirection"] = "left-to-right"
    else:
        d["viewingDirection"] = "right-to-left"
    d["behavior"] = ["paged"]
    d["service"] = [
        {"id": uris.content_search_uri(base, item.id, 2), "type": "SearchService2"},
        {"@id": uris.content_search_uri(base, item.id, 1), "@type": "SearchService1",
         "profile": "http://iiif.io/api/search/1/search"},
    ]
    return d


def build_manifest(base: str, build: ItemBuild, params: dict[str, Any], *, canvases: list[CanvasInfo] | None = None,
                   manifest_id: str | None = None, part_of: str | None = None, volume_seq: int | None = None) -> dict:
    """One Presentation 3 manifest (the whole item, or one volume when ``volume_seq`` is given)."""
    from iiif_prezi3 import CanvasRef, Manifest

    cs = build.canvases if canvases is None else canvases
    d = _common(base, build, params)
    if volume_seq is not None:
        d["label"] = {k: [f"{v[0]} 第{cn_number(volume_seq)}{'冊' if k == 'zh-Hant' else '册'}" if k.startswith("zh")
                          else f"{v[0]}, volume {volume_seq}"] for k, v in d["label"].items()}
    first = start_canvas(cs)
    if first is not None:
        d["thumbnail"] = _thumb(base, first, 200)
        d["start"] = CanvasRef(id=uris.canvas_uri(base, build.item.id, first.id), type="Canvas")
    if part_of:
        d["partOf"] = [{"id": part_of, "type": "Collection"}]
    m = Manifest(id=manifest_id or uris.manifest_uri(base, build.item.id), **d)
    m.items = [_canvas(base, build.item.id, c) for c in cs]
    structures = _structures(base, build, cs, prefix=f"v{volume_seq}-" if volume_seq else "")
    if structures:
        m.structures = structures
    return to_dict(m)


def to_dict(resource: Any) -> dict[str, Any]:
    doc = json.loads(resource.jsonld())
    return doc


def manifest_ref(base: str, manifest: dict[str, Any]) -> dict[str, Any]:
    ref = {"id": manifest["id"], "type": manifest["type"], "label": manifest["label"]}
    if manifest.get("thumbnail"):
        ref["thumbnail"] = manifest["thumbnail"]
    return ref


def build_collection(collection_id: str, label: dict[str, list[str]], refs: list[dict[str, Any]], *,
                     behavior: list[str] | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    from iiif_prezi3 import Collection

    d: dict[str, Any] = {"id": collection_id, "label": label, **(extra or {})}
    if behavior:
        d["behavior"] = behavior
    c = Collection(**d)
    c.items = refs
    return to_dict(c)
