"""The OCR page model (regions → lines → characters) and its renderings: JSON, ALTO 4, hOCR, text.

One model, several serialisations (as kraken does). Boxes are ``[x, y, w, h]`` integers; the
stage stores them in master pixel space. See docs/architecture.md for the JSON contract.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from guji.pagetext import BODY_REGION_TYPES  # the one definition of a page's body text

Box = tuple[int, int, int, int]
MAX_ALTERNATIVES = 5  # candidates kept per character in the JSON


@dataclass
class Char:
    text: str
    box: Box
    confidence: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    low: bool = False  # low confidence: flagged for human correction


@dataclass
class Line:
    id: str
    box: Box
    direction: str  # ttb (vertical column) | ltr
    text: str
    confidence: float
    chars: list[Char] = field(default_factory=list)
    kind: str = "text"  # text | note (a double-row small-note sub-column)
    column: int = 0  # printed column (or line) number this segment belongs to, 1-based per page


@dataclass
class Region:
    id: str
    type: str  # body | centre-column | note | header | other
    box: Box
    lines: list[Line] = field(default_factory=list)


@dataclass
class PageModel:
    canvas: str
    page: str
    item: str
    engine: str
    engine_version: str
    layout: str
    language: str
    master_size: tuple[int, int]
    regions: list[Region] = field(default_factory=list)
    centre_column: dict[str, Any] = field(default_factory=dict)
    layout_facts: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    def lines(self, types: tuple[str, ...] = BODY_REGION_TYPES) -> list[Line]:
        return [ln for r in self.regions if r.type in types for ln in r.lines]

    @property
    def text(self) -> str:
        """Body text in reading order: one printed column (or line) per text line."""
        out: list[str] = []
        last: tuple[str, int] | None = None
        for r in self.regions:
            if r.type not in BODY_REGION_TYPES:
                continue
            for ln in r.lines:
                key = (r.id, ln.column)
                if out and key == last:
                    out[-1] += ln.text
                else:
                    out.append(ln.text)
                last = key
        return "\n".join(out)

    def mean_confidence(self) -> float | None:
        chars = [c for ln in self.lines() for c in ln.chars]
        if chars:
            return round(sum(c.confidence for c in chars) / len(chars), 4)
        lines = [ln for ln in self.lines() if ln.text]
        return round(sum(ln.confidence for ln in lines) / len(lines), 4) if lines else None

    def to_dict(self, *, alternatives: bool = True) -> dict[str, Any]:
        """The JSON contract (docs/architecture.md). ``alternatives``: each character keeps its
        ``"alternatives": [[char, p], …]`` (the recogniser's top-5, best first, probabilities
        rounded down to 4 decimals so that they sum to ≤ 1)."""
        d = asdict(self)
        for r in d["regions"]:
            for ln in r["lines"]:
                ln["confidence"] = round(ln["confidence"], 4)
                for c in ln["chars"]:
                    c["confidence"] = round(c["confidence"], 4)
                    if alternatives and c["alternatives"]:
                        alts = sorted(c["alternatives"], key=lambda a: -a[1])[:MAX_ALTERNATIVES]
                        c["alternatives"] = [[a, math.floor(max(0.0, p) * 1e4) / 1e4] for a, p in alts]
                    else:
                        c.pop("alternatives")
                    if not c["low"]:
                        c.pop("low")
        d["text"] = self.text
        d["mean_confidence"] = self.mean_confidence()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PageModel":
        """The page model back from its JSON contract (``to_dict``'s output); derived keys
        (``text``, ``mean_confidence``) are recomputed, not read."""
        def char(c: dict[str, Any]) -> Char:
            return Char(text=c["text"], box=tuple(c["box"]), confidence=float(c.get("confidence", 0.0)),
                        alternatives=[(a, float(p)) for a, p in c.get("alternatives") or []],
                        low=bool(c.get("low", False)))

        def line(ln: dict[str, Any]) -> Line:
            return Line(id=ln["id"], box=tuple(ln["box"]), direction=ln.get("direction", "ttb"), text=ln.get("text", ""),
                        confidence=float(ln.get("confidence", 0.0)), chars=[char(c) for c in ln.get("chars") or []],
                        kind=ln.get("kind", "text"), column=int(ln.get("column", 0)))

        return cls(canvas=d["canvas"], page=d["page"], item=d["item"], engine=d.get("engine", ""),
                   engine_version=d.get("engine_version", ""), layout=d.get("layout", ""),
                   language=d.get("language", ""), master_size=tuple(d["master_size"]),
                   regions=[Region(id=r["id"], type=r["type"], box=tuple(r["box"]),
                                   lines=[line(ln) for ln in r.get("lines") or []]) for r in d.get("regions") or []],
                   centre_column=dict(d.get("centre_column") or {}), layout_facts=dict(d.get("layout_facts") or {}),
                   flags=list(d.get("flags") or []))


# -- renderers (guji/ocr/render.py builds them with lxml) -------------------------------------

def to_alto(pm: PageModel, image_name: str, processing: list[dict[str, Any]] | None = None) -> str:
    """ALTO 4.4 with Glyph, Variant, ReadingOrder and Processing (see guji.ocr.render)."""
    from guji.ocr.render import to_alto as render

    return render(pm.to_dict(), image_name, processing)


def to_hocr(pm: PageModel, image_name: str, processing: list[dict[str, Any]] | None = None) -> str:
    from guji.ocr.render import to_hocr as render

    return render(pm.to_dict(), image_name, processing)


def to_page_xml(pm: PageModel, image_name: str, processing: list[dict[str, Any]] | None = None,
                created: str = "1970-01-01T00:00:00") -> str:
    """PAGE XML 2019-07-15 (OCR-D, Transkribus, eScriptorium read it)."""
    from guji.ocr.render import to_page

    return to_page(pm.to_dict(), image_name, processing, created)


def to_text(pm: PageModel) -> str:
    t = pm.text
    return t + "\n" if t else ""
