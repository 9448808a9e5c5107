"""Build the normalised record of one census row: run every parser, cross-field rules, schema check.

Access policy (what never leaves WORK/metadata/<item>.json): 破损级别 (damage), 定级 (grade) and the
internal part of 附注 (segments starting with 内部/內部/internal/不公开, see parsers.parse_notes).
:func:`public_view` is the only way public outputs (DC, MODS, IIIF, public JSON) get record data.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from guji import resources
from guji.errors import Problem
from guji.metadata import parsers as P
from guji.metadata.sheet import fold

RESTRICTED_FIELDS = ("定级", "破损级别")  # plus internal 附注 segments


@lru_cache(maxsize=1)
def record_schema() -> dict:
    return resources.read_json("schemas/record.schema.json")


def validate_record(rec: dict) -> list[tuple[str, str]]:
    """JSON Schema errors as (json path, message)."""
    import jsonschema

    v = jsonschema.Draft202012Validator(record_schema())
    return [("/".join(str(x) for x in e.absolute_path) or "(record)", e.message)
            for e in sorted(v.iter_errors(rec), key=lambda e: list(map(str, e.absolute_path)))]


def normalise(fields: dict[str, str], *, item: str, row: int | None, institution_code: str | None = None,
              default_access: str = "public", default_profile: str = "rare-book") -> tuple[dict, list[Problem]]:
    g = {k: (v or "").strip() for k, v in fields.items()}
    problems: list[Problem] = []

    def add(field: str, findings: list[P.Finding]) -> None:
        for sev, code, msg in findings:
            problems.append(Problem(sev, code, msg, item=item, row=row, field=field, stage="metadata"))

    def parse(field: str, parser, *extra):
        value, findings = parser(g.get(field, ""), *extra)
        add(field, findings)
        return value

    census = parse("普查编号", P.parse_census_no, institution_code)
    title = parse("题名卷数", P.parse_title)
    authors = parse("著者", P.parse_authors)
    edition = parse("版本", P.parse_edition)
    layout = parse("版式", P.parse_layout)
    extant = parse("存卷", P.parse_extant, title["juan_total"] if title else None)
    volumes = parse("册数", P.parse_volumes)
    size = parse("尺寸", P.parse_size)
    seals = parse("钤印", P.parse_seals)
    grade = parse("定级", P.parse_grade)
    damage = parse("破损级别", P.parse_damage)
    notes = parse("附注", P.parse_notes)
    profile = parse("文献类型", P.parse_doc_type)
    access = parse("访问级别", P.parse_access)

    if not g.get("普查编号") and not g.get("本地编号"):
        add("普查编号", [("error", "no-identifier", "neither 普查编号 nor 本地编号 is given")])
    # date–grade sanity (WH/T 20: grades are for books made before 1912; Song/Yuan editions rank high)
    year = None
    if edition:
        year = edition.get("year") or (edition["year_range"][0] if edition.get("year_range") else None)
    if grade and grade.get("level") and year is not None:
        lvl = grade["level"]
        if year >= 1912:
            add("定级", [("warning", "grade-date", f"定级 {grade['value']} but 版本 dates from {year} (after 1911)")])
        elif lvl == 4 and edition and edition.get("year_range") and edition["year_range"][1] <= 1368:
            add("定级", [("warning", "grade-date", f"定级 {grade['value']} for an edition before 1368 (宋元 or earlier)")])
        elif lvl == 1 and year > 1795 and (edition or {}).get("category") not in ("稿本", "抄本", "写本"):
            add("定级", [("warning", "grade-date", f"定级 {grade['value']} for a {year} printed edition")])
    # gazetteer reign prefix vs edition era
    if title and title.get("prefix") and edition and edition.get("era"):
        if fold(title["prefix"]) != fold(edition["era"]) and edition.get("year") is not None:
            from guji.metadata.eras import match_era_at

            hit = match_era_at(fold(title["prefix"]), 0)
            if hit and all(e.first_year > edition["year"] for e in hit[1]):
                add("题名卷数", [("warning", "title-prefix-after-edition",
                                   f"题名 prefix ［{title['prefix']}］ is later than the edition ({edition['year']})")])

    identifier = (census or {}).get("value") or g.get("本地编号") or item
    rec: dict[str, Any] = {
        "item": item, "row": row, "original": {k: v for k, v in fields.items() if v},
        "identifier": identifier, "census_no": census, "local_id": g.get("本地编号") or None,
        "call_number": g.get("索书号") or None, "classification": g.get("分类") or None,
        "title": title, "authors": authors, "edition": edition,
        "annotations": [x for x in g.get("批校题跋", "").split() if x] or None,
        "layout": layout, "binding": g.get("装帧") or None, "volumes": volumes, "extant": extant,
        "size": size, "seals": seals, "grade": grade, "damage": damage, "notes": notes,
        "profile": profile or default_profile, "access": access or default_access,
    }
    rec["search"] = search_keys(rec)
    for path, msg in validate_record(rec):
        problems.append(Problem("error", "schema", f"{path}: {msg}", item=item, row=row,
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
    return out


def _canonical(header: str) -> str | None:
    from guji.metadata.sheet import canonical_field

    return canonical_field(header)
