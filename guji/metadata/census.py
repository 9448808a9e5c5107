"""The normalised census record: ONE typed class (pydantic v2) every stage reads and writes.

``WORK/metadata/<item>.json`` is ``CensusRecord.to_dict()``; ``guji/schemas/record.schema.json`` is
generated from this class (``python -m guji.metadata.census > guji/schemas/record.schema.json``; a test
keeps them equal). Other stages load a record with :meth:`CensusRecord.from_dict` (or
:func:`load_record`) instead of re-parsing census strings, and read the browsing facets from
:class:`Facets` (also in ``<item>.public.json`` under ``facets``).

Nested parts allow extra keys (parsers may add detail such as ``juan_text``); the top level does not.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")


class CensusNo(_Part):
    value: str = Field(pattern=r"^\d{6}-\d{4}-\d{7}$")
    province: str
    province_name: str | None = None
    unit: str
    serial: str


class Work(_Part):
    title: str
    juan: int | None = Field(default=None, ge=0)


class Title(_Part):
    title: str
    prefix: str | None = None
    works: list[Work]
    juan_total: int | None = None
    juan_all: int | None = None
    juan_unknown: bool = False


class Person(_Part):
    name: str = Field(min_length=1)
    dynasty: str | None = None
    role: str | None = None
    scope: str | None = None


class EditionEvent(_Part):
    """One dated act of a layer: 明正德十年（1515）司禮監."""
    dynasty: str | None = None
    era: str | None = None
    era_dynasty: str | None = None
    era_year: int | None = None
    year: int | None = None
    year_range: list[int] | None = Field(default=None, min_length=2, max_length=2)
    bracket_year: list[int] | None = Field(default=None, min_length=2, max_length=2)
    qualifier: str | None = None
    ganzhi: str | None = None
    agent: str | None = None
    text: str = ""


class EditionLayer(_Part):
    """base (the edition), recut (修/遞修/重修/補刻), reprint (後印), supplement (配補), model (what an 影抄 copies)."""
    role: Literal["base", "recut", "reprint", "supplement", "model", "other"]
    type: str | None = None
    scope: str | None = None
    text: str = ""
    part_of: str | None = None
    events: list[EditionEvent] = []


class Edition(_Part):
    """Top-level keys describe the base layer; ``year`` is the base edition's Gregorian year."""
    dynasty: str | None = None
    era: str | None = None
    era_dynasty: str | None = None
    era_year: int | None = Field(default=None, ge=1)
    year: int | None = None
    year_range: list[int] | None = Field(default=None, min_length=2, max_length=2)
    bracket_year: list[int] | None = None
    publisher: str | None = None
    edition_type: str | None = None
    category: str | None = None
    inferred: bool = False
    layers: list[EditionLayer] = []


class Layout(_Part):
    # 0 parses (半葉〇行) and is reported by the layout-implausible check, with a message people understand
    lines: int | None = Field(default=None, ge=0)
    chars: int | None = Field(default=None, ge=0)


class Volumes(_Part):
    count: int
    unit: str


class Extant(_Part):
    count: int | None = None
    juan: list[int] | None = None
    missing: list[int] | None = None


class Size(_Part):
    frame_cm: list[float] | None = Field(default=None, min_length=2, max_length=2)
    page_cm: list[float] | None = Field(default=None, min_length=2, max_length=2)


class Grade(_Part):
    level: Literal[1, 2, 3, 4] | None = None


class Damage(_Part):
    level: Literal[0, 1, 2, 3, 4, 5] | None = None


class Notes(_Part):
    public: list[str] = []
    internal: list[str] = []


class Classification(_Part):
    """四部 classification as written, split into its levels: 經部 › 四書類 › 論語之屬."""
    value: str
    path: list[str]
    division: str | None = None  # 經部 史部 子部 集部 叢部 (traditional, as the catalogue writes it)


class Facets(BaseModel):
    """What a catalogue browses by. Public (copied into <item>.public.json as ``facets``)."""
    model_config = ConfigDict(extra="forbid")
    classification: list[str] = []  # 四部 path, e.g. ["經部", "四書類", "論語之屬"]
    division: str | None = None  # 經部 …
    dynasty: str | None = None  # of the base edition (明, 清, 北宋 …)
    era: str | None = None
    edition_type: str | None = None  # as written at the end of 版本: 刻本, 遞修本, 朱墨套印本
    category: str | None = None  # 刻本 抄本 稿本 活字本 套印本 … (simplified, for grouping)
    year: int | None = None  # Gregorian year of the base edition, when one year
    year_from: int | None = None  # span of the base edition (= year, or the era's / dynasty's span)
    year_to: int | None = None
    layers: list[str] = []  # roles after the base: recut, reprint, supplement, model
    institution: str | None = None
    authors: list[str] = []
    author_dynasties: list[str] = []


class CensusRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str = Field(min_length=1)
    row: int | None = Field(default=None, ge=2)
    original: dict[str, str]
    identifier: str = Field(min_length=1)
    census_no: CensusNo | None = None
    local_id: str | None = None
    call_number: str | None = None
    classification: Classification | None = None
    institution: str | None = None
    title: Title | None = None
    authors: list[Person] | None = None
    edition: Edition | None = None
    annotations: list[str] | None = None
    layout: Layout | None = None
    binding: str | None = None
    volumes: Volumes | None = None
    extant: Extant | None = None
    size: Size | None = None
    seals: list[str] | None = None
    grade: Grade | None = None
    damage: Damage | None = None
    notes: Notes | None = None
    profile: Literal["rare-book", "local-document"]
    access: Literal["public", "restricted"]
    search: dict[str, str]
    facets: Facets = Facets()
    findings: list[dict[str, Any]] = []

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; every declared key present (None when empty), extra parser detail kept."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CensusRecord":
        return cls.model_validate(d)


def load_record(path: Path) -> CensusRecord:
    return CensusRecord.from_dict(json.loads(Path(path).read_text("utf-8")))


def json_schema() -> dict[str, Any]:
    s = CensusRecord.model_json_schema()
    s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    s["$id"] = "https://guji.example/schemas/record.schema.json"
    s["title"] = "guji normalised census record (WORK/metadata/<item>.json), generated from guji.metadata.census"
    return s


_DIVISIONS = {"经": "經部", "經": "經部", "史": "史部", "子": "子部", "集": "集部", "丛": "叢部", "叢": "叢部"}


def parse_classification(value: str | None) -> Classification | None:
    """經部 › 四書類 › 論語之屬, 经部/四书类/论语之属, 經部四書類論語之屬, 史-地理-方志 …"""
    if not value or not value.strip():
        return None
    v = value.strip()
    parts = [p for p in re.split(r"\s*[›»>/／\\|｜\-－—:：,，、;；]\s*|\s+", v) if p]
    if len(parts) == 1:  # 經部四書類論語之屬: cut after 部, 類, 属/屬
        parts = [p for p in re.split(r"(?<=[部類类])|(?<=之[屬属])", v) if p]
    division = None
    if parts and parts[0][:1] in _DIVISIONS and (len(parts[0]) == 1 or parts[0][1:2] in ("部", "")):
        division = _DIVISIONS[parts[0][:1]]
    return Classification(value=v, path=parts, division=division)


def facets_of(rec: dict[str, Any]) -> Facets:
    from guji.metadata.sheet import fold

    ed = rec.get("edition") or {}
    year = ed.get("year")
    rng = ed.get("year_range")
    cls = rec.get("classification") or {}
    authors = rec.get("authors") or []
    return Facets(
        classification=list(cls.get("path") or []), division=cls.get("division"),
        dynasty=ed.get("dynasty"), era=ed.get("era"), edition_type=ed.get("edition_type"),
        category=fold(ed["category"]) if ed.get("category") else None,
        year=year, year_from=year if year is not None else (rng[0] if rng else None),
        year_to=year if year is not None and not rng else (rng[1] if rng else None),
        layers=[L["role"] for L in (ed.get("layers") or [])[1:]],
        institution=rec.get("institution"),
        authors=[p["name"] for p in authors],
        author_dynasties=sorted({p["dynasty"] for p in authors if p.get("dynasty")}),
    )


if __name__ == "__main__":  # python -m guji.metadata.census > guji/schemas/record.schema.json
    sys.stdout.write(json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n")
