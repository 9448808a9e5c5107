"""guji clean against the generated samples' truth (samples/truth/demo-batch, see samples/README.md):
skew and crop error, the spread's gutter, and every truth column inside its canvas after ingest +
clean run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from guji.clean import geometry as G
from guji.model import invert_affine, apply_affine, load_canvases
from guji.stage import StageContext
from guji.state import StateStore
from helpers import demo_cleaned

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "samples" / "demo-batch"
TRUTH = REPO / "samples" / "truth" / "demo-batch"

pytestmark = pytest.mark.skipif(not TRUTH.is_dir() or not DEMO.is_dir(),
                                reason="samples/demo-batch and its truth are not present")


def _truths():
    for f in sorted(TRUTH.glob("*/*/*.json")):
        yield f, json.loads(f.read_text("utf-8"))


def test_skew_crop_gutter_error_on_demo_batch():
    skew_err, crop_err, gutter_err = [], [], []
    for f, t in _truths():
        img = REPO / "samples" / "demo-batch" / t["file"]
        g = np.asarray(Image.open(img).convert("L"))
        h, w = g.shape
        direction = "any" if t.get("profile") == "local-document" else "vertical"
        an = G.analyse(g, expected_direction=direction)
        assert an.rotation == 0, (t["file"], an.notes)
        skew_err.append(abs(an.skew_deg - t["skew_deg"]))
        m = G.master_to_work(w, h, an.rotation, an.skew_deg)
        q = t.get("paper_quad") or [[t["paper_box"][0], t["paper_box"][1]],
                                    [t["paper_box"][0] + t["paper_box"][2], t["paper_box"][1] + t["paper_box"][3]]]
        pts = np.array([m @ np.array([x, y, 1.0]) for x, y in q])
        x0, y0, x1, y1 = pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()
        pb = an.page_box
        crop_err.append(max(abs(pb[0] - x0), abs(pb[1] - y0), abs(pb[0] + pb[2] - x1), abs(pb[1] + pb[3] - y1)))
        if t.get("spread"):
            assert an.gutter_x is not None, (t["file"], an.notes)
            gutter_err.append(abs(an.gutter_x - (m @ np.array([t["gutter_x"], h / 2, 1.0]))[0]))
        else:
            assert an.gutter_x is None, (t["file"], an.notes)
    n = len(skew_err)
    print(f"demo-batch ({n} images): mean |skew error| {np.mean(skew_err):.3f}° (max {max(skew_err):.3f}°), "
          f"mean crop edge error {np.mean(crop_err):.1f} px (max {max(crop_err):.1f}), "
          f"gutter error {gutter_err}")
    assert n >= 10
    assert np.mean(skew_err) < 0.2 and max(skew_err) < 0.3
    assert np.mean(crop_err) < 4 and max(crop_err) < 10
    assert gutter_err and max(gutter_err) < 6


def test_fishtail_turns_upside_down_leaves_and_keeps_upright_ones():
    """Full leaves with a fishtail (魚尾) in the centre column: upright ones stay, the same leaves
    turned by 180° are turned back (rotation="auto", the default), and the crop still fits the
    paper. (No false turns on the real pages: see test_clean.test_real_pages_never_cropped_into_text.)"""
    checked = 0
    for f, t in _truths():
        leaves = t.get("leaves", [])
        if t.get("spread") or len(leaves) != 1 or not (leaves[0].get("centre_column") or {}).get("fishtail_box"):
            continue
        g = np.asarray(Image.open(REPO / "samples" / "demo-batch" / t["file"]).convert("L"))
        h, w = g.shape
        up = G.analyse(g)
        assert up.rotation == 0 and up.upside_down_confidence == 0, (t["file"], up.notes)
        turned = G.analyse(np.ascontiguousarray(g[::-1, ::-1]))
        assert turned.rotation == 180, (t["file"], turned.notes)
        assert any("fishtail" in n for n in turned.notes), turned.notes
        assert abs(turned.skew_deg - t["skew_deg"]) < 0.3
        # the paper, seen through the turned master, lands where the page box says
        m = G.master_to_work(w, h, turned.rotation, turned.skew_deg)
        q = t.get("paper_quad") or [[t["paper_box"][0], t["paper_box"][1]],
                                    [t["paper_box"][0] + t["paper_box"][2], t["paper_box"][1] + t["paper_box"][3]]]
        pts = np.array([m @ np.array([w - x, h - y, 1.0]) for x, y in q])
        x0, y0, x1, y1 = pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()
        pb = turned.page_box
        err = max(abs(pb[0] - x0), abs(pb[1] - y0), abs(pb[0] + pb[2] - x1), abs(pb[1] + pb[3] - y1))
        assert err < 10, (t["file"], err)
        checked += 1
    print(f"fishtail: {checked} leaves kept upright and turned back from 180°")
    assert checked >= 10


def test_ingest_then_clean_keeps_every_column_inside_its_canvas(tmp_path_factory):
    work = demo_cleaned(tmp_path_factory)  # the session's ingest + clean of the demo batch (read only here)
    ctx2 = StageContext(work=work, store=StateStore(work))
    canv = load_canvases(work)
    by_page: dict[str, list] = {}
    for c in canv:
        by_page.setdefault(c.page_id, []).append(c)
    spread = [c for c in canv if c.part != "full"]
    assert [c.part for c in spread] == ["right", "left"]
    checked = 0
    for f, t in _truths():
        rel = t["file"]
        page = [pid for pid in by_page if ctx2.batch().page(pid).master.endswith(rel)]
        assert len(page) == 1, rel
        canvases = by_page[page[0]]
        for leaf in t.get("leaves", []):
            # the leaf's canvas: right/left for the spread, else the only one
            c = next((c for c in canvases if c.part == leaf["side"]), canvases[0])
            inv = invert_affine(c.access.to_master)
            for col in leaf["columns"]:
                x, y, w, h = col["box"]
                for px, py in ((x, y), (x + w, y), (x, y + h), (x + w, y + h)):
                    u, v = apply_affine(inv, px, py)
                    assert -1 <= u <= c.access.width + 1 and -1 <= v <= c.access.height + 1, (c.id, col["box"], u, v)
                checked += 1
    assert checked > 50
    ctx2.store.close()


BAD = REPO / "samples" / "bad-batch"


@pytest.mark.skipif(not (BAD / "qc-edge").is_dir(), reason="samples/bad-batch not present")
def test_bad_batch_qc_edge_cases_flagged_without_crash(tmp_path):
    from guji.clean.stage import run as clean_run
    from guji.ingest.stage import run as ingest_run

    expected = json.loads((REPO / "samples" / "truth" / "bad-batch" / "expected.json").read_text("utf-8"))
    rows = expected if isinstance(expected, list) else next(v for v in expected.values() if isinstance(v, list))
    want = {r["path"]: r["finding"] for r in rows if str(r.get("finding", "")).startswith("qc:")}
    assert want
    work = tmp_path / "work"
    ctx = StageContext(work=work, store=StateStore(work), batch_dir=BAD)
    ingest_run(ctx)
    res = clean_run(StageContext(work=work, store=ctx.store))
    assert res.failed == 0, res.problems
    qc = json.loads((work / "clean" / "qc" / "qc.json").read_text("utf-8"))
    flags = {p["master"]: p["flags"] for p in qc["pages"]}
    convert = {"qc-edge/0004.tif": "1-bit", "qc-edge/0005.jpg": "cmyk", "qc-edge/0006.tif": "16-bit"}
    for path, finding in want.items():
        f = flags[path]
        if finding == "qc:convert":
            assert convert[path] in f, (path, f)
        else:
            assert finding.removeprefix("qc:") in f, (path, f)
    # converted pages still get all three derivatives
    for c in load_canvases(work):
        assert (work / c.access.path).is_file() and (work / c.ocr.path).is_file()
    ctx.store.close()
