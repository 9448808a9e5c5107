"""Stage settings: each stage declares its ``DEFAULTS`` once (in ``guji/<stage>/stage.py``); this
module checks a batch's ``batch.toml`` against them, so a typo such as ``[ocr] engin = …`` is an
error naming the key and the nearest valid one instead of being silently ignored.

Tables that are not stage settings (``[batch]``) are described by ``schemas/batch.schema.json``.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any, Mapping

# stages whose settings live in batch.toml, with the module declaring DEFAULTS; `package` is a
# separate command but reads its `[package]` table the same way
STAGE_MODULES: dict[str, str] = {
    "ingest": "guji.ingest.stage",
    "clean": "guji.clean.stage",
    "ocr": "guji.ocr.stage",
    "structure": "guji.structure.stage",
    "metadata": "guji.metadata.stage",
    "iiif": "guji.iiif.stage",
    "publish": "guji.publish.stage",
    "package": "guji.package.stage",
}
# sub-tables a stage reads besides its DEFAULTS (clean: [clean.qc] threshold overrides)
EXTRA_KEYS: dict[str, tuple[str, ...]] = {"clean": ("qc",)}
OTHER_TABLES = ("batch",)


def defaults(stage: str) -> dict[str, Any]:
    """The declared settings of ``stage`` (its module's ``DEFAULTS``)."""
    mod = importlib.import_module(STAGE_MODULES[stage])
    return dict(getattr(mod, "DEFAULTS", {}))


def valid_keys(stage: str) -> list[str]:
    """Keys a ``[stage]`` table may hold: its DEFAULTS, its sub-tables and the page-worker settings
    every page stage takes (``page_timeout``, ``page_tries``: guji.stage.WORKER_SETTINGS)."""
    from guji.stage import WORKER_SETTINGS

    return sorted(set(defaults(stage)) | set(EXTRA_KEYS.get(stage, ())) | set(WORKER_SETTINGS))


def _nearest(word: str, choices: list[str]) -> str:
    near = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f"; did you mean '{near[0]}'?" if near else f"; valid: {', '.join(choices)}"


def unknown_settings(config: Mapping[str, Any]) -> list[str]:
    """Messages for every table or key of ``config`` that no stage declares (empty when all known)."""
    msgs: list[str] = []
    tables = list(STAGE_MODULES) + list(OTHER_TABLES)
    for table, value in config.items():
        if table in OTHER_TABLES:
            continue
        if table not in STAGE_MODULES:
            msgs.append(f"[{table}]: unknown table{_nearest(table, tables)}")
            continue
        if not isinstance(value, Mapping):
            msgs.append(f"{table}: must be a table ([{table}])")
            continue
        keys = valid_keys(table)
        for key in value:
            if key not in keys:
                msgs.append(f"[{table}] {key}: unknown setting{_nearest(key, keys)}")
    return msgs
