"""What the catalogue and the index know about an item: public fields only.

Sources, best first: ``WORK/metadata/<item>.public.json`` (the metadata stage's public record),
then the raw census row in ``batch.json`` (``item.record``) for title/author/edition/
classification. Fields the census marks restricted (定级 grade, 破损 damage, 索书号 call number,
钤印 seals ...) are never copied into :class:`ItemInfo` — except ``grade``, which is kept only for
aggregate counts (:mod:`guji.publish.stats`) and never written per record.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from guji import resources
from guji.textfold import fold

CLASSES = ("经", "史", "子", "集", "丛")
DYNASTIES = ("先秦", "秦", "汉", "三国", "晋", "南北朝", "隋", "唐", "五代", "宋", "辽", "金", "西夏", "元", "明",
             "清", "民国", "中华人民共和国")
EDITION_TYPES = ("活字印本", "活字本", "刻本", "抄本", "钞本", "稿本", "石印本", "铅印本", "影印本", "拓本", "写本",
                 "套印本", "油印本", "晒印本")


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


@lru_cache(maxsize=1)
def _reign_eras() -> list[tuple[str, str, int, int]]:
    """(dynasty, era folded, first year, last year) from the metadata stage's table, if present."""
    out: list[tuple[str, str, int, int]] = []
    if not resources.exists("metadata/data/reign_eras.tsv"):
        return out
    for line in resources.read_text("metadata/data/reign_eras.tsv").splitlines():
        if not line or line.startswith("#") or line.startswith("dynasty\t"):
            continue
        parts = line.split("\t")
        try:
            out.append((fold(parts[0]), fold(parts[1]), int(parts[2]), int(parts[2]) + int(parts[3]) - 1))
        except (IndexError, ValueError):
            continue
    out.sort(key=lambda r: -len(r[1]))
    return out


_YEAR_RE = re.compile(r"[（(]\s*(\d{3,4})(?:\s*[-–—至]\s*(\d{3,4}))?\s*[)）]")


def parse_edition(edition: str) -> tuple[str, int | None, int | None, str]:
    """(dynasty, year_from, year_to, edition type) from an edition statement like 明萬曆刻本."""
    f = fold(edition)
    dynasty = ""
    for d in sorted(DYNASTIES, key=len, reverse=True):
        if f.startswith(d):
            dynasty = d
            break
    y0 = y1 = None
    m = _YEAR_RE.search(edition)
    if m:
        y0 = int(m.group(1))
        y1 = int(m.group(2)) if m.group(2) else y0
    else:
        for dyn, era, first, last in _reign_eras():
            if era and era in f and (not dynasty or dyn == dynasty):
                y0, y1 = first, last
                dynasty = dynasty or dyn
                break
    etype = ""
    for t in EDITION_TYPES:
        if t in f:
            etype = {"钞本": "抄本", "活字印本": "活字本"}.get(t, t)
            break
    return dynasty, y0, y1, etype


def classification_of(value: str) -> str:
    f = fold(value).strip()
    if f[:1] in CLASSES:
        return f[:1]
    for c, word in (("经", "经部"), ("史", "史部"), ("子", "子部"), ("集", "集部"), ("丛", "丛部")):
        if word in f:
            return c
    return ""


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
    ed = pub.get("edition") if isinstance(pub.get("edition"), dict) else {}
    info = ItemInfo(item_id=item.id, profile=item.profile)
    # display strings: the original census wording (public view first, raw row as fallback)
    info.title = _first(orig, "题名卷数") or _first(rec, "题名卷数", "题名")
    info.author = _first(orig, "著者") or _first(rec, "著者")
    info.edition = _first(orig, "版本") or _first(rec, "版本")
    info.census_no = _first(pub, "census_no") or item.census_no or _first(rec, "普查编号")
    info.institution = institution or _first(rec, "收藏单位")
    info.classification = classification_of(_first(pub, "classification") or _first(rec, "分类"))
    dyn, y0, y1, etype = parse_edition(info.edition)
    info.dynasty = fold(str(ed.get("dynasty") or ed.get("era_dynasty") or "")) or dyn
    years = [v for v in (ed.get("year_range") or ed.get("bracket_year") or []) if isinstance(v, int)]
    if isinstance(ed.get("year"), int):
        years = years or [ed["year"]]
    if years:
        y0, y1 = min(years), max(years)
    info.year_from, info.year_to = y0, (y1 if y1 is not None else y0)
    info.edition_type = fold(str(ed.get("edition_type") or ed.get("category") or "")) or etype
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
