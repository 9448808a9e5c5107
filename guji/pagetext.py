"""Which text of an OCR page model is the page's searchable body text: one definition for all.

The page model (docs/architecture.md, "OCR page model JSON") types each region:

- ``body``, ``note`` (double-row small notes 雙行小注) and ``header`` (a local document's printed
  header) are the **body text**: what full-text search finds, what snippets quote and what the
  reading room shows as the page's text;
- ``centre-column`` (版心: short title, juan, leaf number, printed on every leaf) is kept apart:
  searchable only as its own field (``centre:`` in queries), never a body hit or snippet;
- ``other`` (text outside the printed frame, e.g. a modern facsimile's margin labels) is not
  the book's text: neither searched nor quoted.

Use :func:`body_lines` (and :func:`centre_text`) rather than filtering region types yourself.
"""

from __future__ import annotations

from typing import Any, Iterator

BODY_REGION_TYPES: tuple[str, ...] = ("body", "note", "header")
CENTRE_REGION_TYPE = "centre-column"


def is_body_region(region: dict[str, Any]) -> bool:
    """True for regions whose lines are body text (a region without a type counts as body)."""
    return (region.get("type") or "body") in BODY_REGION_TYPES


def body_lines(doc: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """``(region, line)`` of every body-text line of a page model, in reading order."""
    for region in doc.get("regions") or []:
        if is_body_region(region):
            for line in region.get("lines") or []:
                yield region, line


def centre_text(doc: dict[str, Any]) -> str:
    """The centre column's (版心) text: its regions' lines, else the page model's ``centre_column``."""
    parts = [line.get("text") or "" for region in doc.get("regions") or []
             if region.get("type") == CENTRE_REGION_TYPE for line in region.get("lines") or []]
    text = "".join(parts)
    if not text:
        cc = doc.get("centre_column") or {}
        text = cc.get("text") or "".join(str(cc.get(k) or "") for k in ("title", "juan"))
    return text
