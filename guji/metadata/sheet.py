"""Read a census sheet (records.csv / .tsv / .xlsx) into rows keyed by canonical field names.

Used by ingest (to match item folders to rows) and by the metadata stage. Encodings: UTF-8 with
or without BOM and GB18030 are detected; ``.xlsx`` reads the first worksheet. Headers may be in
simplified or traditional characters and in common variant wordings (普查編號, 題名, 責任者,
版本年代, 行款, 版框尺寸, 鈐印, 破損定級, 備註, 館藏號, 開放級別 …): they are folded with OpenCC
``t2s``, spaces, underscores and brackets removed, then looked up in :data:`HEADER_ALIASES`.

Encodings: UTF-8 (BOM or not) and GB18030 silently; Big5, Shift_JIS, EUC-JP, EUC-KR and UTF-16 read
with a ``sheet-encoding`` note naming the encoding (told from GB18030, which decodes their bytes as
garbage without an error, by the header row, then charset-normalizer);
bytes no Chinese encoding can read are ``undecodable-bytes`` errors per row, with the detector's
guess at the encoding. Characters XML cannot carry (C0 controls but tab/LF/CR,
U+FFFE/U+FFFF, lone surrogates) are dropped with an ``xml-invalid-char`` finding per cell, and an
XLSX formula cell with no cached value is a ``formula-without-value`` finding.

Values are kept exactly as written (only stripped of surrounding white space). Empty rows are
skipped, but every row keeps its true 1-based row number in the file (header row = 1).
Findings (duplicate header, undecodable bytes, empty sheet, values under no header) are
:class:`~guji.errors.Problem` with ``row``/``field``; only an unreadable file raises
:class:`~guji.errors.BadBatch`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from guji.errors import BadBatch, Problem
from guji.textfold import t2s
from guji.xmltext import code_point, invalid_chars, xml_text

CANONICAL_FIELDS: list[str] = [
    "普查编号", "索书号", "分类", "题名卷数", "著者", "版本", "批校题跋", "版式", "装帧", "册数",
    "存卷", "尺寸", "钤印", "定级", "破损级别", "附注", "本地编号", "文献类型", "访问级别", "收藏单位",
]

# folded header (simplified, no spaces/brackets/punctuation, lower case) -> canonical field
_ALIASES: dict[str, list[str]] = {
    "普查编号": ["普查编号", "普查号", "普查登记编号", "古籍普查编号", "census_no", "censusno", "census_number"],
    "索书号": ["索书号", "索取号", "书号", "call_number", "callnumber"],
    "分类": ["分类", "类别", "分类号", "四部分类", "classification"],
    "题名卷数": ["题名卷数", "题名", "书名", "书名卷数", "题名及卷数", "title"],
    "著者": ["著者", "责任者", "著者责任者", "著作者", "作者", "著者及著作方式", "author", "creator"],
    "版本": ["版本", "版本年代", "版本项", "版本类型", "edition"],
    "批校题跋": ["批校题跋", "批校", "题跋", "批校题记"],
    "版式": ["版式", "行款", "版式行款", "行款版式", "layout"],
    "装帧": ["装帧", "装订", "装帧形式", "binding"],
    "册数": ["册数", "册", "数量", "册件数", "volumes"],
    "存卷": ["存卷", "存缺卷", "存缺", "存卷数", "extant"],
    "尺寸": ["尺寸", "版框尺寸", "开本", "版框尺寸开本", "开本尺寸", "版框", "size", "dimensions"],
    "钤印": ["钤印", "印章", "藏印", "印鉴", "钤印及印章", "seals"],
    "定级": ["定级", "级别", "古籍定级", "文物定级", "文物级别", "grade"],
    "破损级别": ["破损级别", "破损定级", "破损等级", "破损程度", "破损状况", "damage", "damage_level"],
    "附注": ["附注", "备注", "说明", "note", "notes"],
    "本地编号": ["本地编号", "馆藏号", "馆藏编号", "登录号", "local_id", "localid"],
    "文献类型": ["文献类型", "文献类别", "类型", "type", "doc_type"],
    "访问级别": ["访问级别", "开放级别", "公开级别", "访问权限", "access"],
    "收藏单位": ["收藏单位", "馆名", "收藏机构", "收藏馆", "藏馆", "institution", "holding_institution"],
}

_STRIP_RE = re.compile(r"[\s_\-·・:：()（）\[\]［］【】〔〕<>《》「」『』\"'“”]+")


def fold(text: str) -> str:
    """Traditional → simplified (OpenCC t2s). The search/matching key; never shown to people."""
    return t2s(text)


def fold_header(header: str) -> str:
    s = fold(header.strip().replace("\ufeff", ""))
    return _STRIP_RE.sub("", s).lower()


@lru_cache(maxsize=1)
def _alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for canon, names in _ALIASES.items():
        for n in names:
            table[_STRIP_RE.sub("", fold(n)).lower()] = canon
    return table


HEADER_ALIASES = _ALIASES


def canonical_field(header: str) -> str | None:
    """The canonical field name for a header as written, or None when it is not a census field."""
    return _alias_table().get(fold_header(header))


@dataclass
class SheetRow:
    row: int  # 1-based row number in the file (header row = 1)
    fields: dict[str, str]  # canonical field name -> original string, stripped
    original: dict[str, str]  # header as written -> original string, stripped


@dataclass
class Sheet:
    path: Path
    encoding: str | None  # 'utf-8', 'utf-8-sig', 'gb18030', None for xlsx
    headers: list[str]
    unknown_headers: list[str]
    rows: list[SheetRow]
    problems: list[Problem] = field(default_factory=list)


# -- reading raw cells ---------------------------------------------------------------------------

# Encodings a census sheet may come in besides UTF-8: (Python codec, name for people, read it?).
# GB18030 decodes almost any byte string (Big5 bytes included, as garbage), so a strict decode is
# not enough to tell them apart: see _decode.
_LEGACY_ENCODINGS: list[tuple[str, str, bool]] = [
    ("gb18030", "GB18030", True),
    ("cp950", "Big5", True),  # Microsoft's Big5 (what Excel on traditional-Chinese Windows writes)
    ("big5hkscs", "Big5-HKSCS", True),
    # Japanese and Korean sheets (kanji / hanja titles typed on a Japanese or Korean Windows): GB18030
    # reads their bytes as Chinese garbage without an error, so they are candidates like Big5.
    ("cp932", "Shift_JIS", True),  # Microsoft's Shift_JIS (Excel on Japanese Windows)
    ("euc_jp", "EUC-JP", True),
    ("cp949", "EUC-KR", True),  # Microsoft's superset of EUC-KR (Excel on Korean Windows)
]
_FAMILY = {"gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "big5": "cp950", "cp950": "cp950",
           "big5hkscs": "big5hkscs", "shift_jis": "cp932", "cp932": "cp932", "shift_jis_2004": "cp932",
           "euc_jp": "euc_jp", "euc_jis_2004": "euc_jp", "euc_kr": "cp949", "cp949": "cp949", "johab": "cp949"}
# GB18030 and Big5 sheets may hold rare characters in their user-defined (private-use) areas; a
# Japanese or Korean reading that yields private-use characters is reading some other encoding.
_NO_PRIVATE_USE = {"cp932", "euc_jp", "cp949"}
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_TRIED = "UTF-8, GB18030, " + ", ".join(name for _c, name, _ok in _LEGACY_ENCODINGS[1:])


def _header_score(text: str) -> int:
    """How many cells of the first line are census field names (the sheet's own evidence)."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    cells = re.split(r"[,\t]", first)
    return sum(1 for c in cells if c.strip() and canonical_field(c) is not None)


def _detect_legacy(data: bytes) -> list[tuple[str, str, bool, str]]:
    """Legacy encodings that decode ``data`` strictly and read best, best first: (codec, name, ok, text).

    First the header row: the encoding that turns most of its cells into census field names wins;
    when that leaves a tie (headers in ASCII, or few), charset-normalizer (a maintained detector)
    picks among the tied ones from the whole file. GB18030 stays first on a full tie (the default)."""
    cands = []
    for codec, name, ok in _LEGACY_ENCODINGS:
        if codec == "big5hkscs" and any(c[0] == "cp950" for c in cands):
            continue  # HKSCS only when plain Big5 cannot read it
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if codec in _NO_PRIVATE_USE and _PRIVATE_USE.search(text):
            continue  # cp932 reads any 0xF0–0xFF byte as a private-use character: not a real sheet
        cands.append((codec, name, ok, text))
    if len(cands) < 2:
        return cands
    scores = {c[0]: _header_score(c[3]) for c in cands}
    top = max(scores.values())
    tied = [c for c in cands if scores[c[0]] == top]
    if len(tied) > 1:
        import charset_normalizer

        # least "chaos" (mess) wins, then most coherence; an equal reading keeps the table's order,
        # so GB18030 stays the default (on a short sheet Korean and Chinese can read equally clean)
        rank: dict[str, tuple[float, float]] = {}
        for m in charset_normalizer.from_bytes(data, cp_isolation=[c[0] for c in tied]):
            fam = _FAMILY.get(m.encoding)
            if fam is not None:
                rank[fam] = min(rank.get(fam, (1.0, 0.0)), (m.chaos, -m.coherence))
        order = [c[0] for c in cands]
        tied.sort(key=lambda c: (*rank.get(c[0], (1.0, 0.0)), order.index(c[0])))
    return tied + [c for c in cands if c not in tied]


def _decode(data: bytes, path: Path, problems: list[Problem]) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            pass  # BOM but broken bytes later: fall through
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        try:
            text = data.decode("utf-16")
            problems.append(Problem("warning", "sheet-encoding",
                                    "普查表是 UTF-16 编码，已按 UTF-16 读取 / the sheet is UTF-16; read as UTF-16",
                                    path=path.name, extra={"encoding": "UTF-16"}))
            return text, "utf-16"
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
        found = _detect_legacy(data)
        if found:
            codec, name, _ok, text = found[0]
            if codec != "gb18030":
                problems.append(Problem(
                    "warning", "sheet-encoding",
                    f"普查表是 {name} 编码（不是 UTF-8 或 GB18030），已按 {name} 读取，请核对文字 / "
                    f"the sheet is {name}-encoded (not UTF-8 or GB18030); read as {name}, check the text",
                    path=path.name, extra={"encoding": name}))
            return text, codec
    # nothing decodes cleanly: pick the one with fewer bad bytes and report the rows hit
    best = min(("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8", "gb18030"),
               key=lambda e: data.decode(e, errors="replace").count("\ufffd"))
    text = data.decode(best, errors="replace")
    import charset_normalizer

    guess = charset_normalizer.from_bytes(data).best()
    named = f"; the bytes look most like {guess.encoding} (charset-normalizer's guess)" if guess else ""
    for i, line in enumerate(text.splitlines(), start=1):
        if "\ufffd" in line:
            problems.append(Problem("error", "undecodable-bytes",
                                    f"row {i} has bytes that none of {_TRIED} can read (shown as �){named}; "
                                    f"save the sheet as UTF-8", path=path.name, row=i))
    return text, best


def _read_text_table(path: Path, problems: list[Problem]) -> tuple[list[list[str]], str]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise BadBatch(f"cannot read census sheet {path}: {e}") from e
    text, enc = _decode(data, path, problems)
    first = text.split("\n", 1)[0]
    if path.suffix.lower() == ".tsv" or (first.count("\t") > first.count(",")):
        delim = "\t"
    else:
        delim = ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    except csv.Error as e:
        raise BadBatch(f"cannot parse census sheet {path}: {e}") from e
    return rows, enc


def _cell_str(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()  # type: ignore[attr-defined]
    return str(v)


def _read_xlsx(path: Path) -> tuple[list[list[str]], set[tuple[int, int]]]:
    """Cell strings of the first worksheet, and the (row, column) indexes (0-based) of formula cells
    that have no cached value (a file written by a program and never recalculated/saved in Excel):
    openpyxl reads those as empty, which must not pass silently."""
    try:
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        wf = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as e:  # zipfile.BadZipFile, KeyError, InvalidFileException ...
        raise BadBatch(f"cannot read census sheet {path}: {type(e).__name__}: {e}") from e
    try:
        values = [[_cell_str(v) for v in row] for row in wb.worksheets[0].iter_rows(values_only=True)]
        uncached: set[tuple[int, int]] = set()
        for i, row in enumerate(wf.worksheets[0].iter_rows(values_only=True)):
            for j, v in enumerate(row):
                if isinstance(v, str) and v.startswith("=") and i < len(values) and \
                        (j >= len(values[i]) or values[i][j] == ""):
                    uncached.add((i, j))
        return values, uncached
    finally:
        wb.close()
        wf.close()


def _drop_xml_invalid(raw: list[list[str]]) -> dict[tuple[int, int], list[str]]:
    """Remove, in place, the characters XML cannot carry; return what was found per (row, column)."""
    found: dict[tuple[int, int], list[str]] = {}
    for i, cells in enumerate(raw):
        for j, c in enumerate(cells):
            bad = invalid_chars(c)
            if bad:
                found[(i, j)] = bad
                cells[j] = xml_text(c)
    return found


# -- the sheet -----------------------------------------------------------------------------------

def read_sheet(path: Path) -> Sheet:
    """Read ``path`` (.csv, .tsv, .txt or .xlsx). Raises BadBatch when the file cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise BadBatch(f"census sheet {path} not found")
    problems: list[Problem] = []
    suffix = path.suffix.lower()
    uncached: set[tuple[int, int]] = set()
    if suffix in (".xlsx", ".xlsm"):
        (raw, uncached), encoding = _read_xlsx(path), None
    elif suffix in (".csv", ".tsv", ".txt"):
        raw, encoding = _read_text_table(path, problems)
    else:
        raise BadBatch(f"census sheet {path}: unsupported file type {path.suffix!r} (use .csv, .tsv or .xlsx)")
    bad_chars = _drop_xml_invalid(raw)

    # header = first non-empty row (normally row 1)
    hdr_index = next((i for i, r in enumerate(raw) if any(c.strip() for c in r)), None)
    if hdr_index is None:
        problems.append(Problem("error", "empty-sheet", "the census sheet has no header row and no records",
                                path=path.name, row=1))
        return Sheet(path, encoding, [], [], [], problems)
    if hdr_index > 0:
        problems.append(Problem("warning", "header-not-first", f"header found on row {hdr_index + 1}",
                                path=path.name, row=hdr_index + 1))
    headers = [c.strip().replace("\ufeff", "") for c in raw[hdr_index]]
    while headers and not headers[-1]:
        headers.pop()
    hdr_row = hdr_index + 1

    col_field: dict[int, str] = {}  # column index -> canonical field
    col_key: dict[int, str] = {}  # column index -> key in ``original``
    unknown: list[str] = []
    seen_headers: dict[str, int] = {}
    seen_fields: dict[str, int] = {}
    for j, h in enumerate(headers):
        if not h:
            continue
        if h in seen_headers:
            problems.append(Problem("warning", "duplicate-header",
                                    f"column {j + 1} repeats header {h!r} of column {seen_headers[h] + 1}; "
                                    "its values are ignored", path=path.name, row=hdr_row, field=h))
            continue
        seen_headers[h] = j
        col_key[j] = h
        canon = canonical_field(h)
        if canon is None:
            unknown.append(h)
        elif canon in seen_fields:
            other = headers[seen_fields[canon]]
            problems.append(Problem("warning", "duplicate-header",
                                    f"column {j + 1} ({h!r}) and column {seen_fields[canon] + 1} ({other!r}) "
                                    f"both mean {canon}; the first is used", path=path.name, row=hdr_row,
                                    field=h))
        else:
            seen_fields[canon] = j
            col_field[j] = canon

    def field_name(j: int) -> str:
        return headers[j] if j < len(headers) and headers[j] else f"column {j + 1}"

    for (i, j), chars in sorted(bad_chars.items()):
        cps = [code_point(c) for c in chars]
        problems.append(Problem(
            "warning", "xml-invalid-char",
            f"第 {i + 1} 行“{field_name(j)}”含 XML 无法承载的字符 {'、'.join(cps)}，已从输出中删除 / "
            f"row {i + 1}, field {field_name(j)}: character(s) XML cannot carry ({', '.join(cps)}); "
            f"dropped from every output", path=path.name, row=i + 1, field=field_name(j),
            extra={"code_points": [f"U+{ord(c):04X}" for c in chars]}))
    for i, j in sorted(uncached):
        problems.append(Problem(
            "warning", "formula-without-value",
            f"第 {i + 1} 行“{field_name(j)}”是公式，但文件中没有计算结果，按空值处理；请在 Excel/WPS 中打开并保存，"
            f"或填入数值 / row {i + 1}, field {field_name(j)}: a formula with no cached value (the file was never "
            f"recalculated in a spreadsheet program); read as empty — open and save it in Excel/WPS, or type the value",
            path=path.name, row=i + 1, field=field_name(j)))

    rows: list[SheetRow] = []
    for i in range(hdr_index + 1, len(raw)):
        cells = [c.strip() for c in raw[i]]
        if not any(cells):
            continue
        rownum = i + 1
        for j in range(len(cells)):
            if cells[j] and (j >= len(headers) or not headers[j]):
                problems.append(Problem("warning", "value-without-header",
                                        f"column {j + 1} has a value but no header; it is ignored",
                                        path=path.name, row=rownum, field=f"column {j + 1}"))
        original = {key: (cells[j] if j < len(cells) else "") for j, key in col_key.items()}
        fields_ = {canon: (cells[j] if j < len(cells) else "") for j, canon in col_field.items()}
        rows.append(SheetRow(row=rownum, fields=fields_, original=original))
    if not rows:
        problems.append(Problem("warning", "empty-sheet", "the census sheet has a header but no records",
                                path=path.name, row=hdr_row))
    return Sheet(path=path, encoding=encoding, headers=headers, unknown_headers=unknown, rows=rows,
                 problems=problems)
