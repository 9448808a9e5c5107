"""Centre-column (版心) reading and leaf-sequence analysis on plain data (no OCR: fast)."""

from __future__ import annotations

import json

import pytest

from guji import numerals
from guji.errors import Problem
from guji.structure.build import item_structure, page_label, parse_census
from guji.structure.centre import JuanLabel, LeafNo, read_centre
from guji.structure.model import CanvasStructure, ItemStructure, JuanRange
from guji.structure.sequence import Obs


@pytest.mark.parametrize("text,values", [
    ("十", [10]), ("十二", [12]), ("二十", [20]), ("廿三", [23]), ("卅", [30]), ("卌五", [45]), ("〇", [0]),
    ("一〇五", [105]), ("一百〇五", [105]), ("一百十二", [112]), ("一百二", [102, 120]), ("百二", [102, 120]),
    ("二一", [21]), ("壹佰貳拾", [120]), ("兩", [2]), ("１２", [12]), ("12", [12]), ("三千", [3000]),
    ("十百", []), ("人", []), ("", []),
])
def test_numeral_readings(text, values):
    assert numerals.readings(text) == values


@pytest.mark.parametrize("n", [1, 9, 10, 11, 19, 20, 21, 99, 100, 101, 110, 120, 999, 1000, 1203])
def test_numeral_round_trip(n):
    assert numerals.parse(numerals.to_chinese(n)) == n


def best(pieces):
    r = read_centre(pieces)[0]
    return (r.title, r.juan.label() if r.juan else None, r.leaf.label() if r.leaf else None)


@pytest.mark.parametrize("pieces,want", [
    (["論語卷一", "十二"], ("論語", "卷一", "十二")),
    (["史記卷之三", "十二上"], ("史記", "卷三", "十二上")),
    (["史記卷第三", "十二下"], ("史記", "卷三", "十二下")),
    (["史記卷三", "又十二"], ("史記", "卷三", "又十二")),
    (["史記卷三", "十二又一"], ("史記", "卷三", "十二又一")),
    (["道德經卷上", "廿一"], ("道德經", "卷上", "二十一")),
    (["道德經卷下", "卅"], ("道德經", "卷下", "三十")),
    (["書名卷首", "一"], ("書名", "卷首", "一")),
    (["書名目錄", "二"], ("書名", "目錄", "二")),
    (["書名序", "三"], ("書名", "序", "三")),
    (["卷三下", "一百二"], (None, "卷三下", "一百〇二")),
    (["千字文", "一"], ("千字文", None, "一")),
    (["千字文一"], ("千字文", None, "一")),
    (["論語卷一一"], ("論語", "卷一", "一")),  # juan and leaf run together by OCR
    (["衆經目録", "卷苐五", "苐六張"], ("衆經目錄", "卷五", "六")),  # 苐 = 第, 張 = leaf
    # OCR look-alikes: strokes read as Latin digits when a column is read turned, 巻 for 卷, + for 十
    (["論語卷一", "11"], ("論語", "卷一", "二")),
    (["論語巻二", "111"], ("論語", "卷二", "三")),
    (["論語卷一", "+二"], ("論語", "卷一", "十二")),
    (["論語卷一", "—"], ("論語", "卷一", "一")),
])
def test_read_centre(pieces, want):
    assert best(pieces) == want


def test_read_centre_keeps_alternatives():
    labels = [(r.leaf.number if r.leaf else None) for r in read_centre(["卷一", "一百二"])]
    assert labels[:2] == [102, 120]
    assert read_centre([]) == [] and read_centre(" ") == []


def test_juan_order_and_labels():
    order = [JuanLabel("preface"), JuanLabel("toc"), JuanLabel("front"), JuanLabel("number", 1),
             JuanLabel("number", 3, "上"), JuanLabel("number", 3, "下"), JuanLabel("number", 12), JuanLabel("end")]
    assert sorted(reversed(order), key=lambda j: j.rank) == order
    assert JuanLabel("toc").label("zh-Hans") == "目录"
    assert page_label(JuanLabel("number", 1), LeafNo(3)) == {
        "zh-Hant": ["卷一 葉三"], "zh-Hans": ["卷一 叶三"], "en": ["juan 1, leaf 3"]}
    assert page_label(JuanLabel("number", 1), LeafNo(3), "a")["zh-Hant"] == ["卷一 葉三 前半葉"]
    assert page_label(None, LeafNo(12, "上"))["zh-Hant"] == ["葉十二上"]


# -- sequence analysis -------------------------------------------------------------------------

def run(seq, similar_pairs=(), texts=None):
    obs = [Obs(canvas=f"B/v1/{i + 1:04d}", page=f"B/v1/{i + 1:04d}", volume="B/v1", file=f"B/v1/{i + 1:04d}.jpg",
               readings=read_centre(t.split("|")) if t else []) for i, t in enumerate(seq)]
    pairs = {tuple(sorted(p)) for p in similar_pairs}
    st = item_structure("B", obs, lambda i, j: tuple(sorted((i, j))) in pairs)
    labels = [c.label["zh-Hant"][0] if c.label else None for c in st.canvases]
    return st, labels


def codes(st):
    return sorted(p.code for p in st.problems)


def J(j, leaf):
    return f"書卷{j}|{leaf}"


def test_clean_sequence_across_juan():
    st, labels = run([J("一", "一"), J("一", "二"), J("一", "三"), J("二", "一"), J("二", "二")])
    assert codes(st) == []
    assert labels == ["卷一 葉一", "卷一 葉二", "卷一 葉三", "卷二 葉一", "卷二 葉二"]
    assert [(j.juan["label"], j.start, j.end) for j in st.juans] == [
        ("卷一", "B/v1/0001", "B/v1/0003"), ("卷二", "B/v1/0004", "B/v1/0005")]


def test_unreadable_and_partial_readings_filled_from_neighbours():
    # leaf number not read on 1 and 4, nothing read on 5, 二 read as "11"
    st, labels = run(["書卷一", J("一", "11"), J("一", "三"), "書卷二", "", J("二", "三")])
    assert codes(st) == []
    assert labels == ["卷一 葉一", "卷一 葉二", "卷一 葉三", "卷二 葉一", "卷二 葉二", "卷二 葉三"]
    assert [c.read for c in st.canvases] == [False, True, True, False, False, True]


def test_missing_leaf():
    st, _ = run([J("三", "一"), J("三", "三"), J("三", "四")])
    assert codes(st) == ["leaf-missing"]
    p = st.problems[0]
    assert p.extra["leaves"] == [2] and p.extra["after"] == "B/v1/0001.jpg" and p.extra["before"] == "B/v1/0002.jpg"
    assert st.juans[0].missing == [2]


def test_missing_leaves_at_juan_start():
    st, _ = run([J("一", "一"), J("二", "三"), J("二", "四")])
    assert codes(st) == ["leaf-missing"]
    assert st.problems[0].extra["leaves"] == [1, 2] and st.problems[0].extra["before"] == "B/v1/0002.jpg"


def test_misordered_leaf_says_where_it_belongs():
    st, _ = run([J("一", "一"), J("一", "三"), J("一", "四"), J("一", "五"), J("一", "二"), J("二", "一")])
    assert codes(st) == ["leaf-misordered"]
    p = st.problems[0]
    assert p.path == "B/v1/0005.jpg"
    assert p.extra["belongs_after"] == "B/v1/0001.jpg" and p.extra["belongs_before"] == "B/v1/0002.jpg"
    assert [c.status for c in st.canvases].count("misordered") == 1


def test_swapped_pair_names_both_files():
    st, _ = run([J("三", "一"), J("三", "三"), J("三", "二"), J("三", "四")])
    assert codes(st) == ["leaf-misordered"]
    assert sorted(st.problems[0].extra["files"]) == ["B/v1/0002.jpg", "B/v1/0003.jpg"]


def test_leaf_of_another_juan_misplaced():
    st, _ = run([J("一", "一"), J("一", "二"), J("二", "一"), J("一", "三"), J("二", "二")])
    assert codes(st) == ["leaf-misordered"]
    p = st.problems[0]
    assert p.path == "B/v1/0003.jpg" and p.extra["belongs_after"] == "B/v1/0004.jpg"


def test_duplicate_needs_the_image_witness():
    # same reading twice, images agree: a duplicated leaf (re-shoot)
    st, _ = run([J("三", "一"), J("三", "二"), J("三", "二"), J("三", "三")], similar_pairs=[(1, 2)])
    assert codes(st) == ["leaf-duplicated"]
    assert st.problems[0].extra["files"] == ["B/v1/0002.jpg", "B/v1/0003.jpg"]
    # same reading, images differ, the sequence has a hole there: a misread (三 read as 二), no finding
    st, labels = run([J("三", "一"), J("三", "二"), J("三", "二"), J("三", "四")])
    assert codes(st) == [] and labels[2] == "卷三 葉三"


def test_duplicate_far_from_its_original():
    st, _ = run([J("三", "一"), J("三", "二"), J("三", "三"), J("三", "二"), J("三", "四")], similar_pairs=[(1, 3)])
    assert codes(st) == ["leaf-duplicated"]
    assert st.problems[0].path == "B/v1/0004.jpg"


def test_not_a_leaf_canvases_do_not_disturb():
    st, labels = run(["", J("一", "一"), J("一", "二"), "", J("一", "三")])
    assert codes(st) == []
    assert labels[0] is None and labels[3] is None


def test_structure_csv_disagreement():
    obs = [Obs(canvas=f"B/v1/{i:04d}", page=f"B/v1/{i:04d}", volume="B/v1", file=f"B/v1/{i:04d}.jpg",
               readings=read_centre(t.split("|"))) for i, t in enumerate(["書卷一|一", "書卷一|二", "書卷二|一"], start=1)]
    rows = [{"label": "卷一", "start_page": "B/v1/0001"}, {"label": "卷二", "start_page": "B/v1/0002"}]
    st = item_structure("B", obs, lambda i, j: False, structure_rows=rows)
    assert st.source == "structure.csv"
    probs = [p for p in st.problems if p.code == "structure-csv-disagrees"]
    assert len(probs) == 1 and probs[0].row == 3 and probs[0].extra["centre_start"] == "B/v1/0003.jpg"


@pytest.mark.parametrize("record,want", [
    ({"题名卷数": "論語集注十卷", "存卷": "存三卷（一至三）", "册数": "2册"},
     {"juan_total": 10, "extant_juan": [1, 2, 3], "extant_count": 3, "volumes": 2}),
    ({"题名卷数": "老子道德經二卷", "存卷": "存一卷（上）", "册数": "1冊"},
     {"juan_total": 2, "extant_parts": ["上"], "extant_count": 1, "volumes": 1}),
    ({"題名卷數": "文集二十卷", "存卷": "存卷一至五、八", "冊數": "四册"},
     {"juan_total": 20, "extant_juan": [1, 2, 3, 4, 5, 8], "volumes": 4}),
])
def test_parse_census(record, want):
    got = parse_census(record)
    for k, v in want.items():
        assert got[k] == v, k


def test_census_cross_check():
    seq = [J("一", "一"), J("一", "三"), J("二", "一")]
    obs = [Obs(canvas=f"B/v1/{i}", page=f"B/v1/{i}", volume="B/v1", file=f"B/v1/{i}.jpg",
               readings=read_centre(t.split("|"))) for i, t in enumerate(seq)]
    st = item_structure("B", obs, lambda i, j: False, record={"题名卷数": "書三卷", "存卷": "", "册数": "2册"},
                        n_volumes=1)
    got = {p.code: p.field for p in st.problems}
    assert got["census-complete-lacks-leaves"] == "存卷"
    assert got["census-complete-lacks-juan"] == "存卷"
    assert got["census-volumes-vs-scanned"] == "册数"
    st = item_structure("B", obs, lambda i, j: False, record={"题名卷数": "書三卷", "存卷": "存二卷（二至三）"},
                        n_volumes=1)
    assert "census-extant-vs-centre" in {p.code for p in st.problems}


def test_item_structure_round_trip():
    st = ItemStructure(item="B", canvases=[CanvasStructure("B/v1/1", "B/v1/1", "B/v1", "B/v1/1.jpg", "書卷一 一",
                                                           JuanLabel("number", 1).to_dict(), LeafNo(1).to_dict(),
                                                           True, "ok", page_label(JuanLabel("number", 1), LeafNo(1)))],
                       juans=[JuanRange({"kind": "number", "number": 1, "part": "", "label": "卷一"},
                                        {"zh-Hant": ["卷一"]}, ["B/v1/1"], "B/v1/1", "B/v1/1", ["B/v1"], [1], [])],
                       problems=[Problem("warning", "leaf-missing", "m", path="B/v1/1.jpg", item="B",
                                         extra={"leaves": [2]})], census={"juan_total": 1})
    d = json.loads(json.dumps(st.to_dict(), ensure_ascii=False))
    assert ItemStructure.from_dict(d) == st
    assert ItemStructure.from_dict(d).to_dict() == d


# -- the leaf-batch sample: files agree with its truth, regeneration is byte-identical ----------------

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]
LEAF = REPO / "samples" / "leaf-batch"
FONT = __import__("pathlib").Path("/usr/share/fonts/truetype/arphic/uming.ttc")


def test_leaf_batch_files_match_truth():
    truth = json.loads((REPO / "samples" / "truth" / "leaf-batch" / "expected.json").read_text("utf-8"))
    files = sorted(p.relative_to(LEAF).as_posix() for p in LEAF.rglob("*.jpg"))
    assert files == sorted(p["file"] for p in truth["pages"])
    planted = [p for p in truth["pages"] if p["planted"]]
    assert {p["planted"].split(":")[0] for p in planted} >= {"misordered", "duplicate", "missing before it"}
    assert sum(len(j["files"]) for j in truth["juan"]) == len(files)


@pytest.mark.skipif(not FONT.exists(), reason=f"font {FONT} (fonts-arphic-uming) not installed: cannot regenerate")
def test_leaf_batch_regeneration_is_deterministic(tmp_path):
    import subprocess
    import sys

    rel = "leaf-batch/350000-2001-0000301/v02/0002.jpg"  # the re-shoot: skewed, with a scanner bed
    subprocess.run([sys.executable, str(REPO / "scripts" / "make_samples.py"), "--out", str(tmp_path), "--only", rel],
                   check=True, capture_output=True, timeout=300)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == [rel]
    # deterministic: a second run writes the same bytes
    again = tmp_path / "again"
    subprocess.run([sys.executable, str(REPO / "scripts" / "make_samples.py"), "--out", str(again), "--only", rel],
                   check=True, capture_output=True, timeout=300)
    assert (again / rel).read_bytes() == (tmp_path / rel).read_bytes()
    # and the committed sample: the same pixels up to the JPEG/resampling libraries' version drift
    # (opencv 5.1 vs the one that made it: mean difference 0.005 grey levels, at most 6)
    import numpy as np
    from PIL import Image

    new, old = (np.asarray(Image.open(p)).astype(np.int16) for p in (tmp_path / rel, REPO / "samples" / rel))
    assert new.shape == old.shape
    diff = np.abs(new - old)
    assert diff.mean() < 0.1 and diff.max() <= 16, (diff.mean(), diff.max())


def test_structure_command_exit_codes(tmp_path):
    """`guji structure` on a batch with nothing to read: exit 0; on an empty work folder: 9 (NOT_READY)."""
    from helpers import run_guji

    work = tmp_path / "work"
    r = run_guji("ingest", str(REPO / "samples" / "demo-batch"), "--work", str(work), "-j", "1")
    assert r.returncode == 0, r.stderr
    (work / "clean").mkdir()
    (work / "clean" / "canvases.json").write_text('{"canvases": []}', "utf-8")
    r = run_guji("structure", "--work", str(work), "-j", "1")
    assert r.returncode == 0  # nothing to read yet: no canvases
    r = run_guji("structure", "--work", str(tmp_path / "empty"), "-j", "1")
    assert r.returncode == 9 and "ingest" in r.stderr
