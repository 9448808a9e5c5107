"""Positional postings of the search index (guji/publish/postings.py): exact and candidate phrase
starts against a brute-force scan, phrases at a page's end, never across pages; one substitution
through the whole index; the file beside index.sqlite and a mismatched pair refused (#16)."""

from __future__ import annotations

import random
from array import array

import numpy as np
import pytest

from guji.publish import postings as P


def build(tmp_path, pages, cands=None):
    """pages: list of folded texts; cands: per page {pos: "chars"}."""
    w = P.PostingsWriter()
    for k, text in enumerate(pages):
        c = (cands or [{}] * len(pages))[k]
        pos = array("H", [i for i in sorted(c) for _ in c[i]])
        chars = "".join(c[i] for i in sorted(c))
        w.add(1000 + k, text, chars, pos)
    path = tmp_path / "x.postings"
    w.write(path, "abc")
    return P.Postings(path)


def brute(pages, cands, t, with_cands):
    out = []
    off = 0
    for k, text in enumerate(pages):
        for s in range(len(text) - len(t) + 1):
            if all(ch is None or text[s + i] == ch or (with_cands and ch in cands[k].get(s + i, "")) for i, ch in enumerate(t)):
                out.append(off + s)
        off += len(text)
    return out


def test_exact_and_candidate_starts_at_page_end_and_never_across_pages(tmp_path):
    pages = ["天地玄黄", "宇宙洪荒", "日月盈昃"]
    p = build(tmp_path, pages, [{2: "言"}, {}, {0: "目", 3: "仄"}])
    assert p.id == "abc"
    assert p.phrase("玄黄")[0].tolist() == [2]  # at the end of page 0
    assert p.phrase("黄宇")[0].tolist() == []  # would run from page 0 into page 1
    assert p.phrase("荒日")[0].tolist() == []
    assert p.phrase("洪荒")[0].tolist() == [6]
    assert p.phrase("言黄")[0].tolist() == []  # 言 only a candidate
    assert p.phrase("言黄", cands=True)[0].tolist() == [2]
    assert p.phrase("盈仄", cands=True)[0].tolist() == [10]  # a candidate at the last position
    assert p.phrase("目月", cands=True)[0].tolist() == [8]
    assert p.pages_of(np.array([0, 3, 4, 11])).tolist() == [0, 0, 1, 2]
    assert p.page_rowid.tolist() == [1000, 1001, 1002]
    assert p.item_range(1000 >> 3, 3) == (0, 12)


@pytest.mark.parametrize("window", [1024, 1 << 18])
def test_random_phrases_match_a_brute_force_scan(tmp_path, monkeypatch, window):
    monkeypatch.setattr(P, "WINDOW", window)
    rng = random.Random(3)
    alphabet = "之也者而不以其人"
    pages, cands = [], []
    for _ in range(300):
        n = rng.randint(0, 40)
        pages.append("".join(rng.choices(alphabet, weights=[8, 5, 3, 2, 2, 1, 1, 1], k=n)))
        cands.append({i: "".join(rng.sample(alphabet, rng.randint(1, 2))).replace(pages[-1][i], "")
                      for i in range(n) if rng.random() < 0.3})
    p = build(tmp_path, pages, cands)
    total = sum(map(len, pages))
    for _ in range(60):
        t = list(rng.choices(alphabet, k=rng.randint(1, 5)))
        if len(t) > 2 and rng.random() < 0.5:
            t[rng.randrange(len(t))] = None  # any character there (a misread one)
        for with_cands in (False, True):
            got, complete = p.phrase(t, cands=with_cands)
            assert complete
            assert got.tolist() == brute(pages, cands, t, with_cands), (t, with_cands)
            # a key range: the starts inside it whose phrase ends inside it
            lo, hi = total // 3, 2 * total // 3
            want = [s for s in brute(pages, cands, t, with_cands) if lo <= s and s + len(t) <= hi]
            assert p.phrase(t, cands=with_cands, lo=lo, hi=hi)[0].tolist() == want


def test_a_page_cap_stops_early_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(P, "WINDOW", 1)  # smallest window (1024 keys)
    pages = ["之也" * 50] * 100
    p = build(tmp_path, pages)
    got, complete = p.phrase("之也", cap_pages=5)
    assert not complete and 5 <= len(np.unique(p.pages_of(got))) < 100
    got, complete = p.phrase("之也")
    assert complete and got.size == 5000


def test_one_substitution_through_the_index_and_the_pair_of_files(tmp_path):
    from guji.errors import NotReady
    from guji.publish.index import IndexWriter, PageText, SearchIndex, postings_path
    from guji.publish.meta import ItemInfo

    path = tmp_path / "search" / "index.sqlite"
    w = IndexWriter(path)
    texts = ["天地玄黄宇宙洪荒", "日月盈昃辰宿列张", "寒来暑往秋收冬藏"]
    w.add_item(ItemInfo(item_id="b1", title="千字文"),
               [PageText(f"c{k}", f"http://x/c{k}", k + 1, t, [(0, 0, 10, 10, 0)] * len(t),
                         alternatives={7: [("長", 0.3)]} if k == 1 else None) for k, t in enumerate(texts)])
    w.close()
    assert postings_path(path).is_file() and not list(path.parent.glob(".*"))
    with SearchIndex(path) as idx:
        r = idx.search("秋收冬臧")  # last character misread, at the page's end
        assert r["total_exact_page_hits"] == 0 and r["total_uncertain_page_hits"] == 1
        (hit,) = r["items"][0]["pages_found"]
        assert hit["canvas_id"] == "c2" and hit["matches"][0]["start"] == 4 and hit["uncertain"]
        assert idx.search("洪荒日月")["total_page_hits"] == 0  # across two pages: never
        assert idx.search("黄宇宙洪")["total_exact_page_hits"] == 1
        hits, n = idx.search_item("b1", "列長")
        assert n == 1 and hits[0]["start"] == 6 and hits[0]["alternative"]
    # a postings file of another build beside the index is refused
    other = tmp_path / "other" / "index.sqlite"
    w = IndexWriter(other)
    w.add_item(ItemInfo(item_id="b2", title="x"), [PageText("c", "http://x/c", 1, "天地")])
    w.close()
    postings_path(path).write_bytes(postings_path(other).read_bytes())
    with pytest.raises(NotReady, match="different builds"):
        SearchIndex(path)
    postings_path(path).unlink()
    with pytest.raises(NotReady, match="postings file .* cannot be read"):
        SearchIndex(path)


def test_publish_ships_the_postings_beside_the_index(tmp_path):
    from guji.iiif import uris
    from guji.publish.index import IndexWriter, PageText, postings_path
    from guji.publish.meta import ItemInfo
    from guji.publish.sync import PHASE_TOP, HashCache, collect

    site = tmp_path / "site"
    path = site / uris.search_index_path()
    w = IndexWriter(path)
    w.add_item(ItemInfo(item_id="b1", title="x"), [PageText("c", "http://x/c", 1, "天地")])
    w.close()
    files, _ = collect(tmp_path / "build", site=site, restricted=set(), public={"b1"}, slug_to_item={},
                       hashes=HashCache(tmp_path / "hashes.json"))
    keys = [f.key for f in files if f.phase == PHASE_TOP]
    # the postings go out first: a reader of the old index.sqlite meanwhile is told to reload
    assert keys == ["search/index.postings", "search/index.sqlite"]
    assert postings_path(path) == site / "search" / "index.postings"
