"""Search index: folding, 1-/2-character queries, fields, years, facets, boxes, Content Search."""

from __future__ import annotations

import json

import pytest

from guji.iiif import uris
from guji.publish.contentsearch import search1, search2
from guji.publish.index import QueryError, SearchIndex, parse_query
from guji.publish.site import build_index
from publishwork import A, BASE, char_box, make_work



@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    work = make_work(root)
    dest = root / "index.sqlite"
    counts, problems = build_index(work, work / "build", dest, BASE)
    assert counts == {"items": 2, "canvases": 3, "canvases_with_text": 3}, counts
    with SearchIndex(dest) as idx:
        yield idx


def pages_of(r):
    return sorted((it["item_id"], p["canvas_id"]) for it in r["items"] for p in it["pages_found"])


def test_traditional_and_simplified_find_the_same_pages(index):
    trad, simp, mixed = index.search("萬曆"), index.search("万历"), index.search("万曆")
    assert pages_of(trad) == pages_of(simp) == pages_of(mixed)
    # both items: A prints 萬曆 (traditional), DF-0001 prints 万历 (simplified); restricted never
    assert pages_of(simp) == [(A, f"{A}/v1/0001"), (A, f"{A}/v1/0002"), ("DF-0001", "DF-0001/v1/0001")]
    assert trad["total_page_hits"] == 3 and trad["counts_exact"]


def test_one_and_two_character_queries(index):
    r1 = index.search("人")
    assert pages_of(r1) == [("DF-0001", "DF-0001/v1/0001")]
    r2 = index.search("金華")
    assert pages_of(r2) == [(A, f"{A}/v1/0001")]
    assert index.search("华府")["total_page_hits"] == 1  # folded 華→华
    assert index.search("於")["total_page_hits"] == 1 and index.search("于")["total_page_hits"] == 1  # variant
    assert index.search("之乎者也矣")["total_items"] == 0


def test_restricted_item_is_not_in_the_index(index):
    assert index.search("密檔")["total_items"] == 0
    assert index.item("DF-SECRET") is None
    assert index.search("title:密藏")["total_items"] == 0


def test_hits_carry_canvas_coordinates_of_the_matched_characters(index):
    hits, total = index.search_item(A, "万历")
    assert total == 2
    first = [h for h in hits if h["canvas_id"] == f"{A}/v1/0001"][0]
    assert first["exact"] == "萬曆" and first["suffix"].startswith("金華府志")
    # characters 0 and 1 of column 0, master boxes mapped to the canvas (access image = master / 2)
    x, y, w, h = char_box(0, 0)
    x2, y2, w2, h2 = char_box(0, 1)
    assert first["boxes"] == [[x // 2, y // 2, w // 2, (y2 + h2 - y) // 2]]
    assert first["canvas"] == uris.canvas_uri(BASE, A, f"{A}/v1/0001")
    # second page: 萬曆 at rows 5-6 of the first column (東陽縣志於萬曆六年)
    second = [h for h in hits if h["canvas_id"] == f"{A}/v1/0002"][0]
    x, y, w, h = char_box(0, 5)
    assert second["boxes"][0][:2] == [x // 2, y // 2]
    assert second["prefix"] == "東陽縣志於"


def test_match_across_two_columns_gives_one_box_per_column(index):
    hits, _ = index.search_item(A, "之一金華")  # end of column 1, start of column 2
    assert len(hits) == 1 and len(hits[0]["boxes"]) == 2
    xs = sorted(b[0] for b in hits[0]["boxes"])
    assert xs == sorted([char_box(0, 0)[0] // 2, char_box(1, 0)[0] // 2])


def test_line_boxes_when_the_engine_gave_no_character_boxes(index):
    hits, _ = index.search_item("DF-0001", "通书")
    x, y, w, _ = char_box(0, 0)
    # the whole column's line box (master [x, y, w, 60 * 8]) mapped to the canvas
    assert hits[0]["boxes"] == [[x // 2, y // 2, w // 2, 60 * len("万历年间通书一卷") // 2]]


def test_fields_years_and_facets(index):
    assert [i["item_id"] for i in index.search("title:金华")["items"]] == [A]
    assert [i["item_id"] for i in index.search("author:王懋德")["items"]] == [A]
    assert [i["item_id"] for i in index.search("year:1600")["items"]] == [A]  # 萬曆 1573-1620
    assert [i["item_id"] for i in index.search("year:1736-1740")["items"]] == ["DF-0001"]  # 乾隆
    assert index.search("万历 year:1700-1800")["total_page_hits"] == 1  # DF-0001 only
    assert [i["item_id"] for i in index.search("class:史")["items"]] == [A]
    assert [i["item_id"] for i in index.search("dynasty:清 type:刻本")["items"]] == ["DF-0001"]
    r = index.search("万历")
    assert r["facets"]["dynasty"] == {"明": 1, "清": 1}
    assert r["facets"]["classification"] == {"史": 1, "子": 1}
    assert r["facets"]["institution"] == {"示例市图书馆": 2}
    # the metadata is found by plain words too, and grade is never exposed per record
    assert index.search("纂修")["total_items"] == 1
    assert all("grade" not in it for it in r["items"])


def test_query_parsing_and_limits():
    q = parse_query('万历 title:"金華 府志" year:1573-1620 dynasty：明')
    assert q.terms == ["万历"] and q.fields == {"title": ["金华府志"], "dynasty": ["明"]} and q.year == (1573, 1620)
    with pytest.raises(QueryError):
        parse_query("字" * 500)
    with pytest.raises(QueryError):
        parse_query("year:abc")


def test_content_search_2_and_1(index):
    hits, total = index.search_item(A, "萬曆")
    svc = uris.content_search_uri(BASE, A, 2)
    doc = search2(hits, service_uri=svc, query="萬曆", total=total)
    assert doc["type"] == "AnnotationPage" and doc["@context"] == "http://iiif.io/api/search/2/context.json"
    targets = [a["target"] for a in doc["items"]]
    assert all("#xywh=" in t for t in targets) and len(targets) == 2
    ctx = doc["annotations"][0]["items"][0]
    assert ctx["motivation"] == "contextualizing"
    sel = ctx["target"][0]["selector"][0]
    assert sel["type"] == "TextQuoteSelector" and sel["exact"] == "萬曆"
    d1 = search1(hits, service_uri=uris.content_search_uri(BASE, A, 1), query="萬曆", total=total)
    assert d1["within"]["total"] == 2 and len(d1["hits"]) == 2
    assert set(d1["hits"][0]["annotations"]) <= {r["@id"] for r in d1["resources"]}
    json.dumps(doc, ensure_ascii=False)
