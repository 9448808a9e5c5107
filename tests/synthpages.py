"""Synthetic test pages with known geometry (for tests and the benchmark; not used by the stage).

Renders a woodblock-like half-leaf: a printed frame (版框), column rules, vertical columns of
stroke "characters" (top-aligned, ragged ends), on paper, optionally on a dark scanner bed,
optionally as a two-page spread, then turned by a known angle. Everything is deterministic for
a given seed. Returns the image and the truth in master pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _glyph(img: np.ndarray, x: int, y: int, s: int, rng: np.random.Generator, ink: int) -> None:
    import cv2

    t = max(1, s // 9)
    for _ in range(rng.integers(3, 7)):
        if rng.random() < 0.5:
            yy = int(y + rng.integers(1, s - 1))
            x0, x1 = sorted(rng.integers(0, s, 2))
            cv2.line(img, (x + int(x0), yy), (x + int(x1) + 1, yy), ink, t)
        else:
            xx = int(x + rng.integers(1, s - 1))
            y0, y1 = sorted(rng.integers(0, s, 2))
            cv2.line(img, (xx, y + int(y0)), (xx, y + int(y1) + 1), ink, t)


def render_half_leaf(w: int, h: int, rng: np.random.Generator, *, paper: int = 225, ink: int = 40,
                     cols: int = 9, frame: bool = True, fill: float = 1.0) -> tuple[np.ndarray, list[list[int]]]:
    """Greyscale page, and the column boxes [x, y, w, h]."""
    import cv2

    img = np.full((h, w), paper, np.uint8)
    mx, my = int(w * 0.1), int(h * 0.1)
    fx0, fy0, fx1, fy1 = mx, my, w - mx, h - int(h * 0.08)
    if frame:
        cv2.rectangle(img, (fx0, fy0), (fx1, fy1), ink, max(2, w // 200))
    cw = (fx1 - fx0) / cols
    s = int(cw * 0.7)
    boxes = []
    nchar = int((fy1 - fy0 - s * 0.3) // (s * 1.15))
    for c in range(cols):
        x = int(fx1 - (c + 1) * cw + (cw - s) / 2)
        if frame and c:
            xr = int(fx1 - c * cw)
            cv2.line(img, (xr, fy0), (xr, fy1), ink, 1)
        n = nchar if (rng.random() < fill or c == 0) else int(rng.integers(2, max(3, nchar)))
        if c == cols - 1:
            n = max(2, nchar // 3)
        y = fy0 + int(s * 0.3)
        for i in range(n):
            _glyph(img, x, y + int(i * s * 1.15), s, rng, ink)
        boxes.append([x, y, s, int((n - 1) * s * 1.15) + s])
    return img, boxes


def make_page(*, seed: int = 0, width: int = 1200, height: int = 1700, skew_deg: float = 0.0, bed: bool = True,
              spread: bool = False, bed_px: int = 120, colour: bool = True, rotation: int = 0,
              fill: float = 0.6) -> tuple[np.ndarray, dict[str, Any]]:
    """A master with known skew (ccw positive, see guji/clean/geometry), page box, gutter and column boxes.

    ``rotation`` turns the finished capture counter-clockwise by that many degrees (0/90/180/270),
    so the stage should find ``rotation`` (clockwise) to upright it. Truth boxes are in the
    unrotated, deskewed frame: ``page_box`` is relative to the master centre (see truth["frame"]).
    """
    import cv2

    rng = np.random.default_rng(seed)
    if spread:
        left, lb = render_half_leaf(width, height, rng, fill=fill)
        right, rb = render_half_leaf(width, height, rng, fill=fill)
        page = np.concatenate([left, right], axis=1)
        cv2.line(page, (width, 0), (width, height), 150, 3)  # fold shadow
        boxes = [[b[0], b[1], b[2], b[3]] for b in lb] + [[b[0] + width, b[1], b[2], b[3]] for b in rb]
    else:
        page, boxes = render_half_leaf(width, height, rng, fill=fill)
    ph, pw = page.shape
    bp = bed_px if bed else 0
    H, W = ph + 2 * bp, pw + 2 * bp
    canvas = np.full((H, W), 25 if bed else 235, np.uint8)
    canvas[bp:bp + ph, bp:bp + pw] = page
    # turn about the centre by skew (ccw positive), same canvas size
    M = cv2.getRotationMatrix2D((W / 2 - 0.5, H / 2 - 0.5), skew_deg, 1.0)
    img = cv2.warpAffine(canvas, M, (W, H), flags=cv2.INTER_LINEAR, borderValue=25 if bed else 235)
    noise = rng.normal(0, 3, img.shape)
    img = np.clip(img.astype(np.float64) + noise, 0, 255).astype(np.uint8)
    if colour:
        img = np.dstack([np.clip(img.astype(int) + d, 0, 255).astype(np.uint8) for d in (6, 0, -14)])
    if rotation:
        img = np.ascontiguousarray(np.rot90(img, rotation // 90))
    truth = {
        "skew_deg": skew_deg,
        "page_box": [bp, bp, pw, ph],  # in the unturned canvas (= work space of a deskew about the centre)
        "gutter_x": bp + width if spread else None,
        "columns": [[b[0] + bp, b[1] + bp, b[2], b[3]] for b in boxes],
        "canvas_size": [W, H],
        # printed frame (版框) of a single half-leaf, as render_half_leaf draws it (unturned canvas)
        "frame_box": None if spread else [bp + int(width * 0.1), bp + int(height * 0.1),
                                          width - 2 * int(width * 0.1), height - int(height * 0.08) - int(height * 0.1)],
        "rotation": rotation,
    }
    return img, truth
