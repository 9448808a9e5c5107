"""Detector: the printed frame (版框), the outermost long ruled lines. Clean records it per canvas (in OCR-image pixels) and OCR's layout starts from it."""

from __future__ import annotations

import numpy as np

from guji.clean.geometry.masks import colsum, rowsum

def find_frame(hl: np.ndarray, vl: np.ndarray, min_frac: float = 0.45) -> tuple[float, float, float, float] | None:
    """The printed frame (版框): outermost long horizontal and vertical rules. Box in the given image."""
    h, w = hl.shape
    rows = np.nonzero(rowsum(hl) >= min_frac * w)[0]
    cols = np.nonzero(colsum(vl) >= min_frac * h)[0]
    if len(rows) < 2 or len(cols) < 2:
        return None
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    if (y1 - y0) < 0.3 * h or (x1 - x0) < 0.3 * w:
        return None
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)
