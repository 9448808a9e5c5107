"""The pipeline's stages, in order. ``guji run`` runs them one after another.

Each entry names the stage function as ``module:function`` so nothing heavy is imported until a
stage runs. A stage module may also define ``status(ctx) -> dict`` for ``guji status``.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

STAGES: list[tuple[str, str, str]] = [
    # name, function, what it does (for --help and status)
    ("ingest", "guji.ingest.stage:run", "validate the batch, record masters with fixity"),
    ("clean", "guji.clean.stage:run", "deskew, crop, split spreads, derivatives, QC"),
    ("ocr", "guji.ocr.stage:run", "layout analysis and text recognition"),
    ("structure", "guji.structure.stage:run", "leaf order, juan ranges and page labels from the centre column"),
    ("metadata", "guji.metadata.stage:run", "parse and validate census records, crosswalks"),
    ("iiif", "guji.iiif.stage:run", "IIIF image tiles, manifests, annotations"),
    ("publish", "guji.publish.stage:run", "upload to storage, build the search index"),
]

STAGE_NAMES = [s[0] for s in STAGES]


def load(spec: str) -> Callable[..., Any]:
    mod, _, attr = spec.partition(":")
    return getattr(importlib.import_module(mod), attr)


def stage_module(name: str):
    for n, spec, _ in STAGES:
        if n == name:
            return importlib.import_module(spec.partition(":")[0])
    raise KeyError(name)
