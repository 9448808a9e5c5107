"""Detectors: upside-down pages, from ragged line ends and from the fishtail (魚尾) of a woodblock leaf."""

from __future__ import annotations

import numpy as np

from guji.clean.geometry.direction import char_size
from guji.clean.geometry.frame import find_frame
from guji.clean.geometry.masks import colsum, rowsum, runs

def upside_down(text: np.ndarray, direction: str) -> tuple[bool, float]:
    """Guess whether a page is upside down from ragged line ends (honest heuristic).

    Lines of text start at the same place (top for vertical columns, left for horizontal rows)
    and end raggedly (short last lines, paragraph ends). If the ends are markedly better aligned
    than the starts the page is probably rotated 180°. Returns (flip, confidence 0..1); confidence
    is low on fully justified pages, where nothing can be said.
    """
    if direction == "horizontal":
        text = text.T
    elif direction != "vertical":
        return False, 0.0
    prof = colsum(text)
    if prof.max() == 0:
        return False, 0.0
    cols = [r for r in runs(prof > 0.02 * prof.max()) if r[1] - r[0] >= 2]
    if len(cols) < 4:
        return False, 0.0
    starts, ends = [], []
    for a, b in cols:
        rs = rowsum(text[:, a:b])
        rows = np.nonzero(rs >= max(1, 0.1 * (b - a)))[0]
        if len(rows) < 3:
            continue
        starts.append(rows[0])
        ends.append(rows[-1])
    if len(starts) < 4:
        return False, 0.0
    starts_a, ends_a = np.array(starts, float), np.array(ends, float)
    span = max(float(ends_a.max() - starts_a.min()), 1.0)
    ms = float(np.median(np.abs(starts_a - np.median(starts_a)))) / span
    me = float(np.median(np.abs(ends_a - np.median(ends_a)))) / span
    # mean deviations catch a few short lines that the median ignores
    ds = float(np.mean(np.abs(starts_a - np.median(starts_a)))) / span
    de = float(np.mean(np.abs(ends_a - np.median(ends_a)))) / span
    a, b = ms + ds, me + de
    if max(a, b) < 0.08:  # both sides aligned (justified text, or rules left in): nothing to say
        return False, 0.0
    conf = abs(a - b) / max(a + b, 1e-6)
    return (a > b and conf > 0.5), conf


FISHTAIL_CONFIDENCE = 0.9


def fishtail_vote(gw: np.ndarray, text: np.ndarray, hl: np.ndarray, vl: np.ndarray) -> tuple[int, str]:
    """Upright (+1), upside down (−1) or no evidence (0) from the fishtail (魚尾) of a woodblock leaf.

    A full leaf has its centre column (版心) in the middle of the printed frame, between two long
    rules; its single fishtail (單魚尾) is a solid dark wedge spanning the column's width, in the
    upper part of the frame, with a V notch in its lower edge. Upside down, it sits in the lower
    part with the notch on top. Both the position and the notch must agree, and every candidate
    must agree (two fishtails facing each other, 對魚尾, say nothing). Pages without such a
    centre column (half leaves, sutras, modern documents) give no vote.
    """
    import cv2

    fr = find_frame(hl, vl)
    cs = char_size(text, "vertical")
    if fr is None or not cs:
        return 0, "no frame or columns"
    fx, fy, fw, fh = (int(round(v)) for v in fr)
    if fw < 20 or fh < 20:
        return 0, "frame too small"
    # the centre column: the gap between long vertical rules that holds the frame's middle
    rules = runs(colsum(vl[fy:fy + fh, fx:fx + fw]) >= 0.5 * fh)
    mid = fw / 2
    strip = None
    for (a0, a1), (b0, b1) in zip(rules, rules[1:]):
        if a1 <= mid <= b0 and 0.5 * cs <= b0 - a1 <= 4 * cs and a1 >= 0.35 * fw and b0 <= 0.65 * fw:
            strip = (a1 + 1, b0 - 1)
    if strip is None or strip[1] - strip[0] < 5:
        return 0, "no centre column (版心)"
    sw = strip[1] - strip[0]
    sub = gw[fy:fy + fh, fx + strip[0]:fx + strip[1]]
    _, dark = cv2.threshold(np.ascontiguousarray(sub), 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, lab, st, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    votes = []
    for i in range(1, n):
        x, y, w, h, a = (int(v) for v in st[i])
        if w < 0.7 * sw or not 0.25 * sw <= h <= 1.5 * sw or a < 0.6 * w * h:
            continue
        blob = lab[y:y + h, x:x + w] == i
        notch = float(blob[: h // 2].mean() - blob[h - h // 2:].mean())  # > 0: notch in the lower edge
        r = (y + h / 2) / fh
        if r < 0.4 and notch > 0.08:
            votes.append(1)
        elif r > 0.6 and notch < -0.08:
            votes.append(-1)
    if not votes or len(set(votes)) > 1:
        return 0, "no single fishtail (魚尾) found" if not votes else "fishtails disagree"
    where = "upper" if votes[0] > 0 else "lower"
    return votes[0], f"fishtail (魚尾) in the {where} part of the centre column (版心)"
