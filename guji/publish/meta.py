"""What the catalogue and the index know about an item: public fields only.

Sources, best first: ``WORK/metadata/<item>.public.json`` (the metadata stage's public record and
its typed ``facets``, :class:`guji.metadata.census.Facets`), then the raw census row in
``batch.json`` (``item.record``) run through the metadata stage's own parser — dynasty, years and
edition type are never re-parsed here. Fields the census marks restricted (定级 grade, 破损 damage, 索书号 call number,
钤印 seals ...) are never copied into :class:`ItemInfo` — except ``grade``, which is kept only for
aggregate counts (:mod:`guji.publish.stats`) and never written per record.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from guji.metadata.census import Facets
from guji.textfold import fold

CLASSES = ("经", "史", "子", "集", "丛")


@dataclass
class ItemInfo:
    item_id: str
    title: str = ""
    author: str = ""
    edition: str = ""
    census_no: str = ""
    classification: str = ""  # 经 史 子 集 丛, or "" when unknown
    institution: str = ""
    dynasty: str = ""
    year_from: int | None = None
    year_to: int | None = None
    edition_type: str = ""
    profile: str = ""
    volumes: int = 0
    pages: int = 0
    canvases: int = 0
    chars: int = 0
    manifest: str = ""  # manifest URI
    thumbnail: str = ""  # thumbnail URI
    grade: str = field(default="", repr=False)  # restricted: aggregate counts only, never per record

    def public_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("grade")
        return d


def _first(d: dict[str, Any], *keys: str) -> str:
    for k in keys:
        v = d.get(k)
        if isinstance(v, dict):  # language map or structured value
            v = v.get("value") or v.get("zh-Hant") or v.get("zh") or next(iter(v.values()), "")
            if isinstance(v, list):
                v = v[0] if v else ""
        if isinstance(v, list):
            v = "；".join(str(x) for x in v if x)
        if v not in (None, ""):
            return str(v).strip()
    return ""


def classification_of(value: str) -> str:
    """经 史 子 集 丛 (folded) of a 四部 classification as written, or "" when it names none."""
    from guji.metadata.census import parse_classification

    c = parse_classification(value)
    return fold(c.division)[:1] if c and c.division else ""


def _facets(work: Path, item: Any, pub: dict[str, Any]) -> Facets:
    """The typed browsing facets: from the public record, or (no metadata stage run yet) from the one
    census-record parser over the raw row — never re-parsed with tables of our own."""
    if isinstance(pub.get("facets"), dict):
        try:
            return Facets.model_validate(pub["facets"])
        except ValueError:
            pass
    from guji.metadata.record import normalise

    rec, _ = normalise(dict(item.record or {}), item=item.id, row=None)
    return Facets.model_validate(rec["facets"])


def item_info(work: Path, item: Any, institution: str = "") -> ItemInfo:
    """Public description of one item (``item`` is a :class:`guji.model.Item`)."""
    rec = dict(item.record or {})
    pub: dict[str, Any] = {}
    p = Path(work) / "metadata" / f"{item.id}.public.json"
    if p.exists():
        try:
            pub = json.loads(p.read_text("utf-8"))
        except (OSError, ValueError):
            pub = {}
    if not isinstance(pub, dict):
        pub = {}
    orig = pub.get("original") if isinstance(pub.get("original"), dict) else {}
    info = ItemInfo(item_id=item.id, profile=item.profile)
    # display strings: the original census wording (public view first, raw row as fallback)
    info.title = _first(orig, "题名卷数") or _first(rec, "题名卷数", "题名")
    info.author = _first(orig, "著者") or _first(rec, "著者")
    info.edition = _first(orig, "版本") or _first(rec, "版本")
    info.census_no = _first(pub, "census_no") or item.census_no or _first(rec, "普查编号")
    info.institution = institution or _first(rec, "收藏单位")
    fac = _facets(work, item, pub)
    info.classification = fold(fac.division)[:1] if fac.division else classification_of(_first(rec, "分类"))
    info.institution = info.institution if institution else (fac.institution or info.institution)
    info.dynasty = fold(fac.dynasty or "")
    info.year_from, info.year_to = fac.year_from, fac.year_to
    info.edition_type = fold(fac.category or fac.edition_type or "")
    # grade is restricted: read from the full record for counts only
    full = Path(work) / "metadata" / f"{item.id}.json"
    grade = ""
    if full.exists():
        try:
            grade = _first(json.loads(full.read_text("utf-8")), "grade", "定级")
        except (OSError, ValueError):
            grade = ""
    info.grade = grade or _first(rec, "定级")
    info.volumes = len(item.volumes)
    info.pages = sum(1 for _ in item.pages())
    return info
