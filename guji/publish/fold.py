"""Character folding for search: traditional → simplified (OpenCC t2s) plus a small variant table.

Folding is done **one character at a time** so that position *i* of the folded text is position *i*
of the original: that is how a hit on folded text is mapped back to the original characters and
their boxes. Index and query go through the same :func:`fold_char`, so 萬曆, 万历 and 万曆 all fold
to 万历. Latin letters are lower-cased, full-width forms are NFKC-normalised.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Variant characters (异体字) OpenCC t2s leaves alone; each maps to the form t2s produces for
# its standard counterpart. Kept small and conservative: only pairs that are the same word.
VARIANTS: dict[str, str] = {
    "於": "于", "峯": "峰", "羣": "群", "畧": "略", "畱": "留", "敎": "教", "衆": "众", "竝": "并",
    "並": "并", "爲": "为", "眞": "真", "匃": "丐", "銕": "铁", "鉄": "铁", "攷": "考", "秊": "年",
    "𠀤": "并", "叚": "假", "疎": "疏", "踈": "疏", "啓": "启", "啟": "启", "沈": "沈", "玅": "妙",
    "覩": "睹", "綫": "线", "菴": "庵", "韻": "韵", "槩": "概", "槪": "概", "蹟": "迹", "跡": "迹",
    "迹": "迹", "亙": "亘", "冐": "冒", "皐": "皋", "臯": "皋", "册": "册", "冊": "册", "况": "况",
    "況": "况", "凴": "凭", "憑": "凭", "卻": "却", "却": "却", "吿": "告", "麽": "么", "甯": "宁",
    "寧": "宁", "寗": "宁", "嵗": "岁", "歲": "岁", "乆": "久", "亾": "亡", "兎": "兔", "兔": "兔",
    "氷": "冰", "凡": "凡", "凢": "凡", "囘": "回", "囬": "回", "廻": "回", "鬰": "郁", "欵": "款",
    "牀": "床", "珎": "珍", "卽": "即", "旣": "既", "槀": "稿", "藁": "稿", "稾": "稿", "䝉": "蒙",
}


@lru_cache(maxsize=1)
def _converter():
    import opencc  # opencc-python-reimplemented

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def fold_char(ch: str) -> str:
    """One character folded for search; always returns exactly one character."""
    c = unicodedata.normalize("NFKC", ch)
    if len(c) != 1:
        c = ch
    c = VARIANTS.get(c, c)
    if ord(c) > 0x2E7F:  # CJK and beyond: OpenCC
        s = _converter().convert(c)
        if len(s) == 1:
            c = s
        c = VARIANTS.get(c, c)
    return c.lower()


def fold(text: str) -> str:
    """Fold every character (same length as ``text``)."""
    return "".join(fold_char(c) for c in text)


def is_indexed(ch: str) -> bool:
    """Characters that take part in search: letters and digits of any script (no punctuation/space)."""
    return ch.isalnum()


def compact(text: str) -> str:
    """Folded text with only the indexed characters: what queries are matched against."""
    return "".join(f for f in (fold_char(c) for c in text) if is_indexed(f))


def spaced(folded_compact: str) -> str:
    """One token per character for the FTS5 ``unicode61`` tokenizer (any-length substring search)."""
    return " ".join(folded_compact)
