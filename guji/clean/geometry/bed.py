"""Detector: the paper against a dark scanner bed (page mask)."""

from __future__ import annotations

import numpy as np

def find_bed(g: np.ndarray) -> tuple[np.ndarray | None, float]:
    """Paper mask when a dark scanner bed surrounds the page, else None. Returns (mask, contrast 0..1)."""
    import cv2

    blur = cv2.GaussianBlur(g, (0, 0), 2)
    t, mask = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    h, w = g.shape
    b = max(2, min(h, w) // 100)
    border = np.concatenate([blur[:b].ravel(), blur[-b:].ravel(), blur[:, :b].ravel(), blur[:, -b:].ravel()])
    dark_border = float(np.mean(border < t))
    if dark_border < 0.5:
        return None, 0.0
    n_paper = cv2.countNonZero(mask)
    paper_mean = float(cv2.mean(blur, mask)[0]) if n_paper else 0.0
    bed_mean = float(cv2.mean(blur, cv2.bitwise_not(mask))[0]) if n_paper < h * w else 255.0
    contrast = (paper_mean - bed_mean) / 255.0
    if contrast < 0.15 or not n_paper:
        return None, contrast
    k = max(3, min(h, w) // 150) | 1
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    # fill the paper: close ink holes (text is dark too) with a big kernel
    # (on a quarter-size copy: cheap, and only the paper's outline matters)
    q = cv2.resize(mask, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    kk = max(3, min(h, w) // 160) | 1
    q = cv2.morphologyEx((q > 127).astype(np.uint8) * 255, cv2.MORPH_CLOSE, np.ones((kk, kk), np.uint8))
    mask = mask | cv2.resize(q, (w, h), interpolation=cv2.INTER_NEAREST)
    # keep the big pieces of paper: components found on the quarter-size copy (16× fewer pixels;
    # small specks vanish there and are dropped with the components they do not belong to)
    qm = cv2.resize(mask, (q.shape[1], q.shape[0]), interpolation=cv2.INTER_AREA)
    n, lab, stats, _ = cv2.connectedComponentsWithStats((qm > 127).astype(np.uint8), connectivity=8)
    if n <= 1:
        return None, contrast
    areas = stats[1:, cv2.CC_STAT_AREA]
    big = areas.max()
    qa = q.shape[0] * q.shape[1]
    keep = [i + 1 for i, a in enumerate(areas) if a >= 0.15 * big and a >= 0.02 * qa]
    if not keep:
        return None, contrast
    lut = np.zeros(n, np.uint8)
    lut[keep] = 255
    sel = cv2.dilate(lut[lab], np.ones((3, 3), np.uint8))  # a quarter pixel of slack at the edges
    out = mask & cv2.resize(sel, (w, h), interpolation=cv2.INTER_NEAREST)
    return out, contrast
