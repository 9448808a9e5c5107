"""Parsers for each census field. Each takes the original string and returns (parsed, findings).

A finding is ``(severity, code, message)``; the caller turns it into a Problem with row/field.
Matching is done on the OpenCC-folded (simplified) string; parsed text values are cut from the
original string (t2s is one character to one character for the text we cut), so display keeps the
original characters.
"""

from __future__ import annotations

import re
from typing import Any

from guji.metadata.eras import NUMERAL_CHARS
from guji.numerals import parse as cn_to_int
from guji.textfold import fold_key as fold
from guji.textfold import fold_key_aligned

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


# -- 普查编号 -------------------------------------------------------------------------------------

CENSUS_RE = re.compile(r"^(\d{6})-(\d{4})-(\d{7})$")


def parse_census_no(s: str, institution_code: str | None = None) -> tuple[dict | None, list[Finding]]:
    if not s:
        return None, []
    t = s.replace("－", "-").replace("—", "-").replace(" ", "")
    m = CENSUS_RE.match(t)
    if not m:
        return None, [("error", "census-no-format",
                       f"普查编号「{s}」格式应为 PPPPPP-UUUU-NNNNNNN（6位省级代码、4位单位代码、7位流水号）",
                       f"普查编号 {s!r} is not PPPPPP-UUUU-NNNNNNN (6-digit province, 4-digit unit, 7-digit serial)")]
    prov, unit, serial = m.groups()
    out: list[Finding] = []
    if prov not in PROVINCES:
        out.append(("error", "census-no-province", f"普查编号「{s}」：{prov} 不是 GB/T 2260 省级行政区划代码",
                    f"普查编号 {s!r}: {prov} is not a GB/T 2260 provincial code"))
    if institution_code:
        ic = institution_code.strip()
        im = re.match(r"^(\d{6})-(\d{4})$", ic)
        if im and (prov, unit) != im.groups():
            out.append(("error", "census-no-unit",
                        f"普查编号「{s}」：省份/单位 {prov}-{unit} 与本批次的单位代码 {ic} 不符",
                        f"普查编号 {s!r}: province/unit {prov}-{unit} differs from the batch's institution_code {ic}"))
    if int(serial) == 0:
        out.append(("error", "census-no-serial", f"普查编号「{s}」：流水号 0000000 无效",
                    f"普查编号 {s!r}: serial 0000000 is not valid"))
    return {"value": t, "province": prov, "province_name": PROVINCES.get(prov), "unit": unit, "serial": serial}, out


# -- 题名卷数 -------------------------------------------------------------------------------------

_JUAN_RE = re.compile(rf"(?P<title>.*?)(?:(?P<bfj>不分卷)|(?P<n>(?:{N}+|[□〼■?？]+))卷)")
_PREFIX_RE = re.compile(r"^\s*[［\[【〔]([^］\]】〕]{1,8})[］\]】〕]\s*")


def parse_title(s: str) -> tuple[dict | None, list[Finding]]:
    if not s:
        return None, [("error", "title-missing", "题名卷数为空", "题名卷数 is empty")]
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
        return None, [("error", "title-missing", "题名卷数没有题名", "题名卷数 has no title")]
    # a part with an empty title continues the previous work (e.g. 三十卷 written apart)
    for w in works[1:]:
        if not w["title"]:
            out.append(("warning", "title-part-untitled", f"卷数「{w['juan_text']}」前没有题名",
                        f"a juan count {w['juan_text']} has no title before it"))
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
輯評 批 批點 參訂 鑒定 鑑定 参 參 閱 同校 補注 補註 考證 考正 圖 绘 編校 纂輯 撰注 撰註 撰并書 口述 譯述 主編 編著 修訂
補正 衍義 校正 合入 集 纂集 改誤 校定 釋文 索隱 錄 录 音釋 音解 音注 音註 傳 正義 重增 增注 增註 考異 章句 句讀 批校 評注 評註
集評 彙編 匯編 删 刪定 刪補 重編 重輯 增輯 增補 合注 合註 集傳 註解 注解 解 說 講 箋釋 校補 校釋 校訂 校錄 藏 手錄 抄錄 鈔錄 節錄
譯注 同譯 詮 述義 義疏 記 編集 撰集 評選 選評 纂注 纂註 翻譯 合譯 重譯 繪圖 畫 書丹 篆 摹 臨 校閱 定""".split(),
               key=len, reverse=True)
_DYN_RE = re.compile(r"[（(［\[〔]([^）)］\]〕]{1,4})[）)］\]〕]")


def _split_role(chunk: str) -> tuple[str, str | None]:
    m = re.match(r"(.{2,}?)(等)?(" + "|".join(ROLES) + r")([並并及])(" + "|".join(ROLES) + r")$", chunk)
    if m:  # 徐乾學等輯並注: two roles joined
        return m.group(1) + (m.group(2) or ""), m.group(3) + m.group(4) + m.group(5)
    for r in ROLES:
        if chunk.endswith(r) and len(chunk) - len(r) >= 2:
            return chunk[: -len(r)], r
    return chunk, None


ROLE_FINALS = set("注註疏解釋释義义評评點点校訂订正證证輯辑編编纂撰述錄录集論论補补增刪删選选譯译音覽览實实明贊赞書书法"
                  "詩诗受誤误次字頌颂記记傳传說说要讀读閱阅定考異异圖图繪绘題题跋序")


def _guess_role(chunk: str) -> tuple[str, str | None]:
    """A role word not in ROLES (發明, 集論, 質實, 筆受 …): names are 2–3 characters (4 with a double
    surname), so a chunk of 5+ characters, or 4, ends with a two-character role when its last character
    is one roles end with. Not for monks (釋鳩摩羅什) or titled names (玄宗李隆基, 中主李璟)."""
    if chunk.startswith(("釋", "释")) or chunk[-1] not in ROLE_FINALS:
        return chunk, None
    if len(chunk) >= 4:
        return chunk[:-2], chunk[-2:]
    return chunk, None


def _pieces(s: str, sep: str) -> list[str]:
    """The non-empty pieces of ``s`` split at the pattern ``sep``, stripped."""
    return [p for p in (x.strip() for x in re.split(sep, s)) if p]


def parse_authors(s: str) -> tuple[list[dict] | None, list[Finding]]:
    if not s:
        return None, []
    persons: list[dict[str, Any]] = []
    for seg in _pieces(s, r"[；;]"):
        scope = None
        seg_attributed = False
        first = _DYN_RE.search(seg)
        if first and first.start() > 0:
            scope = seg[: first.start()].strip(" 　：:") or None
            seg = seg[first.start():]
            if scope in ("題", "题", "舊題", "旧题", "原題", "原题"):  # 題（宋）王十朋纂集: attributed, no scope
                scope, seg_attributed = None, True
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
            for chunk in _pieces(val, r"[\s　、,，]+"):
                et_al = False
                attributed = False
                for q in ("舊題", "旧题", "原題", "原题", "題", "题"):
                    if chunk.startswith(q) and len(chunk) > len(q):
                        chunk, attributed = chunk[len(q):], True
                        break
                else:
                    if chunk in ("舊題", "旧题", "原題", "原题", "題", "题"):
                        continue  # 題（宋）王十朋纂集: "attributed to", not a person
                name, role = _split_role(chunk)
                guessed = False
                if role is None:
                    name, role = _guess_role(chunk)
                    guessed = role is not None
                if name.endswith("等"):
                    name, et_al = name[:-1], True
                p = {"name": name, "dynasty": dynasty, "role": role, "scope": scope}
                if et_al:
                    p["et_al"] = True
                if attributed or seg_attributed:
                    p["attributed"] = True
                if guessed:
                    p["role_guessed"] = True
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
# layered parsing (base edition, re-cuttings, supplements) lives in guji.metadata.edition
from guji.metadata.edition import parse_edition  # noqa: E402,F401


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
        f = fold_key_aligned(seg)
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
            out.append(("warning", "layout-unparsed", f"版式「{seg}」无法识别", f"版式 part {seg!r} not recognised"))
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


def parse_extant(s: str, title: dict | None) -> tuple[dict | None, list[Finding]]:
    """存卷 against 题名卷数: ``title`` is parse_title's result (or a juan count, or None)."""
    if not s:
        return None, []
    if isinstance(title, dict):
        works = title.get("works") or []
        juan_total = title.get("juan_total")
        known = [w.get("juan") for w in works]
        all_known = bool(works) and all(isinstance(j, int) for j in known)
        juan_all = sum(known) if all_known else None  # every work of 题名卷数 (前集 + 後集 + 附錄 …)
        # juan numbers in 存卷 belong to one work, or run on through all works (一至二十 of 十卷+外集十卷)
        juan_max = (max(known) if len(works) == 1 else juan_all) if all_known else None
    else:
        juan_total = juan_all = juan_max = title
    out: list[Finding] = []
    f = fold_key_aligned(s.strip())
    res: dict[str, Any] = {"count": None, "juan": None, "missing": None}
    if f in ("全", "全帙", "完整", "足本"):
        res["count"] = juan_all
        return res, out
    if m := re.match(rf"(?:残)?存({N}+)卷(?:[（(](.+?)[）)])?", f):
        res["count"] = cn_to_int(m.group(1))
        if m.group(2):
            res["juan"] = _juan_list(m.group(2))
    elif m := re.match(r"(?:残)?存(?:卷)?(.+)", f):
        res["juan"] = _juan_list(m.group(1))
        if res["juan"] is not None:
            res["count"] = len(res["juan"])
        else:
            res["text"] = s  # 存清道光六年至同治二年 (a diary's span), 存二卷合爲一軸
    elif m := re.match(r"缺(?:卷)?(.+)", f):
        res["missing"] = _juan_list(m.group(1))
        if res["missing"] is not None and juan_total:
            res["count"] = juan_total - len(res["missing"])
    else:
        out.append(("warning", "extant-unparsed", f"存卷「{s}」无法识别（如 存四卷（十六至十九）、存卷一至五）",
                    f"存卷 {s!r} not recognised (e.g. 存四卷（十六至十九）, 存卷一至五)"))
        return res, out
    if res["juan"] is not None and res["count"] is not None and len(res["juan"]) != res["count"]:
        out.append(("warning", "extant-count-mismatch",
                    f"存卷「{s}」：称{res['count']}卷，列出{len(res['juan'])}卷（卷分上下、首卷等可致不同，请核对）",
                    f"存卷 {s!r}: says {res['count']} juan but lists {len(res['juan'])} (juan split into 上/下 or a "
                    "首卷 can explain it; please check)"))
    listed = (res["juan"] or []) + (res["missing"] or [])
    if res["count"] is not None and res["count"] <= 0:
        out.append(("error", "extant-exceeds-total", f"存卷「{s}」：存卷为零", f"存卷 {s!r}: no juan extant"))
    elif juan_all and res["count"] is not None and res["count"] > juan_all:
        named_parts = res["juan"] is None and bool(re.search(r"[（(].*[^\d一二三四五六七八九十百千〇、，,至卷（）()]", f))
        out.append(("warning" if named_parts else "error", "extant-exceeds-total",
                    f"存卷「{s}」：存{res['count']}卷，但题名卷数合计只有{juan_all}卷",
                    f"存卷 {s!r}: {res['count']} juan extant but 题名卷数 gives {juan_all} in all"))
    elif juan_max and listed and max(listed) > juan_max:
        out.append(("error", "extant-exceeds-total",
                    f"存卷「{s}」：卷{max(listed)}不存在（题名卷数最多{juan_max}卷）",
                    f"存卷 {s!r}: juan {max(listed)} does not exist in a work of {juan_max} juan"))
    return res, out


VOLUME_UNITS = "册冊本函件枚张張幅轴軸卷页頁叶葉"


def parse_volumes(s: str) -> tuple[dict | None, list[Finding]]:
    if not s:
        return None, []
    t = s.strip()
    m = re.match(rf"^({N}+)\s*(?:[（(]([^）)]*)[）)])?\s*([{VOLUME_UNITS}])?\s*(?:[（(]([^）)]*)[）)])?", t)
    if not m or cn_to_int(m.group(1)) is None:
        return None, [("warning", "volumes-unparsed", f"册数「{s}」应为数量加单位（如 4册）",
                       f"册数 {s!r} is not a number with a unit (e.g. 4册)")]
    n = cn_to_int(m.group(1))
    res = {"count": n, "unit": m.group(3) or "册", "note": m.group(2) or m.group(4) or (t[m.end():].strip() or None)}
    if n <= 0:
        return res, [("error", "volumes-invalid", f"册数「{s}」至少为1", f"册数 {s!r} must be at least 1")]
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
        f = fold_key_aligned(seg)
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
                    f"尺寸「{s}」：版框 {fr[1]}×{fr[0]} 厘米不小于开本 {pg[1]}×{pg[0]} 厘米",
                    f"尺寸 {s!r}: frame {fr[1]}×{fr[0]} cm is not smaller than the page {pg[1]}×{pg[0]} cm"))
    for k in ("frame_cm", "page_cm"):
        v = res[k]
        if v and not (1 <= v[0] <= 200 and 1 <= v[1] <= 300):
            out.append(("warning", "size-implausible", f"尺寸「{s}」：{v[1]}×{v[0]}厘米不合常理",
                        f"尺寸 {s!r}: {v[1]}×{v[0]} cm is implausible"))
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
    f = fold_key_aligned(s.strip()).replace(" ", "")
    if f in ("未定级", "待定", "无"):
        return {"level": None, "class": None, "value": s}, []
    m = _GRADE_RE.match(f)
    lvl = cn_to_int(m.group(1)) if m else None
    if not m or lvl not in (1, 2, 3, 4):
        return None, [("error", "grade-invalid", f"定级「{s}」应为一级/二级/三级/四级（可加甲/乙/丙等）",
                       f"定级 {s!r} is not 一级/二级/三级/四级 (optionally 甲/乙/丙等)")]
    return {"level": lvl, "class": m.group(2), "value": s}, []


def parse_damage(s: str) -> tuple[dict | None, list[Finding]]:
    if not s:
        return None, []
    f = fold_key_aligned(s.strip()).replace(" ", "")
    if f in ("完好", "无破损", "未破损", "基本完好"):
        return {"level": 0, "value": s}, []
    m = _DAMAGE_RE.match(f)
    lvl = cn_to_int(m.group(1)) if m else None
    if not m or lvl not in (1, 2, 3, 4, 5):
        return None, [("error", "damage-invalid", f"破损级别「{s}」应为一级至五级（或完好）",
                       f"破损级别 {s!r} is not 一级 … 五级 (or 完好)")]
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
    return None, [("warning", "doc-type-unknown", f"文献类型「{s}」应为古籍或地方文献",
                   f"文献类型 {s!r} is not 古籍 or 地方文献")]


def parse_access(s: str) -> tuple[str | None, list[Finding]]:
    if not s:
        return None, []
    f = fold(s.strip()).lower()
    if f in ("公开", "public", "开放", "open"):
        return "public", []
    if f in ("限制", "restricted", "内部", "不公开", "受限", "closed"):
        return "restricted", []
    return None, [("error", "access-invalid", f"访问级别「{s}」应为公开（public）或限制（restricted）",
                   f"访问级别 {s!r} is not 公开/public or 限制/restricted")]
