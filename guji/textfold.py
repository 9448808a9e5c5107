"""Traditional/simplified and variant folding, shared by metadata, OCR evaluation, IIIF and search.

- :func:`convert` / :func:`t2s`: OpenCC conversions (one cached converter per kind), for keys
  and language maps; display always keeps the original characters.
- :data:`VARIANTS`: variant characters (异体字) OpenCC leaves alone, mapped to the form t2s gives
  their standard counterpart; :func:`fold_variants` applies it to a whole string.
- :func:`fold_key`: the matching key of catalogue text (sheet headers, era and dynasty names,
  edition statements): OpenCC t2s, phrase-aware; :func:`fold_key_aligned` keeps the positions
  (falls back to the original when t2s would change the length).
- :func:`fold_char` / :func:`fold`: per-character folding for the search index (below).

One function per meaning; the OCR evaluation's CER fold (``guji.ocr.evaluate.fold``: punctuation
dropped, then :func:`t2s` and :func:`fold_variants`) and the language model's character classes
(``guji.ocr.lm.fold_char``) are built from these.

Character folding for search: traditional → simplified (OpenCC t2s) plus the variant table.

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
    # seen in woodblock-printed Buddhist canons (OCR evaluation)
    "眾": "众", "呪": "咒", "皷": "鼓", "臥": "卧", "囙": "因", "觧": "解", "㝡": "最", "冣": "最",
    "夀": "寿", "壽": "寿", "鄕": "乡", "黃": "黄", "靑": "青", "淸": "清", "說": "说", "內": "内",
    "兌": "兑", "稅": "税", "輭": "软", "耑": "端", "𠕋": "册",
}
_VARIANT_TABLE = str.maketrans(VARIANTS)


@lru_cache(maxsize=None)
def _opencc(kind: str):
    import opencc  # opencc-python-reimplemented

    return opencc.OpenCC(kind)


def convert(kind: str, text: str) -> str:
    """OpenCC conversion of a whole string (``kind``: t2s, s2t, …): phrase-aware, length may change."""
    return _opencc(kind).convert(text) if text else text


def t2s(text: str) -> str:
    return convert("t2s", text)


def fold_key(text: str) -> str:
    """Traditional → simplified (OpenCC t2s, phrase-aware): the matching key of catalogue text, never shown."""
    return t2s(text)


def fold_key_aligned(text: str) -> str:
    """:func:`fold_key` when it keeps the length (position *i* stays position *i*), else ``text``."""
    f = fold_key(text)
    return f if len(f) == len(text) else text


def fold_variants(text: str) -> str:
    """Replace listed variant characters (after t2s) by their common simplified form."""
    return text.translate(_VARIANT_TABLE)


@lru_cache(maxsize=65536)
def fold_char(ch: str) -> str:
    """One character folded for search; always returns exactly one character."""
    c = unicodedata.normalize("NFKC", ch)
    if len(c) != 1:
        c = ch
    c = VARIANTS.get(c, c)
    if ord(c) > 0x2E7F:  # CJK and beyond: OpenCC
        s = _opencc("t2s").convert(c)
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
