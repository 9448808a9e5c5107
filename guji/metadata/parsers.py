"""Parsers for each census field. Each takes the original string and returns (parsed, findings).

A finding is ``(severity, code, message)``; the caller turns it into a Problem with row/field.
Matching is done on the OpenCC-folded (simplified) string; parsed text values are cut from the
original string (t2s is one character to one character for the text we cut), so display keeps the
original characters.
"""

from __future__ import annotations

import re
from typing import Any

from guji.metadata.eras import DYNASTY_PREFIXES, DYNASTY_SPANS, NUMERAL_CHARS, Era, cn_to_int, match_dynasty, match_era_at
from guji.metadata.sheet import fold

Finding = tuple[str, str, str]
N = f"[{NUMERAL_CHARS}]"

# GB/T 2260 provincial-level codes
PROVINCES = {
    "110000": "北京市", "120000": "天津市", "130000": "河北省", "140000": "山西省", "150000": "内蒙古自治区",
    "210000": "辽宁省", "220000": "吉林省", "230000": "黑龙江省", "310000": "上海市", "320000": "江苏省",
    "330000": "浙江省", "340000": "安徽省", "350000": "福建省", "360000": "江西省", "370000": "山东省",
    "410000": "河南省", "420000": "湖北省", "430000": "湖南省", "440000": "广东省", "450000": "广西壮族自治区",
    "460000": "海南省", "500000": "重庆市", "510000": "四川省", "520000": "贵州省", "530000": "云南省",
    "540000": "西藏自治区", "610000": "陕西省", "620000": "甘肃省", "630000": "青海省", "640000": "宁夏回族自治区",
    "650000": "新疆维吾尔自治区", "710000": "台湾省", "810000": "香港特别行政区", "820000": "澳门特别行政区",
}


def _same_len_fold(s: str) -> str:
    f = fold(s)
    return f if len(f) == len(s) else s


# -- 普查编号 -------------------------------------------------------------------------------------

CENSUS_RE = re.compile(r"^(\d{6})-(\d{4})-(\d{7})$")


def parse_census_no(s: str, institution_code: str | None = None) -> tuple[dict | None, list[Finding]]:
    if not s:
        return None, []
    t = s.replace("－", "-").replace("—", "-").replace(" ", "")
    m = CENSUS_RE.match(t)
    if not m:
        return None, [("error", "census-no-format",
                       f"普查编号 {s!r} is not PPPPPP-UUUU-NNNNNNN (6-digit province, 4-digit unit, 7-digit serial)")]
    prov, unit, serial = m.groups()
    out: list[Finding] = []
    if prov not in PROVINCES:
        out.append(("error", "census-no-province", f"普查编号 {s!r}: {prov} is not a GB/T 2260 provincial code"))
    if institution_code:
        ic = institution_code.strip()
        im = re.match(r"^(\d{6})-(\d{4})$", ic)
        if im and (prov, unit) != im.groups():
            out.append(("error", "census-no-unit",
                        f"普查编号 {s!r}: province/unit {prov}-{unit} differs from the batch's institution_code {ic}"))
    if int(serial) == 0:
        out.append(("error", "census-no-serial", f"普查编号 {s!r}: serial 0000000 is not valid"))
    return {"value": t, "province": prov, "province_name": PROVINCES.get(prov), "unit": unit, "serial": serial}, out


# -- 题名卷数 -------------------------------------------------------------------------------------

_JUAN_RE = re.compile(rf"(?P<title>.*?)(?:(?P<bfj>不分卷)|(?P<n>(?:{N}+|[□〼■?？]+))卷)")
_PREFIX_RE = re.compile(r"^\s*[［\[【〔]([^］\]】〕]{1,8})[］\]】〕]\s*")


def parse_title(s: str) -> tuple[dict | None, list[Finding]]:
    if not s:
        return None, [("error", "title-missing", "题名卷数 is empty")]
    out: list[Finding] = []
    text = s.strip()
    prefix = None
    m = _PREFIX_RE.match(text)
    if m:
        prefix = m.group(1)
        text = text[m.end():]
    works: list[dict[str, Any]] = []
    for part in re.split(r"[\s　]+", text):
        if not part:
            continue
        pos = 0
        for jm in _JUAN_RE.finditer(part):
            title = jm.group("title").strip("，,、")
            if jm.group("bfj"):
                works.append({"title": title, "juan": None, "juan_text": "不分卷", "no_juan_division": True})
            else:
                n = cn_to_int(jm.group("n"))
                works.append({"title": title, "juan": n, "juan_text": jm.group("n") + "卷",
                              "juan_unknown": n is None})
            pos = jm.end()
        rest = part[pos:].strip("，,、")
        if rest:
            works.append({"title": rest, "juan": None, "juan_text": None})
    if not works:
        return None, [("error", "title-missing", "题名卷数 has no title")]
    # a part with an empty title continues the previous work (e.g. 三十卷 written apart)
    for w in works[1:]:
        if not w["title"]:
            out.append(("warning", "title-part-untitled", f"a juan count {w['juan_text']} has no title before it"))
    main = works[0]
    known = [w["juan"] for w in works if w.get("juan") is not None]
    return {
        "title": main["title"], "prefix": prefix, "works": works,
        "juan_total": main.get("juan"),  # the main work's juan (存卷 refers to it)
        "juan_all": sum(known) if known else None,
        "juan_unknown": any(w.get("juan_unknown") for w in works),
    }, out


# -- 著者 ----------------------------------------------------------------------------------------

ROLES = sorted("""撰 輯 编 編 注 註 纂 修 纂修 修纂 重修 校 校注 校註 評 点 點 評點 评点 譯 述 著 編纂 辑录 輯錄 增訂 重訂 音辯 音義
註釋 注釋 箋 箋注 疏 集解 集注 集註 書 繪 刻 訂 校刊 校勘 編次 选 選 抄 鈔 序 跋 題 考 補 續 輯注 輯註 编辑 編輯 撰輯 同撰
輯評 批 批點 參訂 鑒定 鑑定 参 參 閱 同校 補注 補註 考證 考正 圖 绘 編校 纂輯 撰注 撰註 撰并書 口述 譯述 主編 編著 修訂""".split(),
               key=len, reverse=True)
_DYN_RE = re.compile(r"[（(［\[〔]([^）)］\]〕]{1,4})[）)］\]〕]")


def _split_role(chunk: str) -> tuple[str, str | None]:
    for r in ROLES:
        if chunk.endswith(r) and len(chunk) - len(r) >= 2:
            return chunk[: -len(r)], r
    return chunk, None


def parse_authors(s: str) -> tuple[list[dict] | None, list[Finding]]:
    if not s:
        return None, []
    persons: list[dict[str, Any]] = []
    for seg in re.split(r"[；;]", s):
        seg = seg.strip()
        if not seg:
            continue
        scope = None
        first = _DYN_RE.search(seg)
        if first and first.start() > 0:
            scope = seg[: first.start()].strip() or None
            seg = seg[first.start():]
        pending: list[dict[str, Any]] = []
        dynasty = None
        pos = 0
        tokens: list[tuple[str, str]] = []  # (kind, text)
        for dm in _DYN_RE.finditer(seg):
            if dm.start() > pos:
                tokens.append(("text", seg[pos:dm.start()]))
            tokens.append(("dyn", dm.group(1)))
            pos = dm.end()
        if pos < len(seg):
            tokens.append(("text", seg[pos:]))
        for kind, val in tokens:
            if kind == "dyn":
                dynasty = val
                continue
            for chunk in re.split(r"[\s　、,，]+", val):
                chunk = chunk.strip()
                if not chunk:
                    continue
                et_al = False
                name, role = _split_role(chunk)
                if name.endswith("等"):
                    name, et_al = name[:-1], True
                p = {"name": name, "dynasty": dynasty, "role": role, "scope": scope}
                if et_al:
                    p["et_al"] = True
                if role is None:
                    pending.append(p)
                else:
                    # a trailing role applies to the preceding names without their own
                    for q in pending:
                        q["role"] = role
                        q["role_inherited"] = True
                    pending = []
                persons.append(p)
    return persons, []


# -- 版本 ----------------------------------------------------------------------------------------

TYPE_WORDS = sorted("""銅活字 木活字 泥活字 磁活字 活字 朱墨套印 套印 朱墨 三色 四色 五色 藍印 朱印 石印 影印 鉛印 油印 曬印 刻 刊 抄 鈔 稿 寫
拓 遞修 補修 重修 增修 修 補刻 翻刻 覆刻 重刻 影抄 影鈔 精刻 印 手""".split(), key=len, reverse=True)
_TYPE_FOLDED = sorted({(fold(w), w) for w in TYPE_WORDS}, key=lambda t: -len(t[0]))
CATEGORIES = [  # (folded keyword present in the type words, category)
    ("活字", "活字本"), ("套印", "套印本"), ("朱墨", "套印本"), ("色", "套印本"), ("石印", "石印本"), ("影印", "影印本"),
    ("铅印", "铅印本"), ("油印", "油印本"), ("晒印", "晒印本"), ("稿", "稿本"), ("影抄", "抄本"), ("抄", "抄本"),
    ("钞", "抄本"), ("写", "写本"), ("拓", "拓本"), ("刻", "刻本"), ("刊", "刻本"), ("印", "印本"),
]
OTHER_TYPES = [("竹简", "简牍"), ("木简", "简牍"), ("简牍", "简牍"), ("帛书", "帛书"), ("写本", "写本"), ("拓本", "拓本"),
               ("稿本", "稿本"), ("抄本", "抄本"), ("钞本", "抄本"), ("刻本", "刻本")]
_GAN = "甲乙丙丁戊己庚辛壬癸"
_ZHI = "子丑寅卯辰巳午未申酉戌亥"
_BRACKET_YEAR_RE = re.compile(r"[（(]\s*(?:公元)?\s*(\d{3,4})\s*(?:年)?\s*(?:[-–—~至到]\s*(\d{3,4})\s*(?:年)?)?\s*[）)]")


def _ganzhi_index(gz: str) -> int | None:
    if len(gz) != 2 or gz[0] not in _GAN or gz[1] not in _ZHI:
        return None
    g, z = _GAN.index(gz[0]), _ZHI.index(gz[1])
    for i in range(60):
        if i % 10 == g and i % 12 == z:
            return i
    return None


def _eras_for(eras: list[Era], dynasty: str | None) -> list[Era]:
    if dynasty is None:
        return eras
    allowed = DYNASTY_PREFIXES.get(dynasty, ())
    return [e for e in eras if e.dynasty in allowed]


def parse_edition(s: str) -> tuple[dict | None, list[Finding]]:
    if not s:
        return None, []
    out: list[Finding] = []
    inferred = bool(re.search(r"[\[［〔]", s))
    orig = re.sub(r"[\[\]［］〔〕]", "", s).strip()
    brackets = list(_BRACKET_YEAR_RE.finditer(orig))
    bracket_years: tuple[int, int] | None = None
    if brackets:
        b = brackets[0]
        y0 = int(b.group(1))
        bracket_years = (y0, int(b.group(2)) if b.group(2) else y0)
    body = _BRACKET_YEAR_RE.sub("", orig)
    f = _same_len_fold(body)
    pos = 0
    while pos < len(f) and f[pos] in " 　":
        pos += 1
    res: dict[str, Any] = {"dynasty": None, "era": None, "era_year": None, "year": None, "year_range": None,
                           "bracket_year": list(bracket_years) if bracket_years else None,
                           "publisher": None, "edition_type": None, "category": None, "inferred": inferred}
    era_hit = match_era_at(f, pos)
    dyn = None
    wy = re.match(r"(\d{3,4})\s*年?(?:[-–—至到](\d{3,4})\s*年?)?", f[pos:])
    if wy:  # Western year written out: 1953年铅印本
        pos += wy.end()
        if wy.group(2):
            res["year_range"] = [int(wy.group(1)), int(wy.group(2))]
        else:
            res["year"] = int(wy.group(1))
        era_hit = None
    elif era_hit and era_hit[1][0].dynasty == "民國":
        dyn = "民國"
    else:
        dyn = match_dynasty(f, pos)
        if dyn:
            pos += len(fold(dyn))
            while pos < len(f) and f[pos] in " 　":
                pos += 1
            era_hit = match_era_at(f, pos)
    res["dynasty"] = dyn
    eras: list[Era] = []
    if era_hit:
        eras = _eras_for(era_hit[1], dyn)
        if not eras:
            era_hit = None
    if era_hit and eras:
        pos += len(era_hit[0])
        era = eras[0]
        if len(eras) > 1 and bracket_years:
            fit = [e for e in eras if e.first_year <= bracket_years[0] <= e.first_year + e.max_year - 1]
            era = fit[0] if fit else era
        elif len(eras) > 1:
            out.append(("warning", "era-ambiguous",
                        f"年号 {era_hit[0]} is used by several eras ({', '.join(f'{e.dynasty} {e.first_year}' for e in eras)}); "
                        "add the dynasty or a bracketed year"))
        res["dynasty"] = dyn or era.dynasty
        res["era"] = era.name
        res["era_dynasty"] = era.dynasty
        ym = re.match(rf"(元|{N}+)年", f[pos:])
        gz = f[pos:pos + 2]
        if ym:
            n = 1 if ym.group(1) == "元" else cn_to_int(ym.group(1))
            pos += ym.end()
            if n is None or n < 1 or n > era.max_year:
                out.append(("error", "era-year-out-of-range",
                            f"{era.name}{ym.group(0)}: {era.name} has years 1–{era.max_year} "
                            f"({era.first_year}–{era.first_year + era.max_year - 1})"))
            else:
                res["era_year"] = n
                res["year"] = era.year(n)
        elif _ganzhi_index(gz) is not None:
            gi = _ganzhi_index(gz)
            pos += 2
            hits = [y for y in range(era.first_year, era.first_year + era.max_year) if (y - 4) % 60 == gi]
            if hits:
                res["year"] = hits[0]
                res["era_year"] = hits[0] - era.first_year + 1
                res["ganzhi"] = gz
            else:
                out.append(("error", "era-year-out-of-range", f"{era.name}{gz}: no {gz} year in {era.name}"))
        else:
            rng = [era.first_year, era.first_year + era.years - 1]
            tm = re.match(r"[至到-]", f[pos:])
            if tm:
                nxt = match_era_at(f, pos + 1)
                if nxt:
                    e2 = _eras_for(nxt[1], dyn) or nxt[1]
                    cand = [e for e in e2 if e.first_year >= era.first_year] or e2
                    rng[1] = cand[0].first_year + cand[0].years - 1
                    pos += 1 + len(nxt[0])
            res["year_range"] = rng
        if f[pos:pos + 1] in ("间", "中", "时") and res["year"] is None:
            pos += 1
            if f[pos:pos + 1] == "间":
                pos += 1
    elif dyn:
        span = DYNASTY_SPANS.get(dyn)
        if span:
            res["year_range"] = list(span)
    # cross-check with the bracketed year
    if bracket_years:
        if res["year"] is not None and not (bracket_years[0] <= res["year"] <= bracket_years[1]):
            out.append(("error", "year-mismatch",
                        f"{res['era']}{res['era_year'] if res['era_year'] != 1 else '元'}年 is {res['year']}, "
                        f"but the bracket says {b.group(0)}"))
        elif res["year"] is None and res["year_range"]:
            lo, hi = res["year_range"]
            if not (lo - 1 <= bracket_years[0] and bracket_years[1] <= hi + 1):
                out.append(("error", "year-mismatch",
                            f"bracketed year {b.group(0)} lies outside {res['era'] or res['dynasty']} ({lo}–{hi})"))
            elif bracket_years[0] == bracket_years[1]:
                res["year"] = bracket_years[0]
        elif res["year"] is None and not res["year_range"]:
            res["year"] = bracket_years[0] if bracket_years[0] == bracket_years[1] else None
            if bracket_years[0] != bracket_years[1]:
                res["year_range"] = list(bracket_years)
    # publisher and edition type from the rest
    rest_f = f[pos:].strip(" 　，,")
    rest_o = body[pos:].strip(" 　，,") if len(f) == len(body) else rest_f
    t_f, t_o = rest_f, rest_o
    if t_f.endswith("本"):
        t_f, t_o = t_f[:-1], t_o[:-1]
        words: list[str] = []
        changed = True
        while changed and t_f:
            changed = False
            for wf, _w in _TYPE_FOLDED:
                if t_f.endswith(wf):
                    words.insert(0, t_o[len(t_o) - len(wf):])
                    t_f, t_o = t_f[: -len(wf)], t_o[: -len(wf)]
                    changed = True
                    break
        if words:
            res["edition_type"] = "".join(words) + "本"
            res["publisher"] = t_o.strip(" 　") or None
        else:
            for wf, w in _TYPE_FOLDED:  # 刻合刻分體李杜全集本: 刻 + the collection it belongs to
                if rest_f.startswith(wf):
                    res["edition_type"] = rest_o[: len(wf)] + "本"
                    res["part_of"] = rest_o[len(wf):]
                    break
    if res["edition_type"]:
        tf = fold(res["edition_type"])
        res["category"] = next((c for k, c in CATEGORIES if k in tf), "其他")
    else:
        for k, c in OTHER_TYPES:
            i = rest_f.find(k)
            if i >= 0:
                res["edition_type"] = rest_o[i:i + len(k)] if len(rest_o) == len(rest_f) else k
                res["category"] = c
                rest_note = (rest_o[:i] + rest_o[i + len(k):]).strip(" 　")
                if rest_note:
                    res["note"] = rest_note
                break
    if res["edition_type"] is None:
        out.append(("warning", "edition-type-unknown", f"版本 {s!r}: no edition type (刻本, 抄本, 稿本 …) recognised"))
    if res["dynasty"] is None and res["year"] is None:
        out.append(("warning", "edition-undated", f"版本 {s!r}: no dynasty, era or year recognised"))
    return res, out


# -- 版式 ----------------------------------------------------------------------------------------

def parse_layout(s: str) -> tuple[dict | None, list[Finding]]:
    if not s:
        return None, []
    res: dict[str, Any] = {"lines": None, "chars": None, "chars_max": None, "small_double": None,
                           "small_chars": None, "mouth": None, "border": None, "fishtail": None, "other": []}
    out: list[Finding] = []
    for seg in re.split(r"[，,；;。、\s]+", s):
        if not seg:
            continue
        f = _same_len_fold(seg)
        if m := re.fullmatch(rf"(?:每)?(?:半叶|半页|每半叶)?({N}+)行", f):
            res["lines"] = cn_to_int(m.group(1))
        elif m := re.fullmatch(rf"(?:半叶|半页)?({N}+)行(?:，|,)?行?({N}+)(?:至({N}+))?字", f):
            res["lines"], res["chars"] = cn_to_int(m.group(1)), cn_to_int(m.group(2))
            res["chars_max"] = cn_to_int(m.group(3)) if m.group(3) else None
        elif m := re.fullmatch(rf"行({N}+)(?:[至到-]({N}+))?字", f):
            res["chars"] = cn_to_int(m.group(1))
            res["chars_max"] = cn_to_int(m.group(2)) if m.group(2) else None
        elif f in ("行字不等", "字数不等", "行款不等", "行字不一"):
            res["other"].append(seg)
        elif m := re.fullmatch(rf"(?:注)?小字双行(?:(同)|({N}+)字|字同)?", f):
            res["small_double"] = True
            res["small_chars"] = res["chars"] if (m.group(1) or f.endswith("字同")) else (cn_to_int(m.group(2)) if m.group(2) else None)
        elif m := re.fullmatch(r"(白口|黑口|细黑口|大黑口|粗黑口|花口|线黑口)", f):
            res["mouth"] = seg
        elif m := re.fullmatch(r"(四周|左右|上下)(单|双)(边|栏|边栏)", f) or re.fullmatch(r"四周单双边|四周双边|四周单边", f):
            res["border"] = seg
        elif re.search(r"鱼尾", f):
            res["fishtail"] = seg
        elif re.fullmatch(r"(无|有)(界栏|直格|格)|版心.*|书口.*|上下.*|.*界栏", f):
            res["other"].append(seg)
        else:
            res["other"].append(seg)
            out.append(("warning", "layout-unparsed", f"版式 part {seg!r} not recognised"))
    return res, out


# -- 存卷, 册数 -----------------------------------------------------------------------------------

def _juan_list(text: str) -> list[int] | None:
    nums: list[int] = []
    for part in re.split(r"[、，,；;及和又]", text):
        part = part.strip().replace("卷", "")
        if not part:
            continue
        m = re.fullmatch(rf"({N}+)(?:[至到\-–—~]({N}+))?", part)
        if not m:
            return None
        a = cn_to_int(m.group(1))
        b = cn_to_int(m.group(2)) if m.group(2) else a
        if a is None or b is None or b < a or b - a > 2000:
            return None
        nums.extend(range(a, b + 1))
    return nums


def parse_extant(s: str, juan_total: int | None) -> tuple[dict | None, list[Finding]]:
    if not s:
        return None, []
    out: list[Finding] = []
    f = _same_len_fold(s.strip())
    res: dict[str, Any] = {"count": None, "juan": None, "missing": None}
    if f in ("全", "全帙", "完整", "足本"):
        res["count"] = juan_total
        return res, out
    if m := re.match(rf"存({N}+)卷(?:[（(](.+?)[）)])?", f):
        res["count"] = cn_to_int(m.group(1))
        if m.group(2):
            res["juan"] = _juan_list(m.group(2))
    elif m := re.match(r"存(?:卷)?(.+)", f):
        res["juan"] = _juan_list(m.group(1))
        if res["juan"] is not None:
            res["count"] = len(res["juan"])
    elif m := re.match(r"缺(?:卷)?(.+)", f):
        res["missing"] = _juan_list(m.group(1))
        if res["missing"] is not None and juan_total:
            res["count"] = juan_total - len(res["missing"])
    else:
        out.append(("warning", "extant-unparsed", f"存卷 {s!r} not recognised (e.g. 存四卷（十六至十九）, 存卷一至五)"))
        return res, out
    if res["juan"] is not None and res["count"] is not None and len(res["juan"]) != res["count"]:
        out.append(("error", "extant-count-mismatch",
                    f"存卷 {s!r}: says {res['count']} juan but lists {len(res['juan'])}"))
    listed = (res["juan"] or []) + (res["missing"] or [])
    if juan_total:
        if res["count"] is not None and res["count"] > juan_total:
            out.append(("error", "extant-exceeds-total",
                        f"存卷 {s!r}: {res['count']} juan extant but 题名卷数 gives {juan_total}"))
        elif listed and max(listed) > juan_total:
            out.append(("error", "extant-exceeds-total",
                        f"存卷 {s!r}: juan {max(listed)} does not exist in a work of {juan_total} juan"))
    if res["count"] is not None and res["count"] <= 0:
        out.append(("error", "extant-exceeds-total", f"存卷 {s!r}: no juan extant"))
    return res, out


VOLUME_UNITS = "册冊本函件枚张張幅轴軸卷页頁叶葉"


def parse_volumes(s: str) -> tuple[dict | None, list[Finding]]:
    if not s:
        return None, []
    t = s.strip()
    m = re.match(rf"^({N}+)\s*(?:[（(]([^）)]*)[）)])?\s*([{VOLUME_UNITS}])?\s*(?:[（(]([^）)]*)[）)])?", t)
    if not m or cn_to_int(m.group(1)) is None:
        return None, [("warning", "volumes-unparsed", f"册数 {s!r} is not a number with a unit (e.g. 4册)")]
    n = cn_to_int(m.group(1))
    res = {"count": n, "unit": m.group(3) or "册", "note": m.group(2) or m.group(4) or (t[m.end():].strip() or None)}
    if n <= 0:
        return res, [("error", "volumes-invalid", f"册数 {s!r} must be at least 1")]
    return res, []


# -- 尺寸 ----------------------------------------------------------------------------------------

_NUM = r"(\d+(?:\.\d+)?)"
_UNIT = r"(厘米|釐米|公分|cm|CM|毫米|mm)?"


def _to_cm(v: str, unit: str | None) -> float:
    x = float(v)
    return round(x / 10, 2) if unit in ("毫米", "mm") else x


def parse_size(s: str) -> tuple[dict | None, list[Finding]]:
    if not s:
        return None, []
    res: dict[str, Any] = {"frame_cm": None, "page_cm": None, "other": []}
    out: list[Finding] = []
    for seg in re.split(r"[；;。]", s):
        seg = seg.strip()
        if not seg:
            continue
        f = _same_len_fold(seg)
        kind = "page" if re.match(r"(开本|书高|书|本)", f) else ("frame" if re.match(r"(匡|框|版框|板框)", f) else None)
        h = re.search(rf"高{_NUM}\s*{_UNIT}", f)
        w = re.search(rf"(?:广|宽|阔){_NUM}\s*{_UNIT}", f)
        x = re.search(rf"{_NUM}\s*{_UNIT}\s*[×xX*]\s*{_NUM}\s*{_UNIT}", f)
        hw = None
        if h and w:
            unit = h.group(2) or w.group(2)
            hw = (_to_cm(w.group(1), w.group(2) or unit), _to_cm(h.group(1), h.group(2) or unit))
        elif x:
            unit = x.group(2) or x.group(4)
            a, b = _to_cm(x.group(1), unit), _to_cm(x.group(3), unit)
            hw = (b, a)  # written 高×广 in census practice
        if hw and kind is None:
            kind = "frame"
        if hw:
            res[f"{kind}_cm"] = [hw[0], hw[1]]  # [width, height]
        else:
            res["other"].append(seg)
    fr, pg = res["frame_cm"], res["page_cm"]
    if fr and pg and (fr[0] >= pg[0] or fr[1] >= pg[1]):
        out.append(("error", "frame-larger-than-page",
                    f"尺寸 {s!r}: frame {fr[1]}×{fr[0]} cm is not smaller than the page {pg[1]}×{pg[0]} cm"))
    for k in ("frame_cm", "page_cm"):
        v = res[k]
        if v and not (1 <= v[0] <= 200 and 1 <= v[1] <= 300):
            out.append(("warning", "size-implausible", f"尺寸 {s!r}: {v[1]}×{v[0]} cm is implausible"))
    return res, out


# -- 钤印, 批校题跋, enums, notes -------------------------------------------------------------------

def parse_seals(s: str) -> tuple[list[str] | None, list[Finding]]:
    if not s:
        return None, []
    quoted = re.findall(r"[“「『\"]([^”」』\"]+)[”」』\"]", s)
    if quoted:
        return quoted, []
    t = re.sub(r"^(钤有|鈐有|有)", "", s.strip())
    t = re.sub(r"等?印(记|記)?$", "", t) if len(t) > 2 else t
    return [x.strip() for x in re.split(r"[、，,；;\s]+", t) if x.strip()], []


_GRADE_RE = re.compile(rf"^({N})级(?:古籍)?(?:([甲乙丙])等)?$")
_DAMAGE_RE = re.compile(rf"^({N})级(?:破损)?$")


def parse_grade(s: str) -> tuple[dict | None, list[Finding]]:
    if not s:
        return None, []
    f = _same_len_fold(s.strip()).replace(" ", "")
    if f in ("未定级", "待定", "无"):
        return {"level": None, "class": None, "value": s}, []
    m = _GRADE_RE.match(f)
    lvl = cn_to_int(m.group(1)) if m else None
    if not m or lvl not in (1, 2, 3, 4):
        return None, [("error", "grade-invalid", f"定级 {s!r} is not 一级/二级/三级/四级 (optionally 甲/乙/丙等)")]
    return {"level": lvl, "class": m.group(2), "value": s}, []


def parse_damage(s: str) -> tuple[dict | None, list[Finding]]:
    if not s:
        return None, []
    f = _same_len_fold(s.strip()).replace(" ", "")
    if f in ("完好", "无破损", "未破损", "基本完好"):
        return {"level": 0, "value": s}, []
    m = _DAMAGE_RE.match(f)
    lvl = cn_to_int(m.group(1)) if m else None
    if not m or lvl not in (1, 2, 3, 4, 5):
        return None, [("error", "damage-invalid", f"破损级别 {s!r} is not 一级 … 五级 (or 完好)")]
    return {"level": lvl, "value": s}, []


INTERNAL_MARK = re.compile(r"^\s*(?:[【\[［(（]?\s*(?:内部|內部|internal|仅内部|僅內部|不公开|不公開)\s*[】\]］)）]?\s*[:：]?)",
                           re.IGNORECASE)


# an internal marker after a sentence/clause end inside a segment: bracketed, or followed by a colon
INTERNAL_INSIDE = re.compile(r"[。，、,.!?！？]\s*(?=[【\[［(（]\s*(?:内部|內部|internal|仅内部|僅內部|不公开|不公開)\s*[】\]］)）]"
                             r"|(?:内部|內部|internal|仅内部|僅內部|不公开|不公開)\s*[:：])", re.IGNORECASE)


def parse_notes(s: str) -> tuple[dict | None, list[Finding]]:
    """附注: segments (split at ；/newline) starting with 内部/內部/internal/不公开 are internal, never published."""
    if not s:
        return None, []
    public, internal = [], []
    segs = []
    for seg in re.split(r"[；;\n]+", s):  # "…。內部：…": a marked internal part inside a segment too
        m = INTERNAL_INSIDE.search(seg)
        segs += [seg[:m.end()], seg[m.end():]] if m else [seg]
    for seg in segs:
        seg = seg.strip()
        if not seg:
            continue
        m = INTERNAL_MARK.match(seg)
        if m and m.group(0).strip():
            internal.append(seg[m.end():].strip() or seg)
        else:
            public.append(seg)
    return {"public": public, "internal": internal}, []


def parse_doc_type(s: str) -> tuple[str | None, list[Finding]]:
    if not s:
        return None, []
    f = fold(s.strip()).lower()
    if f in ("古籍", "rare-book", "rare book", "善本", "普通古籍"):
        return "rare-book", []
    if f in ("地方文献", "local-document", "local document", "民国文献", "地方志"):
        return "local-document", []
    return None, [("warning", "doc-type-unknown", f"文献类型 {s!r} is not 古籍 or 地方文献")]


def parse_access(s: str) -> tuple[str | None, list[Finding]]:
    if not s:
        return None, []
    f = fold(s.strip()).lower()
    if f in ("公开", "public", "开放", "open"):
        return "public", []
    if f in ("限制", "restricted", "内部", "不公开", "受限", "closed"):
        return "restricted", []
    return None, [("error", "access-invalid", f"访问级别 {s!r} is not 公开/public or 限制/restricted")]
