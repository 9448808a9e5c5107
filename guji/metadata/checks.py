"""The reviewer's cross-field checks on a parsed census record.

Each check returns findings ``(field, severity, code, message zh, message en)``. Severity follows
how sure the check is: what cannot be true is an ``error``; what is unusual but attested is a
``warning`` that says why it may still be right.

| code | field | what |
|---|---|---|
| author-no-dynasty / author-no-role | 著者 | every person needs 时代 and 著作方式 |
| author-after-edition | 著者 | an author's dynasty begins after the edition was made |
| layout-implausible | 版式 | a half-leaf has 4–30 columns of 6–40 characters |
| census-scope | 版本 | the census covers books made before 1912; 民國 editions are out of scope |
| title-prefix-after-edition | 题名卷数 | a gazetteer's ［萬曆］ prefix is later than the edition |
| grade-date | 定级 | the grade does not fit the edition's date |
"""

from __future__ import annotations

from guji.metadata.eras import FOREIGN, dynasty_label, dynasty_spans, match_dynasty, match_era_at
from guji.metadata.sheet import fold

Check = tuple[str, str, str, str, str]  # field, severity, code, zh, en

LINES_OK, LINES_RARE = (4, 30), (2, 40)  # columns per half-leaf: usual, attested extremes
CHARS_OK, CHARS_RARE = (6, 40), (3, 60)  # characters per column
AUTHOR_GAP_OK = 30  # a person active at the edition may be listed under a dynasty begun in his lifetime
AUTHOR_GAP_WARN = 60  # beyond this it is impossible
NO_DYNASTY_NEEDED = ("佚名", "失名", "失譯", "失译", "不著撰人", "無名氏", "无名氏")


def edition_span(ed: dict | None) -> tuple[int, int] | None:
    if not ed:
        return None
    if ed.get("year") is not None:
        return ed["year"], ed["year"]
    if ed.get("year_range"):
        return ed["year_range"][0], ed["year_range"][1]
    return None


def check_authors(authors: list[dict] | None, ed: dict | None) -> list[Check]:
    out: list[Check] = []
    span = edition_span(ed)
    spans = dynasty_spans()
    for p in authors or []:
        name = p["name"]
        anonymous = any(name.startswith(x) for x in NO_DYNASTY_NEEDED)
        if not p.get("dynasty") and not anonymous:
            out.append(("著者", "warning", "author-no-dynasty", f"著者「{name}」没有时代（如（清））",
                        f"著者 {name!r} has no dynasty (e.g. （清）)"))
        if not p.get("role") and not (anonymous and name.endswith(("譯", "译"))):
            out.append(("著者", "warning", "author-no-role", f"著者「{name}」没有著作方式（撰、辑、注……）",
                        f"著者 {name!r} has no role (撰, 輯, 注 …)"))
        label = dynasty_label(p["dynasty"]) if p.get("dynasty") else None
        if not label or not span or p["dynasty"].startswith(FOREIGN):
            continue
        dspan = spans.get(label)
        if not dspan:
            continue
        if len(label) == 1:  # （宋） may be 劉宋, （梁） 南梁 or 後梁 …: the earliest reading, so no false alarm
            starts = [sp[0] for d, sp in spans.items() if d.endswith(label) and len(d) <= 3]
            dspan = (min(starts + [dspan[0]]), dspan[1])
        gap = dspan[0] - span[1]
        if gap > AUTHOR_GAP_WARN:
            out.append(("著者", "error", "author-after-edition",
                        f"著者「{name}」属{p['dynasty']}（{dspan[0]}年起），而版本最晚为{span[1]}年：著者不能晚于版本",
                        f"著者 {name!r} is of {p['dynasty']} (from {dspan[0]}), but the edition dates from "
                        f"{span[1]} at the latest: an author cannot be later than the edition"))
        elif gap > AUTHOR_GAP_OK:
            out.append(("著者", "warning", "author-after-edition",
                        f"著者「{name}」属{p['dynasty']}（{dspan[0]}年起），版本最晚为{span[1]}年；"
                        "跨朝代人物（如明清之际）时有此例，请核对",
                        f"著者 {name!r} is of {p['dynasty']} (from {dspan[0]}), the edition dates from {span[1]} at "
                        "the latest; people who lived across a change of dynasty are listed so, please check"))
    return out


def _range_check(value: int | None, ok: tuple[int, int], rare: tuple[int, int], what_zh: str, what_en: str,
                 raw: str) -> Check | None:
    if value is None:
        return None
    if ok[0] <= value <= ok[1]:
        return None
    if rare[0] <= value <= rare[1]:
        return ("版式", "warning", "layout-implausible",
                f"版式「{raw}」：{what_zh}{value}少见（通常{ok[0]}–{ok[1]}），巾箱本、大字本等偶有此例，请核对",
                f"版式 {raw!r}: {value} {what_en} is unusual (usually {ok[0]}–{ok[1]}); attested in small or "
                "large-character editions, please check")
    return ("版式", "error", "layout-implausible",
            f"版式「{raw}」：{what_zh}{value}不可能（半叶{ok[0]}–{ok[1]}行，每行{CHARS_OK[0]}–{CHARS_OK[1]}字），疑为笔误",
            f"版式 {raw!r}: {value} {what_en} is impossible (a half-leaf has {LINES_OK[0]}–{LINES_OK[1]} columns "
            f"of {CHARS_OK[0]}–{CHARS_OK[1]} characters); a typo?")


def check_layout(layout: dict | None, raw: str) -> list[Check]:
    if not layout:
        return []
    out = [_range_check(layout.get("lines"), LINES_OK, LINES_RARE, "每半叶行数", "columns per half-leaf", raw),
           _range_check(layout.get("chars"), CHARS_OK, CHARS_RARE, "每行字数", "characters per column", raw),
           _range_check(layout.get("chars_max"), CHARS_OK, CHARS_RARE, "每行字数", "characters per column", raw),
           _range_check(layout.get("small_chars"), CHARS_OK, CHARS_RARE, "小字每行字数", "small characters per column",
                        raw)]
    return [c for c in out if c]


def check_scope(ed: dict | None, raw: str) -> list[Check]:
    span = edition_span(ed)
    if span and span[0] >= 1912:
        return [("版本", "warning", "census-scope",
                 f"版本「{raw}」成于{span[0]}年（民國或以后）：全国古籍普查登记只收1912年以前的古籍，民國文献除非本单位另有规定",
                 f"版本 {raw!r} dates from {span[0]} (民國 or later): the census covers books made before 1912; "
                 "民國 editions only where the unit's rules include them")]
    return []


def check_title_prefix(title: dict | None, ed: dict | None) -> list[Check]:
    """［萬曆］金華府志: the gazetteer was compiled in 萬曆, so no edition of it predates 萬曆."""
    if not title or not title.get("prefix") or not ed:
        return []
    span = edition_span(ed)
    if not span:
        return []
    f = fold(title["prefix"])
    first = None
    dyn = match_dynasty(f, 0)
    pos = len(fold(dyn)) if dyn and not (match_era_at(f, 0) or ("", []))[0] == fold(dyn) else 0
    hit = match_era_at(f, pos)
    # only a prefix that is an era (［萬曆］, ［明嘉靖］, ［民國］): ［金剛經］ is a supplied title, not 金
    if hit and f[pos + len(hit[0]):] in ("", "间", "年间"):
        cands = hit[1]
        from guji.metadata.eras import DYNASTY_PREFIXES

        if dyn and pos:
            cands = [e for e in cands if e.dynasty in DYNASTY_PREFIXES.get(dyn, ())] or cands
        elif ed.get("era_dynasty"):
            cands = [e for e in cands if e.dynasty == ed["era_dynasty"]] or cands
        first = min(e.first_year for e in cands)
    if first is None or first <= span[1]:
        return []
    return [("题名卷数", "error", "title-prefix-after-edition",
             f"题名冠［{title['prefix']}］（{first}年起），但版本最晚为{span[1]}年：方志不能早于其纂修年代刊行",
             f"title prefix ［{title['prefix']}］ begins in {first}, but the edition dates from {span[1]} at the "
             "latest: a gazetteer cannot be printed before it was compiled")]


def check_grade(grade: dict | None, ed: dict | None) -> list[Check]:
    if not grade or not grade.get("level"):
        return []
    span = edition_span(ed)
    if not span:
        return []
    lvl, val = grade["level"], grade["value"]
    if span[0] >= 1912:
        return [("定级", "warning", "grade-date", f"定级{val}，但版本成于{span[0]}年（1911年以后）",
                 f"定级 {val} but 版本 dates from {span[0]} (after 1911)")]
    if lvl == 4 and span[1] <= 1368:
        return [("定级", "warning", "grade-date", f"宋元及以前的版本定级{val}偏低",
                 f"定级 {val} for an edition before 1368 (宋元 or earlier)")]
    if lvl == 1 and span[0] > 1795 and (ed or {}).get("category") not in ("稿本", "抄本", "写本"):
        return [("定级", "warning", "grade-date", f"{span[0]}年的刻印本定级{val}偏高",
                 f"定级 {val} for a {span[0]} printed edition")]
    return []


def date_manuscript_by_author(ed: dict | None, authors: list[dict] | None) -> bool:
    """An undated 稿本 is the author's own: date it by the author's dynasty. True when it did."""
    if not ed or ed.get("category") != "稿本" or edition_span(ed) or ed.get("dynasty"):
        return False
    for p in authors or []:
        label = dynasty_label(p["dynasty"]) if p.get("dynasty") else None
        span = dynasty_spans().get(label) if label else None
        if span:
            ed["dynasty"], ed["year_range"], ed["dynasty_source"] = label, list(span), "著者"
            return True
    return False

