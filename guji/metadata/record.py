"""Build the normalised record of one census row: run every parser, cross-field rules, schema check.

Access policy (what never leaves WORK/metadata/<item>.json): 破损级别 (damage), 定级 (grade) and the
internal part of 附注 (segments starting with 内部/內部/internal/不公开, see parsers.parse_notes).
:func:`public_view` is the only way public outputs (DC, MODS, IIIF, public JSON) get record data.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from guji.errors import Problem
from pydantic import ValidationError

from guji.metadata import checks as C
from guji.metadata.census import CensusRecord, facets_of, parse_classification
from guji.metadata import parsers as P
from guji.metadata.sheet import fold

RESTRICTED_FIELDS = ("定级", "破损级别")  # plus internal 附注 segments


@lru_cache(maxsize=1)
def record_schema() -> dict:
    """The record's JSON Schema, generated from :class:`~guji.metadata.census.CensusRecord` (the file
    guji/schemas/record.schema.json is the same, written for people and other tools)."""
    from guji.metadata.census import json_schema

    return json_schema()


def validate_record(rec: dict) -> list[tuple[str, str]]:
    """JSON Schema errors as (json path, message)."""
    import jsonschema

    v = jsonschema.Draft202012Validator(record_schema())
    return [("/".join(str(x) for x in e.absolute_path) or "(record)", e.message)
            for e in sorted(v.iter_errors(rec), key=lambda e: list(map(str, e.absolute_path)))]


def normalise(fields: dict[str, str], *, item: str, row: int | None, institution_code: str | None = None,
              default_access: str = "public", default_profile: str = "rare-book",
              institution: str | None = None) -> tuple[dict, list[Problem]]:
    """Parse and check one census row; returns ``CensusRecord.to_dict()`` and the findings.

    ``institution``: the holding unit (batch.toml) when the row has no 收藏单位."""
    g = {k: (v or "").strip() for k, v in fields.items()}
    problems: list[Problem] = []

    def add(field: str, findings: list) -> None:
        for f in findings:  # (severity, code, message) or (severity, code, message zh, message en)
            extra = {"message_en": f[3]} if len(f) > 3 else {}
            problems.append(Problem(f[0], f[1], f[2], item=item, row=row, field=field, stage="metadata", extra=extra))

    def parse(field: str, parser, *extra):
        value, findings = parser(g.get(field, ""), *extra)
        add(field, findings)
        return value

    census = parse("普查编号", P.parse_census_no, institution_code)
    title = parse("题名卷数", P.parse_title)
    authors = parse("著者", P.parse_authors)
    edition, ed_findings = P.parse_edition(g.get("版本", ""))
    layout = parse("版式", P.parse_layout)
    extant = parse("存卷", P.parse_extant, title)
    volumes = parse("册数", P.parse_volumes)
    size = parse("尺寸", P.parse_size)
    seals = parse("钤印", P.parse_seals)
    grade = parse("定级", P.parse_grade)
    damage = parse("破损级别", P.parse_damage)
    notes = parse("附注", P.parse_notes)
    profile = parse("文献类型", P.parse_doc_type)
    access = parse("访问级别", P.parse_access)

    if C.date_manuscript_by_author(edition, authors):  # 稿本 of a （清） author is dated 清
        ed_findings = [f for f in ed_findings if f[1] != "edition-undated"]
    add("版本", ed_findings)
    if not g.get("普查编号") and not g.get("本地编号"):
        add("普查编号", [("error", "no-identifier", "普查编号和本地编号都没有", "neither 普查编号 nor 本地编号 is given")])
    for fld, sev, code, zh, en in (C.check_authors(authors, edition) + C.check_layout(layout, g.get("版式", ""))
                                   + (C.check_scope(edition, g.get("版本", ""))
                                      if (profile or default_profile) == "rare-book" else [])
                                   + C.check_title_prefix(title, edition)
                                   + C.check_grade(grade, edition)):
        add(fld, [(sev, code, zh, en)])

    identifier = (census or {}).get("value") or g.get("本地编号") or item
    rec: dict[str, Any] = {
        "item": item, "row": row, "original": {k: v for k, v in fields.items() if v},
        "identifier": identifier, "census_no": census, "local_id": g.get("本地编号") or None,
        "call_number": g.get("索书号") or None,
        "classification": (lambda c: c.model_dump(mode="json") if c else None)(parse_classification(g.get("分类"))),
        "institution": g.get("收藏单位") or institution or None,
        "title": title, "authors": authors, "edition": edition,
        "annotations": [x for x in g.get("批校题跋", "").split() if x] or None,
        "layout": layout, "binding": g.get("装帧") or None, "volumes": volumes, "extant": extant,
        "size": size, "seals": seals, "grade": grade, "damage": damage, "notes": notes,
        "profile": profile or default_profile, "access": access or default_access,
    }
    rec["search"] = search_keys(rec)
    rec["facets"] = facets_of(rec).model_dump(mode="json")
    try:
        rec = CensusRecord.from_dict(rec).to_dict()
    except ValidationError as err:  # a parser produced what the record model does not allow
        for e in err.errors():
            path = "/".join(str(x) for x in e["loc"]) or "(record)"
            problems.append(Problem("error", "schema", f"{path}: {e['msg']}", item=item, row=row,
                                    field=path.split("/")[0], stage="metadata"))
    rec["findings"] = [p.to_dict() for p in problems]
    return rec, problems


def search_keys(rec: dict) -> dict[str, str]:
    """Folded (simplified, OpenCC t2s) keys for matching and search. Display keeps the originals."""
    keys = {"title": fold(" ".join(w["title"] for w in (rec.get("title") or {}).get("works", []))) or fold(rec["item"])}
    if rec.get("authors"):
        keys["authors"] = fold(" ".join(p["name"] for p in rec["authors"]))
    if rec.get("edition") and rec["original"].get("版本"):
        keys["edition"] = fold(rec["original"]["版本"])
    return keys


def public_view(rec: dict) -> dict[str, Any]:
    """The record without restricted data: no 定级, 破损级别, internal 附注, no findings."""
    drop = {"grade", "damage", "findings", "notes", "original"}
    out = {k: v for k, v in rec.items() if k not in drop}
    out["original"] = {k: v for k, v in rec.get("original", {}).items()
                       if P.fold(k) not in ("定级", "破损级别", "附注") and _canonical(k) not in ("定级", "破损级别", "附注")}
    notes = rec.get("notes") or {}
    out["notes"] = list(notes.get("public", []))
    cls = rec.get("classification")
    out["classification"] = cls.get("value") if isinstance(cls, dict) else cls  # a string, as before
    return out


def _canonical(header: str) -> str | None:
    from guji.metadata.sheet import canonical_field

    return canonical_field(header)
