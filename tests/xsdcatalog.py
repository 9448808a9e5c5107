"""Offline XML Schemas for tests: METS 1.12 and MODS 3.8 from tests/xsd/ (see its README)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

XSD = Path(__file__).resolve().parent / "xsd"
MAP = {
    "http://www.loc.gov/standards/xlink/xlink.xsd": XSD / "xlink" / "xlink.xsd",
    "https://www.loc.gov/standards/xlink/xlink.xsd": XSD / "xlink" / "xlink.xsd",
    "http://www.loc.gov/mods/xml.xsd": XSD / "xml" / "xml.xsd",
    "https://www.loc.gov/mods/xml.xsd": XSD / "xml" / "xml.xsd",
}


class _Local(etree.Resolver):
    def resolve(self, url, pubid, context):  # noqa: ARG002 - lxml's signature
        p = MAP.get(url)
        if p is None and url.startswith(("http://", "https://")):
            raise OSError(f"schema import {url} has no local copy in tests/xsd (no network in tests)")
        return self.resolve_filename(str(p), context) if p is not None else None


def _load(path: Path) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_Local())
    schema = etree.XMLSchema(etree.parse(str(path), parser))
    bad = [e.message for e in schema.error_log if "Skipping the import" in e.message]
    assert not bad, bad
    return schema


@lru_cache(maxsize=None)
def mets() -> etree.XMLSchema:
    return _load(XSD / "mets" / "mets-1.12.xsd")


@lru_cache(maxsize=None)
def mods() -> etree.XMLSchema:
    return _load(XSD / "mods" / "mods-3-8-lxml.xsd")


@lru_cache(maxsize=None)
def alto() -> etree.XMLSchema:
    """ALTO 4.4 (tests/xsd/alto: CC BY-SA 4.0 header, rights waived by the ALTO Editorial Board)."""
    return _load(XSD / "alto" / "alto-4-4.xsd")


@lru_cache(maxsize=None)
def page() -> etree.XMLSchema:
    """PAGE 2019-07-15 (tests/xsd/page: PRImA Research Lab, Apache-2.0)."""
    return _load(XSD / "page" / "pagecontent.xsd")
