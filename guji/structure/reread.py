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


def find_centre(img: Any) -> tuple[int, int, int, int] | None:
    """The centre column ``(x, y, w, h)`` of a full leaf in ``img`` when the OCR layout found none
    (few text boxes, e.g. the last leaf of a juan): the two long vertical rules on either side of
    the middle of the frame (the frame = the outermost long vertical rules)."""
    import cv2
    import numpy as np

    g = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    H, W = g.shape[:2]
    if W < 1.1 * H * 0.5:
        return None
    _, bw = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    lines = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, int(0.4 * H))))
    prof = (lines > 0).sum(axis=0)
    xs = np.nonzero(prof >= 0.4 * H)[0]
    if xs.size < 4:
        return None
    # merge neighbouring columns of one rule
    rules: list[list[int]] = []
    for x in xs.tolist():
        if rules and x - rules[-1][-1] <= 2:
            rules[-1].append(x)
        else:
            rules.append([x])
    centres = [sum(r) / len(r) for r in rules]
    left, right = centres[0], centres[-1]
    if right - left < 0.5 * W:
        return None
    mid = (left + right) / 2
    pairs = [(a, b) for a, b in zip(centres, centres[1:]) if a < mid < b and 0.02 * (right - left) < b - a < 0.15 * (right - left)]
    if not pairs:
        return None
    a, b = pairs[0]
    ys = np.nonzero(lines[:, int(round(a))] > 0)[0]
    if ys.size == 0:
        return None
    x0, x1 = int(a) + 2, int(b) - 1
    return x0, int(ys[0]), max(1, x1 - x0), int(ys[-1] - ys[0])


def read_strip(engine: Any, img: Any, box: tuple[int, int, int, int]) -> list[tuple[list[str], float]]:
    """Pieces of a centre column found by :func:`find_centre`, top to bottom: every ink group read
    upright and turned, the more confident reading first; alternatives swap in one group's other
    reading. Returns ``[(pieces, cost)]``, best first."""
    import numpy as np

    x, y, w, h = box
    crop = np.ascontiguousarray(img[y:y + h, x:x + w])
    groups = ink_groups(crop, 0.6 * w)
    if not groups:
        return []
    m = max(2, int(0.1 * w))
    crops = []
    for bx, by, bw, bh in groups:
        c = np.ascontiguousarray(crop[max(0, by - m):by + bh + m, max(0, bx - m):bx + bw + m])
        crops += [c, np.ascontiguousarray(np.rot90(c))]
    reads = engine.recognize(crops, vertical=False)
    per: list[list[tuple[str, float]]] = []
    for k in range(len(groups)):
        opts = [((r.text or "").strip(), float(r.confidence)) for r in reads[2 * k:2 * k + 2]]
        opts = sorted([o for o in opts if o[0]], key=lambda o: -o[1])
        if opts:
            per.append(opts)
    if not per:
        return []
    base = [o[0] for o in per]
    out = [([t for t, _ in base], round(0.6 * sum(1 - c for _, c in base), 3))]
    for k, opts in enumerate(per):
        for t, c in opts[1:]:
            alt = list(base)
            alt[k] = (t, c)
            out.append(([a for a, _ in alt], round(0.6 * sum(1 - cc for _, cc in alt), 3)))
    # stray marks above the title (nothing but strokes or punctuation) are dropped; a last piece
    # may be a stray mark too: the variant without it is a candidate as well
    import re

    def trim(pieces: list[str]) -> list[str]:
        while pieces and re.fullmatch(r"[\W_0-9A-Za-z一丨]*", pieces[0]) and len(pieces) > 1:
            pieces = pieces[1:]
        return pieces

    more = []
    for pieces, cost in out:
        pieces = trim(pieces)
        more.append((pieces, cost))
        if len(pieces) > 2:
            more.append((pieces[:-1], round(cost + 0.3, 3)))
    seen, uniq = set(), []
    for pieces, cost in sorted(more, key=lambda o: o[1]):
        if tuple(pieces) not in seen:
            seen.add(tuple(pieces))
            uniq.append((pieces, cost))
    return uniq
