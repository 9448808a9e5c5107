"""Reading title, juan (卷) and leaf number (葉碼) from centre-column (版心) text, tolerantly.

The OCR stage gives the centre column's text pieces top to bottom (``["論語卷一", "十二"]``).
:func:`read_centre` turns them into :class:`Reading` candidates, best first, each with a cost (0 =
read exactly as printed; more for every OCR look-alike it had to undo or ambiguity it had to
resolve). The sequence analysis (:mod:`guji.structure.sequence`) chooses among them.

Forms understood: juan labels 卷三 / 卷之三 / 卷第三 / 卷苐三 / 卷上 卷中 卷下 / 卷三上 / 卷首 / 卷末 /
目錄 / 序 / 附錄; leaf numbers in any :mod:`guji.numerals` form with suffixes 上 中 下 (十二上) and
the added-leaf prefix 又 (又十二) or suffix 又一 (十二又一), optionally with 第 / 葉 / 頁 / 張 around.
OCR look-alikes undone: vertical strokes read as Latin digits (二 → ``11``, 三 → ``111``), ``+`` for
十, ``=`` for 二, ``巻`` ``券`` for 卷 and similar (:data:`LOOKALIKES`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product
from typing import Any

from guji import numerals

# OCR look-alikes → printed character, with a cost per substitution. Only characters that are not
# themselves plausible in a centre column's juan/leaf part are listed (a real 千 stays 千).
LOOKALIKES: dict[str, tuple[str, float]] = {
    "巻": ("卷", 0.05), "劵": ("卷", 0.3), "券": ("卷", 0.3), "眷": ("卷", 0.4), "捲": ("卷", 0.3), "𢎥": ("卷", 0.1),
    "苐": ("第", 0.0), "笫": ("第", 0.1),
    "+": ("十", 0.3), "＋": ("十", 0.3), "†": ("十", 0.4), "土": ("十", 0.6), "士": ("十", 0.6),
    "=": ("二", 0.3), "＝": ("二", 0.3), "ニ": ("二", 0.3),
    "-": ("一", 0.3), "—": ("一", 0.3), "－": ("一", 0.3), "ー": ("一", 0.3), "_": ("一", 0.5), "～": ("一", 0.6),
    "〇": ("〇", 0.0), "○": ("〇", 0.0), "O": ("〇", 0.4), "o": ("〇", 0.5), "口": ("〇", 0.7),
    "匕": ("七", 0.4), "入": ("八", 0.5), "人": ("八", 0.6), "ハ": ("八", 0.4), "丸": ("九", 0.6), "互": ("五", 0.5),
    "匹": ("四", 0.5), "囗": ("四", 0.7), "甘": ("廿", 0.5), "丗": ("卅", 0.1), "卞": ("下", 0.5), "丅": ("下", 0.4),
    "録": ("錄", 0.0), "录": ("錄", 0.0), "頁": ("葉", 0.0), "页": ("葉", 0.0), "叶": ("葉", 0.0), "張": ("葉", 0.0),
    "张": ("葉", 0.0),
}
# a run of vertical strokes read as Latin letters/digits: 二 → "11", 三 → "111" (the recogniser
# reads the column turned by 90°, so horizontal strokes become vertical bars)
STROKES = set("1lI|ｌＩ｜丨")
STROKE_COST = 0.15
DIGIT_COST = 0.3
SPLIT_COST = 0.25  # a numeral run that had to be split into juan + leaf (論語卷一一)
ALT_COST = 0.3  # the second reading of an abbreviated numeral (一百二 = 120)

JUAN_KINDS = ("preface", "toc", "front", "number", "end", "appendix")
PART_RANK = {"": 0, "上": 1, "中": 2, "下": 3}
SUFFIX_RANK = {"": 0, "上": 1, "中": 2, "下": 3, "又": 4}

_NUM = numerals.NUMERAL_CHARS + "0123456789"


@dataclass(frozen=True, order=True)
class JuanLabel:
    """A juan as the centre column names it. ``kind``: preface 序, toc 目錄, front 卷首, number (卷三,
    卷上 = number None + part 上), end 卷末, appendix 附錄."""

    kind: str
    number: int | None = None
    part: str = ""

    @property
    def rank(self) -> tuple[int, int, int]:
        return (JUAN_KINDS.index(self.kind), self.number or 0, PART_RANK.get(self.part, 0))

    def label(self, script: str = "zh-Hant") -> str:
        if self.kind == "preface":
            return "序"
        if self.kind == "toc":
            return "目錄" if script == "zh-Hant" else "目录"
        if self.kind == "front":
            return "卷首"
        if self.kind == "end":
            return "卷末"
        if self.kind == "appendix":
            return "附錄" if script == "zh-Hant" else "附录"
        return "卷" + (numerals.to_chinese(self.number) if self.number is not None else "") + self.part

    def english(self) -> str:
        names = {"preface": "preface", "toc": "contents", "front": "front juan", "end": "end juan",
                 "appendix": "appendix"}
        if self.kind in names:
            return names[self.kind]
        part = {"上": "upper", "中": "middle", "下": "lower"}.get(self.part, "")
        if self.number is None:
            return f"juan {part}".strip()
        return f"juan {self.number}" + (f" ({part})" if part else "")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "number": self.number, "part": self.part, "label": self.label()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "JuanLabel":
        return cls(d["kind"], d.get("number"), d.get("part") or "")


@dataclass(frozen=True, order=True)
class LeafNo:
    """A leaf number: ``number`` plus ``suffix`` 上/中/下 (十二上) or 又 (又十二: added after 12);
    ``extra`` numbers added leaves (十二又一 = suffix 又, extra 1)."""

    number: int
    suffix: str = ""
    extra: int = 0

    @property
    def rank(self) -> tuple[int, int, int]:
        return (self.number, SUFFIX_RANK.get(self.suffix, 0), self.extra)

    def label(self) -> str:
        n = numerals.to_chinese(self.number)
        if self.suffix == "又":
            return f"又{n}" if not self.extra else f"{n}又{numerals.to_chinese(self.extra)}"
        return n + self.suffix

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "suffix": self.suffix, "extra": self.extra, "label": self.label()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "LeafNo":
        return cls(int(d["number"]), d.get("suffix") or "", int(d.get("extra") or 0))


@dataclass(frozen=True)
class Reading:
    """One interpretation of a centre column: any part may be unknown (None)."""

    title: str | None
    juan: JuanLabel | None
    leaf: LeafNo | None
    cost: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "juan": self.juan.to_dict() if self.juan else None,
                "leaf": self.leaf.to_dict() if self.leaf else None, "cost": round(self.cost, 3)}


# -- normalisation -------------------------------------------------------------------------------

def _normalise(piece: str) -> list[tuple[str, float]]:
    """Variants of one text piece with look-alikes undone, cheapest first (at most a few)."""
    s = re.sub(r"[\s·・.,，。、:：;；()（）\[\]【】「」『』]", "", piece)
    if not s:
        return []
    # stroke runs standing alone (a piece or after 卷) → 一/二/三
    out: list[tuple[str, float]] = []
    base, cost = [], 0.0
    for c in s:
        if c in LOOKALIKES:
            r, k = LOOKALIKES[c]
            base.append(r)
            cost += k
        else:
            base.append(c)
    text = "".join(base)
    # Arabic digits are never printed in a 版心: they are OCR artefacts, cost accordingly
    variants = [(text, cost + (DIGIT_COST if re.search(r"[0-9]", text) else 0.0))]
    m = re.search(r"[1lI|ｌＩ｜丨]{1,3}", text)
    if m and not re.search(r"[02-9]", text):
        n = len(m.group(0))
        stroked = text[: m.start()] + "一二三"[n - 1] + text[m.end():]
        # a lone "1" is as likely a digit one as a stroke: both readings, stroke first for 2-3 bars
        variants.insert(0 if n > 1 else 1, (stroked, cost + STROKE_COST))
    return variants


# -- parsing -------------------------------------------------------------------------------------

_JUAN_WORDS = [("目錄", "toc"), ("目録", "toc"), ("總目", "toc"), ("卷首", "front"), ("首卷", "front"),
               ("卷末", "end"), ("附錄", "appendix"), ("序", "preface")]


# the largest juan and leaf numbers a centre column may carry (the largest works have 1 000 juan,
# e.g. 太平御覽; a juan of more than a few hundred leaves is unheard of): a longer digit string, such
# as a census number or a year the OCR read in the margin, is not a juan or leaf reading
MAX_JUAN = 1000
MAX_LEAF = 999


def _juan_at(s: str, words: bool = True) -> tuple[int, int, list[tuple[JuanLabel, float]]] | None:
    """Find the juan label in ``s``: (start, end, [(label, cost)…]) or None (``words``: also 目錄, 序 …)."""
    m = re.search(rf"卷(?:之|第)?([{_NUM}]+)?([上中下])?", s)
    if m and (m.group(1) or m.group(2)):
        num_s, part = m.group(1) or "", m.group(2) or ""
        if num_s:
            vals = [v for v in numerals.readings(num_s) if 0 < v <= MAX_JUAN]
            if not vals:
                return None
            opts = [(JuanLabel("number", v, part), ALT_COST * i) for i, v in enumerate(vals)]
            return m.start(), m.end(), opts
        return m.start(), m.end(), [(JuanLabel("number", None, part), 0.0)]
    if not words:
        return None
    for word, kind in _JUAN_WORDS:
        i = s.find(word)
        if i >= 0:
            return i, i + len(word), [(JuanLabel(kind), 0.0)]
    return None


def _leaf_readings(s: str) -> list[tuple[LeafNo, float]]:
    """Leaf number candidates from a piece that should hold only the number (and its marks)."""
    s = re.sub(r"^第|葉$|第$", "", s)
    s = s.replace("葉", "")
    if not s:
        return []
    m = re.fullmatch(rf"(又)?([{_NUM}]+)([上中下]|又([{_NUM}]+))?", s)
    if not m:
        return []
    vals = [v for v in numerals.readings(m.group(2)) if 0 < v <= MAX_LEAF]
    if not vals:
        return []
    out = []
    for i, v in enumerate(vals):
        if m.group(1):
            leaf = LeafNo(v, "又")
        elif m.group(4):
            extra = numerals.parse(m.group(4))
            if extra is None or not 0 < extra <= MAX_LEAF:
                continue
            leaf = LeafNo(v, "又", extra)
        else:
            leaf = LeafNo(v, m.group(3) or "")
        out.append((leaf, ALT_COST * i))
    return out


def _parse(pieces: list[str]) -> list[Reading]:
    """Readings of already-normalised pieces (top to bottom)."""
    pieces = [p for p in pieces if p]
    if not pieces:
        return []
    joined = "".join(pieces)
    out: list[Reading] = []
    found, idx = None, 0
    for words in (False, True):  # 卷N anywhere first, then 目錄 / 序 … words
        for idx, p in enumerate(pieces):
            found = _juan_at(p, words)
            if found:
                break
        if found:
            break
    if found:
        start, end, juans = found
        head = pieces[idx]
        title = (("".join(pieces[:idx]) + head[:start]) or None)
        rest_here = head[end:]
        later = pieces[idx + 1:]
        leaf_opts: list[tuple[LeafNo | None, float, JuanLabel | None]] = []
        if later:
            for lf, c in _leaf_readings(later[-1]):
                leaf_opts.append((lf, c, None))
            if rest_here and not leaf_opts:
                for lf, c in _leaf_readings(rest_here):
                    leaf_opts.append((lf, c + SPLIT_COST, None))
        elif rest_here:
            for lf, c in _leaf_readings(rest_here):
                leaf_opts.append((lf, c + SPLIT_COST, None))
        # one run of numerals after 卷 may be juan + leaf merged by OCR (卷一一 = 卷一 葉一)
        m = re.match(rf"卷(?:之|第)?([{_NUM}]{{2,}})$", head[start:end]) if not later and not rest_here else None
        if m:
            run = m.group(1)
            for k in range(1, len(run)):
                jv, lv = numerals.readings(run[:k]), _leaf_readings(run[k:])
                if jv and lv:
                    for lf, c in lv:
                        leaf_opts.append((lf, c + SPLIT_COST, JuanLabel("number", jv[0], "")))
        for (jl, jc) in juans:
            if not leaf_opts:
                out.append(Reading(title, jl, None, jc))
            for lf, lc, override in leaf_opts:
                if override is not None:
                    out.append(Reading(title, override, lf, lc + jc))
                else:
                    out.append(Reading(title, jl, lf, lc + jc))
        return out
    # no juan: a title and maybe a leaf number (千字文 一; 千字文一 merged)
    if len(pieces) > 1:
        leafs = _leaf_readings(pieces[-1])
        title = "".join(pieces[:-1]) if leafs else joined
        if leafs:
            return [Reading(title or None, None, lf, c) for lf, c in leafs]
        return [Reading(title, None, None, 0.0)]
    m = re.search(rf"([{_NUM}]+)$", joined)
    if m and m.start() > 0:
        leafs = _leaf_readings(m.group(1))
        if leafs:
            return [Reading(joined[: m.start()], None, lf, c + SPLIT_COST) for lf, c in leafs]
    leafs = _leaf_readings(joined)
    if leafs:
        return [Reading(None, None, lf, c) for lf, c in leafs]
    return [Reading(joined, None, None, 0.0)]


def read_centre(pieces: list[str] | str, max_readings: int = 8) -> list[Reading]:
    """Candidate readings of a centre column, cheapest first (see module doc). ``[]`` when empty."""
    if isinstance(pieces, str):
        pieces = pieces.split()
    variants = [_normalise(p) for p in pieces if p and p.strip()]
    variants = [v for v in variants if v]
    if not variants:
        return []
    seen: dict[tuple, Reading] = {}
    for combo in product(*variants):
        base = sum(c for _, c in combo)
        for r in _parse([t for t, _ in combo]):
            r = Reading(r.title, r.juan, r.leaf, r.cost + base)
            key = (r.juan, r.leaf)
            if key not in seen or seen[key].cost > r.cost:
                seen[key] = r
    return rank(list(seen.values()))[:max_readings]


UNREAD_PART = 0.4  # ranking: a reading that leaves juan or leaf unread is worth less than one that reads it


def rank(readings: list[Reading]) -> list[Reading]:
    """Readings best first: by cost, plus ``UNREAD_PART`` for a missing juan (when another reading
    has one) and for a missing leaf."""
    any_juan = any(r.juan is not None for r in readings)
    return sorted(readings, key=lambda r: (r.cost + UNREAD_PART * (r.leaf is None)
                                           + UNREAD_PART * (any_juan and r.juan is None),
                                           str(r.juan), str(r.leaf)))
