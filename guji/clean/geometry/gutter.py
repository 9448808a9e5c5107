"""Detector: the gutter of a two-page spread."""

from __future__ import annotations

from typing import Any

import numpy as np

from guji.clean.geometry.masks import colsum, runs

def find_gutter(g: Any, text: np.ndarray, paper: np.ndarray | None, box: tuple[int, int, int, int],
                min_aspect: float, vl: np.ndarray | None = None) -> tuple[float | None, str]:
    """x of the gutter of a two-page spread inside ``box`` (deskewed analysis image), or None.

    A spread is wider than tall (``min_aspect``) and has, in its central band, a vertical strip
    that no text crosses and that is wider than the gaps between columns; a dark fold shadow or a
    strip of scanner bed in it places the gutter, else its middle does.
    """
    x, y, w, h = box
    if w < min_aspect * h or w < 200 or h < 100:
        return None, "not wide (or too small to tell)"
    sub = text[y:y + h, x:x + w]
    prof = colsum(sub).astype(np.float64)
    if prof.sum() == 0:
        return None, "no text"
    thr = 0.01 * max(np.percentile(prof, 95), 1)
    empty = prof <= thr
    lo, hi = int(w * 0.35), int(w * 0.65)
    gaps = [(a, b) for a, b in runs(empty) if b > lo and a < hi]
    if not gaps:
        return None, "text crosses the centre"
    a, b = max(gaps, key=lambda r: r[1] - r[0])
    inner = [r[1] - r[0] for r in runs(empty[int(w * 0.1):int(w * 0.9)])]
    typical = float(np.median(inner)) if inner else 0.0
    if (b - a) < max(0.03 * w, 2.5 * typical):
        return None, "no gap wider than the column gaps"
    left, right = prof[:a].sum(), prof[b:].sum()
    if min(left, right) < 0.15 * max(left, right):
        return None, "text on one side only"
    a0, b0 = max(a, 0), min(b, w)
    if callable(g):  # the deskewed grey image, made only when a spread is likely
        g = g()
    # printed frames of the two pages stand in the strip: the gutter lies between them
    if vl is not None:
        vprof = colsum(vl[y:y + h, x + a0:x + b0])
        groups = runs(vprof >= 0.3 * h)
        span = b0 - a0
        mid = span / 2
        fold = [r for r in groups if abs((r[0] + r[1]) / 2 - mid) < 0.12 * span]
        frames = [r for r in groups if r not in fold]
        lft = [r for r in frames if (r[0] + r[1]) / 2 < mid]
        rgt = [r for r in frames if (r[0] + r[1]) / 2 >= mid]
        za = max(r[1] for r in lft) + 2 if lft else 0
        zb = min(r[0] for r in rgt) - 2 if rgt else span
        if fold:
            c = min(fold, key=lambda r: abs((r[0] + r[1]) / 2 - mid))
            return x + a0 + (c[0] + c[1]) / 2, "fold line"
        if zb - za >= 3:
            a0, b0 = a0 + za, a0 + zb
    if paper is not None:
        pcol = paper[y:y + h, x + a0:x + b0].mean(axis=0) if b0 > a0 else np.array([])
        bedcols = np.nonzero(pcol < 128)[0] if pcol.size else []
        if len(bedcols):
            return x + a0 + float(np.mean(bedcols)) + 0.5, "bed strip"
    band = g[y + h // 10:y + h - h // 10, x + a0:x + b0].astype(np.float64)
    if band.shape[1] >= 7:
        col = band.mean(axis=0)
        k = max(3, band.shape[1] // 15)
        cs = np.convolve(np.pad(col, k // 2, mode="edge"), np.ones(k) / k, mode="valid")[:len(col)]
        m = int(np.argmin(cs))
        if np.percentile(cs, 90) - cs[m] > 12:
            # centre of the shadow: the middle of where it is darker than halfway to the paper
            half = (np.percentile(cs, 90) + cs[m]) / 2
            lo_, hi_ = m, m
            while lo_ > 0 and cs[lo_ - 1] < half:
                lo_ -= 1
            while hi_ < len(cs) - 1 and cs[hi_ + 1] < half:
                hi_ += 1
            return x + a0 + (lo_ + hi_ + 1) / 2, "fold shadow"
    return x + (a0 + b0) / 2, "blank strip"
