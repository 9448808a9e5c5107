"""Detectors: text-line direction (vertical columns or horizontal rows) and character size."""

from __future__ import annotations

import numpy as np

from guji.clean.geometry.masks import colsum, proj_percentile, rowsum, runs

def text_direction(text: np.ndarray) -> tuple[str, float]:
    """Dominant text-line direction of (deskewed, line-free) ink: vertical columns or horizontal rows.

    Lines of text leave clean gaps across the page *between* lines, while characters inside a
    line sit close together, so the projection perpendicular to the lines has many empty bins.
    Returns (direction, margin) where margin is the difference of empty-bin fractions.
    """
    px, py = colsum(text), rowsum(text)
    if px.sum() < 300:
        return "unknown", 0.0
    x0, x1 = proj_percentile(px, [1, 99])
    y0, y1 = proj_percentile(py, [1, 99])
    region = text[int(y0):int(y1) + 1, int(x0):int(x1) + 1]
    if region.shape[0] < 20 or region.shape[1] < 20:
        return "unknown", 0.0

    def empty(p: np.ndarray) -> float:
        k = max(1, len(p) // 150)
        if k > 1:
            p = np.convolve(p, np.ones(k) / k, mode="same")
        return float(np.mean(p <= 0.03 * max(np.percentile(p, 90), 1e-9)))

    # vote over tiles, so blank parts of the page (half-empty leaves) do not look like line gaps
    n = 3
    th, tw = region.shape[0] / n, region.shape[1] / n
    total, weight = 0.0, 0.0
    for i in range(n):
        for j in range(n):
            sub = region[int(i * th):int((i + 1) * th), int(j * tw):int((j + 1) * tw)]
            fill = float(sub.mean()) if sub.size else 0.0
            if fill < 0.01 or min(sub.shape) < 15:
                continue
            d = empty(colsum(sub).astype(np.float64)) - empty(rowsum(sub).astype(np.float64))
            total += d * sub.sum()
            weight += sub.sum()
    if weight == 0:
        return "unknown", 0.0
    margin = total / weight
    if abs(margin) < 0.05:
        return "unknown", margin
    return ("vertical" if margin > 0 else "horizontal"), margin


def char_size(text: np.ndarray, direction: str) -> float | None:
    """Typical character size (px) from the widths of text columns (rows for horizontal text)."""
    t = text if direction != "horizontal" else text.T
    prof = colsum(t)
    if prof.max() == 0:
        return None
    widths = [b - a for a, b in runs(prof > 0.05 * prof.max()) if b - a >= 3]
    if len(widths) < 2:
        return None
    return float(np.median(widths))
