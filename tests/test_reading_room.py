"""Pieces of the catalogue and reading room that need no browser: the message table, the catalogue
query rules, the reader's page text, the QC report's labels."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from guji.publish import catalogue as cat
from guji.publish import i18n


def _used_keys() -> set[str]:
    keys: set[str] = set()
    pkg = resources.files("guji.publish")
    for d, pat in (("templates", r"""(?:\bt\(\s*["']|data-i18n=["']|:)([a-z_]+\.[a-z_.-]+)"""),
                   ("assets", r"""GUJI\.t\(\s*["']([a-z_]+\.[a-z_.-]+)["']""")):
        for f in pkg.joinpath(d).iterdir():
            keys |= set(re.findall(pat, f.read_text("utf-8")))
    return {k for k in keys if not k.endswith(".")}


def test_every_message_used_exists_in_three_languages():
    used = _used_keys()
    assert len(used) > 40
    table = i18n.table()
    missing = sorted(k for k in used if k not in i18n.MESSAGES)
    assert not missing, missing
    for lang in i18n.LANGS:
        assert all(table[lang][k] for k in i18n.MESSAGES), lang
    assert table["zh-Hant"]["site.catalogue"] == "古籍目錄" and table["zh-Hans"]["site.catalogue"] == "古籍目录"
    assert table["zh-Hant"]["reader.image_failed"].count("為") and "爲" not in table["zh-Hant"]["reader.image_failed"]


@pytest.mark.parametrize("value, path", [
    ("經部/四書類/論語之屬", ["經部", "四書類", "論語之屬"]),
    ("經部 › 四書類", ["經部", "四書類"]),
    ("史", ["史部"]),
    ("", []),
])
def test_class_path(value, path):
    assert cat.class_path(value) == path


def _rec(item, path, dynasty, year, etype="刻本", profile="rare-book"):
    return {"item_id": item, "title": item, "class_path": path, "dynasty": dynasty, "edition_type": etype,
            "institution": "館", "profile": profile, "year_from": year, "year_to": year}


def test_catalogue_tree_filters_and_counts():
    c = cat.Catalogue([_rec("a", ["經部", "四書類", "論語之屬"], "清", 1775), _rec("b", ["經部", "小學類"], "明", 1600),
                       _rec("c", ["子部"], "清", 1876), _rec("d", [], "", None, "铅印本", "local-document")])
    r = c.query(cat.CatalogueQuery())
    tree = r["facets"]["classification"]
    assert [(n["label"], n["count"]) for n in tree] == [("經部", 2), ("子部", 1)]
    assert [(n["label"], n["count"]) for n in tree[0]["children"]] == [("四書類", 1), ("小學類", 1)]
    # a parent value matches its subtree; dynasty keeps its other choices while filtered by itself
    r = c.query(cat.CatalogueQuery(filters={"classification": ["經部"]}))
    assert {i["item_id"] for i in r["items"]} == {"a", "b"}
    r = c.query(cat.CatalogueQuery(filters={"classification": ["經部"], "dynasty": ["清"]}))
    assert [i["item_id"] for i in r["items"]] == ["a"]
    assert {v["value"]: v["count"] for v in r["facets"]["dynasty"]} == {"清": 1, "明": 1}
    r = c.query(cat.CatalogueQuery(year=(1700, 1900), sort="date"))
    assert [i["item_id"] for i in r["items"]] == ["a", "c"]
    r = c.query(cat.CatalogueQuery(sort="date", per_page=3, page=2))
    assert r["pages"] == 2 and [i["item_id"] for i in r["items"]] == ["d"]  # undated last
    with pytest.raises(ValueError):
        cat.CatalogueQuery.from_params({"f": ["grade:一级"]})


def test_reader_page_text_boxes_in_canvas_pixels_and_low_flags():
    doc = {"layout": "vertical-rtl", "regions": [
        {"type": "centre-column", "lines": [{"text": "論語", "box": [900, 0, 40, 100], "chars": []}]},
        {"type": "body", "lines": [{"id": "l1", "text": "子曰", "box": [100, 100, 40, 80], "chars": [
            {"text": "子", "box": [100, 100, 40, 40], "confidence": 0.9},
            {"text": "曰", "box": [100, 140, 40, 40], "confidence": 0.3}]}]}]}
    # access image at half the master size: canvas = master / 2
    pt = cat.page_text(doc, (2.0, 0.0, 0.0, 0.0, 2.0, 0.0), 500, 300)
    body = pt["lines"][1]
    assert pt["lines"][0]["type"] == "centre-column" and body["box"] == [50, 50, 20, 40]
    assert [(c["t"], c["b"], c["low"]) for c in body["chars"]] == [("子", [50, 50, 20, 20], False), ("曰", [50, 70, 20, 20], True)]


def test_qc_flag_labels():
    from guji.clean.qc import flag_label

    assert flag_label("blurred") == "模糊" and flag_label("ppi<600") == "分辨率不足（<600）"
    assert flag_label("near-duplicate:A/v1/2").startswith("疑似重复") and flag_label("unknown-x") == "unknown-x"
