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

from viewerkit import ARTIFACTS, CHROMIUM, NODE, VIEWER, assert_first_page_right, build_with_ltr_control, missing, server  # noqa: F401 (fixture)

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

    # pixels: the right-hand half-leaf (red, first in reading order) is drawn on the right; and the check
    # can fail: declared left-to-right, the same pages swap sides
    assert_first_page_right(shot_rtl, rtl["osd"], shot_ltr, control["osd"])
