"""XML Schemas for tests (METS 1.12, MODS 3.8, ALTO 4.4, PAGE 2019), read from
``../shared/reference/xsd`` through its offline loader (an lxml resolver over its catalog: nothing
is fetched). Licences differ, so the schemas are not copied into the repo; without ``../shared``
the tests that need them skip and say why (``helpers.shared_path``)."""

from __future__ import annotations

import sys
from functools import lru_cache

from helpers import shared_path
from lxml import etree


@lru_cache(maxsize=None)
def _load(name: str) -> etree.XMLSchema:
    root = shared_path("reference", "xsd", "offline_schemas.py").parent
    sys.path.insert(0, str(root))
    try:
        from offline_schemas import load
    finally:
        sys.path.remove(str(root))
    return load(name)


def mets() -> etree.XMLSchema:
    return _load("mets-1.12")


def mods() -> etree.XMLSchema:
    return _load("mods-3.8")


def alto() -> etree.XMLSchema:
    return _load("alto-4.4")


def page() -> etree.XMLSchema:
    return _load("page-2019-07-15")
