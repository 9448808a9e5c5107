"""The page lattice of the search index (guji/publish/lattice.py): layout, and each matching rule
on a planted page where it must match and where it must not (#16)."""

from __future__ import annotations

from array import array

import pytest

from guji.publish import lattice as L


def test_layout_top1_then_candidates_with_their_probabilities():
    lat, latp = L.build_lattice("万历三年", bytes([200, 100, 255, 50]), "萬午平x", array("H", [1, 3, 3, 9]),
                                bytes([10, 20, 30, 40]))
    assert lat == "|万|历萬|三|年午平|"  # the candidate at position 9 (past the text) is dropped
    assert list(latp) == [200, 100, 255, 50, 10, 20, 30]  # top-1 readings, then candidates in order
    assert [(m[0], round(m[2] * 255)) for m in L.find(lat, latp, "平")] == [(3, 30)]
    assert [(m[0], round(m[2] * 255)) for m in L.find(lat, latp, "萬")] == [(1, 10)]
    assert [round(m[2] * 255 * 255) for m in L.find(lat, latp, "三午")] == [255 * 20]
    assert L.top1(lat) == "万历三年"
    assert L.build_lattice("万历", None) == ("|万|历|", b"\xff\xff")
    assert L.build_lattice("", None)[0] == "|"


@pytest.fixture
def page():
    # 天 地 [言 玄.3] 黃 宇 宙 洪 荒: 玄 read as 言 (玄 a candidate at p 0.3)
    return L.build_lattice("天地言黄宇宙洪荒", bytes([250, 250, 150, 250, 250, 250, 250, 250]), "玄", array("H", [2]),
                           bytes([77]))


def spans(page, t, **kw):
    return [(i, j, alt) for i, j, _p, alt in L.find(*page, t, **kw)]


def test_exact_and_candidate_readings(page):
    assert spans(page, "宇宙") == [(4, 6, False)]
    assert spans(page, "玄黄") == [(2, 4, True)]
    assert spans(page, "玄黄", alternatives=False) == []
    assert spans(page, "玄") == [(2, 3, True)] and spans(page, "言") == [(2, 3, False)]
    assert spans(page, "玄", alternatives=False) == []
    (m,) = L.find(*page, "玄黄")
    assert m[2] == pytest.approx(77 / 255 * 250 / 255)


def test_one_misread_character_anywhere_in_four(page):
    assert spans(page, "人地言黄") == [(0, 4, True)]  # first character misread
    assert spans(page, "宇宙洪水") == [(4, 8, True)]  # last
    assert spans(page, "宇宙水") == []  # three characters: no error allowed
    assert spans(page, "人人言黄") == []  # two errors in four: never


def test_a_misread_character_beside_a_candidate(page, monkeypatch):
    # 地 玄(candidate) 黄 and 宙 where 宇 is printed: one misread, one candidate
    assert spans(page, "地玄黄宙") == [(1, 5, True)]
    monkeypatch.setattr(L, "FUZZY_CANDIDATES", False)
    assert spans(page, "地玄黄宙") == []
    monkeypatch.setattr(L, "FUZZY_CANDIDATES", True)
    assert spans(page, "地玄音宙") == []  # 音 is not read there: two errors


def test_a_missed_inner_character(page):
    assert spans(page, "黄宇中宙") == [(3, 6, True)]  # the OCR read 黄宇宙: 中 missed
    assert spans(page, "中黄宇宙") != [(3, 6, True)]  # a missing first character is a misread one


def test_two_misread_in_eight_even_at_the_start(page):
    assert spans(page, "人人言黄宇宙洪荒") == [(0, 8, True)]
    assert spans(page, "人人人黄宇宙洪荒") == []
    (m,) = L.find(*page, "人人言黄宇宙洪荒")
    assert m[2] < L.FUZZY_PENALTY ** 2


def test_min_match_p_drops_improbable_readings(page, monkeypatch):
    monkeypatch.setattr(L, "MIN_MATCH_P", 0.1)
    assert spans(page, "宇宙洪水") == []  # × 0.05
    assert spans(page, "玄黄") == [(2, 4, True)]  # 0.29
    assert spans(page, "宇宙") == [(4, 6, False)]  # top-1 readings always


def test_an_index_of_another_format_is_refused_with_a_clear_error(tmp_path):
    import sqlite3

    from guji.errors import NotReady
    from guji.publish.index import INDEX_VERSION, SearchIndex

    path = tmp_path / "index.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('version', '2')")
    db.commit()
    db.close()
    with pytest.raises(NotReady, match=f"format 2; this guji reads format {INDEX_VERSION}: run `guji publish`"):
        SearchIndex(path)
