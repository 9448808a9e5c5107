"""ALTO 4.4, PAGE 2019 and hOCR renderings of the page model: valid against the vendored XSDs
(../shared/reference/xsd; skipped with the reason without it) and parsed back to the same regions, lines, glyphs, boxes,
confidences, alternatives, reading order and processing steps."""

from __future__ import annotations

import copy
import json

import pytest
import xsdcatalog
from lxml import etree

from guji.ocr import render
from guji.ocr.page import Char, Line, PageModel, Region, to_alto, to_hocr, to_page_xml

PROCESSING = [{"step": "ocr", "software": "guji", "version": "0.1.0", "engine": "rapidocr",
               "engine_version": "3.10.0", "settings": {"mode": "layout", "lm_weight": 0.1, "upscale": "auto"}}]


def _col(i: int, x: int, text: str, kind: str = "text", alts: bool = True) -> Line:
    chars = []
    for k, ch in enumerate(text):
        a = [(ch, 0.81), ("曰" if ch != "曰" else "日", 0.12), ("&", 0.03)] if alts else []
        chars.append(Char(ch, (x, 100 + 40 * k, 30, 36), 0.81 if k % 3 else 0.42, a, low=not k % 3))
    return Line(f"r1l{i}", (x, 100, 30, 40 * len(text)), "ttb", text, 0.77, chars, kind, i)


@pytest.fixture
def model() -> PageModel:
    body = Region("r1", "body", (100, 90, 400, 700), [
        _col(1, 460, "子曰學而時習之"), _col(2, 420, "不亦說乎<有朋>"),
        _col(3, 385, "注文小字", kind="note"), _col(4, 365, "又一行", kind="note", alts=False),
        Line("r1l5", (300, 100, 30, 200), "ttb", "無字框", 0.5, [], "text", 5)])
    centre = Region("r2", "centre-column", (600, 90, 40, 700), [_col(6, 605, "論語卷一")])
    return PageModel(canvas="ITEM/v1/0001-r", page="ITEM/v1/0001", item="ITEM", engine="rapidocr",
                     engine_version="3.10.0", layout="vertical-rtl", language="zh-Hant", master_size=(1200, 900),
                     regions=[body, centre], centre_column={"text": "論語卷一", "juan": "卷一", "leaf": 1},
                     layout_facts={"columns_per_half_leaf": 8}, flags=[])


def _comparable(regions, *, alt_filter: bool = True, conf_digits: int = 4):
    out = []
    for r in regions:
        lines = []
        for ln in r["lines"]:
            chars = ln.get("chars") or ([{"text": ln["text"], "box": ln["box"], "confidence": ln["confidence"]}]
                                        if ln.get("text") else [])
            lines.append({
                "id": ln["id"], "box": list(ln["box"]), "text": "".join(c["text"] for c in chars),
                "chars": [(c["text"], list(c["box"]), round(float(c["confidence"]), conf_digits),
                           [(a, round(float(p), conf_digits)) for a, p in c.get("alternatives", []) if a != c["text"]]
                           if alt_filter else None) for c in chars]})
        out.append({"id": r["id"], "type": r["type"], "box": list(r["box"]), "lines": lines})
    return out


def test_page_model_json_round_trip(model):
    d = model.to_dict()
    again = PageModel.from_dict(json.loads(json.dumps(d, ensure_ascii=False)))
    assert again.to_dict() == d
    assert again.text == model.text


def test_alto_validates_and_round_trips(model):
    xml = to_alto(model, "0001.jpg", PROCESSING)
    doc = etree.fromstring(xml.encode())
    schema = xsdcatalog.alto()
    assert schema.validate(doc), schema.error_log
    ns = {"a": render.ALTO_NS}
    assert len(doc.findall(".//a:Glyph", ns)) == sum(len(ln.chars) for ln in model.lines(("body", "centre-column")))
    assert doc.findall(".//a:Variant", ns), "the recogniser's alternatives are Variants"
    back = render.from_alto(xml)
    assert _comparable(back["regions"]) == _comparable(model.to_dict()["regions"])
    assert [r["id"] for r in back["regions"]] == ["r1", "r2"]  # ReadingOrder
    assert back["processing"][0]["settings"]["lm_weight"] == 0.1
    assert back["processing"][0]["settings"]["engine"] == "rapidocr"
    kinds = [ln["kind"] for ln in back["regions"][0]["lines"]]
    assert kinds[2:4] == ["note", "note"]


def test_page_xml_validates_and_round_trips(model):
    xml = to_page_xml(model, "0001.jpg", PROCESSING, created="2026-11-30T08:00:00")
    doc = etree.fromstring(xml.encode())
    schema = xsdcatalog.page()
    assert schema.validate(doc), schema.error_log
    back = render.from_page(xml)
    assert _comparable(back["regions"]) == _comparable(model.to_dict()["regions"])
    assert back["processing"][0]["settings"]["mode"] == "layout"
    assert doc.find(f".//{{{render.PAGE_NS}}}Page").get("readingDirection") == "right-to-left"


def test_hocr_is_xhtml_and_round_trips(model):
    xml = to_hocr(model, "0001.jpg", PROCESSING)
    assert xml.startswith("<?xml") and "<!DOCTYPE html" in xml
    back = render.from_hocr(xml)
    # hOCR carries confidences in whole percent and no alternatives
    got = _comparable(back["regions"], alt_filter=False, conf_digits=2)
    want = _comparable(model.to_dict()["regions"], alt_filter=False, conf_digits=2)
    for g, w in zip(got, want):
        assert [ln["text"] for ln in g["lines"]] == [ln["text"] for ln in w["lines"]]
        assert [[c[1] for c in ln["chars"]] for ln in g["lines"]] == [[c[1] for c in ln["chars"]] for ln in w["lines"]]


def test_invalid_xml_would_be_caught(model):
    """The XSD check can fail: an ALTO Glyph without CONTENT is refused."""
    doc = etree.fromstring(to_alto(model, "0001.jpg").encode())
    g = copy.deepcopy(doc).find(".//{%s}Glyph" % render.ALTO_NS)
    g.attrib.pop("CONTENT")
    assert not xsdcatalog.alto().validate(g.getroottree())


def test_renderings_are_deterministic(model):
    assert to_alto(model, "a.jpg", PROCESSING) == to_alto(copy.deepcopy(model), "a.jpg", PROCESSING)
    assert to_page_xml(model, "a.jpg") == to_page_xml(copy.deepcopy(model), "a.jpg")
