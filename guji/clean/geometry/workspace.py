"""Work space of the analysis: the master turned upright and deskewed; affine maps between it, the master and the derivatives (3×3 matrices from :mod:`guji.affine`, pixel-corner convention), and the warp that applies them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from guji.affine import rotate_ccw, scale, translate

def work_size(w: float, h: float, rotation: int, skew_deg: float) -> tuple[float, float]:
    if rotation in (90, 270):
        w, h = h, w
    t = math.radians(skew_deg)
    c, s = abs(math.cos(t)), abs(math.sin(t))
    return w * c + h * s, w * s + h * c


def master_to_work(w: float, h: float, rotation: int, skew_deg: float) -> np.ndarray:
    """Master (corner coords) → work space: upright by ``rotation`` (clockwise), then deskew."""
    # rotation clockwise by k·90 = ccw by -rotation; about the centre, onto the swapped canvas
    rw, rh = (h, w) if rotation in (90, 270) else (w, h)
    r = translate(rw / 2, rh / 2) @ rotate_ccw(-rotation) @ translate(-w / 2, -h / 2)
    r = np.round(r, 12)
    ww, wh = work_size(w, h, rotation, skew_deg)
    d = translate(ww / 2, wh / 2) @ rotate_ccw(-skew_deg) @ translate(-rw / 2, -rh / 2)
    return d @ r


def derivative_affine(w: float, h: float, rotation: int, skew_deg: float, box: tuple[float, float, float, float],
                      s: float) -> np.ndarray:
    """Derivative pixel → master pixel, for a crop ``box`` (x, y, w, h in work space) scaled by ``s``."""
    m2w = master_to_work(w, h, rotation, skew_deg)
    d2w = translate(box[0], box[1]) @ scale(1 / s)
    return np.linalg.inv(m2w) @ d2w


def cv_inverse_map(m: np.ndarray) -> np.ndarray:
    """Corner-convention dst→src affine as the 2×3 matrix cv2.warpAffine wants with WARP_INVERSE_MAP
    (cv2 samples at pixel centres: src_index = A(dst_index + ½) − ½)."""
    return (translate(-0.5, -0.5) @ m @ translate(0.5, 0.5))[:2].astype(np.float64)


def warp(img: np.ndarray, dst_to_src: np.ndarray, size: tuple[int, int], *, border: Any = 0,
         interp: int | None = None) -> np.ndarray:
    import cv2

    return cv2.warpAffine(img, cv_inverse_map(dst_to_src), size,
                          flags=(cv2.INTER_LINEAR if interp is None else interp) | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=border)
