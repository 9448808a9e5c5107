"""The shared analysis image and the masks every detector reads: reduced grey copy, ink, ruled lines apart from text, and fast projections."""

from __future__ import annotations

import math

import numpy as np

ANALYSIS_SIDE = 1200


def to_gray_small(img: np.ndarray, side: int = ANALYSIS_SIDE) -> tuple[np.ndarray, float]:
    """The one shared analysis image: greyscale, long side ``side`` (area-averaged), and its scale.

    ``img`` is the master, greyscale or RGB. The colour master is converted to grey at full size
    (cheap) and then area-reduced (reducing the three colour channels first costs more).
    """
    import cv2

    h, w = img.shape[:2]
    a = min(1.0, side / max(h, w))
    if a < 1.0:
        tw, th = max(1, round(w * a)), max(1, round(h * a))
        gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        # one direct area reduction: exact box averages, so the QC sharpness (variance of the
        # Laplacian at this scale) means what it did (halving first would be 2× faster here but
        # blurs: −14…−25 % sharpness on the sample masters)
        small = cv2.resize(gray, (tw, th), interpolation=cv2.INTER_AREA)
        # exact scale per axis differs by rounding; use the mean (error < 1/side)
        a = (small.shape[1] / w + small.shape[0] / h) / 2
        return small, a
    return (img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)), 1.0


def ink_mask(g: np.ndarray, region: np.ndarray | None) -> np.ndarray:
    """Dark marks (text, rules) relative to the local background."""
    import cv2

    h, w = g.shape
    k = max(15, (min(h, w) // 25) | 1)
    bg = cv2.blur(g, (k, k))
    ink = (g.astype(np.int16) < bg.astype(np.int16) - 25)
    if region is not None:
        e = max(3, min(h, w) // 60) | 1
        ink &= cv2.erode(region, np.ones((e, e), np.uint8)) > 0
    return ink.astype(np.uint8)


def proj_percentile(counts: np.ndarray, q: list[float]) -> list[float]:
    """``np.percentile`` (linear) of the coordinates of a mask, from its projection ``counts``
    (count of set pixels per coordinate): the same values without listing every pixel."""
    c = np.cumsum(counts)
    n = int(c[-1])
    out = []
    for qq in q:
        pos = qq / 100 * (n - 1)
        k = int(math.floor(pos))
        v0 = float(np.searchsorted(c, k, side="right"))
        v1 = float(np.searchsorted(c, min(k + 1, n - 1), side="right"))
        out.append(v0 + (pos - k) * (v1 - v0))
    return out


def runs(b: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) runs of True in a 1-D bool array."""
    d = np.diff(np.concatenate([[0], b.astype(np.int8), [0]]))
    return list(zip(np.nonzero(d == 1)[0].tolist(), np.nonzero(d == -1)[0].tolist()))


def open_line(m: np.ndarray, n: int, *, horizontal: bool) -> np.ndarray:
    """Opening of a 0/1 mask by a straight line of ``n`` pixels (keeps runs of at least ``n``),
    with two running-sum box filters (O(1) per pixel; cv2's line erosion is O(n) per pixel)."""
    import cv2

    k, a0, a1 = ((n, 1), (0, 0), (n - 1, 0)) if horizontal else ((1, n), (0, 0), (0, n - 1))
    full = cv2.boxFilter(m, cv2.CV_16U, k, anchor=a0, normalize=False, borderType=cv2.BORDER_CONSTANT) >= n
    grown = cv2.boxFilter(full.view(np.uint8), cv2.CV_16U, k, anchor=a1, normalize=False,
                          borderType=cv2.BORDER_CONSTANT)
    return (grown > 0).view(np.uint8)


def _axsum(m: np.ndarray, dim: int) -> np.ndarray:
    import cv2

    if m.size == 0:
        return np.zeros(m.shape[1 - dim], np.int64)
    if m.strides[1] != 1:  # e.g. a transposed view: sum the other way round
        return _axsum(m.T, 1 - dim)
    return cv2.reduce(m, dim, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel().astype(np.int64)


def colsum(m: np.ndarray) -> np.ndarray:
    """Per-column sums of a uint8 mask (cv2.reduce: ~10× faster than numpy's sum over an axis)."""
    return _axsum(m, 0)


def rowsum(m: np.ndarray) -> np.ndarray:
    return _axsum(m, 1)


def remove_long_lines(ink: np.ndarray, frac: float = 0.25) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split ink into (text, horizontal lines, vertical lines) with morphological openings.

    Breaks in thin rules (from downscaling) are bridged first, and the found lines are grown by a
    pixel so their ragged edges do not stay behind as "text".
    """
    import cv2

    h, w = ink.shape
    hc = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((1, 7), np.uint8))
    vc = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((7, 1), np.uint8))
    hl = open_line(hc, max(3, int(w * frac)), horizontal=True)
    vl = open_line(vc, max(3, int(h * frac)), horizontal=False)
    grown = cv2.dilate(hl | vl, np.ones((5, 5), np.uint8))
    text = ink & ~grown & 1
    return text.astype(np.uint8), hl, vl
