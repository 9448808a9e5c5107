"""The committed sample batches agree with their committed truth (no font needed), and the
generator reproduces them byte for byte (needs the font; skipped without it)."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
DEMO = SAMPLES / "demo-batch"
BAD = SAMPLES / "bad-batch"
TRUTH = SAMPLES / "truth" / "demo-batch"
FONT = Path("/usr/share/fonts/truetype/arphic/uming.ttc")
IMAGE_EXT = {".jpg", ".jpeg", ".tif", ".tiff", ".png", ".jp2"}

ITEM_A = "350000-2001-0000101"
ITEM_B = "350000-2001-0000102"
ITEM_C = "350000-2001-0000103"


def truths() -> list[dict]:
    out = []
    for p in sorted(TRUTH.rglob("*.json")):
        t = json.loads(p.read_text("utf-8"))
        t["_path"] = p
        out.append(t)
    return out


ALL = truths()
BOOKS = [t for t in ALL if t["profile"] == "rare-book"]


def image_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXT)


def inside(box, w, h, tol=0):
    x, y, bw, bh = box
    return x >= -tol and y >= -tol and x + bw <= w + tol and y + bh <= h + tol and bw > 0 and bh > 0


def contains(outer, inner, tol=2):
    return (inner[0] >= outer[0] - tol and inner[1] >= outer[1] - tol
            and inner[0] + inner[2] <= outer[0] + outer[2] + tol
            and inner[1] + inner[3] <= outer[1] + outer[3] + tol)


def test_every_image_has_truth_and_vice_versa():
    imgs = {p.relative_to(DEMO).as_posix() for p in image_files(DEMO)}
    truth_files = {t["file"] for t in ALL}
    assert imgs == truth_files
    assert len(imgs) >= 12
    for t in ALL:
        rel = Path(t["file"])
        vol = rel.parts[1] if len(rel.parts) == 3 else "-"
        assert t["_path"] == TRUTH / rel.parts[0] / vol / (rel.stem + ".json")
        assert t["_path"].with_suffix(".txt").exists()


@pytest.mark.parametrize("t", ALL, ids=[t["file"] for t in ALL])
def test_image_header_matches_truth(t):
    with Image.open(DEMO / t["file"]) as im:
        assert list(im.size) == t["image_size"]
        assert im.format == t["format"]
        assert im.mode == "RGB"
        dpi = im.info.get("dpi")
        assert dpi is not None and round(float(dpi[0])) == t["ppi"]
        if im.format == "TIFF":
            assert im.info.get("compression") in ("tiff_adobe_deflate", "tiff_lzw")


@pytest.mark.parametrize("t", BOOKS, ids=[t["file"] for t in BOOKS])
def test_book_truth_geometry(t):
    w, h = t["image_size"]
    lay = t["layout"]
    pitch, colw = lay["pitch_px"], lay["column_width_px"]
    th = math.radians(abs(t["skew_deg"]))
    assert inside(t["paper_box"], w, h)
    lines = []
    prev_leaf_x = None
    for leaf in t["leaves"]:
        assert inside(leaf["frame_box"], w, h)
        assert contains(t["paper_box"], leaf["frame_box"])
        # leaves in reading order: right-hand leaf first
        if prev_leaf_x is not None:
            assert leaf["frame_box"][0] < prev_leaf_x
        prev_leaf_x = leaf["frame_box"][0]
        cc = leaf["centre_column"]
        assert contains(leaf["frame_box"], cc["box"])
        assert cc["text"] == cc["title"] + cc["juan"] + cc["leaf_label"]
        assert "".join(ch["text"] for ch in cc["chars"]) == cc["text"]
        prev_x = None
        for col in leaf["columns"]:
            box = col["box"]
            assert contains(leaf["frame_box"], box), col["slot"]
            cx = box[0] + box[2] / 2
            if prev_x is not None:  # right to left
                assert cx < prev_x
            prev_x = cx
            # the column's height in cells follows from its text (notes: two per half cell)
            cells = 0.0
            for seg in col["segments"]:
                if seg["kind"] == "main":
                    cells += len(seg["text"])
                elif seg["kind"] == "note-right":
                    cells += len(seg["text"]) / 2
            notes = [s for s in col["segments"] if s["kind"].startswith("note")]
            for r, l in zip(notes[::2], notes[1::2]):
                assert (r["kind"], l["kind"]) == ("note-right", "note-left")
                assert 0 <= len(r["text"]) - len(l["text"]) <= 1  # right sub-column read first
            assert math.isclose(cells, col["cells"], abs_tol=0.5)
            assert cells <= lay["chars_per_column"]
            h0, w0 = col["cells"] * pitch, colw
            exp_w = w0 * math.cos(th) + h0 * math.sin(th)
            exp_h = h0 * math.cos(th) + w0 * math.sin(th)
            assert abs(box[2] - exp_w) <= 2.5 and abs(box[3] - exp_h) <= 2.5
            assert "".join(s["text"] for s in col["segments"]) == col["text"]
            assert len(col["chars"]) == len(col["text"])
            assert "".join(c["text"] for c in col["chars"]) == col["text"]
            for c in col["chars"]:
                assert contains(box, c["box"], tol=3)
            lines.append(col["text"])
    # .txt: body columns in reading order, centre column excluded
    txt = t["_path"].with_suffix(".txt").read_text("utf-8")
    assert txt == "\n".join(lines) + "\n"
    assert txt.rstrip("\n") == t["text"]
    # characters are at OCR-realistic size
    assert 44 <= lay["char_px"] <= 50


def test_local_document_truth():
    docs = [t for t in ALL if t["profile"] == "local-document"]
    assert len(docs) >= 1
    for t in docs:
        w, h = t["image_size"]
        ys = []
        for ln in t["lines"]:
            assert inside(ln["box"], w, h)
            assert "".join(c["text"] for c in ln["chars"]) == ln["text"]
            xs = [c["box"][0] for c in ln["chars"]]
            assert xs == sorted(xs)  # left to right
            ys.append(ln["box"][1])
        assert ys == sorted(ys)  # top to bottom
        assert t["_path"].with_suffix(".txt").read_text("utf-8") == "\n".join(ln["text"] for ln in t["lines"]) + "\n"
        assert any(ln["kind"] == "header" for ln in t["lines"])


def test_demo_batch_shape():
    vols = {p.name: len(image_files(p)) for p in (DEMO / ITEM_A).iterdir() if p.is_dir()}
    assert vols == {"v01": 5, "v02": 4}
    assert len(image_files(DEMO / ITEM_B)) == 3 and not any(p.is_dir() for p in (DEMO / ITEM_B).iterdir())
    spreads = [t for t in BOOKS if t["spread"]]
    assert [t["file"].split("/")[0] for t in spreads] == [ITEM_A]
    s = spreads[0]
    right, left = s["leaves"]
    assert right["side"] == "right" and left["side"] == "left"
    assert left["frame_box"][0] + left["frame_box"][2] < s["gutter_x"] < right["frame_box"][0]
    skewed = {t["file"].split("/")[0]: t["skew_deg"] for t in BOOKS if t["skew_deg"]}
    assert 1.5 <= abs(skewed[ITEM_A]) <= 2.5
    assert 0.5 <= abs(skewed[ITEM_B]) <= 2.5 and skewed[ITEM_A] * skewed[ITEM_B] < 0
    assert any(seg["kind"] == "note-right" for t in BOOKS for lf in t["leaves"] for c in lf["columns"]
               for seg in c["segments"])
    formats = {t["format"] for t in ALL}
    assert {"JPEG", "TIFF", "PNG"} <= formats
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 16_000_000


def test_records_and_structure_agree_with_folders():
    rows = list(csv.DictReader((DEMO / "records.csv").open(encoding="utf-8-sig")))
    ids = {r["普查编号"] or r["本地编号"] for r in rows}
    folders = {p.name for p in DEMO.iterdir() if p.is_dir()}
    assert ids == folders
    frame_cm = BOOKS[0]["layout"]["half_leaf_frame_cm"]
    for r in rows:
        if r["文献类型"] == "古籍":
            assert r["尺寸"] == f"匡高{frame_cm[1]:.1f}厘米，廣{frame_cm[0]:.1f}厘米"
            n_vols = sum(1 for p in (DEMO / r["普查编号"]).iterdir() if p.is_dir()) or 1
            assert r["册数"] == f"{n_vols}册"
    assert {r["访问级别"] for r in rows if r["普查编号"] == ITEM_C} == {"限制"}
    # frame height at the stored resolution is a plausible 18-22 cm
    assert 18 <= frame_cm[1] <= 22
    st = list(csv.DictReader((DEMO / ITEM_A / "structure.csv").open(encoding="utf-8")))
    assert [r["juan"] for r in st] == ["卷一", "卷二", "卷三"]
    for r in st:
        assert (DEMO / ITEM_A / r["volume"] / r["file"]).is_file()
    # the centre column of each juan's first leaf names that juan
    by_file = {t["file"]: t for t in BOOKS}
    for r in st:
        t = by_file[f"{ITEM_A}/{r['volume']}/{r['file']}"]
        assert t["leaves"][0]["centre_column"]["juan"] == r["juan"]
        assert t["leaves"][0]["centre_column"]["leaf"] == 1


def test_pixels_agree_with_truth():
    """Decode two pages: the frame lines are dark where the truth puts them, the scanner bed
    outside the paper is dark, the gutter of the spread is darker than the paper beside it."""
    by_file = {t["file"]: t for t in BOOKS}
    t = by_file[f"{ITEM_A}/v01/0002.jpg"]
    g = np.asarray(Image.open(DEMO / t["file"]).convert("L"), np.float32)
    px, py, pw, ph = t["paper_box"]
    assert g[:py, :].mean() < 80 and g[py + 20 : py + 120, px + 20 : px + 120].mean() > 150
    gx = t["gutter_x"]
    mid = slice(py + ph // 3, py + 2 * ph // 3)
    assert g[mid, gx - 3 : gx + 4].mean() < g[mid, gx - 60 : gx - 50].mean() - 30
    for leaf in t["leaves"]:
        fx, fy, fw, fh = leaf["frame_box"]
        edge = g[fy + 50 : fy + fh - 50, fx : fx + 4].mean()
        outside = g[fy + 50 : fy + fh - 50, fx - 30 : fx - 10].mean()
        assert edge < outside - 60
    # skewed page: the frame's top edge rises/falls as the truth's angle says
    t = next(t for t in BOOKS if t["file"].startswith(ITEM_A) and t["skew_deg"])
    g = np.asarray(Image.open(DEMO / t["file"]).convert("L"), np.float32)
    quad = t["leaves"][0]["frame_quad"]
    (x0, y0), (x1, y1) = quad[0], quad[1]
    for frac in (0.2, 0.8):
        x = int(x0 + frac * (x1 - x0))
        y = y0 + frac * (y1 - y0)
        col = g[int(y) - 12 : int(y) + 13, x]
        assert abs(int(np.argmin(col)) - 12) <= 4
    assert math.isclose(math.degrees(math.atan2(-(y1 - y0), x1 - x0)), t["skew_deg"], abs_tol=0.05)


def test_bad_batch_defects_are_present():
    exp = json.loads((SAMPLES / "truth" / "bad-batch" / "expected.json").read_text("utf-8"))["expected"]
    codes = {e["finding"] for e in exp}
    for code in ("truncated-image", "zero-byte-file", "not-an-image", "decompression-bomb",
                 "unsupported-format", "duplicate-image", "page-number-gap", "duplicate-page-number",
                 "unicode-normalisation-twins", "no-record", "record-without-images", "ok"):
        assert code in codes
    for e in exp:
        if e["finding"] != "record-without-images":
            assert (BAD / e["path"]).exists(), e["path"]
    f = BAD / "350000-2001-0000202"
    assert (f / "0002.jpg").stat().st_size == 0
    assert (f / "0006.jpg").read_bytes() == (f / "0007.jpg").read_bytes()
    assert not (f / "0001.jpg").read_bytes().endswith(b"\xff\xd9")
    with Image.open(f / "0004.jpg") as im:
        assert im.size[0] * im.size[1] > 3_000_000
    with pytest.raises(Exception):
        Image.open(f / "0003.tif")
    names = [p.name for p in (BAD / "350000-2001-0000203").iterdir()]
    twins = [n for n in names if n.startswith("0006")]
    assert len(twins) == 2 and len({unicodedata.normalize("NFC", n) for n in twins}) == 1
    rows = list(csv.DictReader((BAD / "records.csv").open(encoding="utf-8-sig")))
    ids = {r["普查编号"] or r["本地编号"] for r in rows}
    folders = {p.name for p in BAD.iterdir() if p.is_dir()}
    assert "350000-2001-0000299" in folders - ids and "350000-2001-0000298" in ids - folders
    modes = {}
    for p in (BAD / "qc-edge").iterdir():
        with Image.open(p) as im:
            modes[p.name] = (im.mode, im.size)
    assert modes["0003.png"][1] == (40, 30)
    assert modes["0004.tif"][0] == "1" and modes["0005.jpg"][0] == "CMYK"
    assert modes["0006.tif"][0].startswith("I;16")
    assert "max_pixels = 3000000" in (BAD / "batch.toml").read_text("utf-8")


@pytest.mark.skipif(not FONT.exists(), reason=f"font {FONT} (fonts-arphic-uming) not installed: cannot regenerate")
def test_regeneration_is_byte_identical(tmp_path):
    # one JPEG leaf with its truth, one LZW TIFF leaf, the 16-bit deflate TIFF (libtiff pad byte)
    pats = [f"demo-batch/{ITEM_C}/*", f"demo-batch/{ITEM_B}/0003.tif", "bad-batch/qc-edge/0006.tif"]
    cmd = [sys.executable, str(REPO / "scripts" / "make_samples.py"), "--out", str(tmp_path)]
    for p in pats:
        cmd += ["--only", p]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert f"demo-batch/{ITEM_C}/0001.jpg" in written
    assert f"truth/demo-batch/{ITEM_C}/-/0001.json" in written
    assert len(written) == 7
    for rel in written:
        assert (tmp_path / rel).read_bytes() == (SAMPLES / rel).read_bytes(), rel
