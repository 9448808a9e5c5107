"""Printed-catalogue entries (名录 / 普查登记目录 style) → census fields.

An entry is one string whose segments are separated by U+3000 (ideographic space)::

    题名卷数　（朝代）著者著作方式　[more works and their authors]　版本　[批校题跋]　收藏单位　[存卷]

e.g. ``程朱二先生周易傳義十卷　（宋）程頤　朱熹撰　上下篇義一卷　（宋）程頤撰　元後至元二年（1336）建安碧灣書堂刻本　國家圖書館``.
:func:`split_entry` tells the segments apart by their form (a dynasty in brackets or a role word
starts or ends a 著者 segment; the 版本 segment starts with a dynasty, era or year and names an
edition type; 存卷 starts with 存/缺), never by position alone, and returns the census fields
(题名卷数, 著者, 版本, 批校题跋, 存卷, 收藏单位) plus what it could not place. :func:`import_catalogue`
reads a text file (one entry per line) or a sheet (the column holding the entries) and
:func:`write_census_sheet` writes a census sheet (.csv or .xlsx) that ``guji ingest`` reads.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from guji.errors import BadBatch, Problem
from guji.metadata.eras import dynasty_label, match_dynasty, match_era_at
from guji.metadata.sheet import fold

SEP = "\u3000"
FIELDS = ["本地编号", "题名卷数", "著者", "版本", "批校题跋", "存卷", "收藏单位", "附注"]

_OPEN, _CLOSE = "（(［[〔【", "）)］]〕】"
_DYN_BRACKET = re.compile(r"^(?:舊題|旧题|題|题|原題|原题)?[（(［\[〔]([^）)］\]〕]{1,6})[）)］\]〕]")
_ROLE_END = re.compile(r"(撰|輯|辑|編|编|注|註|纂|修|校|評|评|點|点|譯|译|述|著|箋|笺|疏|解|書|书|繪|绘|訂|订|刻|選|选|"
                       r"鈔|抄|序|跋|考|補|补|續|续|批|鑒定|鑑定|參|参|閱|阅|圖|图|音|義|义|釋|释|傳|传|說|说|錄|录|"
                       r"集|刪|删|定|正|增|重修|輯錄|集解|集注|音義|章句|句讀|釋文|考異|考證|索隱|正義|等)$")
_JUAN = re.compile(r"(?:[一二三四五六七八九十百千〇○零廿卅兩□]+|\d+)卷|不分卷|[一二三四五六七八九十百千]+(?:回|齣|出|種|种|冊|册|篇|帖|則|幅)$")
_EDITION_WORD = re.compile(r"(?:刻|刊|抄|鈔|钞|寫|写|印|拓|稿|修|活字|影|繪|绘|排|鈐|钤)[^　]*本|稿本|寫本|写本|抄本|鈔本|"
                           r"刻本|拓本|寫經|写经|底本|印本|刻經|套印|拓片|磨勘|經摺裝|卷子")
_INSTITUTION = re.compile(r"(圖書館|图书馆|博物館|博物馆|博物院|大學|大学|學院|学院|研究所|研究院|檔案館|档案馆|紀念館|纪念馆|"
                          r"文物|書院|书院|寺|觀|观|宮|宫|館|馆|中心|管理處|管理处|管理所|藏書樓|藏书楼|天一閣|天一阁|"
                          r"文化局|學會|学会|公司|委員會|委员会|保管所|出版社)$")
_EXTANT = re.compile(r"^(?:存|缺|殘存|残存)")


@dataclass
class Entry:
    line: int
    text: str
    fields: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def _segments(text: str) -> list[str]:
    """Split at U+3000 (and runs of 2+ ASCII spaces), re-joining pieces inside an open bracket."""
    raw = [s for s in re.split(r"\u3000+| {2,}|\t", text.strip()) if s.strip()]
    out: list[str] = []
    depth = 0
    for s in raw:
        if depth > 0 and out:
            out[-1] += SEP + s
        else:
            out.append(s)
        depth += sum(s.count(c) for c in _OPEN) - sum(s.count(c) for c in _CLOSE)
        depth = max(depth, 0)
    return [s.strip() for s in out]


def is_edition(seg: str) -> bool:
    """A 版本 statement: starts with a dynasty, era, Western year or 稿本/抄本 …, names an edition type."""
    t = re.sub(r"^[［\[〔]", "", seg)
    f = fold(t)
    head = bool(match_dynasty(f, 0) or match_era_at(f, 0) or re.match(r"\d{3,4}", f)
                or re.match(r"(?:手|謄清|谄清|誊清|清|底|定|原|初|舊|旧|影|手寫|精)?(?:稿|抄|鈔|钞|寫|写|刻|拓|印)本|底本|朱絲欄|烏絲欄", t))
    if not head:
        return False
    body = re.sub(r"[（(][^（）()]*[）)]$", "", t)  # a trailing note (…配清抄本) does not make it an edition
    if _JUAN.search(re.sub(r"[（(][^（）()]*[）)]", "", body)):
        return False  # 宋史岳飛傳一卷: a title with its juan count
    return bool(_EDITION_WORD.search(body) or re.search(r"本$", body))


def _undated_edition(seg: str) -> bool:
    body = re.sub(r"[（(][^（）()]*[）)]$", "", seg)
    return bool(re.search(r"[刻刊抄鈔钞寫写印稿拓]+[^　]{0,3}本$", body)) and not _JUAN.search(body) \
        and not is_author(seg) and len(body) <= 20


def is_author(seg: str) -> bool:
    m = _DYN_BRACKET.match(seg)
    if m and (dynasty_label(m.group(1)) is not None or len(m.group(1)) <= 3):
        return True
    if _JUAN.search(seg):
        return False
    return bool(_ROLE_END.search(seg)) and len(seg) <= 24


def split_entry(text: str, line: int = 0) -> Entry:
    """Census fields of one catalogue entry; problems name the line and the field."""
    e = Entry(line=line, text=text)
    segs = _segments(text)
    if not segs:
        return e
    # the edition: the first segment after the title that reads as one
    ed_i = next((i for i in range(1, len(segs)) if is_edition(segs[i]) and not is_author(segs[i])), None)
    if ed_i is None:  # 影宋抄本, 內府寫本: no date in front, but an edition type and no juan count
        ed_i = next((i for i in range(1, len(segs)) if _undated_edition(segs[i])), None)
    if ed_i is None:
        e.problems.append(Problem("warning", "catalogue-no-edition",
                                  "条目中找不到版本（朝代、年号或年份开头、以…本结尾的一段）",
                                  row=line, field="版本"))
        inst_i = next((i for i in range(len(segs) - 1, 0, -1) if _INSTITUTION.search(segs[i])), None)
        before, after = (segs[:inst_i], segs[inst_i:]) if inst_i else (segs, [])
    else:
        before, after = segs[:ed_i], segs[ed_i + 1:]
        e.fields["版本"] = segs[ed_i]
    # trailing 存卷 (存…卷 / 缺…), then the holding institution, the rest are 批校题跋
    extant: list[str] = []
    while after and _EXTANT.match(after[-1]):
        extant.insert(0, after.pop())
    inst = None
    if after:
        for j in range(len(after) - 1, -1, -1):
            if _INSTITUTION.search(after[j]):
                inst = after[j]
                annot = after[:j]
                extra = after[j + 1:]
                break
        else:
            inst, annot, extra = after[-1], after[:-1], []
        if extra:
            e.fields["附注"] = SEP.join(extra)
        if annot:
            e.fields["批校题跋"] = "、".join(annot) if all(len(a) <= 6 and not _ROLE_END.search(a) for a in annot[:-1]) \
                else SEP.join(annot)
    if inst:
        e.fields["收藏单位"] = inst
    if extant:
        e.fields["存卷"] = SEP.join(extant)
    # titles and authors before the edition: a work is a title followed by its author segments
    works: list[tuple[str, list[str]]] = []
    for i, s in enumerate(before):
        prev_author = bool(works and works[-1][1])
        # a bare name between author segments (（唐）李善　呂延濟　…　李周翰注) is an author too
        bare_name = prev_author and not _JUAN.search(s) and len(s) <= 6 and not re.search(r"[卷集錄录圖图譜谱志]", s)
        if i > 0 and works and (is_author(s) or bare_name):
            works[-1][1].append(s)
        else:
            works.append((s, []))
    if works:
        e.fields["题名卷数"] = SEP.join(t for t, _ in works)
        parts = []
        for k, (t, authors) in enumerate(works):
            if not authors:
                continue
            a = SEP.join(authors)
            parts.append(a if k == 0 else f"{t}：{a}")
        if parts:
            e.fields["著者"] = "；".join(parts)
    return e


# -- reading and writing ------------------------------------------------------------------------

_ENTRY_HEADERS = ("图录版名录内容", "名录内容", "条目", "著录", "entry", "catalogue_entry", "text")
_ID_HEADERS = ("名录id", "名录号", "编号", "id", "本地编号", "序号")


def _read_entries(path: Path) -> tuple[list[tuple[int, str, str]], list[Problem]]:
    """(line/row, id, entry text) from a .txt (one entry per line) or a sheet (.csv/.tsv/.xlsx)."""
    from guji.metadata.sheet import read_sheet

    problems: list[Problem] = []
    suffix = path.suffix.lower()
    if suffix in (".txt", ".text", ""):
        try:
            data = path.read_bytes()
        except OSError as err:
            raise BadBatch(f"cannot read catalogue {path}: {err}") from err
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise BadBatch(f"{path}: neither UTF-8 nor GB18030")
        return [(i, "", ln.strip()) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip()], problems
    if suffix not in (".csv", ".tsv", ".xlsx", ".xlsm"):
        raise BadBatch(f"catalogue {path}: unsupported file type {path.suffix!r} (use .txt, .csv, .tsv or .xlsx)")
    sheet = read_sheet(path)
    headers = [h for h in sheet.headers if h]
    low = {h: fold(h).lower().replace(" ", "") for h in headers}
    col = next((h for h in headers if any(fold(x) in low[h] for x in _ENTRY_HEADERS)), None)
    if col is None:  # the column whose cells most often hold U+3000
        counts = {h: sum(SEP in (r.original.get(h) or "") for r in sheet.rows) for h in headers}
        col = max(headers, key=lambda h: counts[h]) if counts and max(counts.values()) > 0 else None
    if col is None:
        raise BadBatch(f"{path}: no column of catalogue entries (a header like 名录内容/条目, or cells with U+3000)")
    idcol = next((h for h in headers if low[h] in _ID_HEADERS), None)
    out = [(r.row, (r.original.get(idcol) or "") if idcol else "", (r.original.get(col) or "").strip())
           for r in sheet.rows if (r.original.get(col) or "").strip()]
    return out, problems


def import_catalogue(path: Path) -> tuple[list[Entry], list[Problem]]:
    entries, problems = _read_entries(Path(path))
    out = []
    for line, ident, text in entries:
        e = split_entry(text, line)
        if ident:
            e.fields["本地编号"] = ident
        for p in e.problems:
            p.path = Path(path).name
        out.append(e)
        problems.extend(e.problems)
    return out, problems


def write_census_sheet(path: Path, entries: list[Entry]) -> str:
    """Census sheet (.csv UTF-8 with BOM, or .xlsx) with the columns of :data:`FIELDS`; returns sha256."""
    from guji.fsutil import atomic_write_bytes, atomic_write_text

    path = Path(path)
    rows = [[e.fields.get(f, "") for f in FIELDS] for e in entries]
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "census"
        ws.append(FIELDS)
        for r in rows:
            ws.append(r)
        buf = io.BytesIO()
        wb.save(buf)
        return atomic_write_bytes(path, buf.getvalue())
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t" if path.suffix.lower() == ".tsv" else ",", lineterminator="\n")
    w.writerow(FIELDS)
    w.writerows(rows)
    return atomic_write_text(path, "\ufeff" + buf.getvalue())
