"""The OCR page model (regions → lines → characters) and its renderings: JSON, ALTO 4, hOCR, text.

One model, several serialisations (as kraken does). Boxes are ``[x, y, w, h]`` integers; the
stage stores them in master pixel space. See docs/architecture.md for the JSON contract.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

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

    def lines(self, types: tuple[str, ...] = ("body", "note", "header")) -> list[Line]:
        return [ln for r in self.regions if r.type in types for ln in r.lines]

    @property
    def text(self) -> str:
        """Body text in reading order: one printed column (or line) per text line."""
        out: list[str] = []
        last: tuple[str, int] | None = None
        for r in self.regions:
            if r.type not in ("body", "note", "header"):
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


# -- renderers -------------------------------------------------------------------------------

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"


def _b(box: Box) -> str:
    x, y, w, h = box
    return f'HPOS="{x}" VPOS="{y}" WIDTH="{w}" HEIGHT="{h}"'


def to_alto(pm: PageModel, image_name: str) -> str:
    """ALTO 4.4 XML. One String per character (or per line when there are no character boxes)."""
    W, H = pm.master_size
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<alto xmlns="{ALTO_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           f'xsi:schemaLocation="{ALTO_NS} http://www.loc.gov/standards/alto/v4/alto-4-4.xsd">',
           "<Description><MeasurementUnit>pixel</MeasurementUnit>",
           f"<sourceImageInformation><fileName>{escape(image_name)}</fileName></sourceImageInformation>",
           "<OCRProcessing ID=\"ocr1\"><ocrProcessingStep><processingSoftware>"
           f"<softwareName>guji ocr ({escape(pm.engine)} {escape(pm.engine_version)})</softwareName>"
           "</processingSoftware></ocrProcessingStep></OCRProcessing></Description>"]
    out.append('<Layout>')
    out.append(f'<Page ID="page1" PHYSICAL_IMG_NR="1" WIDTH="{W}" HEIGHT="{H}">')
    out.append(f'<PrintSpace HPOS="0" VPOS="0" WIDTH="{W}" HEIGHT="{H}">')
    for r in pm.regions:
        out.append(f'<TextBlock ID="{r.id}" {_b(r.box)} TAGREFS="type-{r.type}">')
        for ln in r.lines:
            out.append(f'<TextLine ID="{ln.id}" {_b(ln.box)}>')
            pieces = ln.chars or ([Char(ln.text, ln.box, ln.confidence)] if ln.text else [])
            for k, c in enumerate(pieces):
                wc = f"{min(1.0, max(0.0, c.confidence)):.3f}"
                out.append(f'<String ID="{ln.id}s{k + 1}" {_b(c.box)} CONTENT={quoteattr(c.text)} WC="{wc}"/>')
            out.append("</TextLine>")
        out.append("</TextBlock>")
    out.append("</PrintSpace></Page></Layout>")
    types = sorted({r.type for r in pm.regions})
    if types:
        tags = "".join(f'<OtherTag ID="type-{t}" LABEL="{t}" TYPE="region-type"/>' for t in types)
        out.insert(out.index("<Layout>"), f"<Tags>{tags}</Tags>")
    out.append("</alto>")
    return "\n".join(out) + "\n"


def _bbox(box: Box) -> str:
    x, y, w, h = box
    return f"bbox {x} {y} {x + w} {y + h}"


def to_hocr(pm: PageModel, image_name: str) -> str:
    W, H = pm.master_size
    lang = "zh-Hant" if pm.language == "zh-Hant" else pm.language
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
           '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
           f'<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="{lang}" lang="{lang}">',
           "<head><title></title>",
           '<meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>',
           f'<meta name="ocr-system" content={quoteattr("guji " + pm.engine + " " + pm.engine_version)}/>',
           '<meta name="ocr-capabilities" content="ocr_page ocr_carea ocr_line ocrx_word ocrx_cinfo"/>',
           "</head><body>",
           f'<div class="ocr_page" id="page_1" title={quoteattr(f"image {image_name}; bbox 0 0 {W} {H}")}>']
    for r in pm.regions:
        out.append(f'<div class="ocr_carea" id="{r.id}" data-type="{r.type}" title="{_bbox(r.box)}">')
        for ln in r.lines:
            d = "ttb" if ln.direction == "ttb" else "ltr"
            out.append(f'<span class="ocr_line" id="{ln.id}" title="{_bbox(ln.box)}; x_wconf '
                       f'{round(100 * ln.confidence)}" data-direction="{d}">')
            pieces = ln.chars or ([Char(ln.text, ln.box, ln.confidence)] if ln.text else [])
            for k, c in enumerate(pieces):
                out.append(f'<span class="ocrx_word" id="{ln.id}w{k + 1}" title="{_bbox(c.box)}; x_wconf '
                           f'{round(100 * c.confidence)}">{escape(c.text)}</span>')
            out.append("</span>")
        out.append("</div>")
    out.append("</div></body></html>")
    return "\n".join(out) + "\n"


def to_text(pm: PageModel) -> str:
    t = pm.text
    return t + "\n" if t else ""
