"""Reign eras (年号) from guji's table ``data/reign_eras.tsv`` (generated from DILA, CC BY-SA 3.0:
see data/README.md), dynasty labels as catalogues write them, Chinese numerals, era lookup.

Era names are matched by the longest name in the table that occurs at a position (after OpenCC
t2s folding, so 萬曆/万历 and 天啓/天啟 match alike), never by guessing two characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from guji import numerals
from guji.textfold import fold_key as fold


@dataclass(frozen=True)
class Era:
    dynasty: str  # as in the table (traditional, DILA's names): 唐 武周 北宋 遼 西夏 金 蒙古 元 明 南明 後金 清 民國 …
    name: str  # traditional
    first_year: int  # Western year of 元年 (astronomical before 1 CE)
    years: int  # nominal years in the standard tables
    max_year: int = 0  # highest year number in use (≥ years: 洪武 to 35; a stub year renamed early); 0 = years
    alt: tuple[str, ...] = ()  # other names (後至元, 大平 …)

    def __post_init__(self) -> None:
        if not self.max_year:
            object.__setattr__(self, "max_year", self.years)

    @property
    def last_year(self) -> int:
        return self.first_year + self.years - 1

    @property
    def max_last_year(self) -> int:
        return self.first_year + self.max_year - 1

    def year(self, n: int) -> int:
        return self.first_year + n - 1


# what a catalogue writes as a dynasty (版本 prefix, 著者 bracket) -> dynasties of the era table
_GROUPS = {
    "五代": ("後梁", "後唐", "後晉", "後漢", "後周"),
    "十國": ("南吳", "前蜀", "吳越", "南漢", "閩", "後蜀", "南唐", "北漢", "南平", "南楚"),
    "十六國": ("漢趙", "前趙", "成漢", "後趙", "前涼", "前燕", "前秦", "後秦", "後燕", "西秦", "後涼", "南涼", "南燕",
             "西涼", "北涼", "胡夏", "北燕", "西燕", "代", "冉魏", "翟魏"),
    "南朝": ("劉宋", "南齊", "南梁", "陳", "西梁"),
    "北朝": ("北魏", "東魏", "西魏", "北齊", "北周"),
}
DYNASTY_PREFIXES: dict[str, tuple[str, ...]] = {
    "漢": ("西漢", "新", "東漢"), "西漢": ("西漢",), "前漢": ("西漢",), "新": ("新",), "東漢": ("東漢",),
    "後漢": ("東漢", "後漢"), "三國": ("曹魏", "蜀漢", "孫吳"), "魏": ("曹魏", "北魏"), "曹魏": ("曹魏",),
    "三國魏": ("曹魏",), "蜀": ("蜀漢", "前蜀", "後蜀"), "蜀漢": ("蜀漢",), "三國蜀": ("蜀漢",), "吳": ("孫吳", "南吳"),
    "三國吳": ("孫吳",), "孫吳": ("孫吳",), "晉": ("西晉", "東晉"), "西晉": ("西晉",), "東晉": ("東晉",),
    "十六國": _GROUPS["十六國"], "前涼": ("前涼",), "前燕": ("前燕",), "前秦": ("前秦",), "後秦": ("後秦",),
    "後燕": ("後燕",), "西秦": ("西秦",), "後涼": ("後涼",), "南涼": ("南涼",), "南燕": ("南燕",), "西涼": ("西涼",),
    "北涼": ("北涼",), "北燕": ("北燕",), "西燕": ("西燕",), "前趙": ("漢趙", "前趙"), "漢趙": ("漢趙",),
    "後趙": ("後趙",), "成漢": ("成漢",), "大夏": ("胡夏",),
    "南北朝": _GROUPS["南朝"] + _GROUPS["北朝"], "南朝": _GROUPS["南朝"], "北朝": _GROUPS["北朝"],
    "南朝宋": ("劉宋",), "劉宋": ("劉宋",), "南朝齊": ("南齊",), "南齊": ("南齊",), "齊": ("南齊", "北齊"),
    "南朝梁": ("南梁",), "南梁": ("南梁",), "梁": ("南梁", "後梁"), "南朝陳": ("陳",), "陳": ("陳",),
    "北魏": ("北魏",), "後魏": ("北魏",), "元魏": ("北魏",), "東魏": ("東魏",), "西魏": ("西魏",), "北齊": ("北齊",),
    "北周": ("北周",), "隋": ("隋",), "唐": ("唐", "武周"), "武周": ("武周",), "周": ("武周", "北周", "後周"),
    "五代": _GROUPS["五代"], "十國": _GROUPS["十國"], "五代十國": _GROUPS["五代"] + _GROUPS["十國"],
    "後梁": ("後梁",), "後唐": ("後唐",), "後晉": ("後晉",), "後周": ("後周",), "吳越": ("吳越",), "南唐": ("南唐",),
    "前蜀": ("前蜀",), "後蜀": ("後蜀",), "南漢": ("南漢",), "北漢": ("北漢",), "閩": ("閩",), "南吳": ("南吳",),
    "宋": ("北宋", "南宋"), "趙宋": ("北宋", "南宋"), "北宋": ("北宋",), "南宋": ("南宋",),
    "遼": ("遼", "北遼", "西遼"), "契丹": ("遼",), "西遼": ("西遼",), "西夏": ("西夏",), "金": ("金",),
    "蒙古": ("蒙古", "元"), "大蒙古國": ("蒙古", "元"), "元": ("元", "蒙古"),
    "明": ("明", "南明"), "南明": ("南明",), "後金": ("後金",), "清": ("清", "後金"),
    "太平天國": ("太平天國",), "民國": ("民國",), "中華民國": ("民國",),
    # no eras in the table: dated by span only
    "先秦": (), "周代": (), "春秋": (), "戰國": (), "秦": (), "楚": (), "大理": (), "大理國": (),
    "高昌": (), "麴氏高昌": (), "吐蕃": (), "南詔": (), "回鶻": (), "渤海": (), "魏晉": (), "晉唐": (), "隋唐": (),
    "唐五代": (), "晚唐": ("唐",), "初唐": ("唐",), "盛唐": ("唐",),
    # foreign editions (日本刻本, 朝鮮銅活字本): a place of origin, not dated by the Chinese tables
    "日本": (), "朝鮮": (), "高麗": (), "越南": (), "安南": (), "琉球": (),
}
# spans (first, last Western year) a catalogue's dynasty label stands for; dynasties with eras get
# theirs from the era table (first 元年 .. last year in use) unless given here
_TYPED_SPANS: dict[str, tuple[int, int]] = {
    "先秦": (-2070, -221), "周代": (-1046, -256), "楚": (-1042, -223),
    "高昌": (442, 640), "麴氏高昌": (499, 640), "吐蕃": (618, 848), "南詔": (738, 902), "回鶻": (744, 1036),
    "渤海": (698, 926), "魏晉": (220, 420), "晉唐": (266, 907), "隋唐": (581, 907), "唐五代": (618, 979),
    "晚唐": (827, 907), "初唐": (618, 712),
    "盛唐": (713, 765), "春秋": (-770, -476), "戰國": (-475, -221), "秦": (-221, -207),
    "西漢": (-206, 8), "漢": (-206, 220), "前漢": (-206, 8), "東漢": (25, 220), "後漢": (25, 950),
    "隋": (581, 618), "唐": (618, 907), "北宋": (960, 1127), "南宋": (1127, 1279), "宋": (960, 1279),
    "趙宋": (960, 1279), "遼": (907, 1218), "契丹": (907, 1125), "金": (1115, 1234), "蒙古": (1206, 1368),
    "元": (1206, 1368), "大蒙古國": (1206, 1271), "明": (1368, 1662), "南明": (1644, 1662), "後金": (1616, 1636),
    "清": (1616, 1911), "大理": (937, 1253), "大理國": (937, 1253), "太平天國": (1851, 1864),
    "民國": (1912, 1949), "中華民國": (1912, 1949), "西夏": (1038, 1227),
}
# labels a catalogue writes for a foreign origin: no dynasty check
FOREIGN = ("日本", "朝鮮", "高麗", "越南", "安南", "琉球", "英", "美", "法", "德", "意", "義大利", "俄", "比", "葡", "西洋",
           "荷", "瑞", "丹", "奧", "印度", "天竺", "西域", "波斯", "古印度")


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
        alt = tuple(a for a in (cols[5].split(",") if len(cols) > 5 else []) if a)
        out.append(Era(dyn, name, int(first), int(years), mx, alt))
    return tuple(out)


@lru_cache(maxsize=1)
def dynasty_spans() -> dict[str, tuple[int, int]]:
    """Catalogue dynasty label (and table dynasty) -> (first, last) Western year."""
    table: dict[str, tuple[int, int]] = {}
    for e in load_eras():
        lo, hi = table.get(e.dynasty, (e.first_year, e.max_last_year))
        table[e.dynasty] = (min(lo, e.first_year), max(hi, e.max_last_year))
    out = dict(table)
    for label, dyns in DYNASTY_PREFIXES.items():
        spans = [table[d] for d in dyns if d in table]
        if spans:
            out[label] = (min(s[0] for s in spans), max(s[1] for s in spans))
    out.update(_TYPED_SPANS)
    return out


def dynasty_label(text: str) -> str | None:
    """The catalogue label for a dynasty as written ((南朝宋), 後魏, 大清 …), or None when unknown."""
    t = text.strip("（）()［］[]〔〕 ")
    t = {"大清": "清", "大明": "明", "大元": "元", "大金": "金", "清代": "清", "明代": "明", "元代": "元", "宋代": "宋",
         "唐代": "唐", "漢代": "漢", "國朝": "清", "民国": "民國"}.get(t, t)
    if t in DYNASTY_PREFIXES:
        return t
    f = fold(t)
    for k in DYNASTY_PREFIXES:
        if fold(k) == f:
            return k
    return None


@lru_cache(maxsize=1)
def _by_folded_name() -> dict[str, list[Era]]:
    idx: dict[str, list[Era]] = {}
    for e in load_eras():
        for n in (e.name, *e.alt):
            idx.setdefault(fold(n), []).append(e)
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


def dynasties_at(folded_text: str, pos: int = 0) -> list[str]:
    """Every dynasty label starting at pos, longest first (蜀漢 and 蜀; 晉唐 and 晉)."""
    return [canon for f, canon in _folded_dynasty_prefixes() if folded_text.startswith(f, pos)]


@lru_cache(maxsize=1)
def _name_lengths() -> tuple[int, ...]:
    return tuple(sorted({len(k) for k in _by_folded_name()}, reverse=True))


def match_era_at(folded_text: str, pos: int) -> tuple[str, list[Era]] | None:
    """Longest era name in the table starting at ``pos`` of a folded string (all homonyms)."""
    idx = _by_folded_name()
    for length in _name_lengths():
        cand = folded_text[pos:pos + length]
        if len(cand) == length and cand in idx:
            return cand, idx[cand]
    return None


# -- Chinese numerals: guji.numerals is the one parser --------------------------------------------

NUMERAL_CHARS = numerals.NUMERAL_CHARS + "0123456789０１２３４５６７８９"  # regex class: numerals as catalogues print them
NUMERAL_RE = re.compile(f"[{NUMERAL_CHARS}]+")
cn_to_int = numerals.parse  # 四十三, 廿一, 一百二十, 十, 三〇, 1612 → int; None if not a numeral
