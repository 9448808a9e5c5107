"""OCR evaluation: character error rate (CER) against proofread transcriptions.

Truth format (as ``../shared/eval/dzj-dev/``): ``<page>.txt``, UTF-8, one line per printed column
in reading order. Text is compared in reading order with line breaks and spaces removed.
Three figures per page and overall (overall = total edits / total truth characters):

- ``cer``: every character, punctuation included;
- ``cer_nopunct``: punctuation (Unicode P*/S* classes) removed from both sides;
- ``cer_folded``: as ``cer_nopunct`` after folding traditional/simplified (OpenCC t2s) and common
  printed variants (卽/即, 衆/眾 …) on both sides, so a reading that differs only in form counts
  as right.
"""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path
from typing import Any

from guji.textfold import fold_variants, t2s

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".jp2", ".bmp")


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute all cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1]


def edit_ops(hyp: str, truth: str) -> dict[str, int]:
    """One minimal alignment's operations: ``missed`` (truth characters not read), ``wrong``
    (substituted) and ``extra`` (read but not in the truth)."""
    n, m = len(hyp), len(truth)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        hi, row, prev = hyp[i - 1], d[i], d[i - 1]
        for j in range(1, m + 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (hi != truth[j - 1]))
    ops = {"missed": 0, "wrong": 0, "extra": 0}
    i, j = n, m
    while i or j:
        if i and j and d[i][j] == d[i - 1][j - 1] + (hyp[i - 1] != truth[j - 1]):
            ops["wrong"] += hyp[i - 1] != truth[j - 1]
            i, j = i - 1, j - 1
        elif i and d[i][j] == d[i - 1][j] + 1:
            ops["extra"] += 1
            i -= 1
        else:
            ops["missed"] += 1
            j -= 1
    return ops


def strip_space(s: str) -> str:
    return "".join(ch for ch in s if not ch.isspace())


def strip_punct(s: str) -> str:
    return "".join(ch for ch in strip_space(s) if unicodedata.category(ch)[0] not in "PS")


def fold(s: str) -> str:
    """For the folded CER: no punctuation, traditional → simplified, variants → common form."""
    return fold_variants(t2s(strip_punct(s)))


def page_scores(hyp: str, truth: str, ops: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"chars": len(strip_space(truth))}
    for name, norm in (("cer", strip_space), ("cer_nopunct", strip_punct), ("cer_folded", fold)):
        t, h = norm(truth), norm(hyp)
        out[name + "_edits"] = edit_distance(h, t)
        out[name + "_len"] = len(t)
        out[name] = round(out[name + "_edits"] / max(1, len(t)), 4)
    if ops:
        out.update(edit_ops(strip_punct(hyp), strip_punct(truth)))
    return out


def overall(pages: list[dict[str, Any]]) -> dict[str, Any]:
    res: dict[str, Any] = {"pages": len(pages)}
    for name in ("cer", "cer_nopunct", "cer_folded"):
        e = sum(p[name + "_edits"] for p in pages)
        n = sum(p[name + "_len"] for p in pages)
        res[name] = round(e / max(1, n), 4)
    for k in ("missed", "wrong", "extra"):
        if pages and all(k in p for p in pages):
            res[k] = sum(p[k] for p in pages)
    bx = [p["boxes"] for p in pages if p.get("boxes") and p["boxes"]["matched"]]
    if bx:
        n = sum(b["matched"] for b in bx)
        res["boxes"] = {"matched": n, **{k: round(sum(b[k] * b["matched"] for b in bx) / n, 4)
                                         for k in ("iou", "iou50", "shift")}}
    secs = [p["seconds"] for p in pages if "seconds" in p]
    if secs:
        res["seconds_per_page"] = round(sum(secs) / len(secs), 3)
    return res


def box_iou(a: tuple, b: tuple) -> float:
    """Intersection over union of two ``[x, y, w, h]`` boxes."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def char_box_scores(ocr: list[tuple[str, tuple]], truth: list[tuple[str, tuple]]) -> dict[str, Any]:
    """How well OCR character boxes fit the truth's: the two character sequences (reading order)
    are aligned (difflib), and for every character read right the IoU of its box with the truth
    box is taken. ``iou`` is their mean, ``iou50`` the share above 0.5, ``matched`` their number,
    and ``shift`` the mean offset of the box centres along the larger side of the truth box,
    in truth-box sizes (negative: OCR boxes too early / high)."""
    import difflib

    sm = difflib.SequenceMatcher(None, [t for t, _ in ocr], [t for t, _ in truth], autojunk=False)
    ious, shifts = [], []
    for blk in sm.get_matching_blocks():
        for k in range(blk.size):
            ob, tb = ocr[blk.a + k][1], truth[blk.b + k][1]
            ious.append(box_iou(ob, tb))
            if tb[3] >= tb[2]:
                shifts.append(((ob[1] + ob[3] / 2) - (tb[1] + tb[3] / 2)) / max(1, tb[3]))
            else:
                shifts.append(((ob[0] + ob[2] / 2) - (tb[0] + tb[2] / 2)) / max(1, tb[2]))
    n = len(ious)
    return {"matched": n, "iou": round(sum(ious) / n, 4) if n else None,
            "iou50": round(sum(1 for v in ious if v > 0.5) / n, 4) if n else None,
            "shift": round(sum(shifts) / n, 4) if n else None}


def dzj_truth_chars(path: Path, image_size: tuple[int, int]) -> list[tuple[str, tuple]]:
    """Character boxes of a dzj-dev page record (``json/<page>.json``: original-resolution
    pixels), scaled to the image (width, height), in reading order (block, column, character).
    Empty when the image is not the record's page scaled (aspect ratios differ by > 2 %: one
    dzj-dev image, JX_165_7_12, is a crop)."""
    import json

    d = json.loads(Path(path).read_text("utf-8"))
    W, H = image_size
    if abs((W / H) / (float(d["width"]) / float(d["height"])) - 1) > 0.02:
        return []
    k = W / float(d["width"])
    chars = sorted(d.get("chars") or [], key=lambda c: (c.get("block_no", 0), c.get("column_no", 0),
                                                         c.get("char_no", 0)))
    return [(c["txt"], (c["x"] * k, c["y"] * k, c["w"] * k, c["h"] * k)) for c in chars if c.get("txt")]


def find_pairs(images: Path, truth: Path) -> list[tuple[Path, Path]]:
    pairs = []
    for img in sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_EXTS):
        t = truth / (img.stem + ".txt")
        if t.is_file():
            pairs.append((img, t))
    return pairs


def evaluate(images: Path, truth: Path, *, engine: str = "rapidocr", mode: str = "layout",
             direction: str = "vertical-rtl", upscale: Any = "auto",
             pages: list[str] | None = None, ops: bool = False, boxes: Path | None = None,
             enhance: bool | None = None, shift: int = 0, **read_opts: Any) -> dict[str, Any]:
    """Run OCR over every image that has a truth file; CER per page and overall, seconds per page.
    ``ops`` adds missed/wrong/extra character counts (punctuation removed); ``boxes``, a folder of
    dzj-style page records (``<page>.json`` with character boxes), adds character-box IoU
    (:func:`char_box_scores`); ``shift`` > 0 moves every page that many pixels right and down (a
    border of replicated edge pixels: no character changes) to see how much the figures move;
    ``read_opts`` go to :func:`~guji.ocr.recognize.read_image`."""
    import cv2

    from guji.ocr.engines import get_engine
    from guji.ocr.recognize import prepare, read_image
    from guji.ocr.page import PageModel

    eng = get_engine(engine)
    results = []
    for img_path, truth_path in find_pairs(Path(images), Path(truth)):
        if pages and img_path.stem not in pages:
            continue
        t0 = time.perf_counter()
        img = cv2.imread(str(img_path), cv2.IMREAD_COLOR)
        if img is None:
            results.append({"page": img_path.stem, "error": "unreadable image"})
            continue
        if shift:
            img = cv2.copyMakeBorder(img, shift, 0, shift, 0, cv2.BORDER_REPLICATE)
        prep = prepare(img, upscale, eng, enhance=enhance)
        regions, _, _, kind, _ = read_image(prep, eng, mode=mode, direction=direction, **read_opts)
        pm = PageModel("", "", "", eng.name, eng.version, kind, "", (img.shape[1], img.shape[0]), regions)
        hyp = pm.text
        dt = time.perf_counter() - t0
        row = {"page": img_path.stem, **page_scores(hyp, truth_path.read_text("utf-8"), ops), "seconds": round(dt, 3)}
        rec = Path(boxes) / (img_path.stem + ".json") if boxes else None
        if rec is not None and rec.is_file():
            k = 1.0 / prep.scale
            ocr = [(c.text, (c.box[0] * k - shift, c.box[1] * k - shift, c.box[2] * k, c.box[3] * k))
                   for ln in pm.lines() for c in ln.chars]
            truth_chars = dzj_truth_chars(rec, (img.shape[1] - shift, img.shape[0] - shift))
            if truth_chars:
                row["boxes"] = char_box_scores(ocr, truth_chars)
        results.append(row)
    ok = [r for r in results if "error" not in r]
    return {"engine": engine, "mode": mode, "direction": direction, "overall": overall(ok),
            "pages": results}
