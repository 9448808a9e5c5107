"""Ids of any script: one normalisation (NFC) and one encoding (percent-encoding of the path).

The end-to-end half (a batch with such ids run, published, served and put on S3) is in
tests/test_hardening.py; here are the rules themselves and the places that apply them.
"""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from guji.iiif import uris
from guji.ingest.scan import scan_batch
from guji.metadata.sheet import SheetRow
from guji.publish.sync import references

BASE = "https://books.example.org/guji/"
# what may appear in a URI path unencoded (RFC 3986 pchar + "/"), plus "%" for the escapes
URI_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*")

segment = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), min_size=1, max_size=12)


@given(st.lists(segment, min_size=1, max_size=4))
def test_uri_and_path_of_are_inverse_for_any_text(parts):
    path = "/".join(parts)
    u = uris.uri(BASE, path)
    assert u.startswith(BASE) and URI_PATH.fullmatch(u[len(BASE):]), u
    assert uris.path_of(u, BASE) == unicodedata.normalize("NFC", path)


def test_one_normalisation_nfd_and_nfc_give_one_uri():
    nfc, nfd = "Café 文書 #1", unicodedata.normalize("NFD", "Café 文書 #1")
    assert nfc != nfd
    assert uris.manifest_uri(BASE, nfd) == uris.manifest_uri(BASE, nfc)
    assert uris.path_of(uris.manifest_uri(BASE, nfd), BASE) == uris.manifest_path(nfc)


def test_examples_of_the_encoding():
    assert uris.manifest_uri(BASE, "地文0001") == BASE + "iiif/%E5%9C%B0%E6%96%870001/manifest.json"
    assert uris.uri(BASE, "iiif/a b#1%?/x") == BASE + "iiif/a%20b%231%25%3F/x"
    # the Image API's own path characters stay readable
    assert uris.uri(BASE, "iiif/images/x/0,0,512,512/512,/0/default.jpg").endswith("/0,0,512,512/512,/0/default.jpg")
    assert uris.path_of("https://elsewhere.org/iiif/x", BASE) is None
    assert uris.path_of(BASE + "index.html#%E5%9C%B0", BASE) == "index.html"


def test_publish_reference_check_compares_keys_not_encoded_uris():
    item = "地文 #1%?"
    doc = {"id": uris.manifest_uri(BASE, item), "type": "Manifest", "items": [
        {"id": uris.canvas_uri(BASE, item, f"{item}/1/0001"), "type": "Canvas",
         "annotations": [{"id": uris.uri(BASE, uris.annotation_page_path(item, f"{item}/1/0001")),
                          "type": "AnnotationPage"}],
         "items": [{"id": BASE + "x", "type": "AnnotationPage", "items": [{
             "id": BASE + "y", "type": "Annotation", "body": {
                 "id": uris.uri(BASE, uris.image_size_path(f"{item}/1/0001", "max")), "type": "Image",
                 "service": [{"id": uris.image_service_uri(BASE, f"{item}/1/0001"), "type": "ImageService3"}]}}]}]}]}
    refs = references(doc, BASE)
    assert refs == {uris.manifest_path(item), uris.annotation_page_path(item, f"{item}/1/0001"),
                    uris.image_size_path(f"{item}/1/0001", "max"),
                    uris.image_service_path(f"{item}/1/0001") + "/info.json"}
    assert all(r.startswith(("iiif/地文 #1%?/", "iiif/images/地文 #1%?_")) for r in refs)  # plain keys


def _rows(*ids: str) -> list[SheetRow]:
    return [SheetRow(row=i + 2, fields={"本地编号": x, "题名卷数": "題"}, original={}) for i, x in enumerate(ids)]


def test_nfd_folders_give_nfc_ids_and_twins_are_blocked_apart(tmp_path):
    nfc = "Café #1"
    nfd = unicodedata.normalize("NFD", nfc)
    (tmp_path / nfd / unicodedata.normalize("NFD", "册é")).mkdir(parents=True)
    (tmp_path / nfd / unicodedata.normalize("NFD", "册é") / "0001.jpg").write_bytes(b"x")
    b = scan_batch(tmp_path, {"batch": {"id": "b"}}, _rows(nfc), "records.csv")
    (item,) = b.items
    assert item.id == nfc and item.folder == nfd  # the id is NFC, the folder the name on disk
    assert item.volumes[0].id == f"{nfc}/册é" and item.volumes[0].label == "册é"
    page = item.volumes[0].pages[0]
    assert page.id == f"{nfc}/册é/0001" and page.master == f"{nfd}/{unicodedata.normalize('NFD', '册é')}/0001.jpg"
    assert not [p for p in item.problems if p.severity == "error"]

    # an NFC twin beside it: both are errors, with ids kept apart
    (tmp_path / nfc).mkdir()
    (tmp_path / nfc / "0001.jpg").write_bytes(b"y")
    b = scan_batch(tmp_path, {"batch": {"id": "b"}}, _rows(nfc), "records.csv")
    assert len({i.id for i in b.items}) == 2
    for it in b.items:
        assert "unicode-normalisation-twins" in {p.code for p in it.problems}
