"""The whole analysis of one master: runs the detectors on one reduced copy and returns an :class:`Analysis` in master-scale units."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from guji.clean.geometry.bed import find_bed
from guji.clean.geometry.direction import char_size, text_direction
from guji.clean.geometry.frame import find_frame
from guji.clean.geometry.gutter import find_gutter
from guji.clean.geometry.masks import colsum, ink_mask, proj_percentile, remove_long_lines, rowsum, to_gray_small
from guji.clean.geometry.rotation import FISHTAIL_CONFIDENCE, fishtail_vote, upside_down
from guji.clean.geometry.skew import estimate_skew
from guji.clean.geometry.workspace import master_to_work, warp, work_size

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
    text, hl, vl = remove_long_lines(inkw)
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
        text, hl, vl = remove_long_lines(inkw)
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
            text, hl, vl = remove_long_lines(inkw)
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
            text, hl, vl = remove_long_lines(inkw)
        if not res.rotation_confidence:
            res.rotation_confidence = conf if flip else 1.0 - conf / 2
    res.rotation = rot
    if res.text_direction == "unknown":
        res.rotation_confidence = 0.0

    # 3. page box in work space
    wh, ww = inkw.shape
    if pw is not None:
        pm = (pw > 127).view(np.uint8)
        ppx, ppy = colsum(pm), rowsum(pm)
        if ppx.sum():
            x0, x1 = proj_percentile(ppx, [0.05, 99.95])
            y0, y1 = proj_percentile(ppy, [0.05, 99.95])
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
    tpx = colsum(text) if pw is not None else np.zeros(1, np.int64)
    if tpx.sum() and pw is not None:
        tx0, tx1 = proj_percentile(tpx, [0.1, 99.9])
        ty0, ty1 = proj_percentile(rowsum(text), [0.1, 99.9])
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
