"""The structure stage's contract: ``WORK/structure/<item>.json`` (one per item).

Read it only through :func:`load_item_structure` / :func:`structure_json_path`; the iiif stage
takes juan ranges and page labels from it, reports read its findings.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from guji.errors import Problem

STRUCTURE_DIR = Path("structure")
SCHEMA = "guji-structure/1"


def structure_json_path(work: str | Path, item_id: str) -> Path:
    return Path(work) / STRUCTURE_DIR / f"{item_id}.json"


@dataclass
class CanvasStructure:
    """One canvas: what its centre column said and what the sequence analysis made of it.

    ``status``: ``ok`` (in sequence), ``misordered``, ``duplicate``, ``not-a-leaf`` (no leaf
    label: cover, blank, unreadable without context). ``juan``/``leaf`` are the decoded label
    (:meth:`guji.structure.centre.JuanLabel.to_dict` / ``LeafNo.to_dict``), ``read`` whether it
    agrees with the best OCR reading (False = filled in or corrected from the sequence)."""

    canvas: str
    page: str
    volume: str
    file: str
    text: str = ""  # centre-column text as OCR read it
    juan: dict[str, Any] | None = None
    leaf: dict[str, Any] | None = None
    read: bool = False
    status: str = "ok"
    label: dict[str, list[str]] | None = None  # page label language map (zh-Hant, zh-Hans, en)


@dataclass
class JuanRange:
    """A juan (卷) as found: its canvases in capture order (may cross volumes)."""

    juan: dict[str, Any]
    label: dict[str, list[str]]
    canvases: list[str]
    start: str  # first canvas in sequence
    end: str
    volumes: list[str]
    leaves: list[int]  # leaf numbers seen
    missing: list[int] = field(default_factory=list)


@dataclass
class ItemStructure:
    item: str
    canvases: list[CanvasStructure] = field(default_factory=list)
    juans: list[JuanRange] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    census: dict[str, Any] = field(default_factory=dict)  # what the census record says, parsed
    source: str = "centre-column"  # or "structure.csv" when the batch gives juan starts
    schema: str = SCHEMA

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["problems"] = [p.to_dict() for p in self.problems]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ItemStructure":
        d = dict(d)
        return cls(item=d["item"], canvases=[CanvasStructure(**c) for c in d.get("canvases", [])],
                   juans=[JuanRange(**j) for j in d.get("juans", [])],
                   problems=[Problem.from_dict(p) for p in d.get("problems", [])],
                   census=d.get("census") or {}, source=d.get("source", "centre-column"),
                   schema=d.get("schema", SCHEMA))

    def labels(self) -> dict[str, dict[str, list[str]]]:
        return {c.canvas: c.label for c in self.canvases if c.label}


def load_item_structure(work: str | Path, item_id: str) -> ItemStructure | None:
    """The item's structure, or None when the structure stage has not written it."""
    p = structure_json_path(work, item_id)
    if not p.is_file():
        return None
    return ItemStructure.from_dict(json.loads(p.read_text("utf-8")))
