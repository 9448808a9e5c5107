"""Read and check ``batch.toml``."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from guji import resources
from guji.errors import BadBatch

SCHEMA = "schemas/batch.schema.json"  # package data (guji.resources)


def _schema() -> dict[str, Any]:
    return resources.read_json(SCHEMA)


def read_batch_toml(batch_dir: Path) -> dict[str, Any]:
    """Parse and validate ``BATCH/batch.toml``; raise BadBatch naming the file and the key."""
    path = batch_dir / "batch.toml"
    if not path.is_file():
        raise BadBatch(f"{path}: missing. A batch folder needs batch.toml (see docs/batch-layout.md)")
    try:
        config = tomllib.loads(path.read_text("utf-8"))
    except UnicodeDecodeError as e:
        raise BadBatch(f"{path}: not UTF-8 ({e})") from e
    except tomllib.TOMLDecodeError as e:
        raise BadBatch(f"{path}: not valid TOML: {e}") from e
    import jsonschema

    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        msgs = []
        for e in errors:
            where = ".".join(str(p) for p in e.absolute_path) or "(top level)"
            msgs.append(f"{where}: {e.message}")
        raise BadBatch(f"{path}: " + "; ".join(msgs))
    from guji.settings import check_config

    unknown = check_config(config)
    if unknown:
        raise BadBatch(f"{path}: " + "; ".join(unknown))
    return config
