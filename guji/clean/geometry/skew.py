"""Detector: skew angle from projection profiles of the ink."""

from __future__ import annotations

import math

import numpy as np

def estimate_skew(ink: np.ndarray, max_deg: float = 8.0) -> tuple[float, float] | None:
    """Correction angle (deg, ccw) maximising the sharpness of row and column projections of the ink.

    Returns (angle, strength) or None when there is too little ink. Projection profiles of the
    rotated ink coordinates are computed with bincount (no image rotation), coarse then fine with a
    parabolic refinement of the peak.
    """
    ys, xs = np.nonzero(ink)
    if len(xs) < 200:
        return None
    if len(xs) > 50_000:  # the cost is in the bincounts: O(points) per angle tried
        step = len(xs) // 50_000 + 1
        ys, xs = ys[::step], xs[::step]
    x = xs.astype(np.float64) - ink.shape[1] / 2
    y = ys.astype(np.float64) - ink.shape[0] / 2
    off = float(max(ink.shape)) * 1.5
    # the coarse 0.4° scan only has to find the peak's neighbourhood: fewer points
    cstep = max(1, len(x) // 15_000)
    xc, yc = x[::cstep], y[::cstep]

    def score(deg: float, x: np.ndarray = x, y: np.ndarray = y) -> float:
        t = math.radians(deg)
        c, s = math.cos(t), math.sin(t)
        xr = (x * c + y * s + off).astype(np.int64)
        yr = (-x * s + y * c + off).astype(np.int64)
        hx = np.bincount(xr)
        hy = np.bincount(yr)
        return float(np.dot(hx, hx) + np.dot(hy, hy))

    coarse = np.arange(-max_deg, max_deg + 1e-9, 0.4)
    sc = np.array([score(a, xc, yc) for a in coarse])
    best = float(coarse[int(np.argmax(sc))])
    fine = np.arange(best - 0.32, best + 0.32 + 1e-9, 0.04)  # the peak is within ±0.2° of the coarse best
    sf = np.array([score(a) for a in fine])
    # light smoothing against bin aliasing, then a parabola through the peak
    sfs = np.convolve(sf, np.ones(3) / 3, mode="same")
    sfs[0], sfs[-1] = sf[0], sf[-1]
    i = int(np.argmax(sfs))
    ang = float(fine[i])
    if 0 < i < len(fine) - 1:
        y0, y1, y2 = sfs[i - 1], sfs[i], sfs[i + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            ang += 0.04 * 0.5 * (y0 - y2) / den
    strength = float(sc.max() / max(np.median(sc), 1.0))
    return ang, strength
