"""Re-reading the leaf number in the centre column's crop (through the OCR engine's public
interface: ``recognize``).

Why: the OCR stage reads every text box of a column turned by 90° (right for columns of
characters), but a leaf number is often a single small character in a squarish box: turned, 二 and
三 come out as ``11`` and ``1``, and a lone 一 is often not detected at all. Here the part of the
centre column below the title/juan line is cropped from the OCR image, its ink is cut into
groups (row projection, without rules and fishtail) and each group is read both upright and
turned; every
reading that parses as a leaf number becomes a candidate, costed by the recogniser's confidence.
The sequence analysis then picks among them.
"""

from __future__ import annotations

from typing import Any

from guji.model import apply_affine, invert_affine


def ink_groups(crop: Any, cw: float) -> list[tuple[int, int, int, int]]:
    """Boxes ``(x, y, w, h)`` of the ink groups in a centre-column crop, top to bottom: characters
    (strokes closer than half the centre text's width belong together: 二, stacked 十二), without the column's
    rules, the frame lines and the solid fishtail."""
    import cv2
    import numpy as np

    g = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    _, bw = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    k = max(3, int(0.85 * cw))
    horiz = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 1)))
    vert = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(3, int(1.5 * cw)))))
    ink = cv2.subtract(bw, cv2.bitwise_or(horiz, vert))
    rows = (ink > 0).sum(axis=1)
    on = rows >= 2
    runs: list[list[int]] = []
    gap_max = max(2, int(0.5 * cw))
    y = 0
    n = len(on)
    while y < n:
        if not on[y]:
            y += 1
            continue
        y0 = y
        while y < n and on[y]:
            y += 1
        if runs and y0 - runs[-1][1] <= gap_max:
            runs[-1][1] = y
        else:
            runs.append([y0, y])
    out = []
    for y0, y1 in runs:
        cols = np.nonzero((ink[y0:y1] > 0).sum(axis=0))[0]
        if cols.size == 0:
            continue
        x0, x1 = int(cols[0]), int(cols[-1]) + 1
        w, h = x1 - x0, y1 - y0
        if w < 0.15 * cw or w * h < 12:
            continue
        fill = float((ink[y0:y1, x0:x1] > 0).mean())
        if fill > 0.6 and w > 0.7 * cw:  # solid block: a fishtail or black mouth (黑口)
            continue
        out.append((x0, y0, w, h))
    return out


def leaf_pieces(engine: Any, img: Any, model: dict[str, Any], to_master: Any) -> list[tuple[str, float]]:
    """Candidate leaf-number texts with a cost (0 = confident), best first; [] when nothing found."""
    import numpy as np

    reg = next((r for r in model.get("regions") or [] if r.get("type") == "centre-column"), None)
    if reg is None or not reg.get("lines"):
        return []
    inv = invert_affine(tuple(to_master))
    x, _y, w, _h = reg["box"]
    first = reg["lines"][0]["box"]
    top = first[1] + first[3]
    x0, y0 = apply_affine(inv, x, top)
    x1, _ = apply_affine(inv, x + w, top)
    H, W = img.shape[:2]
    cw = max(1.0, x1 - x0)
    pad = 0.25 * cw
    cx0, cx1 = max(0, int(x0 - pad)), min(W, int(x1 + pad))
    cy0, cy1 = max(0, int(y0 + 0.2 * cw)), int(H * 0.97)
    if cx1 - cx0 < 4 or cy1 - cy0 < 4:
        return []
    crop = np.ascontiguousarray(img[cy0:cy1, cx0:cx1])
    crops = []
    groups = ink_groups(crop, cw)
    # each group, and each two neighbouring groups together (a number whose strokes lie apart)
    boxes = list(groups) + [_union(a, b) for a, b in zip(groups, groups[1:]) if b[1] - (a[1] + a[3]) < 1.2 * cw]
    for bx, by, bw, bh in boxes:
        m = max(3, int(0.15 * cw))
        c = crop[max(0, by - m):by + bh + m, max(0, bx - m):bx + bw + m]
        crops += [np.ascontiguousarray(c), np.ascontiguousarray(np.rot90(c))]
    out: dict[str, float] = {}
    for r in engine.recognize(crops, vertical=False) if crops else []:
        t = (r.text or "").strip()
        if not t:
            continue
        cost = round(0.6 * (1.0 - float(r.confidence)), 3)
        if t not in out or out[t] > cost:
            out[t] = cost
    return sorted(out.items(), key=lambda kv: (kv[1], kv[0]))


def _union(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return x0, y0, x1 - x0, y1 - y0
