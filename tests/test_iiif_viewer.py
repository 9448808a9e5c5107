"""A built manifest opened in a real Mirador (npm) in headless Debian Chromium, served from 127.0.0.1.

The first opening of a thread-bound book must show the right-hand page (first in reading order)
on the right. Judged twice: from Mirador's own state (visible canvases of the first view) and
from the pixels of a screenshot (each test page has its own colour), against a left-to-right
control so the pixel check is shown to tell the two apart. Screenshots: tests/artifacts/.
Install the viewer with scripts/install-viewer.sh.
"""

from __future__ import annotations

import functools
import json
import subprocess

import pytest

from guji.iiif import uris
from iiifwork import COLOURS

from viewerkit import ARTIFACTS, CHROMIUM, NODE, VIEWER, build_with_ltr_control, colour_x, missing, server  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.skipif(bool(missing), reason="; ".join(missing))]


def test_mirador_first_opening_right_page_first(server):
    # control: the same book declared left-to-right (written beside the real one)
    base, m, ltr = build_with_ltr_control(server, "ltr-manifest.json")

    ARTIFACTS.mkdir(exist_ok=True)
    shot_rtl = ARTIFACTS / "mirador-rtl-first-opening.png"
    shot_ltr = ARTIFACTS / "mirador-ltr-control.png"
    page = base + "viewer/mirador.html?manifest="
    proc = subprocess.run(
        [NODE, str(VIEWER / "mirador_check.mjs"), page + m["id"], str(shot_rtl), page + ltr["id"], str(shot_ltr)],
        capture_output=True, text=True, timeout=90, cwd=VIEWER)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rtl, control = [json.loads(line) for line in proc.stdout.strip().splitlines()]

    canvas = functools.partial(uris.canvas_uri, base, "RB-0001")
    # Mirador's state: book view, opened at `start` (first page of text) with its facing page
    assert rtl["view"] == "book" and rtl["viewingDirection"] == "right-to-left"
    assert rtl["visible"] == [canvas("RB-0001/v1/0002-r"), canvas("RB-0001/v1/0002-l")]
    assert not [u for u in rtl["failed"] if "favicon" not in u], rtl["failed"]
    assert not rtl["errors"], rtl["errors"]

    # pixels: the right-hand half-leaf (red, first in reading order) is drawn on the right
    red, blue = COLOURS["RB-0001/v1/0002-r"], COLOURS["RB-0001/v1/0002-l"]
    xr, xb = colour_x(shot_rtl, rtl["osd"], red), colour_x(shot_rtl, rtl["osd"], blue)
    assert xr is not None and xb is not None, "both pages of the first opening must be drawn"
    assert xr > xb, f"right-to-left: first page (red) at x={xr:.0f} must be right of its facing page at x={xb:.0f}"
    # and the check can fail: declared left-to-right, the same pages swap sides
    cr, cb = colour_x(shot_ltr, control["osd"], red), colour_x(shot_ltr, control["osd"], blue)
    assert cr is not None and cb is not None and cr < cb
