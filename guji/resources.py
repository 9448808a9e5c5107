"""Package data (schemas, the character LM, templates, tables), read through ``importlib.resources``.

The one way guji finds a file it ships: never a path relative to the checkout, so an installed
wheel reads exactly what a source checkout reads. Names are relative to the ``guji`` package,
``"schemas/batch.schema.json"``, ``"ocr/data/charlm.npz"``. Every file read here must be listed in
``pyproject.toml`` ``[tool.setuptools.package-data]`` (``tests/test_wheel.py`` checks the wheel).
"""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

PACKAGE = "guji"


def resource(name: str) -> Traversable:
    """The packaged file ``name`` (relative to the package, ``/``-separated)."""
    node: Traversable = resources.files(PACKAGE)
    for part in name.split("/"):
        node = node.joinpath(part)
    return node


def exists(name: str) -> bool:
    return resource(name).is_file()


def read_bytes(name: str) -> bytes:
    return resource(name).read_bytes()


def read_text(name: str) -> str:
    return resource(name).read_text("utf-8")


def read_json(name: str) -> Any:
    return json.loads(read_text(name))


def path(name: str) -> Path:
    """A file-system path of a packaged file, for libraries that need one (numpy.load, libvips).

    guji is installed as files (a wheel unpacked into site-packages, or a checkout), so this is the
    file itself; a zipped install is refused with a clear error rather than read half-way.
    """
    node = resource(name)
    if isinstance(node, Path):
        return node
    raise RuntimeError(f"guji package data {name} is not on the file system ({node!r}); install guji unzipped")
