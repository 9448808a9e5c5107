"""Chinese numerals as printed in old books: one parser for the project.

Handles the forms seen in centre columns (版心), census records and titles:

- plain digits 〇一二…九 and positional strings (一〇五 = 105, 二一 = 21);
- unit forms 十, 二十, 十二, 一百, 一百十二, 三千;
- the contracted tens 廿 (20), 卅 (30), 卌 (40): 廿三 = 23;
- abbreviated hundreds: 一百二 / 百二 is read 102 first (the printers' habit in leaf numbers, which
  skip 〇), 120 as the second reading (colloquial; :func:`readings` gives both, best first);
- financial forms 壹貳參…拾佰仟, 兩/两 for 2, 零/○ for 0, ASCII and full-width digits.

Nothing here knows about juan or leaves; :mod:`guji.structure.centre` builds on it.
"""

from __future__ import annotations

DIGITS: dict[str, int] = {
    "〇": 0, "○": 0, "Ｏ": 0, "零": 0, "洞": 0,
    "一": 1, "壹": 1, "弌": 1, "乙": 1,
    "二": 2, "貳": 2, "贰": 2, "弍": 2, "兩": 2, "两": 2,
    "三": 3, "參": 3, "叁": 3, "叄": 3, "弎": 3,
    "四": 4, "肆": 4,
    "五": 5, "伍": 5,
    "六": 6, "陸": 6, "陆": 6,
    "七": 7, "柒": 7,
    "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}
# 乙 and 洞 are used as 1 / 0 only in some contexts; keep them out of plain parsing
_CONTEXT_ONLY = {"乙", "洞"}
UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "萬": 10000, "万": 10000}
TENS: dict[str, int] = {"廿": 20, "卄": 20, "卅": 30, "卌": 40}
NUMERAL_CHARS = "".join(c for c in (*DIGITS, *UNITS, *TENS) if c not in _CONTEXT_ONLY)

_FULLWIDTH = {ord(c): ord("0") + i for i, c in enumerate("０１２３４５６７８９")}
_CN = "〇一二三四五六七八九"


def is_numeral(s: str) -> bool:
    """True when every character of ``s`` is a numeral character (or a digit)."""
    s = s.translate(_FULLWIDTH)
    return bool(s) and all(c.isdigit() or (c in NUMERAL_CHARS) for c in s)


def readings(s: str) -> list[int]:
    """Every plausible value of ``s``, most likely first; [] when it is not a numeral."""
    s = (s or "").strip().translate(_FULLWIDTH)
    if not s:
        return []
    if s.isascii() and s.isdigit():
        return [int(s)]
    if any(c in _CONTEXT_ONLY for c in s):
        return []
    if all(c in DIGITS for c in s):
        # positional: 一〇五 = 105, 二一 = 21
        return [int("".join(str(DIGITS[c]) for c in s))]
    out = _units(s)
    if out is None:
        return []
    first, alt = out
    return [first] if alt is None or alt == first else [first, alt]


def parse(s: str) -> int | None:
    """The most likely value of ``s`` (see :func:`readings`), or None."""
    r = readings(s)
    return r[0] if r else None


def _units(s: str) -> tuple[int, int | None] | None:
    """Unit-form numerals. Returns (value, alternative value for an abbreviated tail)."""
    total = 0  # completed sections above 萬
    section = 0  # below 萬
    cur: int | None = None  # pending digit
    last_unit: int | None = None
    i = 0
    for c in s:
        i += 1
        if c in DIGITS:
            if cur is not None:
                # two digits in a row inside a unit form (一百〇五): positional tail
                cur = cur * 10 + DIGITS[c]
            else:
                cur = DIGITS[c]
        elif c in TENS:
            if cur is not None:
                return None
            section += TENS[c]
            last_unit = 10
        elif c in UNITS:
            u = UNITS[c]
            if u == 10000:
                section += cur or 0
                total += (section or 1) * u
                section, cur, last_unit = 0, None, u
                continue
            if last_unit is not None and u >= last_unit and last_unit != 10000:
                return None  # 十百, 百百: not a number
            section += (1 if cur is None else cur) * u
            cur = None
            last_unit = u
        else:
            return None
    if cur is None:
        return total + section, None
    if last_unit is None:
        return total + section + cur, None
    if cur < 10 and last_unit >= 100 and "〇" not in s and "零" not in s and not s.endswith("十"):
        # 一百二: printers write 102 this way (no 〇); the colloquial reading is 120
        return total + section + cur, total + section + cur * (last_unit // 10)
    return total + section + cur, None


def to_chinese(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 105 → 一百〇五, 0 → 〇 (the plain printed form)."""
    if n < 0:
        raise ValueError("negative numbers are not written in leaf or juan labels")
    if n < 10:
        return _CN[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return (_CN[tens] if tens > 1 else "") + "十" + (_CN[ones] if ones else "")
    if n < 10000:
        out = ""
        zero = False
        for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d, n = divmod(n, unit)
            if d:
                if zero:
                    out += "〇"
                    zero = False
                out += _CN[d] + name
            elif out:
                zero = True
        return out
    return "".join(_CN[int(c)] for c in str(n))
