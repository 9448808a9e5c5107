"""OCR stage: engines, layout, page model renderings, master coordinates, evaluation."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from guji.errors import MissingDependency

ROOT = Path(__file__).resolve().parents[1]
from helpers import SHARED  # noqa: E402 (../shared: one definition, tests/helpers.py)
SAMPLE_PAGE = ROOT / "samples/demo-batch/350000-2001-0000102/0003.tif"
SAMPLE_TRUTH = ROOT / "samples/truth/demo-batch/350000-2001-0000102/-/0003"

needs_sample = pytest.mark.skipif(not SAMPLE_PAGE.exists(), reason="samples/demo-batch not generated")
needs_shared = pytest.mark.skipif(not (SHARED / "eval/dzj-dev").is_dir(),
                                  reason="../shared/eval/dzj-dev not present (read-only shared data)")


def _read(path: Path):
    import cv2
    import numpy as np
    from PIL import Image

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        img = cv2.cvtColor(np.asarray(Image.open(path).convert("RGB")), cv2.COLOR_RGB2BGR)
    return img


@pytest.fixture(scope="module")
def engine():
    from guji.ocr.engines import get_engine

    return get_engine("rapidocr")


@pytest.fixture(scope="module")
def sample_read(engine):
    from guji.ocr.recognize import prepare, read_image

    prep = prepare(_read(SAMPLE_PAGE), "auto", engine)
    return read_image(prep, engine, direction="vertical-rtl"), prep.scale


# -- evaluation maths ------------------------------------------------------------------------

def test_edit_distance_and_cer():
    from guji.ocr.evaluate import edit_distance, page_scores

    assert edit_distance("天地玄黃", "天地玄黃") == 0
    assert edit_distance("天地黃", "天地玄黃") == 1
    assert edit_distance("天池玄黃宇", "天地玄黃") == 2
    s = page_scores("天地玄黄。\n宇宙", "天地玄黃，\n宇宙洪荒")
    assert s["cer_edits"] == 4 and s["cer_len"] == 9  # 黄/黃, 。/，, 洪 荒 missing
    assert s["cer_nopunct_len"] == 8 and s["cer_nopunct_edits"] == 3
    assert s["cer_folded_edits"] == 2  # 黄 and 黃 fold together


def test_centre_column_parsing():
    from guji.ocr.layout import chinese_number, parse_centre_column

    assert chinese_number("二十一") == 21 and chinese_number("廿三") == 23 and chinese_number("一〇五") == 105
    assert chinese_number("千字文") is None
    d = parse_centre_column(["論語卷一", "四"])
    assert (d["title"], d["juan"], d["leaf"]) == ("論語", "一", 4)
    assert "leaf" not in parse_centre_column(["千字文"])


# -- engines ---------------------------------------------------------------------------------

def test_missing_tesseract_language_pack_names_package():
    from guji.ocr.engines import TesseractEngine

    try:
        from guji.ocr.engines import tesseract_info

        tesseract_info()
    except MissingDependency:
        pytest.skip("tesseract itself is not installed")
    with pytest.raises(MissingDependency, match="tesseract-ocr-chi-sim|tesseract-ocr-xyz"):
        TesseractEngine(lang_vertical="xyz_vert")


@needs_sample
def test_tesseract_reads_one_column_crop():
    """Tesseract baseline on one crop (slow engine: only this one test)."""
    from guji.ocr.engines import TesseractEngine, tesseract_info
    from guji.ocr.evaluate import page_scores

    try:
        tesseract_info()
        eng = TesseractEngine()
    except MissingDependency as e:
        pytest.skip(str(e))
    img = _read(SAMPLE_PAGE)
    # the right-most full column of the right half-leaf, from the truth geometry
    truth = json.loads(SAMPLE_TRUTH.with_suffix(".json").read_text("utf-8"))
    fx, fy, fw, fh = truth["leaves"][0]["frame_box"]
    col_w = truth["layout"]["column_width_px"]
    crop = img[fy:fy + fh, fx + fw - 12 - 3 * col_w: fx + fw - 12 - 2 * col_w]
    res = eng.recognize([crop], vertical=True)[0]
    lines = SAMPLE_TRUTH.with_suffix(".txt").read_text("utf-8").splitlines()
    best = min(page_scores(res.text, ln)["cer"] for ln in lines if ln.strip())
    assert best < 0.5, res.text


def test_rapidocr_reads_offline():
    """Only the wheel's models are used: recognition works with the network cut off."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare not available")
    probe = subprocess.run(["unshare", "-n", "-r", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare -n not permitted here: {probe.stderr.decode(errors='replace').strip()}")
    code = (
        "import cv2, numpy as np\n"
        "from guji.ocr.engines import get_engine\n"
        "img = np.full((64, 240, 3), 255, np.uint8)\n"
        "cv2.putText(img, 'OCR 2024', (8, 46), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (0, 0, 0), 3)\n"
        "r = get_engine('rapidocr').recognize([img], vertical=False)[0]\n"
        "print(r.text)\n"
    )
    out = subprocess.run(["unshare", "-n", "-r", sys.executable, "-c", code], capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")[-2000:]
    assert "2024" in out.stdout.decode()


# -- layout and page model on a generated sample page ----------------------------------------

@needs_sample
def test_sample_page_cer_and_reading_order(sample_read):
    from guji.ocr.evaluate import page_scores
    from guji.ocr.page import PageModel

    (regions, centre, facts, kind, frame), s = sample_read
    pm = PageModel("c", "p", "i", "rapidocr", "x", kind, "zh-Hant", (1, 1), regions)
    sc = page_scores(pm.text, SAMPLE_TRUTH.with_suffix(".txt").read_text("utf-8"))
    assert sc["cer"] < 0.03, pm.text
    body = [r for r in regions if r.type == "body"]
    assert body
    for r in body:  # columns right to left
        xs = []
        for ln in r.lines:
            if not xs or xs[-1][0] != ln.column:
                xs.append((ln.column, ln.box[0] + ln.box[2] / 2))
        assert all(a[1] > b[1] for a, b in zip(xs, xs[1:]))
    truth = json.loads(SAMPLE_TRUTH.with_suffix(".json").read_text("utf-8"))
    assert facts["columns_per_half_leaf"] == truth["layout"]["columns_per_half_leaf"]
    assert facts["chars_per_column"] == truth["layout"]["chars_per_column"]
    assert centre.get("title") == "道德經"


def _alto_schema():
    import xsdcatalog  # ALTO 4.4 from tests/xsd (vendored, offline)

    return xsdcatalog.alto()


def _make_work(tmp_path: Path, image, to_master, master_size, ppi=(120.0, 120.0)) -> Path:
    import cv2

    from guji.fsutil import atomic_write_json, sha256_file
    from guji.model import Batch, Canvas, Derivative, Item, Page, Volume

    work = tmp_path / "work"
    (work / "clean/I").mkdir(parents=True)
    cv2.imwrite(str(work / "clean/I/0001.ocr.png"), image)
    page = Page("I/v1/0001", "I", "I/v1", 1, "I/0001.tif", width=master_size[0], height=master_size[1], ppi=ppi)
    batch = Batch("b", str(tmp_path), items=[Item("I", "I", volumes=[Volume("I/v1", "I", "1", 1, [page])])])
    atomic_write_json(work / "ingest/batch.json", batch.to_dict())
    h, w = image.shape[:2]
    der = Derivative("clean/I/0001.ocr.png", w, h, to_master, sha256_file(work / "clean/I/0001.ocr.png"))
    cv = Canvas("I/v1/0001", "I/v1/0001", "I", "I/v1", 1, ocr=der)
    atomic_write_json(work / "clean/canvases.json", {"canvases": [cv.to_dict()]})
    return work


def _ctx(work: Path):
    from guji.executor import SerialExecutor
    from guji.stage import StageContext
    from guji.state import StateStore

    return StageContext(work=work, store=StateStore(work), executor=SerialExecutor())


@needs_sample
def test_stage_writes_master_space_outputs_and_resumes(tmp_path):
    from guji.ocr import stage

    img = _read(SAMPLE_PAGE)
    dx, dy = 60, 90  # the OCR image is the master cropped at (dx, dy)
    crop = img[dy:, dx:]
    work = _make_work(tmp_path, crop, (1.0, 0.0, float(dx), 0.0, 1.0, float(dy)),
                      (img.shape[1], img.shape[0]))
    ctx = _ctx(work)
    res = stage.run(ctx)
    assert res.done == 1 and res.failed == 0, res.problems
    base = work / "ocr/I/v1_0001"
    d = json.loads(base.with_suffix(".json").read_text("utf-8"))
    truth = json.loads(SAMPLE_TRUTH.with_suffix(".json").read_text("utf-8"))
    fx, fy, fw, fh = truth["leaves"][0]["frame_box"]
    body_lines = [ln for r in d["regions"] if r["type"] == "body" for ln in r["lines"]]
    assert body_lines
    for ln in body_lines:  # master coordinates: every column inside the printed frame
        x, y, w, h = ln["box"]
        assert fx - 4 <= x and x + w <= fx + fw + 4 and fy - 4 <= y and y + h <= fy + fh + 4, ln["box"]
        for c in ln["chars"]:
            assert x - 1 <= c["box"][0] and c["box"][1] >= y - 1 and c["box"][1] + c["box"][3] <= y + h + 1
    tw, th = truth["layout"]["frame_px"]
    assert abs(d["layout_facts"]["frame_px"][0] - tw) <= 0.03 * tw
    assert abs(d["layout_facts"]["frame_cm"][1] - truth["layout"]["frame_cm"][1]) <= 0.6
    assert base.with_suffix(".txt").read_text("utf-8").strip() == d["text"].strip()
    assert "ocr_line" in Path(str(base) + ".hocr").read_text("utf-8")
    schema = _alto_schema()
    from lxml import etree

    schema.assertValid(etree.parse(str(base) + ".alto.xml"))
    import xsdcatalog

    xsdcatalog.page().assertValid(etree.parse(str(base) + ".page.xml"))
    ctx.store.close()
    ctx2 = _ctx(work)
    again = stage.run(ctx2)
    assert again.done == 0 and again.skipped == 1
    st = stage.status(ctx2)
    assert st["pages_done"] == 1 and st["empty_pages"] == 0 and st["mean_confidence"] > 0.8


def test_blank_page_is_empty_valid_and_flagged(tmp_path):
    import numpy as np

    from guji.ocr import stage

    rng = np.random.default_rng(7)
    blank = np.full((900, 700, 3), 235, np.uint8)
    blank = (blank.astype(np.int16) + rng.integers(-6, 6, blank.shape)).clip(0, 255).astype(np.uint8)
    work = _make_work(tmp_path, blank, (1.0, 0.0, 0.0, 0.0, 1.0, 0.0), (700, 900))
    ctx = _ctx(work)
    res = stage.run(ctx)
    assert res.done == 1 and res.failed == 0
    assert any(p.code == "ocr-empty" for p in res.problems)
    d = json.loads((work / "ocr/I/v1_0001.json").read_text("utf-8"))
    assert d["text"] == "" and "ocr-empty" in d["flags"]
    from lxml import etree

    _alto_schema().assertValid(etree.parse(str(work / "ocr/I/v1_0001.alto.xml")))
    assert stage.status(ctx)["empty_pages"] == 1


@needs_shared
def test_dzj_page_layout_beats_whole_page(engine):
    """One real woodblock page: layout-aware reading is more accurate than whole-page reading."""
    from guji.ocr.evaluate import evaluate

    d = SHARED / "eval/dzj-dev"
    lay = evaluate(d / "images", d / "gt_txt", mode="layout", pages=["YB_22_713"])["overall"]
    whole = evaluate(d / "images", d / "gt_txt", mode="page", pages=["YB_22_713"])["overall"]
    assert lay["cer_nopunct"] < 0.15  # two registers: upper register first
    assert lay["cer_nopunct"] < whole["cer_nopunct"]


def test_enhance_stretches_contrast_of_upscaled_pages():
    """Upscaled low-resolution pages are contrast-stretched and sharpened before reading."""
    import cv2
    import numpy as np

    from guji.ocr.recognize import enhance_image

    img = np.full((120, 200, 3), 170, np.uint8)  # grey paper, faint ink
    cv2.putText(img, "OCR", (10, 90), cv2.FONT_HERSHEY_SIMPLEX, 2.5, (120, 120, 120), 6)
    out = enhance_image(cv2.GaussianBlur(img, (0, 0), 1.5))
    g = out[:, :, 0]
    assert out.shape == img.shape
    assert int(np.percentile(g, 99)) >= 250 and int(np.percentile(g, 1)) <= 5  # full range
    assert (out[:, :, 0] == out[:, :, 2]).all()  # grey


def test_ink_column_cuts_big_characters_and_double_row_notes():
    """A synthetic column: two big characters, a run of small notes in two sub-columns, one big
    character. The ink cut gives big / note (right, left) / big in reading order."""
    import numpy as np

    from guji.ocr import layout as L

    pitch = 60
    ink = np.zeros((600, 200), np.uint8)
    x0, x1 = 70, 130  # the printed column
    for y in (20, 90):  # big characters: ink across the column, 50 px high
        ink[y:y + 50, 75:125] = 255
    for y in range(160, 400, 30):  # small notes: two sub-columns 20 px wide with an empty middle
        ink[y:y + 20, 76:96] = 255
        ink[y:y + 20, 104:124] = 255
    ink[430:480, 75:125] = 255
    segs = L.ink_column(ink, x0, x1, 0, 600, pitch)
    kinds = [s.kind for s in segs]
    assert kinds == ["text", "note", "note", "text"], segs
    big, right, left, last = (s.box for s in segs)
    assert big[1] <= 20 and big[1] + big[3] >= 140 and big[1] + big[3] < 160
    assert right[0] >= 100 and left[0] + left[2] <= 100  # right sub-column first
    assert 150 <= right[1] <= 165 and 385 <= right[1] + right[3] <= 405
    assert last[1] >= 400
    # one big character with a gap in its middle (人-like legs) stays one big run
    ink2 = np.zeros((200, 200), np.uint8)
    ink2[20:50, 75:125] = 255
    ink2[50:70, 75:92] = 255
    ink2[50:70, 108:125] = 255
    assert [s.kind for s in L.ink_column(ink2, x0, x1, 0, 200, pitch)] == ["text"]


def test_a_note_run_with_a_gap_in_one_sub_column_stays_one_run():
    """A character missing from the left sub-column makes a few rows look like one column of big
    characters; that short run joins a neighbour, and the two note runs around it must then be
    one run: read as two, the note came out right 1, left 1, right 2, left 2 instead of right,
    left (dzj-dev JX_165_7_75 through the pipeline: 政和元年辛卯…紹 / 興七年丁巳計二十七年 mixed;
    page CER 0.095 → 0.058)."""
    import numpy as np

    from guji.ocr import layout as L

    pitch = 60
    ink = np.zeros((420, 200), np.uint8)
    for y in range(20, 400, 30):
        ink[y:y + 20, 104:124] = 255  # right sub-column: every character
        if y != 200:
            ink[y:y + 20, 76:97] = 255  # left sub-column: one character missing
    segs = L.ink_column(ink, 70, 130, 0, 420, pitch)
    assert [s.kind for s in segs] == ["note", "note"], segs
    right, left = (s.box for s in segs)
    assert right[0] >= 100 and left[0] + left[2] <= 100
    assert right[1] <= 20 and right[1] + right[3] >= 395 and left[1] + left[3] >= 395


def _short_note_column(notes: int = 3):
    """Two big characters, a short double-row note of ``notes`` characters per sub-column, two
    big characters (60 px column pitch)."""
    import numpy as np

    ink = np.zeros((500, 200), np.uint8)
    ink[20:70, 75:125] = 255
    ink[90:140, 75:125] = 255
    for k in range(notes):
        y = 170 + 28 * k
        ink[y:y + 20, 76:96] = 255
        ink[y:y + 20, 104:124] = 255
    e = 170 + 28 * notes + 20
    ink[e:e + 50, 75:125] = 255
    ink[e + 70:e + 120, 75:125] = 255
    return ink


def test_a_short_note_run_is_cut_both_ways():
    """A note run shorter than a sure one (a glossary's 丁果切) between big characters stays a run
    of its own: one big segment whose ``alt`` holds the two sub-columns, right first."""
    from guji.ocr import layout as L

    segs = L.ink_column(_short_note_column(), 70, 130, 0, 500, 60)
    assert [s.kind for s in segs] == ["text", "text", "text"], segs
    before, run, after = segs
    assert before.alt is None and after.alt is None
    assert run.box[1] >= 140 and run.box[1] + run.box[3] <= 270
    right, left = run.alt
    assert (right.kind, left.kind) == ("note", "note")
    assert right.box[0] >= 100 and left.box[0] + left.box[2] <= 100
    assert right.box[1] == run.box[1] and right.box[3] == run.box[3]


def test_the_more_confident_way_of_reading_a_short_run_is_kept():
    from guji.ocr.engines import CharResult, LineResult
    from guji.ocr.recognize import unread_ways

    def line(text: str, p: float) -> LineResult:
        return LineResult(text, p, [CharResult(c, p, (k, k + 1)) for k, c in enumerate(text)])

    # job 0: a run read whole; jobs 1, 2: its sub-columns; job 3: another run, 4 and 5 its sub-columns
    results = [line("埵", 0.4), line("丁果", 0.9), line("切", 0.6),
               line("持此", 0.95), line("才", 0.5), line("", 0.0)]
    assert unread_ways(results, [(0, [1, 2]), (3, [4, 5])]) == {0, 4, 5}
    # nothing read either way: the run stays whole
    assert unread_ways([line("", 0.0), line("", 0.0), line("", 0.0)], [(0, [1, 2])]) == {1, 2}


def test_read_image_keeps_a_short_note_when_its_sub_columns_read_better():
    """Through ``read_image``: a column with a short note and a sure note among columns of big
    characters. A recogniser more confident on the short note's sub-columns gets them read as
    a note (right, left); one more confident on the whole run gets it read as one segment."""
    import numpy as np

    from guji.ocr.engines import CharResult, Engine, LineResult
    from guji.ocr.recognize import read_image

    class TwoWays(Engine):
        name = "two-ways-test"
        version = "1"
        has_detector = True

        def __init__(self, p_note: float):
            self.p_note = p_note

        def detect(self, img):  # one box per printed column
            return [(x - 27, 18, 54, 464) for x in (330, 270, 210, 150)]

        def recognize(self, crops, vertical):  # narrow crops are note sub-columns
            out = []
            for c in crops:
                h, w = c.shape[:2]
                n, ch, p = (max(1, h // 28), "注", self.p_note) if w < 35 else (max(1, round(h / 70)), "大", 0.6)
                out.append(LineResult(ch * n, p, [CharResult(ch, p, (h * k / n, h * (k + 1) / n)) for k in range(n)],
                                      vertical=vertical))
            return out

    img = np.full((500, 400, 3), 255, np.uint8)
    for x in (330, 270, 150):
        for y in range(20, 480, 70):
            img[y:y + 50, x - 25:x + 25] = 0
    img[20:70, 185:235] = 0
    img[194:244, 185:235] = 0
    for k, y0 in ((3, 90), (5, 264)):  # a short note, then a sure one
        for y in range(y0, y0 + 28 * k, 28):
            img[y:y + 20, 186:206] = 0
            img[y:y + 20, 214:234] = 0

    def third_column(p_note: float) -> list[tuple[str, str]]:
        regions, *_ = read_image(img, TwoWays(p_note), direction="vertical-rtl", lm="off", recall=False,
                                 rec_source="image")
        return [(ln.kind, ln.text) for r in regions for ln in r.lines if ln.column == 3]

    sure = [("note", "注注注注"), ("note", "注注注注")]
    assert third_column(0.9) == [("text", "大"), ("note", "注注"), ("note", "注注"), ("text", "大")] + sure
    assert third_column(0.3) == [("text", "大"), ("text", "大"), ("text", "大")] + sure


def test_column_pitch_ignores_note_sub_columns():
    from guji.ocr import layout as L

    big = [500 - 47 * k for k in range(8)]
    notes = [c + d for c in (500 - 47 * 8, 500 - 47 * 9) for d in (-11.75, 11.75)]
    p, phase = L.column_pitch(big + notes, [300.0] * len(big) + [100.0] * len(notes), 30, 100)
    assert abs(p - 47) < 1.0
    assert min(abs((500 - phase) % p), p - abs((500 - phase) % p)) < 2
    assert L.column_pitch([10.0, 200.0], [1.0, 1.0], 30, 100) is None


def test_column_pitch_with_few_boxes_takes_the_period_the_ink_shows():
    """Three tall boxes every fourth column (a glossary page: the rest are notes and short
    headwords) fit a period of 4/3 the column pitch perfectly; the ink of all ten columns rules it out."""
    import numpy as np

    from guji.ocr import layout as L

    centres = [29.0 + 58 * k for k in (0, 4, 8)]
    p_boxes, _ = L.column_pitch(centres, [100.0] * 3, 33.6, 105)
    assert abs(p_boxes - 232 / 3) < 0.5  # wrong: 77.3
    x = np.arange(0, 580) + 0.5
    ink = np.zeros(580)
    for k in range(10):  # every printed column has ink, 20 px wide around its centre
        ink[int(29 + 58 * k) - 10:int(29 + 58 * k) + 10] = 30
    p, phase = L.column_pitch(centres, [100.0] * 3, 33.6, 105, profile=(x, ink))
    assert abs(p - 58) < 0.5 and abs(phase - 29) < 2


@needs_sample
def test_recogniser_reads_the_master_when_asked_and_falls_back_when_it_is_gone(tmp_path):
    """``[ocr] rec_pixels = "master"``: the recogniser's crops come from the master through the
    canvas's ``to_master`` (here the OCR image is a blurred copy: reading it gives worse text), the
    master's hash is part of the page's inputs, and a master that cannot be read is a warning
    naming it, the page being read from the OCR image."""
    import cv2

    from guji.executor import SerialExecutor
    from guji.ocr import stage
    from guji.ocr.evaluate import edit_distance
    from guji.stage import StageContext
    from guji.state import StateStore

    img = _read(SAMPLE_PAGE)
    (tmp_path / "I").mkdir()
    cv2.imwrite(str(tmp_path / "I/0001.tif"), img)
    sharp = _make_work(tmp_path / "sharp", img, (1.0, 0.0, 0.0, 0.0, 1.0, 0.0), (img.shape[1], img.shape[0]))
    blurred = cv2.GaussianBlur(img, (0, 0), 3.0)

    def run(name: str, rec_pixels: str):
        work = _make_work(tmp_path / name, blurred, (1.0, 0.0, 0.0, 0.0, 1.0, 0.0), (img.shape[1], img.shape[0]))
        batch = json.loads((work / "ingest/batch.json").read_text("utf-8"))
        batch["root"] = str(tmp_path)
        (work / "ingest/batch.json").write_text(json.dumps(batch), "utf-8")
        ctx = StageContext(work=work, store=StateStore(work), executor=SerialExecutor(),
                           options={"ocr": {"rec_pixels": rec_pixels}})
        res = stage.run(ctx)
        assert res.done == 1 and res.failed == 0, res.problems
        return json.loads((work / "ocr/I/v1_0001.json").read_text("utf-8"))["text"], res, ctx

    ref_res = stage.run(_ctx(sharp))
    assert ref_res.done == 1
    ref = json.loads((sharp / "ocr/I/v1_0001.json").read_text("utf-8"))["text"]
    from_master, res, ctx = run("master", "master")
    from_blur, _, _ = run("blur", "ocr-image")
    assert edit_distance(from_master, ref) < edit_distance(from_blur, ref)
    assert not any(p.code == "ocr-master-unreadable" for p in res.problems)
    rec = ctx.store.records("ocr")[0]
    assert "master" in json.dumps(rec.inputs)
    (tmp_path / "I/0001.tif").unlink()
    _, res2, _ = run("gone", "master")
    warn = [p for p in res2.problems if p.code == "ocr-master-unreadable"]
    assert warn and "I/0001.tif" in warn[0].message


def test_frame_with_a_rule_broken_by_the_leaf_tab_is_found():
    """A facsimile page: margin labels left of the frame, and the frame's left rule broken (a leaf
    tab) into pieces shorter than a sixth of the page, 35 % of its height in all. The rules holding
    the text are the frame, so the labels stay outside it (with pieces counted from a sixth and 40 %
    required, as before, no frame was found at all)."""
    import numpy as np

    from guji.ocr import layout as L

    H, W = 600, 400
    gray = np.full((H, W), 235, np.uint8)
    gray[50:52, 60:360] = 20    # top rule
    gray[548:550, 60:360] = 20  # bottom rule
    gray[50:550, 348:350] = 20  # right rule, whole
    for y0 in (50, 250, 480):  # left rule in three pieces of 70 px: 35 % of the height, each under H/6
        gray[y0:y0 + 70, 60:62] = 20
    rng = np.random.default_rng(1)
    text = []
    for x in range(90, 330, 40):  # columns of "characters" inside the frame
        gray[70:520, x:x + 20][rng.random((450, 20)) < 0.3] = 30
        text.append((x, 70, 20, 450))
    gray[100:300, 15:35][rng.random((200, 20)) < 0.3] = 30  # a margin label outside
    text.append((15, 100, 20, 200))
    frame = L.find_frame(gray, text)
    assert frame is not None
    x, y, w, h = frame
    assert abs(x - 60) <= 2 and abs(x + w - 350) <= 2 and abs(y - 50) <= 2


def test_a_dividing_rule_under_the_last_text_is_not_the_frame():
    """A page whose text ends above a full-width dividing rule (the lower register empty, as at
    the end of a juan): the frame is the outer rules, not the upper register (which, wider than
    tall, made the layout look for a centre column in a half-leaf)."""
    import numpy as np

    from guji.ocr import layout as L

    H, W = 800, 600
    gray = np.full((H, W), 235, np.uint8)
    gray[40:42, 40:560] = 20    # top rule
    gray[760:762, 40:560] = 20  # bottom rule
    gray[400:402, 40:560] = 20  # a dividing rule across the frame
    gray[40:762, 40:42] = 20
    gray[40:762, 558:560] = 20
    rng = np.random.default_rng(2)
    text = []
    for x in range(80, 520, 40):  # text only above the dividing rule
        gray[60:380, x:x + 20][rng.random((320, 20)) < 0.3] = 30
        text.append((x, 60, 20, 320))
    x, y, w, h = L.find_frame(gray, text)
    assert abs(y - 40) <= 2 and abs(y + h - 762) <= 2 and abs(x - 40) <= 2
