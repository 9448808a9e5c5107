"""OCR round 3: original-pixel crops, rapidocr adapter, character boxes, alternatives, archival set."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from guji.errors import MissingDependency

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PAGE = ROOT / "samples/demo-batch/350000-2001-0000102/0003.tif"
SAMPLE_TRUTH = ROOT / "samples/truth/demo-batch/350000-2001-0000102/-/0003.json"
needs_sample = pytest.mark.skipif(not SAMPLE_PAGE.exists(), reason="samples/demo-batch not generated")


def test_rapidocr_internals_only_in_the_adapter():
    """Every private rapidocr access lives in guji/ocr/rapid_adapter.py; no module of guji.ocr
    calls a private name of another guji module (layout helpers are public)."""
    pins = {}
    for p in (ROOT / "guji").rglob("*.py"):
        src = p.read_text("utf-8")
        if p.name != "rapid_adapter.py":
            assert not re.search(r"_load_(det|rec)_model|postprocess_op|rec_image_shape", src), p
            # an onnxruntime session of rapidocr's (other modules have their own sessions: the web app's)
            assert "rapidocr" not in src or not re.search(r"\.session\(", src), p
        if p.parent.name == "ocr":
            assert not re.search(r"\bL\._[a-z]|layout\._[a-z]", src), p
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    pins = re.search(r'"rapidocr([^"]*)"', pyproject).group(1)
    from guji.ocr.rapid_adapter import SUPPORTED

    assert pins == SUPPORTED  # the pin and the adapter's range agree


def test_adapter_refuses_unsupported_rapidocr_versions():
    from guji.ocr.rapid_adapter import check_version

    check_version("3.10.0")
    check_version("3.10.2")
    for v in ("3.9.1", "3.11.0", "4.0.0", "2.1"):
        with pytest.raises(MissingDependency, match="rapidocr"):
            check_version(v)


def test_crops_come_from_the_original_pixels_with_spans_in_detection_pixels():
    import cv2
    import numpy as np

    from guji.ocr.engines import Engine
    from guji.ocr.recognize import CropSource

    class Fake(Engine):
        name = "rapidocr"

    orig = np.zeros((100, 60, 3), np.uint8)
    orig[40:60, 20:30] = 255  # one bright block in the original
    src = CropSource(orig, 2.0)
    # a column box on the 2× detection image: x 36..64, y 70..130 → original x 18..32, y 35..65
    crop, a, k = src.crop((36, 70, 28, 60), True, Fake())
    assert crop.shape[:2] == (14, 30)  # rotated: the column's length is the crop's width
    assert (crop == 255).any() and crop.dtype == np.uint8
    # a character 5..25 px along the crop (original pixels) lies 2·(35 + u) − 70 from the box top
    assert (a, k) == (0.0, 2.0)
    assert a + k * 5 == 10
    up = cv2.resize(orig, None, fx=2, fy=2)
    same, a1, k1 = CropSource(up, 1.0).crop((36, 70, 28, 60), True, Fake())
    assert same.shape[:2] == (28, 60) and (a1, k1) == (0, 1.0)


def test_note_cells_cut_a_sub_column_by_its_pitch():
    import numpy as np

    from guji.ocr import layout as L

    ink = np.zeros((300, 60), np.uint8)
    tops = [10, 36, 62, 88, 114]
    for t in tops:  # five small characters 20 px wide, 22 px high, 4 px apart
        ink[t:t + 22, 20:40] = 255
        ink[t + 10, 15:45] = 255  # a stroke wider than the rest
    ink[11:13, 20:40] = 0  # a gap inside the first character must not cut it
    cells = L.note_cells(ink, (15, 5, 35, 140))
    assert len(cells) == 5
    for (y0, y1), t in zip(cells, tops):
        assert y0 <= t + 1 and y1 >= t + 21


def test_fit_char_boxes_follow_the_ink_not_the_time_steps():
    import numpy as np

    from guji.ocr import layout as L
    from guji.ocr.evaluate import box_iou

    ink = np.zeros((400, 100), np.uint8)
    truth = []
    for k in range(6):
        y = 12 + 60 * k
        ink[y:y + 48, 30:74] = 255
        truth.append((30, y, 44, 48))
    box = (20, 0, 64, 380)
    # the recogniser's spans: centres 8 px early, extents meeting halfway
    cen = [12 + 60 * k + 24 - 8 for k in range(6)]
    spans = [(c - 30, c + 30) for c in cen]
    fitted = L.fit_char_boxes(ink, box, spans, True)
    assert [round(box_iou(f, t), 2) for f, t in zip(fitted, truth)] == [1.0] * 6
    # a character not read (the 4th): its neighbours do not swallow it
    spans2 = spans[:3] + spans[4:]
    fitted2 = L.fit_char_boxes(ink, box, spans2, True)
    assert all(f[3] <= 1.3 * 48 for f in fitted2)
    assert box_iou(fitted2[3], truth[4]) > 0.9


def test_char_box_scores_align_reading_order():
    from guji.ocr.evaluate import char_box_scores

    truth = [("天", (0, 0, 10, 10)), ("地", (0, 10, 10, 10)), ("玄", (0, 20, 10, 10)), ("黃", (0, 30, 10, 10))]
    ocr = [("天", (0, 0, 10, 10)), ("玄", (0, 25, 10, 10)), ("黃", (0, 30, 10, 10))]  # 地 missed
    s = char_box_scores(ocr, truth)
    assert s["matched"] == 3
    assert s["iou"] == pytest.approx((1 + 5 / 15 + 1) / 3, abs=1e-3)
    assert s["shift"] > 0


def test_alternatives_are_stored_by_default_best_first_summing_to_at_most_one():
    from guji.ocr import stage
    from guji.ocr.page import Char, Line, PageModel, Region

    alts = [("天", 0.6), ("夭", 0.30004), ("大", 0.05), ("太", 0.03), ("犬", 0.01), ("失", 0.009)]
    chars = [Char("天", (0, 0, 10, 10), 0.6, list(reversed(alts))), Char("地", (0, 10, 10, 10), 0.99, [("地", 0.99999)])]
    pm = PageModel("c", "p", "i", "rapidocr", "x", "vertical-rtl", "zh-Hant", (10, 20),
                   [Region("r1", "body", (0, 0, 10, 20), [Line("l1", (0, 0, 10, 20), "ttb", "天地", 0.8, chars)])])
    assert stage.DEFAULTS["alternatives"] is True
    d = pm.to_dict()
    out = d["regions"][0]["lines"][0]["chars"]
    assert len(out) == 2 and all("alternatives" in c for c in out)  # one list per character
    first = out[0]["alternatives"]
    assert [a for a, _ in first] == ["天", "夭", "大", "太", "犬"]  # top-5, best first
    assert all(isinstance(a, list) and len(a) == 2 for a in first)
    assert sum(p for _, p in first) <= 1.0 and out[1]["alternatives"] == [["地", 0.9999]]
    assert "alternatives" not in pm.to_dict(alternatives=False)["regions"][0]["lines"][0]["chars"][0]


@needs_sample
def test_sample_page_chars_alternatives_and_boxes():
    """A generated page read end to end: every character has alternatives holding its reading's
    class, the LM re-ranking keeps one list per character, and the character boxes sit on the
    truth's character boxes (mean IoU of characters read right)."""
    import cv2

    from guji.ocr.engines import get_engine
    from guji.ocr.evaluate import char_box_scores
    from guji.ocr.page import PageModel
    from guji.ocr.recognize import prepare, read_image

    eng = get_engine("rapidocr")
    img = cv2.imread(str(SAMPLE_PAGE), cv2.IMREAD_COLOR)
    prep = prepare(img, "auto", eng)
    regions, *_ = read_image(prep, eng, direction="vertical-rtl")
    pm = PageModel("c", "p", "i", "rapidocr", "x", "vertical-rtl", "zh-Hant", (1, 1), regions)
    d = pm.to_dict()
    n = 0
    for r in d["regions"]:
        for ln in r["lines"]:
            assert len(ln["chars"]) == len(ln["text"])
            for c in ln["chars"]:
                assert c["alternatives"] and sum(p for _, p in c["alternatives"]) <= 1.0
                n += 1
    assert n > 100
    truth = json.loads(SAMPLE_TRUTH.read_text("utf-8"))
    tchars = [(c["text"], tuple(c["box"])) for leaf in truth["leaves"] for col in leaf["columns"] for c in col["chars"]]
    k = 1.0 / prep.scale
    ocr = [(c.text, tuple(v * k for v in c.box)) for r in regions if r.type == "body" for ln in r.lines for c in ln.chars]
    s = char_box_scores(ocr, tchars)
    assert s["matched"] > 0.9 * len(tchars)
    assert s["iou"] > 0.7 and abs(s["shift"]) < 0.1, s


def test_archival_eval_set_is_deterministic(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_archival_eval", ROOT / "scripts/make_archival_eval.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if not all(p.exists() for p, _ in mod.FONTS):
        pytest.skip("CJK fonts (fonts-arphic-uming, fonts-noto-cjk) not installed")
    a, b = tmp_path / "a", tmp_path / "b"
    assert mod.generate(a, 1) == mod.generate(b, 1) == ["ARC_01"]
    for sub, ext in (("images", "jpg"), ("gt_txt", "txt"), ("json", "json")):
        assert (a / sub / f"ARC_01.{ext}").read_bytes() == (b / sub / f"ARC_01.{ext}").read_bytes()
    rec = json.loads((a / "json/ARC_01.json").read_text("utf-8"))
    text = (a / "gt_txt/ARC_01.txt").read_text("utf-8").replace("\n", "")
    assert len(rec["chars"]) == len(text) and rec["char_px"] >= 40
    # a double-row note: characters at less than half the body size
    assert any(c["h"] < 0.5 * rec["char_px"] for c in rec["chars"])


def test_bench_scales_the_archival_set_as_the_clean_stage_does(tmp_path):
    """``bench_ocr.py --char-px 40`` reads what the pipeline reads: the page scaled by clean's
    character-size estimate to ~40 px characters (the ARC_04 page: 96 px drawn), grey, with the
    truth files beside it; the truth boxes follow the image (dzj_truth_chars scales by width)."""
    import importlib.util

    import cv2

    from guji.ocr.evaluate import dzj_truth_chars

    mods = {}
    for name, path in (("make_archival_eval", "scripts/make_archival_eval.py"), ("bench_ocr", "bench/bench_ocr.py")):
        spec = importlib.util.spec_from_file_location(name, ROOT / path)
        mods[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mods[name])
    gen, bench = mods["make_archival_eval"], mods["bench_ocr"]
    if not all(p.exists() for p, _ in gen.FONTS):
        pytest.skip("CJK fonts (fonts-arphic-uming, fonts-noto-cjk) not installed")
    data = tmp_path / "arch"
    gen.generate(data, 4)
    for n in ("ARC_01", "ARC_02", "ARC_03"):  # keep one page: ARC_04 (96 px characters)
        for sub, ext in (("images", "jpg"), ("gt_txt", "txt"), ("json", "json")):
            (data / sub / f"{n}.{ext}").unlink()
    out = bench.pipeline_scaled(data, 40)
    assert out == tmp_path / "arch-40px" and (out / "gt_txt/ARC_04.txt").is_file()
    sc = json.loads((out / "scales.json").read_text("utf-8"))["ARC_04"]
    img = cv2.imread(str(out / "images/ARC_04.png"), cv2.IMREAD_UNCHANGED)
    src = cv2.imread(str(data / "images/ARC_04.jpg"))
    assert img.ndim == 2 and 0.3 < sc["scale"] < 0.6  # 96 px characters → about 40
    assert abs(img.shape[1] - src.shape[1] * sc["scale"]) <= 1 and list(img.shape[::-1]) == sc["size"]
    truth = dzj_truth_chars(out / "json/ARC_04.json", (img.shape[1], img.shape[0]))
    big = sorted(b[3] for _, b in truth)[len(truth) // 2]
    assert 30 <= big <= 55, big
    assert bench.pipeline_scaled(data, 40) == out  # made once


def test_factor_one_page_is_detected_once():
    """A page whose text needs no upscaling is detected once: the detection that measures the
    text size is the one the layout uses (it was run twice)."""
    import cv2
    import numpy as np

    from guji.ocr.engines import get_engine
    from guji.ocr.recognize import prepare, read_image

    real = get_engine("rapidocr")

    class Counting:
        def __init__(self):
            self.calls = 0

        def __getattr__(self, name):
            return getattr(real, name)

        def detect(self, img, *a, **k):
            self.calls += 1
            return real.detect(img, *a, **k)

    eng = Counting()
    img = np.full((200, 900, 3), 255, np.uint8)
    cv2.putText(img, "OCR 2024", (20, 140), cv2.FONT_HERSHEY_SIMPLEX, 4.0, (0, 0, 0), 9)
    prep = prepare(img, "auto", eng)
    assert prep.scale == 1.0 and prep.boxes and eng.calls == 1
    regions, *_ = read_image(prep, eng, direction="horizontal", lm="off")
    assert eng.calls == 1
    assert "2024" in "".join(ln.text for r in regions for ln in r.lines)
    # the recogniser reads the same pixels (no upscaling): crops come from the image itself
    assert prep.original is prep.image


def test_note_valley_is_the_widest_gap_not_a_gap_inside_a_character():
    """A note row whose left sub-column holds a character with an empty sliver inside it (two
    components side by side, 口-like): the valley between the sub-columns is the wider gap to its
    right, so the rows stay a note run (the first minimum split the character, the ink-balance
    test then rejected the row and the note was read as one big column)."""
    import numpy as np

    from guji.ocr import layout as L

    pitch = 60
    ink = np.zeros((400, 200), np.uint8)
    x0, x1 = 70, 130  # middle half of the column: x 85–115
    ink[20:70, 75:125] = 255  # a big character
    for y in range(90, 330, 30):
        ink[y:y + 20, 78:87] = 255  # left sub-column: a character in two parts, gap at x 87–88
        ink[y:y + 20, 89:99] = 255
        ink[y:y + 20, 105:124] = 255  # right sub-column; the valley between them is x 99–104
    segs = L.ink_column(ink, x0, x1, 0, 400, pitch)
    assert [s.kind for s in segs] == ["text", "note", "note"], segs
    right, left = segs[1].box, segs[2].box
    assert right[0] >= 99 and left[0] + left[2] <= 105 and left[0] <= 80


def test_note_split_leaves_each_side_a_sub_column_wide(monkeypatch):
    """Big characters whose halves lie far apart, one half a narrow stroke (亻|, 丨|: at archival
    sizes the gap is wider than between two note sub-columns) must not be cut as a double-row
    note; two note sub-columns of the same column still are. The widest empty run alone (the
    rule before ``NOTE_SIDE``) cut the big characters into a 6 px "sub-column" and the rest."""
    import numpy as np

    from guji.ocr import layout as L

    pitch = 60
    x0, x1 = 70, 130  # middle half of the column: x 85–115
    big = np.zeros((260, 200), np.uint8)
    for y in (20, 80, 140, 200):  # four big characters, 50 px high
        big[y:y + 50, 75:81] = 255  # a narrow left stroke …
        for dy in (0, 23, 46):  # … a wide gap (x 81–92), then strokes across the rest
            big[y + dy:y + dy + 4, 92:125] = 255
        big[y:y + 50, 106:110] = 255
    assert [s.kind for s in L.ink_column(big, x0, x1, 0, 260, pitch)] == ["text"]
    # two sub-columns, each about half the column: a note run, split between them
    note = np.zeros((400, 200), np.uint8)
    note[20:70, 75:125] = 255
    for y in range(90, 330, 30):
        note[y:y + 20, 76:97] = 255
        note[y:y + 20, 104:124] = 255
    segs = L.ink_column(note, x0, x1, 0, 400, pitch)
    assert [s.kind for s in segs] == ["text", "note", "note"], segs
    assert segs[1].box[0] >= 97 and segs[2].box[0] + segs[2].box[2] <= 104
    # the widest empty run alone (side test off) split the big characters
    monkeypatch.setattr(L, "NOTE_SIDE", 0.0)
    assert "note" in [s.kind for s in L.ink_column(big, x0, x1, 0, 260, pitch)]


def test_crop_reaches_beyond_both_ends_of_the_segment_and_spans_stay_in_place():
    """``along`` lengthens a column's crop at both ends by that × its thickness (within the page);
    the span mapping then starts above the box, so positions along the crop still land where the
    ink is."""
    import numpy as np

    from guji.ocr.engines import Engine
    from guji.ocr.recognize import CROP_ALONG, CropSource

    class Fake(Engine):
        name = "rapidocr"

    assert 0 < CROP_ALONG < 0.5
    orig = np.zeros((100, 60, 3), np.uint8)
    orig[40:60, 20:30] = 255
    src = CropSource(orig, 2.0)
    # box on the 2× image: original x 18..32 (14 wide), y 35..65; along 0.5 → y 28..72
    crop, a, k = src.crop((36, 70, 28, 60), True, Fake(), along=0.5)
    assert crop.shape[:2] == (14, 44)
    assert (a, k) == (-14.0, 2.0)  # crop pixel 0 is 7 original rows (14 detection pixels) above the box
    # the bright block starts at original row 40: crop position 12, detection pixel 10 below the box top
    u = int(np.argmax((crop == 255).any(axis=(0, 2))))
    assert u == 12 and a + k * u == 10
    # at the page's edge the crop stops at the edge
    edge, a2, _ = src.crop((36, 0, 28, 60), True, Fake(), along=0.5)
    assert edge.shape[:2] == (14, 37) and a2 == 0.0


def test_crops_through_an_affine_slice_straight_maps_and_resample_turned_ones_once():
    """A canvas's ``to_master`` as crop source: an axis-aligned scale is a slice of the master's own
    pixels (spans as with a scale); a page turned 90° in cleanup is cut from the master with one
    resampling straight to the recogniser's input height, and reads the same pixels."""
    import numpy as np

    from guji.ocr.engines import Engine
    from guji.ocr.recognize import CropSource

    class Fake(Engine):
        name = "rapidocr"

    rng = np.random.default_rng(3)
    master = rng.integers(0, 255, (100, 60), dtype=np.uint8)
    # detection image = master enlarged 2×: detection px → master px is (½, 0, 0, 0, ½, 0)
    straight = CropSource(master, to_source=(0.5, 0, 0, 0, 0.5, 0), out_height=48)
    crop, a, k = straight.crop((36, 70, 28, 60), True, Fake())
    ref, a_ref, k_ref = CropSource(master, 2.0).crop((36, 70, 28, 60), True, Fake())
    assert np.array_equal(crop, ref) and (a, k) == (a_ref, k_ref) == (0.0, 2.0)
    # the same page turned 90° clockwise by cleanup: detection (x, y) → master (y/2, 59 - x/2 + 1)
    turned_master = np.ascontiguousarray(np.rot90(master, 1))  # 60×100: the master as scanned
    # detection image of the upright page (2×) → scanned master: x_m = y_d / 2, y_m = 60 - x_d / 2
    turned = CropSource(turned_master, to_source=(0, 0.5, 0, -0.5, 0, 60), out_height=14)
    crop2, a2, k2 = turned.crop((36, 70, 28, 60), True, Fake())
    assert crop2.shape[:2] == (14, 30)  # one resampling to 14 px across = the master's own scale
    assert (a2, k2) == (0.0, 2.0)
    assert np.abs(crop2.astype(int) - ref.astype(int)).max() <= 1  # the same pixels, no blur
    # at the recogniser's height: 48 px across, length kept in proportion, spans scaled back
    crop3, a3, k3 = CropSource(turned_master, to_source=(0, 0.5, 0, -0.5, 0, 60), out_height=48).crop(
        (36, 70, 28, 60), True, Fake())
    assert crop3.shape[:2] == (48, round(60 * 48 / 28)) and a3 == 0.0 and abs(k3 - 28 / 48) < 1e-9
