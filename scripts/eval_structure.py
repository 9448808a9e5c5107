#!/usr/bin/env python3
"""Accuracy of juan / leaf reading from the centre column (版心), per canvas, against the truth.

    python scripts/eval_structure.py WORK [WORK …]        # work folders after `guji run --until structure`
    python scripts/eval_structure.py --dzj ../shared/eval/dzj-dev

For every canvas of a sample batch (truth: samples/truth/demo-batch/…/<stem>.json leaves, or
samples/truth/leaf-batch/expected.json pages) it compares four readings of (juan, leaf):

- ``ocr-stage``: what the OCR stage's own parse put in ``centre_column`` (juan, leaf);
- ``pieces``: guji.structure.centre.read_centre on the OCR stage's centre-column text, best reading;
- ``reread``: the same plus the structure stage's re-reading of the crop, best reading;
- ``decoded``: the label the sequence analysis decided (WORK/structure/<item>.json).

``--dzj`` runs OCR on the real pages of dzj-dev whose transcription's first line carries a
centre-column / margin mark (juan and leaf number: 卷苐五 苐六張, 十八 …) and reports whether the
reading finds them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from guji import numerals  # noqa: E402
from guji.model import load_batch, load_canvases, ocr_json_path  # noqa: E402
from guji.structure.centre import read_centre  # noqa: E402
from guji.structure.model import load_item_structure  # noqa: E402
from guji.structure.stage import DEFAULTS, centre_pieces, find_and_read, reread_engine, with_reread  # noqa: E402


def truth_for(batch_id: str, master: str, part: str, truth_root: Path) -> tuple[str | None, int] | None:
    item, *rest = master.split("/")
    leaf_json = truth_root / "leaf-batch" / "expected.json"
    if leaf_json.is_file():
        exp = json.loads(leaf_json.read_text("utf-8"))
        for p in exp["pages"]:
            if p["file"] == master:
                return p["juan"] or None, p["leaf"]
    vol = rest[0] if len(rest) == 2 else "-"
    f = truth_root / "demo-batch" / item / vol / (Path(master).stem + ".json")
    if not f.is_file():
        return None
    t = json.loads(f.read_text("utf-8"))
    leaves = t.get("leaves") or []
    if not leaves:
        return None
    lf = leaves[1] if part == "left" else leaves[0]
    return lf["juan"] or None, lf["leaf"]


def label(r) -> tuple[str | None, int | None]:
    if r is None:
        return (None, None)
    return (r.juan.label() if r.juan else None, r.leaf.number if r.leaf else None)


def evaluate(work: Path, truth_root: Path) -> dict[str, list[int]]:
    batch = load_batch(work)
    pages = {p.id: p for p in batch.pages(ok_only=False)}
    engine = reread_engine(DEFAULTS)
    score: dict[str, list[int]] = {k: [0, 0, 0] for k in ("ocr-stage", "pieces", "reread", "decoded")}
    for c in load_canvases(work):
        page = pages[c.page_id]
        want = truth_for(batch.id, page.master, c.part, truth_root)
        if want is None:
            continue
        model = json.loads(ocr_json_path(work, c.item_id, c.id).read_text("utf-8"))
        cc = model.get("centre_column") or {}
        j = cc.get("juan")
        stage = (("卷" + j) if j else None, cc.get("leaf"))
        pieces = centre_pieces(model)
        rd = read_centre(pieces)
        if pieces:
            rr = with_reread(rd, pieces, engine, work / c.ocr.path, model, c.ocr.to_master)
        else:
            rr, _ = find_and_read(engine, work / c.ocr.path)
        st = load_item_structure(work, c.item_id)
        cs = next(x for x in st.canvases if x.canvas == c.id) if st else None
        dec = ((cs.juan or {}).get("label"), (cs.leaf or {}).get("number")) if cs else (None, None)
        got = {"ocr-stage": stage, "pieces": label(rd[0] if rd else None), "reread": label(rr[0] if rr else None),
               "decoded": dec}
        for k, g in got.items():
            score[k][0] += int(g[0] == want[0])
            score[k][1] += int(g[1] == want[1])
            score[k][2] += 1
        print(f"{page.master:<44}{c.part:<6} truth {want}  " + "  ".join(f"{k}={g}" for k, g in got.items()))
    return score


# real pages whose transcription's first line is the page's juan / leaf mark (the sutra editions
# print it in the margin of each page, the Qianlong canon with the case mark of the 千字文 order:
# 道一 十八 = case 道, juan 一, leaf 十八); (juan number or None, leaf)
DZJ_MARKS = {"GL_1056_5_6": (5, 6), "QL_25_16": (1, 18), "QL_25_416": (3, 19)}


def dzj(root: Path) -> None:
    """Real pages: OCR each page with a juan / leaf mark and look for the mark in any line."""
    import cv2

    from guji.ocr.engines import get_engine
    from guji.ocr.recognize import prepare, read_image

    engine = get_engine("rapidocr")
    found_leaf = 0
    for stem, (juan, leaf) in DZJ_MARKS.items():
        img = cv2.imread(str(root / "images" / f"{stem}.jpg"))
        up, _s = prepare(img, "auto", engine)
        regions, _centre, _facts, _kind, _frame = read_image(up, engine, direction="vertical-rtl")
        lines = [(r.type, ln.text) for r in regions for ln in r.lines]
        leaves = {r.leaf.number for _t, text in lines for r in read_centre(text.split()) if r.leaf}
        ok = leaf in leaves
        found_leaf += int(ok)
        near = [t for t in lines if re.search("[" + numerals.NUMERAL_CHARS + "]", t[1]) and len(t[1]) <= 8]
        print(f"{stem:<14} mark juan {juan} leaf {leaf}: short numeral lines read {near[:6]} -> "
              f"{'leaf found' if ok else 'leaf not found'}")
    print(f"dzj-dev pages with a juan/leaf mark: {len(DZJ_MARKS)}, leaf number found in the OCR: {found_leaf}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("work", nargs="*", type=Path)
    ap.add_argument("--truth", type=Path, default=REPO / "samples" / "truth")
    ap.add_argument("--dzj", type=Path, default=None)
    args = ap.parse_args(argv)
    total: dict[str, list[int]] = {}
    for w in args.work:
        for k, v in evaluate(w, args.truth).items():
            t = total.setdefault(k, [0, 0, 0])
            for i in range(3):
                t[i] += v[i]
    for k, (j, lf, n) in total.items():
        print(f"{k:<10} juan {j}/{n} = {j / max(n, 1):.3f}   leaf {lf}/{n} = {lf / max(n, 1):.3f}")
    if args.dzj:
        dzj(args.dzj)
    return 0


if __name__ == "__main__":
    sys.exit(main())
