"""Text that XML 1.0 cannot carry: find it (for a finding) and drop it (before it reaches an output).

XML 1.0 ``Char`` excludes the C0 controls other than tab, LF and CR, the non-characters U+FFFE and
U+FFFF, and lone surrogates (U+D800–U+DFFF, which are not even valid UTF-8). One census field with
a BEL or a NUL (pasted from an old database, a scanner's OCR, a keyboard accident) must not stop
MODS/DC/IIIF output for the batch, and a lone surrogate must not stop a JSON file from being
written; so the sheet reader reports each such character (row, field, code point) and drops it,
and the XML builders pass every text through :func:`xml_text` as a last guard.
"""

from __future__ import annotations

import re
import unicodedata

_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

# names for the usual suspects (unicodedata has no names for controls)
_C0_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x0B: "VT", 0x0C: "FF", 0x1B: "ESC", 0x1A: "SUB",
             0x1F: "US", 0x1E: "RS", 0x1D: "GS", 0x1C: "FS"}


def invalid_chars(text: str) -> list[str]:
    """The characters of ``text`` that XML 1.0 cannot carry, in order of first appearance."""
    return list(dict.fromkeys(_INVALID_RE.findall(text)))


def code_point(ch: str) -> str:
    """``U+0007 (BEL)``: how a finding names a character."""
    n = ord(ch)
    name = _C0_NAMES.get(n) or ("lone surrogate" if 0xD800 <= n <= 0xDFFF else
                               "non-character" if n in (0xFFFE, 0xFFFF) else unicodedata.name(ch, "control"))
    return f"U+{n:04X} ({name})"


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (everything else kept as is)."""
    return _INVALID_RE.sub("", text) if text else text
