"""版本 statements as layers: the base edition, re-cuttings (修/遞修/重修/補刻), later printings, supplements (配補).

``元刻明正德十年（1515）司禮監嘉靖南京國子監遞修本（卷一配清抄本）`` is three layers:

1. base ``元刻``: one event (元);
2. re-cut ``遞修``: two events, 明正德十年（1515）by 司禮監 and 嘉靖 by 南京國子監;
3. supplement ``配``: 清抄本 for 卷一.

A new layer starts where a date (dynasty, era, bracketed or Western year) follows the type words
(刻, 抄, 修, 印 …) of the text before it; a date that follows an agent instead (司禮監嘉靖) is a
second event of the same layer. Each event's date is checked against its own dynasty and its own
bracketed year; the edition's year (what catalogues sort and facet by) is the base layer's.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from guji.metadata.eras import (DYNASTY_PREFIXES, NUMERAL_CHARS, Era, dynasties_at, dynasty_spans, match_dynasty,
                                match_era_at)
from guji.numerals import parse as cn_to_int
from guji.numerals import to_chinese
from guji.textfold import fold_key as fold
from guji.textfold import fold_key_aligned

Finding = tuple[str, str, str, str]  # severity, code, message (zh), message (en)
N = f"[{NUMERAL_CHARS}]"

TYPE_WORDS = sorted("""銅活字 木活字 泥活字 磁活字 錫活字 活字 朱墨套印 套印 朱墨 三色 四色 五色 六色 藍印 朱印 墨印 石印 影印 鉛印 油印
曬印 刻 刊 抄 鈔 稿 寫 拓 遞修 補修 重修 增修 修補 修 補刻 增刻 翻刻 覆刻 重刻 影抄 影鈔 精刻 精抄 精寫 後印 重印 遞印 印 手 刷印
彙印 匯印 描 繪 彩繪 謄清 誊清 手寫 手抄 重校 校刊 校補 補 影寫 仿刻 摹刻 影""".split(), key=len, reverse=True)
_TYPE_FOLDED = sorted({fold(w) for w in TYPE_WORDS}, key=len, reverse=True)
RECUT = ("修", "补", "增刻", "重校")
MODEL = ("影抄", "影钞", "影写", "影刻", "翻刻", "覆刻", "仿刻", "摹刻", "仿", "摹", "影")  # what follows is the copied edition
REPRINT = ("后印", "重印", "递印", "印")
CATEGORIES = [  # (folded keyword in the base layer's type words, category)
    ("活字", "活字本"), ("套印", "套印本"), ("朱墨", "套印本"), ("色", "套印本"), ("石印", "石印本"), ("影印", "影印本"),
    ("铅印", "铅印本"), ("油印", "油印本"), ("晒印", "晒印本"), ("稿", "稿本"), ("影抄", "抄本"), ("抄", "抄本"),
    ("钞", "抄本"), ("写", "写本"), ("拓", "拓本"), ("绘", "写本"), ("描", "写本"), ("刻", "刻本"), ("刊", "刻本"),
    ("修", "刻本"), ("印", "印本"),
]
OTHER_TYPES = [("竹简", "简牍"), ("木简", "简牍"), ("简牍", "简牍"), ("帛书", "帛书"), ("写经", "写本"), ("写本", "写本"),
               ("拓片", "拓本"), ("拓本", "拓本"), ("稿本", "稿本"), ("抄本", "抄本"), ("钞本", "抄本"), ("刻本", "刻本")]
QUALIFIERS = ("前期", "中期", "後期", "后期", "晚期", "早期", "中葉", "中叶", "初年", "末年", "初", "末", "中", "間", "间", "時", "时")
_GAN = "甲乙丙丁戊己庚辛壬癸"
_ZHI = "子丑寅卯辰巳午未申酉戌亥"
BRACKET_YEAR = re.compile(r"[（(]\s*(?:公元)?\s*(前)?(\d{1,4})\s*年?\s*(?:[-–—－~～‐至到、,，]\s*(\d{1,4})\s*年?)?\s*[）)]")
FOREIGN_LABELS = ("日本", "朝鮮", "高麗", "越南", "安南", "琉球")
BEYOND_END_TOLERANCE = 5  # an era counted on after its end (弘治十九年): a warning up to this many years


def ganzhi_index(gz: str) -> int | None:
    if len(gz) != 2 or gz[0] not in _GAN or gz[1] not in _ZHI:
        return None
    g, z = _GAN.index(gz[0]), _ZHI.index(gz[1])
    return next(i for i in range(60) if i % 10 == g and i % 12 == z) if (g - z) % 2 == 0 else None


def eras_for(eras: list[Era], dynasty: str | None) -> list[Era]:
    if dynasty is None:
        return eras
    allowed = DYNASTY_PREFIXES.get(dynasty, ())
    return [e for e in eras if e.dynasty in allowed]


def _new_event() -> dict[str, Any]:
    return {"dynasty": None, "era": None, "era_dynasty": None, "era_year": None, "year": None, "year_range": None,
            "bracket_year": None, "qualifier": None, "ganzhi": None, "agent": None, "text": ""}


def _type_suffix(f: str) -> int:
    """Length of the run of type words at the end of folded text ``f`` (0 when it does not end with one)."""
    n = 0
    t = f
    while t:
        for w in _TYPE_FOLDED:
            if t.endswith(w):
                n += len(w)
                t = t[: -len(w)]
                break
        else:
            break
    return n


class _Scanner:
    """Walks the folded statement once, cutting layers and events (see the module docstring)."""

    def __init__(self, orig: str) -> None:
        self.o = orig
        self.f = fold_key_aligned(orig)
        self.findings: list[Finding] = []
        self.layers: list[dict[str, Any]] = []
        self.context: str | None = None  # dynasty label in force (明 for a later 嘉靖)
        self.last_era: Era | None = None  # era in force for a bare year (刻十六年（1521）重修)

    # -- markers --------------------------------------------------------------------------------
    def _era_here(self, pos: int, dyn: str | None, at_start: bool) -> tuple[str, list[Era]] | None:
        hit = match_era_at(self.f, pos)
        if not hit:
            return None
        ctx = dyn or self.context
        cands = eras_for(hit[1], ctx) if ctx else hit[1]
        if not cands or (ctx is None and not at_start):
            return None
        return hit[0], cands

    def _dynasty_here(self, pos: int) -> str | None:
        labels = dynasties_at(self.f, pos)
        if not labels:
            return None
        # the longest label, unless a shorter one is followed by one of its eras (宋 + 元豐, not 宋元 + 豐)
        d = next((x for x in labels if self._era_here(pos + len(fold(x)), x, True)), labels[0])
        era = match_era_at(self.f, pos)
        if era and era[0] == fold(d):
            return None  # 民國二十年, 太平天國: the era of that name, read by _era_here
        nxt = pos + len(fold(d))
        rest = self.f[nxt:]
        if pos == 0 or self._era_here(nxt, d, True) or BRACKET_YEAR.match(rest):
            return d
        # elsewhere only after type words (…刻 | 明修) or another dynasty (宋元遞修): not 謄清稿本, 金陵書局
        before = self.f[:pos].rstrip(" 　，,、")
        after_ok = match_dynasty(self.f, nxt) or any(rest.startswith(fold(q)) for q in QUALIFIERS) \
            or any(rest.startswith(w) for w in _TYPE_FOLDED)
        after_qualifier = any(before.endswith(fold(q)) for q in QUALIFIERS) and bool(match_dynasty(before, 0))
        after_dynasty = any(before.endswith(f) for f, _k in _dynasty_labels_folded())  # 宋元遞修
        if after_ok and (_type_suffix(before) or after_dynasty or after_qualifier):  # 明末清初
            return d
        return None

    # -- one date -------------------------------------------------------------------------------
    def _read_date(self, pos: int, ev: dict[str, Any], dyn: str | None) -> int:
        """Read [dynasty][era[year]][qualifier][(bracket)] at pos into ev; returns the new position."""
        f = self.f
        if dyn:
            ev["dynasty"] = dyn
            pos += len(fold(dyn))
            self.context = dyn
        wy = re.match(r"(\d{3,4})\s*年?(?:[-–—至到](\d{3,4})\s*年?)?", f[pos:]) if not dyn else None
        era_hit = self._era_here(pos, dyn, True)
        if wy and not era_hit:
            pos += wy.end()
            if wy.group(2):
                ev["year_range"] = [int(wy.group(1)), int(wy.group(2))]
            else:
                ev["year"] = int(wy.group(1))
        elif era_hit:
            pos = self._read_era(pos, ev, era_hit)
        elif dyn and not DYNASTY_PREFIXES.get(dyn) and dyn in FOREIGN_LABELS:
            # 日本寬永二十年（1643）: a foreign era is not in the tables; the bracketed year dates it
            fm = re.match(rf"([^\s（(\d]{{2}})(元|{N}+)年(?=\s*[（(]\s*\d)", f[pos:])
            if fm:
                ev["era"], ev["era_year"] = self.o[pos:pos + 2], 1 if fm.group(2) == "元" else cn_to_int(fm.group(2))
                pos += fm.end()
        for q in QUALIFIERS:
            if f.startswith(fold(q), pos):
                ev["qualifier"] = (ev["qualifier"] or "") + self.o[pos:pos + len(q)]
                pos += len(q)
                break
        if ev["era"] is None and ev["year"] is None and ev["year_range"] is None and ev["dynasty"]:
            span = dynasty_spans().get(ev["dynasty"])
            ev["year_range"] = list(span) if span else None
        b = BRACKET_YEAR.match(f, pos)
        if b:
            sign = -1 if b.group(1) else 1
            y0 = sign * int(b.group(2))
            y1 = sign * int(b.group(3)) if b.group(3) else y0
            ev["bracket_year"] = [y0, y1]
            ev["bracket_text"] = b.group(0)
            pos = b.end()
            self._check_bracket(ev)
        return pos

    def _read_era(self, pos: int, ev: dict[str, Any], hit: tuple[str, list[Era]]) -> int:
        f = self.f
        name, eras = hit
        pos += len(name)
        # a bracketed year later in this date picks the homonym (至元 1264 or 1335)
        look = BRACKET_YEAR.search(f, pos, pos + 24)
        era = eras[0]
        if len(eras) > 1:
            fit: list[Era] = []
            ym = re.match(rf"(元|{N}+)(?:[至到-]({N}+))?年", f[pos:])
            n = (1 if ym.group(1) == "元" else cn_to_int(ym.group(1))) if ym else None
            if n:  # only the homonyms that have this year number (至元二十六年 is the first 至元)
                eras = [e for e in eras if n <= e.max_year] or \
                    [e for e in eras if n <= e.max_year + BEYOND_END_TOLERANCE] or eras
            if look:
                y = int(look.group(2)) * (-1 if look.group(1) else 1)
                fit = [e for e in eras if e.first_year - 1 <= y <= e.max_last_year + BEYOND_END_TOLERANCE]
            nxt = self._range_end(pos)
            if not fit and nxt:  # 至元至正間: the homonym just before the range's end
                ends = [e.first_year for e in nxt[1]]
                fit = sorted((e for e in eras if any(e.first_year <= y for y in ends)),
                             key=lambda e: min(y - e.first_year for y in ends if y >= e.first_year))
            if not fit:
                # one homonym of a major dynasty (明 清 宋 元 …) against regional ones
                major = [e for e in eras if e.dynasty in ("北宋", "南宋", "元", "明", "清", "唐", "金", "遼", "民國")]
                fit = major if len(major) == 1 else []
            if len(eras) == 1:
                era = eras[0]
            elif fit:
                era = fit[0]
            else:
                self.findings.append(("warning", "era-ambiguous",
                                      f"年号{name}有多个（{'、'.join(f'{e.dynasty}{e.first_year}' for e in eras)}），"
                                      "请加朝代或公元年",
                                      f"era {name} is used by several dynasties "
                                      f"({', '.join(f'{e.dynasty} {e.first_year}' for e in eras)}); add the dynasty "
                                      "or a bracketed year"))
        ev["era"], ev["era_dynasty"] = era.name, era.dynasty
        self.last_era = era
        ev["dynasty"] = ev["dynasty"] or _label_of(era.dynasty)
        self.context = self.context or _label_of(era.dynasty)
        ym = re.match(rf"(元|{N}+)(?:[至到-]({N}+))?年", f[pos:])
        gz = f[pos:pos + 2]
        if ym:
            n = 1 if ym.group(1) == "元" else cn_to_int(ym.group(1))
            pos += ym.end()
            n2 = cn_to_int(ym.group(2)) if ym.group(2) else None
            if self._check_year(era, n, ym.group(0)):
                ev["era_year"], ev["year"] = n, era.year(n)
                if n2 and n2 >= n and self._check_year(era, n2, ym.group(0)):
                    ev["year"], ev["year_range"] = None, [era.year(n), era.year(n2)]
        elif ganzhi_index(gz) is not None:
            gi = ganzhi_index(gz)
            pos += 2 + (1 if f[pos + 2:pos + 3] == "年" else 0)
            span = range(era.first_year, era.max_last_year + 1 + BEYOND_END_TOLERANCE)
            hits = [y for y in span if (y - 4) % 60 == gi]
            if hits:
                y = hits[0]
                ev["year"], ev["era_year"], ev["ganzhi"] = y, y - era.first_year + 1, gz
                if y > era.max_last_year:
                    self._beyond_end(era, y - era.first_year + 1, f"{era.name}{gz}")
            else:
                self.findings.append(("error", "era-year-out-of-range",
                                      f"{era.name}{gz}：{era.name}（{era.first_year}–{era.max_last_year}）没有{gz}年",
                                      f"{era.name}{gz}: no {gz} year in {era.name} ({era.first_year}–{era.max_last_year})"))
        else:
            rng = [era.first_year, era.last_year]
            nxt = self._range_end(pos)
            if nxt:
                e2 = eras_for(nxt[1], self.context) or nxt[1]
                cand = [e for e in e2 if e.first_year >= era.first_year] or e2
                pos += nxt[2] + len(nxt[0])
                ev["era_end"] = cand[0].name
                rng[1] = cand[0].last_year
                ym2 = re.match(rf"(元|{N}+)年", f[pos:])
                if ym2:
                    n = 1 if ym2.group(1) == "元" else cn_to_int(ym2.group(1))
                    pos += ym2.end()
                    if n and self._check_year(cand[0], n, ym2.group(0)):
                        rng[1] = cand[0].year(n)
            ev["year_range"] = rng
        # 嘉靖八至九年 handled above; 皇統九年至大定十三年: a range to another era's year
        if ev["year"] is not None and re.match(r"[至到]", f[pos:]):
            nxt = match_era_at(f, pos + 1)
            if nxt:
                e2 = [e for e in (eras_for(nxt[1], self.context) or nxt[1]) if e.first_year >= era.first_year] or nxt[1]
                ym2 = re.match(rf"(元|{N}+)年", f[pos + 1 + len(nxt[0]):])
                if ym2:
                    n = 1 if ym2.group(1) == "元" else cn_to_int(ym2.group(1))
                    if n and self._check_year(e2[0], n, ym2.group(0)):
                        ev["year_range"] = [ev["year"], e2[0].year(n)]
                        ev["year"] = None
                        ev["era_end"] = e2[0].name
                        pos += 1 + len(nxt[0]) + ym2.end()
        return pos

    def _layer_boundary(self, layer: dict, pos: int) -> bool:
        return bool(layer["events"]) and bool(_type_suffix(self.f[layer["start"]:pos].rstrip(" 　，,、")))

    def _dated_after(self, pos: int) -> bool:
        rest = self.f[pos:]
        return bool(re.match(rf"(元|{N}+)年|[{_GAN}][{_ZHI}]|[（(]\s*\d|[间中初末时]", rest))

    def _range_end(self, pos: int) -> tuple[str, list[Era], int] | None:
        """The era ending a range at pos: 至元至正間 / 嘉靖至萬曆 (name, eras, separator length)."""
        f = self.f
        if f[pos:pos + 1] in ("至", "到", "-"):
            hit = match_era_at(f, pos + 1)
            if hit:
                return hit[0], hit[1], 1
        hit = match_era_at(f, pos)
        if hit and f[pos + len(hit[0]):pos + len(hit[0]) + 1] in ("间", "中", "时"):
            return hit[0], hit[1], 0
        # 至元至正間: the 至 of 至正 is no separator
        return None

    def _check_year(self, era: Era, n: int | None, text: str) -> bool:
        if n is None or n < 1:
            self.findings.append(("error", "era-year-out-of-range", f"{era.name}{text}：年数无效",
                                  f"{era.name}{text}: not a valid year number"))
            return False
        if n > era.max_year:
            if n - era.max_year <= BEYOND_END_TOLERANCE:
                self._beyond_end(era, n, f"{era.name}{text}")
                return True
            self.findings.append(("error", "era-year-out-of-range",
                                  f"{era.name}{text}：{era.name}只有{era.max_year}年（{era.first_year}–{era.max_last_year}）",
                                  f"{era.name}{text}: {era.name} has years 1–{era.max_year} "
                                  f"({era.first_year}–{era.max_last_year})"))
            return False
        return True

    def _beyond_end(self, era: Era, n: int, text: str) -> None:
        y = era.year(n)
        self.findings.append(("warning", "era-year-beyond-end",
                              f"{text}（{y}）：{era.name}只有{era.max_year}年（{era.first_year}–{era.max_last_year}），"
                              f"{y}年已改元；改元后仍沿用旧年号的刻本确有其例，请核对",
                              f"{text} ({y}): {era.name} ended with its year {era.max_year} "
                              f"({era.max_last_year}); books dated by the old era after the change exist, please check"))

    def _check_bracket(self, ev: dict[str, Any]) -> None:
        b0, b1 = ev["bracket_year"]
        bt = ev["bracket_text"]
        if ev["year"] is not None:
            d = 0 if b0 <= ev["year"] <= b1 else min(abs(ev["year"] - b0), abs(ev["year"] - b1))
            if d == 1:
                self.findings.append(("warning", "year-bracket-off-by-one",
                                      f"{_date_text(ev)}是{ev['year']}年，括注{bt}差一年（年末月份跨入次年？）",
                                      f"{_date_text(ev)} is {ev['year']}, the bracket says {bt} (a last month "
                                      "falling in the next Western year?)"))
            elif d > 1:
                self.findings.append(("error", "year-mismatch", f"{_date_text(ev)}是{ev['year']}年，但括注为{bt}",
                                      f"{_date_text(ev)} is {ev['year']}, but the bracket says {bt}"))
        elif ev["year_range"]:
            lo, hi = ev["year_range"]
            if not (lo - 1 <= b0 and b1 <= hi + 1):
                what = ev["era"] or ev["dynasty"]
                self.findings.append(("error", "year-mismatch", f"括注{bt}不在{what}（{lo}–{hi}）之内",
                                      f"bracketed year {bt} lies outside {what} ({lo}–{hi})"))
            elif b0 == b1:
                ev["year"] = b0
            elif ev["era"] is None:  # a dynasty only, dated by its bracket: the bracket's span
                ev["year_range"] = [b0, b1]
        else:
            ev["year"] = b0 if b0 == b1 else None
            ev["year_range"] = None if b0 == b1 else [b0, b1]

    # -- the statement --------------------------------------------------------------------------
    def scan(self, start: int, end: int) -> None:
        f, o = self.f, self.o
        layer = {"events": [], "start": start}
        ev: dict[str, Any] | None = None
        seg_start = start  # start of the current event's text
        pos = start
        while pos < end:
            if f[pos] in " 　":
                pos += 1
                continue
            at_start = pos == start
            dyn = self._dynasty_here(pos)
            era = None if dyn else self._era_here(pos, None, at_start or self._layer_boundary(layer, pos))
            if era and not at_start and not self._dated_after(pos + len(era[0])) \
                    and not any(w in f[pos + len(era[0]):end] for w in _TYPE_FOLDED):
                era = None  # 崇寧萬壽大藏經本: an era name inside a collection's name
            cont = None
            if not dyn and not era and ev is not None and ev.get("era") and self.last_era and f[pos] in "、，,":
                cont = re.match(rf"[、，,]\s*(元|{N}+)年", f[pos:])  # 嘉靖二十五年（1546）、三十年（1551）
            bare = None
            if not dyn and not era and not cont and self.last_era and self._layer_boundary(layer, pos):
                bare = re.match(rf"(元|{N}+)年", f[pos:])  # 嘉靖…刻三十一年（1552）增修: the same era
            wy = at_start and re.match(r"\d{3,4}", f[pos:])
            if dyn or era or cont or bare or wy:
                text_before = f[layer["start"]:pos]
                if layer["events"] and _type_suffix(text_before.rstrip(" 　，,、")) and not cont:
                    self._close_layer(layer, pos, ev, seg_start)
                    layer = {"events": [], "start": pos}
                elif ev is not None:
                    self._close_event(ev, seg_start, pos)
                ev = _new_event()
                seg_start = pos
                layer["events"].append(ev)
                if cont or bare:
                    m = cont or bare
                    le = self.last_era
                    n = 1 if m.group(1) == "元" else cn_to_int(m.group(1))
                    ev.update({"dynasty": self.context or _label_of(le.dynasty), "era": le.name,
                               "era_dynasty": le.dynasty})
                    pos += m.end()
                    if self._check_year(le, n, m.group(0).lstrip("、，, ")):
                        ev["era_year"], ev["year"] = n, le.year(n)
                    b = BRACKET_YEAR.match(f, pos)
                    if b:
                        ev["bracket_year"] = [int(b.group(2)), int(b.group(3) or b.group(2))]
                        ev["bracket_text"] = b.group(0)
                        pos = b.end()
                        self._check_bracket(ev)
                    ev["agent_from"] = pos
                    continue
                pos = self._read_date(pos, ev, dyn)
                ev["agent_from"] = pos
                continue
            if ev is None:
                ev = _new_event()
                ev["agent_from"] = pos
                seg_start = pos
                layer["events"].append(ev)
            pos += 1
        self._close_layer(layer, end, ev, seg_start)

    def _close_event(self, ev: dict[str, Any], seg_start: int, end: int) -> None:
        ev["text"] = self.o[seg_start:end].strip(" 　")
        if ev["year"] is None and ev["era"] is None and ev["bracket_year"] is None:
            # 蒙古太宗九年至乃馬真后三年（1237-1244）: regnal years not in the tables, the bracket dates it
            b = BRACKET_YEAR.search(self.f, ev.get("agent_from", end), end)
            if b:
                sign = -1 if b.group(1) else 1
                ev["bracket_year"] = [sign * int(b.group(2)), sign * int(b.group(3) or b.group(2))]
                ev["bracket_text"] = b.group(0)
                self._check_bracket(ev)
                ev["agent_from"] = b.end()
        a = self.o[ev.get("agent_from", end):end].strip(" 　，,、至到")
        ev["agent"] = a or None

    def _close_layer(self, layer: dict, end: int, ev: dict | None, seg_start: int) -> None:
        if ev is not None:
            self._close_event(ev, seg_start, end)
        text_f = self.f[layer["start"]:end].rstrip(" 　，,、")
        text_o = self.o[layer["start"]:end].rstrip(" 　，,、")
        part_of = None
        ends_ben = text_f.endswith("本")
        core_f, core_o = (text_f[:-1], text_o[:-1]) if ends_ben else (text_f, text_o)
        k = _type_suffix(core_f)
        if k == 0 and ends_ben:  # 刻韓柳文本, 寫金粟山廣惠禪院大藏經本: type word, then the collection
            last = max(((core_f.rfind(w), w) for w in _TYPE_FOLDED if core_f.rfind(w) >= 0), default=(-1, ""))
            if last[0] >= 0 and (not layer["events"] or last[0] >= layer["events"][-1].get("agent_from", 0) - layer["start"]):
                i = last[0] + len(last[1])
                part_of = core_o[i:] or None
                core_f, core_o = core_f[:i], core_o[:i]
                k = _type_suffix(core_f)
        words = core_o[len(core_o) - k:] if k else ""
        ev_last = layer["events"][-1] if layer["events"] else None
        if ev_last is not None and ev_last["agent"] and k:
            agent = ev_last["agent"]
            tail = words + (part_of or "") + ("本" if ends_ben else "")
            if agent.endswith(tail):
                agent = agent[: -len(tail)].strip(" 　，,、")
            elif agent.endswith(words):
                agent = agent[: -len(words)].strip(" 　，,、")
            ev_last["agent"] = agent or None
        for e in layer["events"]:
            e.pop("agent_from", None)
            e.pop("bracket_text", None)
        self.layers.append({"text": text_o, "type": words or None, "part_of": part_of, "ends_with_ben": ends_ben,
                            "events": layer["events"]})


@lru_cache(maxsize=1)
def _dynasty_labels_folded() -> tuple[tuple[str, str], ...]:
    return tuple((fold(k), k) for k in DYNASTY_PREFIXES)


def _label_of(table_dynasty: str) -> str:
    """The catalogue label of a table dynasty (北宋 → 北宋, 後金 → 後金)."""
    return table_dynasty if table_dynasty in DYNASTY_PREFIXES else next(
        (k for k, v in DYNASTY_PREFIXES.items() if v == (table_dynasty,)), table_dynasty)


def _date_text(ev: dict) -> str:
    if ev.get("era"):
        y = ev.get("era_year")
        yt = ("元" if y == 1 else to_chinese(y) if y < 100 else str(y)) + "年" if y else ""
        return f"{ev['era']}{yt}{ev.get('ganzhi') or ''}"
    return ev.get("dynasty") or ""


def _role(type_words: str | None, index: int, text: str = "") -> str:
    if index == 0:
        return "base"
    t = fold(type_words or "")
    if any(t.endswith(r) or r in t for r in RECUT) or any(r in fold(text) for r in ("递修", "重修", "补修", "修补")):
        return "recut"
    if any(t.endswith(r) for r in REPRINT):
        return "reprint"
    return "recut" if t else "other"


def _event_span(ev: dict) -> tuple[int, int] | None:
    if ev.get("year") is not None:
        return ev["year"], ev["year"]
    if ev.get("year_range"):
        return ev["year_range"][0], ev["year_range"][1]
    return None


_SUPPLEMENT = re.compile(r"(配|補配|补配|抄配|鈔配|钞配|補抄|补抄|補刻|补刻|補寫|补写)")


def _split_notes(s: str) -> tuple[str, list[str]]:
    """Trailing bracketed notes that are not years: （卷一配清抄本）, （有抄配）."""
    notes: list[str] = []
    t = s.rstrip()
    while t.endswith(("）", ")")):
        depth, i = 0, len(t) - 1
        while i >= 0:
            if t[i] in "）)":
                depth += 1
            elif t[i] in "（(":
                depth -= 1
                if depth == 0:
                    break
            i -= 1
        if i < 0 or BRACKET_YEAR.fullmatch(t[i:]):
            break
        notes.insert(0, t[i + 1:-1])
        t = t[:i].rstrip()
    return t, notes


def _supplements(note: str) -> list[dict[str, Any]]:
    out = []
    for part in re.split(r"[，,；;]", note):
        part = part.strip()
        m = _SUPPLEMENT.search(part)
        if not m:
            continue
        scope = part[:m.start()].strip(" 、") or None
        if scope in ("有", "間有", "间有", "偶有", "多有", "均有"):  # 有抄配: no scope named
            scope = None
        rest = part[m.end():].strip()
        layer: dict[str, Any] = {"role": "supplement", "type": m.group(1), "scope": scope, "text": part,
                                 "part_of": None, "events": []}
        if rest:
            sub = _Scanner(rest)
            sub.scan(0, len(sub.f))
            if sub.layers:
                layer["events"] = sub.layers[0]["events"]
                layer["edition_type"] = (sub.layers[0]["type"] or "") + ("本" if sub.layers[0]["ends_with_ben"] else "")
        elif scope and not _has_date(scope):
            # 卷八楊紹廉抄配: the agent stands before the action
            mm = re.match(rf"(.*[卷葉叶頁页序跋錄录表{NUMERAL_CHARS}])([^卷葉叶頁页序跋錄录表記记、，,{NUMERAL_CHARS}]{{2,5}})$",
                          scope)
            if mm:
                layer["scope"] = mm.group(1)
                layer["events"] = [dict(_new_event(), agent=mm.group(2), text=mm.group(2))]
        out.append(layer)
    return out


def _has_date(s: str) -> bool:
    f = fold(s)
    return bool(match_dynasty(f, 0) or match_era_at(f, 0))


def parse_edition(s: str) -> tuple[dict | None, list[Finding]]:
    """Parse a 版本 statement; the top-level keys describe the base layer (compatible with before)."""
    if not s:
        return None, []
    inferred = bool(re.search(r"[\[［〔]", s))
    orig = re.sub(r"[\[\]［］〔〕]", "", s).strip()
    main, notes = _split_notes(orig)
    # a supplement written without brackets: 宋刻本配元刻本
    m = re.search(r"本(配|補配|补配)", main)
    if m:
        notes.insert(0, main[m.start() + 1:])
        main = main[:m.start() + 1]
    sc = _Scanner(main)
    sc.scan(0, len(sc.f))
    findings = sc.findings
    layers = []
    for i, L in enumerate(sc.layers):
        prev = fold(sc.layers[i - 1]["type"] or "") if i else ""
        role = "model" if i and any(prev.endswith(m) for m in MODEL) else _role(L["type"], i, L["text"])
        layers.append({"role": role, "type": L["type"], "scope": None, "text": L["text"],
                       "part_of": L["part_of"], "events": L["events"]})
    other_notes = []
    for n in notes:
        sup = _supplements(n)
        if sup:
            layers.extend(sup)
        else:
            other_notes.append(n)
    base = layers[0] if layers else {"events": [], "type": None}
    bev = base["events"][0] if base["events"] else _new_event()
    last_main = sc.layers[-1] if sc.layers else None
    res: dict[str, Any] = {
        "dynasty": bev["dynasty"], "era": bev["era"], "era_dynasty": bev["era_dynasty"], "era_year": bev["era_year"],
        "year": bev["year"], "year_range": bev["year_range"], "bracket_year": bev["bracket_year"],
        "qualifier": bev["qualifier"], "ganzhi": bev["ganzhi"],
        "publisher": bev["agent"], "edition_type": None, "category": None, "inferred": inferred,
        "part_of": base.get("part_of"), "note": "；".join(other_notes) or None, "layers": layers,
    }
    if res["dynasty"] is None and bev["era_dynasty"]:
        res["dynasty"] = _label_of(bev["era_dynasty"])
    # several dated events in the base layer (嘉靖二十五年、三十年): the edition spans them
    spans = [sp for sp in (_event_span(e) for e in base["events"]) if sp]
    if len(spans) > 1:
        res["year_range"] = [min(a for a, _ in spans), max(b for _, b in spans)]
    # edition type: the statement's closing type words (遞修本, 朱墨套印本); category from the base layer
    if last_main is not None and last_main["type"]:
        res["edition_type"] = last_main["type"] + ("本" if last_main["ends_with_ben"] else "")
    base_words = fold(base.get("type") or (last_main or {}).get("type") or "")
    if len(layers) > 1 and layers[1]["role"] == "model" and base.get("type"):
        res["model"] = layers[1]["text"]
        if fold(base["type"]) == "影":  # 清影宋抄本: a 清 facsimile copy (影抄本) of a 宋 edition
            res["edition_type"] = base["type"] + (layers[1]["type"] or "") + "本"
            base_words = fold(res["edition_type"])
        else:  # 明影抄宋…刻本: an 影抄本 of that edition
            res["edition_type"] = base["type"] + "本"
    if base_words:
        res["category"] = next((c for k, c in CATEGORIES if k in base_words), "其他")
    else:
        f = fold(main)
        for k, c in OTHER_TYPES:
            i = f.find(k)
            if i >= 0:
                res["edition_type"] = main[i:i + len(k)] if len(f) == len(main) else k
                res["category"] = c
                break
    if res["edition_type"] is None:
        findings.append(("warning", "edition-type-unknown", f"版本「{s}」：未识别版本类型（刻本、抄本、稿本……）",
                         f"版本 {s!r}: no edition type (刻本, 抄本, 稿本 …) recognised"))
    if res["dynasty"] is None and res["year"] is None and res["year_range"] is None:
        findings.append(("warning", "edition-undated", f"版本「{s}」：没有朝代、年号或年份",
                         f"版本 {s!r}: no dynasty, era or year recognised"))
    # layers in time order: a re-cut or later printing cannot predate the base edition
    bspan = _layer_span(base)
    for L in layers[1:]:
        if L["role"] in ("supplement", "model"):
            continue
        sp = _layer_span(L)
        if bspan and sp and sp[1] < bspan[0]:
            findings.append(("error", "edition-layer-order",
                             f"版本「{s}」：{L['text']}（{sp[0]}–{sp[1]}）早于底本（{bspan[0]}–{bspan[1]}）",
                             f"版本 {s!r}: layer {L['text']} ({sp[0]}–{sp[1]}) predates the base edition "
                             f"({bspan[0]}–{bspan[1]})"))
    return res, findings


def _layer_span(layer: dict) -> tuple[int, int] | None:
    spans = [sp for sp in (_event_span(e) for e in layer.get("events", [])) if sp]
    return (min(a for a, _ in spans), max(b for _, b in spans)) if spans else None
