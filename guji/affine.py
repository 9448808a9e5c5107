"""Affine maps between pixel spaces (derivative ↔ master): one module, two forms of one map.

- :data:`Affine`, a 6-tuple ``(a, b, c, d, e, f)`` (x' = a·x + b·y + c, y' = d·x + e·y + f): the
  serialised form, stored as a derivative's ``to_master`` in ``canvases.json`` and applied with
  :func:`apply_affine`, :func:`invert_affine` and :func:`box_to_master` (pure Python).
- 3×3 numpy matrices, for composing maps in cleanup (:func:`translate`, :func:`scale`,
  :func:`rotate_ccw`, ``@``); :func:`as_tuple` and :func:`to_matrix` convert between the forms.

Pixel-corner convention: pixel ``(i, j)`` covers ``[i, i+1) × [j, j+1)``, so a box maps exactly.
"""

from __future__ import annotations

import math
from typing import Any

Affine = tuple[float, float, float, float, float, float]
IDENTITY: Affine = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def apply_affine(m: Affine, x: float, y: float) -> tuple[float, float]:
    """Map a point with a 2×3 affine ``(a, b, c, d, e, f)``: x' = a·x + b·y + c, y' = d·x + e·y + f."""
    a, b, c, d, e, f = m
    return a * x + b * y + c, d * x + e * y + f


def invert_affine(m: Affine) -> Affine:
    a, b, c, d, e, f = m
    det = a * e - b * d
    if det == 0:
        raise ValueError("affine transform is not invertible")
    ia, ib, id_, ie = e / det, -b / det, -d / det, a / det
    return (ia, ib, -(ia * c + ib * f), id_, ie, -(id_ * c + ie * f))


def compose_affine(m: Affine, q: Affine) -> Affine:
    """``m`` after ``q``: the map x ↦ m(q(x))."""
    a, b, c, d, e, f = m
    p, r, t, s, u, v = q
    return (a * p + b * s, a * r + b * u, a * t + b * v + c, d * p + e * s, d * r + e * u, d * t + e * v + f)


def box_to_master(m: Affine, box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """Map an axis-aligned box ``(x, y, w, h)`` in a derivative to its bounding box in master pixels."""
    x, y, w, h = box
    pts = [apply_affine(m, px, py) for px, py in ((x, y), (x + w, y), (x, y + h), (x + w, y + h))]
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    x0, y0 = min(xs), min(ys)
    return round(x0), round(y0), round(max(xs) - x0), round(max(ys) - y0)


# -- 3×3 matrices (numpy), for composition ------------------------------------------------------

def to_matrix(m: Affine) -> Any:
    import numpy as np

    a, b, c, d, e, f = m
    return np.array([[a, b, c], [d, e, f], [0.0, 0.0, 1.0]], dtype=np.float64)


def as_tuple(m: Any) -> Affine:
    """A 3×3 matrix as the stored 6-tuple (rounded to 1e-9)."""
    return tuple(float(round(v, 9)) for v in (m[0, 0], m[0, 1], m[0, 2], m[1, 0], m[1, 1], m[1, 2]))  # type: ignore[return-value]


def translate(tx: float, ty: float) -> Any:
    return to_matrix((1.0, 0.0, tx, 0.0, 1.0, ty))


def scale(sx: float, sy: float | None = None) -> Any:
    return to_matrix((sx, 0.0, 0.0, 0.0, sx if sy is None else sy, 0.0))


def rotate_ccw(deg: float) -> Any:
    """Visual counter-clockwise rotation about the origin (image coordinates, y down)."""
    t = math.radians(deg)
    c, s = math.cos(t), math.sin(t)
    return to_matrix((c, s, 0.0, -s, c, 0.0))
