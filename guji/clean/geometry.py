"""Page geometry for cleanup: skew, page and frame (版框) detection, spreads, 90/180° rotation.

All analysis runs on a downscaled greyscale copy (long side ``ANALYSIS_SIDE``); results are
returned in *master-scale* coordinates. The transforms use the pixel-corner convention: pixel
``(i, j)`` covers ``[i, i+1) × [j, j+1)``, so a box ``[x, y, w, h]`` maps exactly through an affine.

Angle convention: ``skew_deg`` is the angle by which the page content is turned in the master,
positive = counter-clockwise as seen on screen (y axis down). Correcting it means rotating the
master by ``-skew_deg`` (clockwise for a positive skew).

Work space: the master rotated by ``rotation`` (0/90/180/270, clockwise, to upright the page) and
then by ``-skew_deg`` about its centre, on a canvas grown to hold the whole rotated image.
Crop boxes live in work space; :func:`derivative_affine` gives derivative → master.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ANALYSIS_SIDE = 1200


# -- affine helpers (3×3 numpy matrices, corner convention) ----------------------------------------

def _m(a: float, b: float, c: float, d: float, e: float, f: float) -> np.ndarray:
    return np.array([[a, b, c], [d, e, f], [0.0, 0.0, 1.0]])


def translate(tx: float, ty: float) -> np.ndarray:
    return _m(1, 0, tx, 0, 1, ty)


def scale(sx: float, sy: float | None = None) -> np.ndarray:
    return _m(sx, 0, 0, 0, sx if sy is None else sy, 0)


def rotate_ccw(deg: float) -> np.ndarray:
    """Visual counter-clockwise rotation about the origin (image coordinates, y down)."""
    t = math.radians(deg)
    c, s = math.cos(t), math.sin(t)
    return _m(c, s, 0, -s, c, 0)


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


def as_tuple(m: np.ndarray) -> tuple[float, float, float, float, float, float]:
    return tuple(float(round(v, 9)) for v in (m[0, 0], m[0, 1], m[0, 2], m[1, 0], m[1, 1], m[1, 2]))  # type: ignore[return-value]


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


# -- analysis -------------------------------------------------------------------------------------

@dataclass
class Analysis:
    """What the geometry analysis found, in master-scale units."""

    width: int
    height: int
    skew_deg: float = 0.0
    skew_source: str = "none"  # ink | page-edge | none
    rotation: int = 0
    rotation_confidence: float = 0.0
    upside_down_confidence: float = 0.0  # > 0: line ends suggest the page is upside down
    text_direction: str = "unknown"  # vertical | horizontal | unknown
    bed: bool = False  # dark scanner bed around the page found
    page_box: tuple[float, float, float, float] = (0, 0, 0, 0)  # work space, before margin
    crop_box: tuple[float, float, float, float] = (0, 0, 0, 0)  # work space, with margin
    crop_confidence: float = 1.0
    frame_box: tuple[float, float, float, float] | None = None  # printed frame 版框, work space
    gutter_x: float | None = None  # work space x of the spread gutter
    char_px: float | None = None  # typical character size in master px
    ink_fraction: float = 0.0
    notes: list[str] = field(default_factory=list)
    # reduced grey copy, its scale and paper mask (reused for QC metrics; not serialised)
    small: Any = field(default=None, repr=False)
    small_scale: float = field(default=1.0, repr=False)
    paper: Any = field(default=None, repr=False)


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


def _proj_percentile(counts: np.ndarray, q: list[float]) -> list[float]:
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


def _runs(b: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) runs of True in a 1-D bool array."""
    d = np.diff(np.concatenate([[0], b.astype(np.int8), [0]]))
    return list(zip(np.nonzero(d == 1)[0].tolist(), np.nonzero(d == -1)[0].tolist()))


def _open_line(m: np.ndarray, n: int, *, horizontal: bool) -> np.ndarray:
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


def _colsum(m: np.ndarray) -> np.ndarray:
    """Per-column sums of a uint8 mask (cv2.reduce: ~10× faster than numpy's sum over an axis)."""
    return _axsum(m, 0)


def _rowsum(m: np.ndarray) -> np.ndarray:
    return _axsum(m, 1)


def _remove_long_lines(ink: np.ndarray, frac: float = 0.25) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split ink into (text, horizontal lines, vertical lines) with morphological openings.

    Breaks in thin rules (from downscaling) are bridged first, and the found lines are grown by a
    pixel so their ragged edges do not stay behind as "text".
    """
    import cv2

    h, w = ink.shape
    hc = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((1, 7), np.uint8))
    vc = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((7, 1), np.uint8))
    hl = _open_line(hc, max(3, int(w * frac)), horizontal=True)
    vl = _open_line(vc, max(3, int(h * frac)), horizontal=False)
    grown = cv2.dilate(hl | vl, np.ones((5, 5), np.uint8))
    text = ink & ~grown & 1
    return text.astype(np.uint8), hl, vl


def text_direction(text: np.ndarray) -> tuple[str, float]:
    """Dominant text-line direction of (deskewed, line-free) ink: vertical columns or horizontal rows.

    Lines of text leave clean gaps across the page *between* lines, while characters inside a
    line sit close together, so the projection perpendicular to the lines has many empty bins.
    Returns (direction, margin) where margin is the difference of empty-bin fractions.
    """
    px, py = _colsum(text), _rowsum(text)
    if px.sum() < 300:
        return "unknown", 0.0
    x0, x1 = _proj_percentile(px, [1, 99])
    y0, y1 = _proj_percentile(py, [1, 99])
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
            d = empty(_colsum(sub).astype(np.float64)) - empty(_rowsum(sub).astype(np.float64))
            total += d * sub.sum()
            weight += sub.sum()
    if weight == 0:
        return "unknown", 0.0
    margin = total / weight
    if abs(margin) < 0.05:
        return "unknown", margin
    return ("vertical" if margin > 0 else "horizontal"), margin


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
    prof = _colsum(text)
    if prof.max() == 0:
        return False, 0.0
    cols = [r for r in _runs(prof > 0.02 * prof.max()) if r[1] - r[0] >= 2]
    if len(cols) < 4:
        return False, 0.0
    starts, ends = [], []
    for a, b in cols:
        rs = _rowsum(text[:, a:b])
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
    rules = _runs(_colsum(vl[fy:fy + fh, fx:fx + fw]) >= 0.5 * fh)
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


def find_frame(hl: np.ndarray, vl: np.ndarray, min_frac: float = 0.45) -> tuple[float, float, float, float] | None:
    """The printed frame (版框): outermost long horizontal and vertical rules. Box in the given image."""
    h, w = hl.shape
    rows = np.nonzero(_rowsum(hl) >= min_frac * w)[0]
    cols = np.nonzero(_colsum(vl) >= min_frac * h)[0]
    if len(rows) < 2 or len(cols) < 2:
        return None
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    if (y1 - y0) < 0.3 * h or (x1 - x0) < 0.3 * w:
        return None
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


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
    prof = _colsum(sub).astype(np.float64)
    if prof.sum() == 0:
        return None, "no text"
    thr = 0.01 * max(np.percentile(prof, 95), 1)
    empty = prof <= thr
    lo, hi = int(w * 0.35), int(w * 0.65)
    gaps = [(a, b) for a, b in _runs(empty) if b > lo and a < hi]
    if not gaps:
        return None, "text crosses the centre"
    a, b = max(gaps, key=lambda r: r[1] - r[0])
    inner = [r[1] - r[0] for r in _runs(empty[int(w * 0.1):int(w * 0.9)])]
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
        vprof = _colsum(vl[y:y + h, x + a0:x + b0])
        groups = _runs(vprof >= 0.3 * h)
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


def char_size(text: np.ndarray, direction: str) -> float | None:
    """Typical character size (px) from the widths of text columns (rows for horizontal text)."""
    t = text if direction != "horizontal" else text.T
    prof = _colsum(t)
    if prof.max() == 0:
        return None
    runs = [b - a for a, b in _runs(prof > 0.05 * prof.max()) if b - a >= 3]
    if len(runs) < 2:
        return None
    return float(np.median(runs))


def analyse(img: np.ndarray, *, max_skew: float = 8.0, expected_direction: str = "vertical",
            rotation_mode: str = "auto", detect_spreads: bool = True, spread_min_aspect: float = 1.0,
            margin: float = 0.01) -> Analysis:
    """Full geometry analysis of one master (uint8 greyscale or RGB, full resolution).

    Everything is measured on one shared reduced greyscale copy (``res.small``), made once."""
    import cv2

    H, W = img.shape[:2]
    res = Analysis(width=W, height=H)
    g, a = to_gray_small(img)
    paper, contrast = find_bed(g)
    res.small, res.small_scale, res.paper = g, a, paper
    res.bed = paper is not None
    ink = ink_mask(g, paper)
    res.ink_fraction = float(ink.mean())

    # 1. skew, first on all ink (rules and frames help), fall back to the page edge
    sk = estimate_skew(ink, max_skew)
    corr = 0.0
    if sk is not None and res.ink_fraction > 0.0005:
        corr, _ = sk
        res.skew_source = "ink"
    elif paper is not None:
        cnts, _ = cv2.findContours(paper, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if cnts:
            (_, _), (rw, rh), ang = cv2.minAreaRect(max(cnts, key=cv2.contourArea))
            ang = ((ang + 45) % 90) - 45  # nearest axis
            corr = float(ang) if abs(ang) <= max_skew else 0.0
            # minAreaRect angle is clockwise-positive in image coords: correction ccw = -ang
            corr = -corr
            res.skew_source = "page-edge"
    res.skew_deg = float(round(-corr, 4))

    # 2. deskew the small image (rotation 0 for now) to look at lines
    def to_work(rot: int) -> tuple[Any, np.ndarray, np.ndarray | None, tuple[float, float, float, float]]:
        """Deskewed (and turned) ink and paper masks; the grey image only on demand (gutter shadow);
        the bounds of the master's own area in work space from its corners (no warp needed)."""
        h0, w0 = g.shape
        m = master_to_work(w0, h0, rot, res.skew_deg)
        ww, wh = work_size(w0, h0, rot, res.skew_deg)
        size = (max(1, round(ww)), max(1, round(wh)))
        inv = np.linalg.inv(m)
        inkw = warp(ink, inv, size, interp=cv2.INTER_NEAREST)
        pw = warp(paper, inv, size, interp=cv2.INTER_NEAREST) if paper is not None else None
        cs = m @ np.array([[0, w0, 0, w0], [0, 0, h0, h0], [1, 1, 1, 1]], float)
        vx0, vy0 = max(0.0, math.floor(cs[0].min() + 1e-6)), max(0.0, math.floor(cs[1].min() + 1e-6))
        vx1, vy1 = min(float(size[0]), math.ceil(cs[0].max() - 1e-6)), min(float(size[1]), math.ceil(cs[1].max() - 1e-6))

        def gw() -> np.ndarray:
            return warp(g, inv, size, border=255 if paper is None else 0)
        return gw, inkw, pw, (vx0, vy0, vx1 - vx0, vy1 - vy0)

    gw, inkw, pw, valid = to_work(0)
    text, hl, vl = _remove_long_lines(inkw)
    direction, margin_dir = text_direction(text)
    res.text_direction = direction
    rot = 0
    if rotation_mode in ("0", "90", "180", "270"):
        rot = int(rotation_mode)
    elif rotation_mode in ("auto", "auto180") and expected_direction in ("vertical", "horizontal") and direction != "unknown":
        if direction != expected_direction:
            rot = 90
            res.notes.append(f"text lines run {direction}, expected {expected_direction}: turned 90°")
            res.rotation_confidence = min(1.0, abs(margin_dir) * 5)
    if rot:
        gw, inkw, pw, valid = to_work(rot)
        text, hl, vl = _remove_long_lines(inkw)
        res.text_direction = text_direction(text)[0]
    fish = 0
    if rotation_mode in ("auto", "auto180") and res.text_direction == "vertical" and expected_direction == "vertical":
        # woodblock layout: the fishtail (魚尾) sits in the upper part of the centre column (版心)
        fish, why = fishtail_vote(gw(), text, hl, vl)
        if fish < 0:
            rot = (rot + 180) % 360
            res.notes.append(f"{why}: turned 180°")
            res.upside_down_confidence = res.rotation_confidence = FISHTAIL_CONFIDENCE
            gw, inkw, pw, valid = to_work(rot)
            text, hl, vl = _remove_long_lines(inkw)
        elif fish > 0:
            res.notes.append(f"{why}: upright")
            res.rotation_confidence = res.rotation_confidence or FISHTAIL_CONFIDENCE
    if rotation_mode in ("auto", "auto180") and res.text_direction in ("vertical", "horizontal") and not fish:
        flip, conf = upside_down(text, res.text_direction)
        res.upside_down_confidence = float(round(conf if flip else 0.0, 3))
        if flip and rotation_mode == "auto":
            res.notes.append(f"may be upside down (line ends aligned better than starts, confidence {conf:.2f}); "
                             "not turned")
            flip = False
        if flip:
            rot = (rot + 180) % 360
            res.notes.append(f"line ends aligned better than line starts: turned 180° (confidence {conf:.2f})")
            gw, inkw, pw, valid = to_work(rot)
            text, hl, vl = _remove_long_lines(inkw)
        if not res.rotation_confidence:
            res.rotation_confidence = conf if flip else 1.0 - conf / 2
    res.rotation = rot
    if res.text_direction == "unknown":
        res.rotation_confidence = 0.0

    # 3. page box in work space
    wh, ww = inkw.shape
    if pw is not None:
        pm = (pw > 127).view(np.uint8)
        ppx, ppy = _colsum(pm), _rowsum(pm)
        if ppx.sum():
            x0, x1 = _proj_percentile(ppx, [0.05, 99.95])
            y0, y1 = _proj_percentile(ppy, [0.05, 99.95])
            pb = (float(x0), float(y0), float(x1 - x0 + 1), float(y1 - y0 + 1))
            fill = float(ppx.sum()) / max(pb[2] * pb[3], 1.0)
            res.crop_confidence = float(round(max(0.0, min(1.0, contrast * 2)) * min(1.0, fill), 3))
        else:
            pb = (0.0, 0.0, float(ww), float(wh))
            res.crop_confidence = 0.0
    else:
        # no bed: the page fills the capture; keep all of it (never cut into text)
        pb = valid
        res.crop_confidence = 1.0
        res.notes.append("no scanner bed found: the whole capture is kept")
    # make sure no text is outside the page box (ink touching the edge of the page mask)
    tpx = _colsum(text) if pw is not None else np.zeros(1, np.int64)
    if tpx.sum() and pw is not None:
        tx0, tx1 = _proj_percentile(tpx, [0.1, 99.9])
        ty0, ty1 = _proj_percentile(_rowsum(text), [0.1, 99.9])
        if tx0 < pb[0] or ty0 < pb[1] or tx1 > pb[0] + pb[2] or ty1 > pb[1] + pb[3]:
            res.crop_confidence = float(round(res.crop_confidence * 0.5, 3))
            res.notes.append("text reaches beyond the detected page edge")
    fr = find_frame(hl[int(pb[1]):int(pb[1] + pb[3]), int(pb[0]):int(pb[0] + pb[2])],
                    vl[int(pb[1]):int(pb[1] + pb[3]), int(pb[0]):int(pb[0] + pb[2])])
    if fr is not None:
        fr = (fr[0] + int(pb[0]), fr[1] + int(pb[1]), fr[2], fr[3])
    gut = None
    if detect_spreads:
        ib = (int(pb[0]), int(pb[1]), max(1, int(pb[2])), max(1, int(pb[3])))
        gut, why = find_gutter(gw, text, pw, ib, spread_min_aspect, vl)
        if gut is not None:
            res.notes.append(f"spread: gutter found by {why}")
    cs = char_size(text, res.text_direction)

    # 4. to master scale
    inv_a = 1.0 / a
    res.page_box = tuple(float(round(v * inv_a, 2)) for v in pb)  # type: ignore[assignment]
    mx = margin * max(res.page_box[2], res.page_box[3]) if res.bed else 0.0
    Ww, Wh = work_size(W, H, res.rotation, res.skew_deg)
    cx0 = max(0.0, res.page_box[0] - mx)
    cy0 = max(0.0, res.page_box[1] - mx)
    cx1 = min(Ww, res.page_box[0] + res.page_box[2] + mx)
    cy1 = min(Wh, res.page_box[1] + res.page_box[3] + mx)
    cx0, cy0 = math.floor(cx0), math.floor(cy0)
    cx1, cy1 = max(cx0 + 1, math.ceil(cx1 - 1e-6)), max(cy0 + 1, math.ceil(cy1 - 1e-6))
    res.crop_box = (float(cx0), float(cy0), float(cx1 - cx0), float(cy1 - cy0))
    res.frame_box = tuple(float(round(v * inv_a, 2)) for v in fr) if fr else None  # type: ignore[assignment]
    res.gutter_x = float(round(gut * inv_a, 2)) if gut is not None else None
    res.char_px = float(round(cs * inv_a, 2)) if cs else None
    return res
