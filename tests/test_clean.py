"""guji clean: geometry accuracy on synthetic pages with known truth, exact to_master mapping,
spreads, rotation, bad pages, resumability and the QC outputs; real pages from ../shared."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from guji.clean import geometry as G
from guji.clean.stage import run as clean_run
from guji.clean.stage import status as clean_status
from guji.fsutil import atomic_write_json, sha256_file
from guji.model import Batch, Item, Page, Volume, apply_affine, load_canvases
from guji.stage import StageContext
from guji.state import StateStore
from helpers import SHARED
from synthpages import make_page

DZJ = SHARED / "eval" / "dzj-dev"


def truth_in_work(truth: dict, rotation_found: int, skew_found: float, w: int, h: int):
    """Truth page box → work space of the analysis (the synth turns about the canvas centre)."""
    ww, wh = G.work_size(w, h, rotation_found, skew_found)
    cw, ch = truth["canvas_size"]
    ox, oy = (ww - cw) / 2, (wh - ch) / 2
    x, y, bw, bh = truth["page_box"]
    return (x + ox, y + oy, bw, bh), ox


# -- geometry accuracy ---------------------------------------------------------------------------

CASES = [(1.3, 0), (-2.7, 1), (0.45, 2), (-0.15, 3), (4.2, 4), (-5.6, 5), (0.0, 6), (2.05, 7)]


def test_skew_and_crop_accuracy_on_synthetic_pages():
    skew_err, crop_err = [], []
    for skew, seed in CASES:
        img, truth = make_page(seed=seed, skew_deg=skew, width=900, height=1300, bed_px=90)
        gray = np.asarray(Image.fromarray(img).convert("L"))
        an = G.analyse(gray)
        assert an.rotation == 0, (skew, an.notes)
        skew_err.append(abs(an.skew_deg - skew))
        tb, _ = truth_in_work(truth, 0, an.skew_deg, gray.shape[1], gray.shape[0])
        crop_err.append(max(abs(an.page_box[i] - tb[i]) for i in range(2))
                        + 0 * 1)
        crop_err.append(max(abs(an.page_box[0] + an.page_box[2] - tb[0] - tb[2]),
                            abs(an.page_box[1] + an.page_box[3] - tb[1] - tb[3])))
    mean_skew, mean_crop = float(np.mean(skew_err)), float(np.mean(crop_err))
    print(f"synthetic pages: mean |skew error| {mean_skew:.3f}°, max {max(skew_err):.3f}°; "
          f"mean crop edge error {mean_crop:.1f} px, max {max(crop_err):.1f} px")
    assert mean_skew < 0.2 and max(skew_err) < 0.3
    assert mean_crop < 6 and max(crop_err) < 15


def test_spread_gutter_and_rotation_detection():
    for seed, skew in ((11, 0.6), (12, -1.4)):
        img, truth = make_page(seed=seed, skew_deg=skew, spread=True, width=700, height=1000, bed_px=70)
        gray = np.asarray(Image.fromarray(img).convert("L"))
        an = G.analyse(gray)
        _, ox = truth_in_work(truth, 0, an.skew_deg, gray.shape[1], gray.shape[0])
        assert an.gutter_x is not None, an.notes
        print(f"spread gutter error {abs(an.gutter_x - (truth['gutter_x'] + ox)):.1f} px")
        assert abs(an.gutter_x - (truth["gutter_x"] + ox)) < 8
    # single pages are not split
    img, _ = make_page(seed=13, skew_deg=1.0, width=700, height=1000)
    assert G.analyse(np.asarray(Image.fromarray(img).convert("L"))).gutter_x is None
    # a page turned 90° (text lines horizontal) is turned upright, also with skew
    for seed, rot in ((14, 90), (15, 270)):
        img, _ = make_page(seed=seed, skew_deg=1.5, width=700, height=1000, rotation=rot)
        an = G.analyse(np.asarray(Image.fromarray(img).convert("L")))
        assert an.rotation in (90, 270) and an.text_direction == "vertical", an.notes
        assert abs(an.skew_deg - 1.5) < 0.2
    # 180°: judged from ragged column ends (pages with short columns); flagged by default,
    # turned with rotation="auto180"
    img, _ = make_page(seed=16, width=700, height=1000, rotation=180, fill=0.3)
    g = np.asarray(Image.fromarray(img).convert("L"))
    an = G.analyse(g)
    assert an.rotation == 0 and an.upside_down_confidence > 0.6
    assert G.analyse(g, rotation_mode="auto180").rotation == 180
    img, _ = make_page(seed=17, width=700, height=1000, rotation=0, fill=0.3)
    an = G.analyse(np.asarray(Image.fromarray(img).convert("L")), rotation_mode="auto180")
    assert an.rotation == 0 and an.upside_down_confidence == 0


# -- the stage end to end ------------------------------------------------------------------------

def _page(root: Path, item: str, vol: str, seq: int, arr: np.ndarray | Image.Image, *, fmt: str = "TIFF",
          ppi: int = 600, **save) -> Page:
    rel = f"{item}/{vol}/{seq:04d}.{'tif' if fmt == 'TIFF' else 'png' if fmt == 'PNG' else 'jpg'}"
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    im = arr if isinstance(arr, Image.Image) else Image.fromarray(arr)
    im.save(path, fmt, dpi=(ppi, ppi), **save)
    with Image.open(path) as im2:
        mode, (w, h) = im2.mode, im2.size
        comp = im2.info.get("compression")
    bits = {"1": 1, "I;16": 16, "I;16B": 16}.get(mode, 8)
    return Page(id=f"{item}/{vol}/{seq:04d}", item_id=item, volume_id=f"{item}/{vol}", seq=seq, master=rel,
                sha256=sha256_file(path), size=path.stat().st_size, format=fmt, width=w, height=h, bit_depth=bits,
                mode=mode, ppi=(ppi, ppi), compression=comp)


def _batch(root: Path, work: Path, items: dict[str, tuple[str, list[Page]]], config: dict | None = None) -> StageContext:
    its = []
    for iid, (profile, pages) in items.items():
        vols: dict[str, list[Page]] = {}
        for p in pages:
            vols.setdefault(p.volume_id, []).append(p)
        its.append(Item(id=iid, folder=iid, profile=profile,
                        volumes=[Volume(id=v, item_id=iid, label=v.split("/")[-1], seq=i + 1, pages=ps)
                                 for i, (v, ps) in enumerate(vols.items())]))
    b = Batch(id="t", root=str(root), config=config or {}, items=its)
    atomic_write_json(work / "ingest" / "batch.json", b.to_dict())
    return StageContext(work=work, store=StateStore(work))


def _markers(img: np.ndarray, pts: list[tuple[int, int]]) -> np.ndarray:
    img = img.copy()
    for x, y in pts:
        img[y - 3:y + 4, x - 3:x + 4] = (255, 0, 0)
    return img


def _find_red(arr: np.ndarray) -> list[tuple[float, float]]:
    import cv2

    m = ((arr[..., 0] > 180) & (arr[..., 1] < 90) & (arr[..., 2] < 90)).astype(np.uint8)
    n, _, stats, cents = cv2.connectedComponentsWithStats(m)
    return [(float(c[0]) + 0.5, float(c[1]) + 0.5) for c, s in zip(cents[1:], stats[1:]) if s[4] >= 6]


def test_stage_end_to_end_to_master_resume_and_qc(tmp_path):
    root, work = tmp_path / "batch", tmp_path / "work"
    pts = [(300, 400), (700, 1100), (1500, 300), (1700, 1150)]
    spread, _ = make_page(seed=21, skew_deg=1.2, spread=True, width=900, height=1250, bed_px=60)
    spread = _markers(spread, pts)
    single, single_truth = make_page(seed=22, skew_deg=-0.8, width=900, height=1250, bed_px=60)
    mk1 = [(300, 350), (800, 1100)]
    single = _markers(single, mk1)
    turned, _ = make_page(seed=23, skew_deg=0.5, width=900, height=1250, bed_px=60, rotation=90)
    mk2 = [(400, 300), (1100, 800)]
    turned = _markers(turned, mk2)
    rb = [_page(root, "RB", "v1", 1, single), _page(root, "RB", "v1", 2, spread), _page(root, "RB", "v1", 3, turned)]
    ld = [_page(root, "LD", "v1", 1, spread, fmt="PNG", ppi=200)]
    ctx = _batch(root, work, {"RB": ("rare-book", rb), "LD": ("local-document", ld)})
    res = clean_run(ctx)
    assert res.failed == 0 and res.done == 4, res.problems
    canv = load_canvases(work)
    ids = [c.id for c in canv]
    assert ids == ["RB/v1/0001", "RB/v1/0002-r", "RB/v1/0002-l", "RB/v1/0003", "LD/v1/0001-l", "LD/v1/0001-r"]
    assert [c.order for c in canv] == [1, 2, 3, 4, 1, 2]
    assert canv[3].rotation in (90, 270)
    # the printed frame (版框) is recorded per whole page, for OCR's layout (fractions of the canvas)
    fr, acc = canv[0].frame, canv[0].access
    assert fr is not None and all(0 <= v <= 1 for v in fr), fr
    tw, th = single_truth["frame_box"][2:]
    assert abs(fr[2] * acc.width - tw) <= 0.02 * tw and abs(fr[3] * acc.height - th) <= 0.02 * th, (fr, acc)
    assert canv[1].frame is None and canv[2].frame is None  # halves of a spread: the frame spans both
    # to_master is exact: markers found in each derivative map back to where they were drawn
    expect = {"RB/v1/0001": mk1, "RB/v1/0002": pts, "RB/v1/0003": mk2, "LD/v1/0001": pts}
    found: dict[str, list] = {}
    for c in canv:
        for d in (c.access, c.ocr):
            if d is c.ocr:
                continue  # the OCR image is grey; its mapping is checked below through the access one
            arr = np.asarray(Image.open(work / d.path).convert("RGB"))
            assert arr.shape[1] == d.width and arr.shape[0] == d.height
            for x, y in _find_red(arr):
                found.setdefault(c.page_id, []).append(apply_affine(d.to_master, x, y))
    for pid, want in expect.items():
        got = found[pid]
        assert len(got) == len(want), (pid, got)
        for wx, wy in want:
            dist = min(np.hypot(gx - (wx + 0.5), gy - (wy + 0.5)) for gx, gy in got)
            assert dist < 1.5, (pid, wx, wy, dist)
    # OCR and thumbnail mappings agree with the access mapping at the image corners
    for c in canv:
        for d in (c.ocr, c.thumbnail):
            for u, v in ((0, 0), (d.width, d.height)):
                mx, my = apply_affine(d.to_master, u, v)
                ax, ay = apply_affine(c.access.to_master, u * c.access.width / d.width, v * c.access.height / d.height)
                # to_master entries are stored rounded to 9 decimals: at ~2000 px that is ~2e-6 px
                assert abs(mx - ax) < 1e-5 and abs(my - ay) < 1e-5
        ocr = Image.open(work / c.ocr.path)
        assert ocr.mode == "L" and ocr.size == (c.ocr.width, c.ocr.height)
    # QC outputs: the local document at 200 ppi is below its 300 ppi minimum; PNG rare-book rules do not apply
    qc = json.loads((work / "clean" / "qc" / "qc.json").read_text("utf-8"))
    flags = {p["canvas"]: p["flags"] for p in qc["pages"]}
    assert "ppi<300" in flags["LD/v1/0001-l"] and "not-uncompressed-tiff" not in flags["LD/v1/0001-l"]
    assert "ppi<600" not in flags["RB/v1/0001"] and "rotated" in flags["RB/v1/0003"]
    rows = list(csv.DictReader(open(work / "clean" / "qc" / "reshoot.csv", encoding="utf-8")))
    assert {r["canvas"] for r in rows} >= {"LD/v1/0001-l", "LD/v1/0001-r"}
    html = (work / "clean" / "qc" / "report.html").read_text("utf-8")
    assert "ppi&lt;300" in html or "ppi<300" in html
    st = clean_status(ctx)
    assert st["canvases"] == 6 and st["reshoot_pages"] >= 1
    # resume: nothing redone, same bytes
    before = (work / "clean" / "canvases.json").read_bytes()
    ctx.store.close()
    ctx2 = StageContext(work=work, store=StateStore(work))
    res2 = clean_run(ctx2)
    assert res2.done == 0 and res2.skipped == 4
    assert (work / "clean" / "canvases.json").read_bytes() == before
    # a QC threshold change re-decides flags without re-rendering
    ctx2.config = {"clean": {"qc": {"local-document": {"min_ppi": 150}}}}
    res3 = clean_run(ctx2)
    assert res3.done == 0
    qc = json.loads((work / "clean" / "qc" / "qc.json").read_text("utf-8"))
    assert "ppi<300" not in {f for p in qc["pages"] for f in p["flags"]}
    # an image parameter change redoes the pages
    ctx2.options = {"clean": {"ocr_mode": "binary"}}
    assert clean_run(ctx2).done == 4
    assert set(np.unique(np.asarray(Image.open(work / load_canvases(work)[0].ocr.path)))) <= {0, 255}
    ctx2.store.close()


def test_bad_pages_flagged_or_clear_error(tmp_path):
    root, work = tmp_path / "batch", tmp_path / "work"
    rng = np.random.default_rng(3)
    good, _ = make_page(seed=30, width=500, height=700, bed_px=40)
    pages = [
        _page(root, "B", "v1", 1, np.zeros((600, 400, 3), np.uint8)),                  # all black
        _page(root, "B", "v1", 2, np.full((600, 400, 3), 255, np.uint8)),             # all white
        _page(root, "B", "v1", 3, np.full((10, 12, 3), 200, np.uint8)),                # tiny
        _page(root, "B", "v1", 4, Image.fromarray(good).convert("1")),                 # 1-bit
        _page(root, "B", "v1", 5, Image.fromarray(good).convert("CMYK")),              # CMYK
        _page(root, "B", "v1", 6, Image.fromarray((np.asarray(Image.fromarray(good).convert("L")).astype(np.uint16)
                                                   * 257 + rng.integers(0, 200, (good.shape[0], good.shape[1])).astype(np.uint16)))),
        _page(root, "B", "v1", 7, good),
        _page(root, "B", "v1", 8, np.full((5, 4, 3), 200, np.uint8)),                 # too small to clean
    ]
    ctx = _batch(root, work, {"B": ("rare-book", pages)})
    res = clean_run(ctx)
    assert res.done == 7 and res.failed == 1
    err = [p for p in res.problems if p.severity == "error"]
    assert len(err) == 1 and "B/v1/0008.tif" in err[0].message and "too small" in err[0].message
    qc = json.loads((work / "clean" / "qc" / "qc.json").read_text("utf-8"))
    flags = {p["page_id"]: p["flags"] for p in qc["pages"]}
    assert "blank" in flags["B/v1/0001"] and "clipped-shadows" in flags["B/v1/0001"]
    assert "blank" in flags["B/v1/0002"] and "clipped-highlights" in flags["B/v1/0002"]
    assert "1-bit" in flags["B/v1/0004"] and "bit-depth<24" in flags["B/v1/0004"]
    assert "cmyk" in flags["B/v1/0005"]
    assert "16-bit" in flags["B/v1/0006"] and "bit-depth<24" in flags["B/v1/0006"]
    assert "blank" not in flags["B/v1/0007"] and "bit-depth<24" not in flags["B/v1/0007"]
    assert "too-small" in flags["B/v1/0003"] and "size-outlier" in flags["B/v1/0003"]
    assert "B/v1/0008" not in flags
    for c in load_canvases(work):
        assert (work / c.access.path).stat().st_size > 0
    ctx.store.close()


def test_near_duplicate_pages_are_flagged(tmp_path):
    root, work = tmp_path / "batch", tmp_path / "work"
    a, _ = make_page(seed=40, width=600, height=850, bed_px=50, skew_deg=0.3)
    b, _ = make_page(seed=40, width=600, height=850, bed_px=50, skew_deg=-0.4)  # same leaf shot again
    c, _ = make_page(seed=41, width=600, height=850, bed_px=50)
    d, _ = make_page(seed=42, width=600, height=850, bed_px=50)
    pages = [_page(root, "D", "v1", i + 1, x) for i, x in enumerate((a, b, c, d))]
    ctx = _batch(root, work, {"D": ("rare-book", pages)})
    clean_run(ctx)
    qc = json.loads((work / "clean" / "qc" / "qc.json").read_text("utf-8"))
    dup = {p["page_id"]: [f for f in p["flags"] if f.startswith("near-duplicate")] for p in qc["pages"]}
    assert dup["D/v1/0001"] == ["near-duplicate:D/v1/0002"] and dup["D/v1/0002"] == ["near-duplicate:D/v1/0001"]
    assert dup["D/v1/0003"] == [] and dup["D/v1/0004"] == []
    ctx.store.close()


# -- real pages ------------------------------------------------------------------------------------

@pytest.mark.shared
@pytest.mark.skipif(not DZJ.is_dir(), reason=f"reference pages not found at {DZJ} (../shared/ absent)")
def test_real_pages_never_cropped_into_text():
    names = sorted(p.stem for p in (DZJ / "images").glob("*.jpg"))
    assert names
    checked = found_90 = 0
    for n in names:
        gray = np.asarray(Image.open(DZJ / "images" / f"{n}.jpg").convert("L"))
        h, w = gray.shape
        js = json.loads((DZJ / "json" / f"{n}.json").read_text("utf-8"))
        s = w / js["width"]
        if abs(h / (js["height"] * s) - 1) > 0.02:
            print(f"{n}: image {w}x{h} does not have the JSON's aspect ({js['width']}x{js['height']}); not checked")
            continue
        checked += 1
        an = G.analyse(gray)
        assert an.rotation == 0, (n, an.notes)  # all are upright
        turned = G.analyse(np.ascontiguousarray(np.rot90(gray)))
        assert turned.rotation in (0, 90, 270), n
        found_90 += turned.rotation in (90, 270)
        m2w = G.master_to_work(w, h, an.rotation, an.skew_deg)
        cx, cy, cw, ch = an.crop_box
        halves = [(cx, cx + cw)]
        if an.gutter_x is not None:
            halves = [(cx, an.gutter_x), (an.gutter_x, cx + cw)]
        for col in js["columns"]:
            x0, y0, x1, y1 = col["x"] * s, col["y"] * s, (col["x"] + col["w"]) * s, (col["y"] + col["h"]) * s
            pts = [m2w @ np.array([x, y, 1.0]) for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))]
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            assert min(ys) >= cy - 0.5 and max(ys) <= cy + ch + 0.5, (n, col["column_id"])
            assert any(min(xs) >= a - 0.5 and max(xs) <= b + 0.5 for a, b in halves), (n, col["column_id"], halves)
    assert checked >= 10
    print(f"real pages: {found_90}/{checked} turned by 90° recognised as turned; none cropped into text")
    assert found_90 >= 0.7 * checked


def test_icc_profiles_converted_or_flagged(tmp_path):
    from PIL import ImageCms

    from guji.clean.derivatives import load_master

    arr = np.zeros((40, 50, 3), np.uint8)
    arr[:, :, 0] = 200
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(arr).save(tmp_path / "a.png", icc_profile=srgb)
    out, flags, notes = load_master(tmp_path / "a.png")
    assert flags == [] and any("ICC" in n for n in notes) and abs(int(out[0, 0, 0]) - 200) <= 2
    Image.fromarray(arr).save(tmp_path / "b.png", icc_profile=b"not a profile at all")
    out, flags, notes = load_master(tmp_path / "b.png")
    assert flags == ["icc-unusable"] and out.shape == (40, 50, 3)
    cmyk = Image.fromarray(arr).convert("CMYK")
    cmyk.save(tmp_path / "c.jpg")
    out, flags, _ = load_master(tmp_path / "c.jpg")
    assert flags == ["cmyk"] and out.ndim == 3 and out[0, 0, 0] > 150 and out[0, 0, 1] < 60
