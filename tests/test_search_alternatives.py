"""Search over the recogniser's alternatives, the one-error rule, body text vs centre column (#16, #12)."""

from __future__ import annotations

import pytest

from guji.pagetext import body_lines, centre_text
from guji.publish.contentsearch import search1, search2
from guji.publish.index import IndexWriter, PageText, SearchIndex, page_content_from_ocr
from guji.publish.meta import ItemInfo


def char(text, y, p=0.99, alts=None):
    c = {"text": text, "box": [100, y, 40, 40], "confidence": p}
    if alts:
        c["alternatives"] = alts
    return c


def page_model():
    """A column 天地玄黃宇宙洪荒 whose 玄 was read 言 (玄 a candidate, p 0.3), a centre column with the
    title, and a margin label outside the frame."""
    body = [char(c, 50 * k) for k, c in enumerate("天地")]
    body.append(char("言", 100, 0.6, [["言", 0.6], ["玄", 0.3], ["音", 0.01]]))
    body += [char(c, 150 + 50 * k) for k, c in enumerate("黃宇宙洪荒")]
    return {
        "regions": [
            {"type": "body", "lines": [{"box": [100, 0, 40, 400], "direction": "ttb", "text": "天地言黃宇宙洪荒",
                                        "chars": body}]},
            {"type": "centre-column", "lines": [{"box": [300, 0, 20, 200], "text": "千字文", "chars": []}]},
            {"type": "other", "lines": [{"box": [0, 0, 20, 100], "text": "影印本", "chars": []}]},
        ],
        "centre_column": {"text": "千字文", "title": "千字文"},
    }


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    path = tmp_path_factory.mktemp("alts") / "index.sqlite"
    pc = page_content_from_ocr(page_model())
    w = IndexWriter(path)
    pages = [PageText("A/1/0001", "http://x/c1", 1, pc.text, pc.boxes, confidences=pc.confidences,
                      alternatives=pc.alternatives, centre=pc.centre),
             PageText("A/1/0002", "http://x/c2", 2, "天地玄黃日月盈昃", [(100, 50 * k, 40, 40, 0) for k in range(8)])]
    w.add_item(ItemInfo(item_id="A", title="千字文"), pages)
    w.add_item(ItemInfo(item_id="B", title="另書"),
               [PageText("B/1/0001", "http://x/b1", 1, "寒來暑往秋收冬藏", [(0, 0, 1, 1, 0)] * 8)])
    w.close()
    with SearchIndex(path) as idx:
        yield idx


def test_body_text_is_body_note_header_only():
    doc = page_model()
    assert [r["type"] for r, _ in body_lines(doc)] == ["body"]
    assert centre_text(doc) == "千字文"
    pc = page_content_from_ocr(doc)
    assert pc.text == "天地言黃宇宙洪荒" and "影" not in pc.text and "千" not in pc.text


def test_exact_pages_first_then_uncertain_with_probability(index):
    r = index.search("玄黃")
    (item,) = r["items"]
    assert item["exact_page_hits"] == 1 and item["uncertain_page_hits"] == 1 and item["page_hits"] == 2
    first, second = item["pages_found"]
    assert first["canvas_id"] == "A/1/0002" and not first["uncertain"]
    assert second["canvas_id"] == "A/1/0001" and second["uncertain"]
    (m,) = second["matches"]
    assert m["exact"] == "言黃" and m["reading"] == "玄黄" and m["alternative"] and m["uncertain"]
    assert m["probability"] == pytest.approx(0.3 * 0.99, abs=0.01)
    assert r["total_uncertain_page_hits"] == 1 and r["total_exact_page_hits"] == 1
    # off: the previous exact top-1 search
    assert index.search("玄黃", alternatives=False)["total_page_hits"] == 1
    # a candidate below ALT_MIN_P is not indexed
    assert index.search("天地音")["total_page_hits"] == 0


def test_one_misread_character_in_four(index):
    r = index.search("宇宙洪水")  # printed 宇宙洪荒: one character misread
    (item,) = r["items"]
    (m,) = item["pages_found"][0]["matches"]
    assert m["uncertain"] and m["exact"] == "宇宙洪荒" and m["probability"] < 0.1
    assert index.search("宙洪水")["total_page_hits"] == 0  # 3 characters: no error allowed
    assert index.search("寒來暑往")["items"][0]["item_id"] == "B"
    r = index.search("黃日中月")  # page 2 reads 黃日月: the OCR missed one character of the phrase
    assert r["total_page_hits"] == 1 and r["items"][0]["pages_found"][0]["matches"][0]["exact"] == "黃日月"


def test_centre_column_is_its_own_field(index):
    assert index.search("千字文")["total_page_hits"] == 0  # not a body hit (only the metadata matches)
    r = index.search("centre:千字文")
    assert [p["canvas_id"] for p in r["items"][0]["pages_found"]] == ["A/1/0001"]


def test_content_search_marks_uncertain_hits(index):
    hits, total = index.search_item("A", "玄黃")
    assert total == 2 and [h["canvas_id"] for h in hits] == ["A/1/0002", "A/1/0001"]
    doc = search2(hits, service_uri="http://x/search/2/A", query="玄黃", total=total)
    assert "label" not in doc["items"][0] and "不確定" in doc["items"][1]["label"]["zh-Hant"][0]
    d1 = search1(hits, service_uri="http://x/search/1/A", query="玄黃", total=total)
    assert "label" not in d1["resources"][0] and "不確定" in d1["resources"][1]["label"]
    assert len({a["target"] for a in doc["items"]}) == len(doc["items"])


def test_overlapping_recogniser_cells_are_cut_where_the_previous_ends():
    doc = {"regions": [{"type": "body", "lines": [{"box": [0, 0, 40, 200], "direction": "ttb", "text": "一二", "chars": [
        {"text": "一", "box": [0, 0, 40, 50]}, {"text": "二", "box": [0, 25, 40, 75]}]}]}]}
    boxes = page_content_from_ocr(doc).boxes.tolist()
    assert boxes == [0, 0, 40, 50, 0, 0, 50, 40, 50, 0]


def test_misread_beside_a_candidate_passes_the_index_filter(index):
    # 玄 (a candidate there) 黃 宇 and 水 where 宙 is printed: FTS5 must let page 1 through to the
    # lattice; page 2 (玄黃日月) has two errors against it
    r = index.search("玄黃宇水")
    assert r["total_page_hits"] == 1 and r["total_uncertain_page_hits"] == 1
    (m,) = r["items"][0]["pages_found"][0]["matches"]
    assert m["exact"] == "言黃宇宙" and m["uncertain"]
    assert index.search("玄黃音水")["total_page_hits"] == 0
    hits, total = index.search_item("A", "玄黃宇水")
    assert total == 1 and hits[0]["canvas_id"] == "A/1/0001" and hits[0]["uncertain"]


def test_verify_cap_holds_and_the_count_says_at_least(tmp_path, monkeypatch):
    """12 pages where 天地 is there only through a candidate (地 read 他, 地 at p 0.3): with the
    verification cap at 5, 5 are verified and shown and the count is not exact ("at least");
    with room for all, all 12 and exact. Exact hits are never capped by it."""
    import guji.publish.index as ix

    path = tmp_path / "index.sqlite"
    w = IndexWriter(path)
    unc = [PageText(f"U/{k}", f"http://x/u{k}", k + 1, "天他玄黃", [(0, 0, 1, 1, 0)] * 4,
                    confidences=[0.99, 0.6, 0.99, 0.99], alternatives={1: [("地", 0.3)]}) for k in range(12)]
    w.add_item(ItemInfo(item_id="U", title="甲"), unc)
    w.add_item(ItemInfo(item_id="E", title="乙"),
               [PageText(f"E/{k}", f"http://x/e{k}", k + 1, "天地玄黃", [(0, 0, 1, 1, 0)] * 4) for k in range(8)])
    w.close()
    with SearchIndex(path) as idx:
        monkeypatch.setattr(ix, "VERIFY_CAP", 5)
        r = idx.search("天地")
        assert r["total_exact_page_hits"] == 8 and r["total_uncertain_page_hits"] == 5
        assert not r["counts_exact"] and r["total_page_hits"] == 13
        (u,) = [it for it in r["items"] if it["item_id"] == "U"]
        assert u["uncertain_page_hits"] == 5 and all(p["uncertain"] for p in u["pages_found"])
        # the item's own content search is not capped
        hits, n = idx.search_item("U", "天地")
        assert n == 12
        monkeypatch.setattr(ix, "VERIFY_CAP", 12)
        r = idx.search("天地")
        assert r["total_uncertain_page_hits"] == 12 and r["counts_exact"] and r["total_page_hits"] == 20


def test_uncertain_pages_only_of_shown_items_when_exact_hits_fill_the_page(tmp_path, monkeypatch):
    """Items with exact hits fill a one-item result page (E): only E's uncertain pages are verified
    (1 of them), U's 4 are not and the counts say "at least"; the next page (offset 1) verifies
    and shows U's, with exact counts."""
    path = tmp_path / "index.sqlite"
    w = IndexWriter(path)

    def unc(item, k):
        return PageText(f"{item}/{k}", f"http://x/{item}{k}", k + 1, "天他玄黃", [(0, 0, 1, 1, 0)] * 4,
                        confidences=[0.99, 0.6, 0.99, 0.99], alternatives={1: [("地", 0.3)]})
    w.add_item(ItemInfo(item_id="E", title="乙"),
               [PageText("E/0", "http://x/e0", 1, "天地玄黃", [(0, 0, 1, 1, 0)] * 4), unc("E", 1)])
    w.add_item(ItemInfo(item_id="U", title="甲"), [unc("U", k) for k in range(4)])
    w.close()
    with SearchIndex(path) as idx:
        import guji.publish.index as ix

        off = idx.search("天地", limit=1)  # the default: everything verified
        assert off["counts_exact"] and off["total_uncertain_page_hits"] == 5
        monkeypatch.setattr(ix, "SKIP_UNCERTAIN_WHEN_FULL", True)
        full = idx.search("天地", limit=1)
        (e,) = full["items"]
        assert e["item_id"] == "E" and e["exact_page_hits"] == 1 and e["uncertain_page_hits"] == 1
        assert [p["uncertain"] for p in e["pages_found"]] == [False, True]
        assert not full["counts_exact"] and full["total_uncertain_page_hits"] == 1
        nxt = idx.search("天地", limit=1, offset=1)
        assert [it["item_id"] for it in nxt["items"]] == ["U"] and nxt["counts_exact"]
        assert nxt["total_uncertain_page_hits"] == 5 and nxt["total_items"] == 2
        assert idx.search("天地", limit=2)["counts_exact"]  # room for U: everything verified
