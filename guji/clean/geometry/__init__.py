"""Page geometry for cleanup: skew, page and frame (版框) detection, spreads, 90/180° rotation.

One module per detector: :mod:`.bed` (paper against the scanner bed), :mod:`.skew`, :mod:`.direction`
(text direction, character size), :mod:`.rotation` (upside down: line ends, fishtail 魚尾), :mod:`.frame`
(printed frame 版框), :mod:`.gutter` (spreads); :mod:`.masks` (analysis image, ink, rules, projections),
:mod:`.workspace` (work-space affine maps; the matrices themselves are :mod:`guji.affine`) and
:mod:`.analysis` (:func:`analyse`, which runs them all). The names below stay importable from here.

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

from guji.affine import as_tuple, rotate_ccw, scale, translate
from guji.clean.geometry.analysis import Analysis, analyse
from guji.clean.geometry.bed import find_bed
from guji.clean.geometry.direction import char_size, text_direction
from guji.clean.geometry.frame import find_frame
from guji.clean.geometry.gutter import find_gutter
from guji.clean.geometry.masks import ANALYSIS_SIDE, ink_mask, remove_long_lines, to_gray_small
from guji.clean.geometry.rotation import FISHTAIL_CONFIDENCE, fishtail_vote, upside_down
from guji.clean.geometry.skew import estimate_skew
from guji.clean.geometry.workspace import cv_inverse_map, derivative_affine, master_to_work, warp, work_size

__all__ = ["ANALYSIS_SIDE", "FISHTAIL_CONFIDENCE", "Analysis", "analyse", "as_tuple", "char_size", "cv_inverse_map",
           "derivative_affine", "estimate_skew", "find_bed", "find_frame", "find_gutter", "fishtail_vote", "ink_mask",
           "master_to_work", "remove_long_lines", "rotate_ccw", "scale", "text_direction", "to_gray_small",
           "translate", "upside_down", "warp", "work_size"]
