"""OCR text as one external IIIF AnnotationPage per canvas (``motivation: supplementing``).

One annotation per OCR line of the body text (a column on vertical pages; ``guji.pagetext``: not
the centre column nor margin labels), in the page model's reading order.
The page model's boxes are in MASTER pixels; the canvas is the access derivative, so boxes are
mapped with the inverse of the access derivative's ``to_master`` and clipped to the canvas.
"""

from __future__ import annotations

from typing import Any

from guji.iiif import uris
from guji.model import Affine, box_to_master, invert_affine
from guji.pagetext import body_lines

LANGS = ("zh-Hant", "zh-Hans")


def master_box_to_canvas(to_master: Affine, box: list[float], width: int, height: int) -> tuple[int, int, int, int] | None:
    """``[x, y, w, h]`` in master px → integer box in canvas (access) px, clipped; None if empty."""
    x, y, w, h = box_to_master(invert_affine(tuple(to_master)), tuple(box))  # generic affine box map
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + w), min(height, y + h)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1 - x0, y1 - y0


def annotation_page(base: str, item_id: str, canvas_id: str, page: dict[str, Any], to_master: Affine,
                    width: int, height: int) -> tuple[dict[str, Any], int]:
    """The AnnotationPage document and the number of annotations in it."""
    canvas = uris.canvas_uri(base, item_id, canvas_id)
    page_lang = page.get("language") if page.get("language") in LANGS else None
    items = []
    for _region, line in body_lines(page):  # body text only: not the centre column, not margin labels
        text = (line.get("text") or "").strip()
        if not text or not line.get("box"):
            continue
        xywh = master_box_to_canvas(to_master, line["box"], width, height)
        if xywh is None:
            continue
        body: dict[str, Any] = {"type": "TextualBody", "value": text, "format": "text/plain"}
        lang = line.get("language") if line.get("language") in LANGS else page_lang
        if lang:
            body["language"] = lang
        items.append({
            "id": uris.annotation_uri(base, item_id, canvas_id, str(line.get("id") or f"l{len(items) + 1}")),
            "type": "Annotation", "motivation": "supplementing", "body": body,
            "target": f"{canvas}#xywh={xywh[0]},{xywh[1]},{xywh[2]},{xywh[3]}",
        })
    doc = {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": uris.uri(base, uris.annotation_page_path(item_id, canvas_id)),
        "type": "AnnotationPage",
        "items": items,
    }
    return doc, len(items)
