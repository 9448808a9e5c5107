"""Reign eras (年号) from guji's own table ``data/reign_eras.tsv``, Chinese numerals, era lookup.

Era names are matched by the longest name in the table that occurs at a position (after OpenCC
t2s folding, so 萬曆/万历 and 天啓/天啟 match alike), never by guessing two characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from guji.metadata.sheet import fold


@dataclass(frozen=True)
class Era:
    dynasty: str  # as in the table (traditional): 唐 北宋 南宋 金 元 明 南明 後金 清 民國
    name: str  # traditional
    first_year: int  # Western year of 元年
    years: int  # number of years in the standard tables (元年 .. the year before the next era's 元年)
    max_year: int = 0  # highest year number in use (≥ years: 洪武 was counted to 35; a stub year
    #                    before a renaming in the first month); 0 = same as years

    def __post_init__(self) -> None:
        if not self.max_year:
            object.__setattr__(self, "max_year", self.years)

    @property
    def last_year(self) -> int:
        return self.first_year + self.years - 1

    def year(self, n: int) -> int:
        return self.first_year + n - 1


# what a 版本 string's dynasty prefix may say -> dynasties of the table it covers
DYNASTY_PREFIXES: dict[str, tuple[str, ...]] = {
    "民國": ("民國",), "中華民國": ("民國",), "民国": ("民國",),
    "唐": ("唐",), "五代": (), "北宋": ("北宋",), "南宋": ("南宋",), "宋": ("北宋", "南宋"),
    "遼": (), "西夏": (), "金": ("金",), "蒙古": ("元",), "元": ("元",),
    "明": ("明", "南明"), "南明": ("南明",), "後金": ("後金",), "清": ("清", "後金"),
    "漢": (), "西漢": (), "東漢": (), "三國": (), "晉": (), "西晉": (), "東晉": (), "南北朝": (),
    "隋": (), "五代十國": (),
}
# rough span of dynasties that have no eras in the table (for date sanity and ranges)
DYNASTY_SPANS: dict[str, tuple[int, int]] = {
    "西漢": (-206, 8), "東漢": (25, 220), "漢": (-206, 220), "三國": (220, 280), "西晉": (266, 316),
    "東晉": (317, 420), "晉": (266, 420), "南北朝": (420, 589), "隋": (581, 618), "唐": (618, 907),
    "五代": (907, 960), "五代十國": (907, 979), "北宋": (960, 1127), "南宋": (1127, 1279), "宋": (960, 1279),
    "遼": (907, 1125), "西夏": (1038, 1227), "金": (1115, 1234), "蒙古": (1206, 1271), "元": (1271, 1368),
    "明": (1368, 1644), "南明": (1644, 1662), "後金": (1616, 1636), "清": (1644, 1911), "民國": (1912, 1949),
}


@lru_cache(maxsize=1)
def load_eras() -> tuple[Era, ...]:
    text = resources.files("guji.metadata").joinpath("data/reign_eras.tsv").read_text("utf-8")
    out = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("dynasty\t"):
            continue
        cols = line.split("\t")
        dyn, name, first, years = cols[:4]
        mx = int(cols[4]) if len(cols) > 4 and cols[4].strip() else 0
        out.append(Era(dyn, name, int(first), int(years), mx))
    return tuple(out)


@lru_cache(maxsize=1)
def _by_folded_name() -> dict[str, list[Era]]:
    idx: dict[str, list[Era]] = {}
    for e in load_eras():
        idx.setdefault(fold(e.name), []).append(e)
    return idx


@lru_cache(maxsize=1)
def _folded_dynasty_prefixes() -> list[tuple[str, str]]:
    """(folded prefix, canonical prefix) longest first."""
    return sorted(((fold(k), k) for k in DYNASTY_PREFIXES), key=lambda kv: -len(kv[0]))


def match_dynasty(folded_text: str, pos: int = 0) -> str | None:
    for f, canon in _folded_dynasty_prefixes():
        if folded_text.startswith(f, pos):
            return canon
    return None


def match_era_at(folded_text: str, pos: int) -> tuple[str, list[Era]] | None:
    """Longest era name in the table starting at ``pos`` of a folded string."""
    idx = _by_folded_name()
    for length in (4, 3, 2):
        cand = folded_text[pos:pos + length]
        if len(cand) == length and cand in idx:
            return cand, idx[cand]
    return None


# -- Chinese numerals ----------------------------------------------------------------------------

_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9, "壹": 1, "貳": 2, "贰": 2, "叁": 3, "參": 3, "肆": 4, "伍": 5,
           "陸": 6, "陆": 6, "柒": 7, "捌": 8, "玖": 9}
_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "萬": 10000, "万": 10000}
_SPECIAL = {"廿": 20, "卅": 30, "卌": 40}
NUMERAL_CHARS = "".join(_DIGITS) + "".join(_UNITS) + "".join(_SPECIAL) + "0123456789０１２３４５６７８９"
NUMERAL_RE = re.compile(f"[{NUMERAL_CHARS}]+")


def cn_to_int(s: str) -> int | None:
    """Chinese (or Arabic) numeral → int: 四十三, 廿一, 一百二十, 十, 三〇, 1612. None if not a numeral."""
    if not s:
        return None
    s = s.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if s.isdigit():
        return int(s)
    if all(c in _DIGITS for c in s):  # positional: 一九一二, 三〇
        return int("".join(str(_DIGITS[c]) for c in s))
    total, section, num = 0, 0, None
    for c in s:
        if c in _DIGITS:
            num = _DIGITS[c]
        elif c in _SPECIAL:
            section += _SPECIAL[c]
            num = None
        elif c in _UNITS:
            u = _UNITS[c]
            if u == 10000:
                section += num or 0
                total += (section or 1) * u
                section, num = 0, None
            else:
                section += (1 if num is None else num) * u
                num = None
        else:
            return None
    return total + section + (num or 0)
