"""A built manifest opened in a real Universal Viewer (npm ``universalviewer`` 4.4.0 UMD build) in headless
Debian Chromium, everything served from 127.0.0.1 (the same server and build as test_iiif_viewer.py).

Checked:
- every request UV makes to our server succeeds (manifest, info.json, the ``full/90,/0/default.jpg``
  thumbnails of all canvases, the images of the first opening) and nothing is asked of another host;
- the title UV shows is the manifest's zh-Hant label;
- right-to-left is respected, judged three ways against a left-to-right copy of the same manifest:
  UV's own state (``extension.getCurrentCanvases()`` of the first opening, which UV returns in screen
  order left→right), the screen x of the thumbnails of the first spread's two halves, and the pixels
  of the main view (each page has its own colour).
UV 4.4.0 ignores Presentation 3 ``start`` (its manifesto.js reads only IIIF 2 ``startCanvas``), so the
test page is told to open at canvas index 1, the first page of text. Screenshots: tests/artifacts/.
Install with scripts/install-viewer.sh.
"""

from __future__ import annotations

import functools
import json
import subprocess

import pytest

from guji.iiif import uris
from viewerkit import ARTIFACTS, CHROMIUM, NODE, VIEWER, assert_first_page_right, build_with_ltr_control, server  # noqa: F401 (fixture)

missing = [why for cond, why in (
    (CHROMIUM.exists(), "Debian chromium not at /usr/bin/chromium (apt-get install chromium)"),
    (NODE is not None, "node not on PATH"),
    ((VIEWER / "node_modules/universalviewer/dist/umd/UV.js").is_file(),
     "Universal Viewer not installed (tests/viewer/node_modules/universalviewer): run scripts/install-viewer.sh"),
    ((VIEWER / "node_modules/playwright-core").is_dir(), "playwright-core not installed: run scripts/install-viewer.sh"),
) if not cond]
pytestmark = [pytest.mark.browser, pytest.mark.skipif(bool(missing), reason="; ".join(missing))]

# UV 4.4.0 itself resolves an inline GIF data: URI as a path (GET /images/data:image/gif;base64,…) and
# gets a 404; it is not a file of ours. Only that exact request is excused.
UV_OWN_BUG = "/images/data:image/gif;base64,"


def test_uv_opens_manifest_right_to_left(server):  # noqa: F811 (the imported fixture)
    base, m, ltr = build_with_ltr_control(server, "uv-ltr-manifest.json")
    assert m["id"].startswith(base)

    ARTIFACTS.mkdir(exist_ok=True)
    shot_rtl, shot_ltr = ARTIFACTS / "uv-rtl-first-opening.png", ARTIFACTS / "uv-ltr-control.png"
    page = base + "viewer/uv.html?canvasIndex=1&manifest="
    proc = subprocess.run(
        [NODE, str(VIEWER / "uv_check.mjs"), page + m["id"], str(shot_rtl), page + ltr["id"], str(shot_ltr)],
        capture_output=True, text=True, timeout=90, cwd=VIEWER, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rtl, control = [json.loads(line) for line in proc.stdout.strip().splitlines()]

    canvas = functools.partial(uris.canvas_uri, base, "RB-0001")
    for run_ in (rtl, control):
        assert not run_["errors"], run_["errors"]
        assert [u for u in run_["requested"] if not u.startswith(base)] == [], "UV must load nothing from elsewhere"
        assert [u for u in run_["failed"] if UV_OWN_BUG not in u] == [], run_["failed"]
        # UV asked for what the issue says it asks for, and got it: a 90px-wide thumbnail of every canvas
        thumbs = [t["src"] for t in run_["thumbs"]]
        want = [c["items"][0]["items"][0]["body"]["service"][0]["id"] + "/full/90,/0/default.jpg"
                for c in m["items"]]
        assert thumbs == want
        assert all(t["loaded"] for t in run_["thumbs"]), [t["src"] for t in run_["thumbs"] if not t["loaded"]]
        assert set(want) <= set(run_["requested"])
        assert any(u.endswith("/info.json") for u in run_["requested"])
        # the title shown is the zh-Hant label (not the zh-Hans one)
        assert run_["title"][0] == m["label"]["zh-Hant"][0] != m["label"]["zh-Hans"][0]
        assert run_["pagingEnabled"] and run_["canvasIndex"] == 1

    # UV's state: the first opening is the red/blue spread, laid out left→right on screen
    assert rtl["viewingDirection"] == "right-to-left"
    assert rtl["current"] == [canvas("RB-0001/v1/0002-l"), canvas("RB-0001/v1/0002-r")]
    assert control["viewingDirection"] == "left-to-right"
    assert control["current"] == [canvas("RB-0001/v1/0002-r"), canvas("RB-0001/v1/0002-l")]

    # thumbnails: the right half-leaf (canvas 2, first in reading order) is on the right of its facing page
    def thumb_x(run_, pid):
        (t,) = [t for t in run_["thumbs"] if f"/{pid.replace('/', '_')}/" in t["src"]]
        return t["x"], t["y"]

    (xr, yr), (xl, yl) = thumb_x(rtl, "RB-0001/v1/0002-r"), thumb_x(rtl, "RB-0001/v1/0002-l")
    assert yr == yl and xr > xl, (xr, xl)
    (cxr, cyr), (cxl, cyl) = thumb_x(control, "RB-0001/v1/0002-r"), thumb_x(control, "RB-0001/v1/0002-l")
    assert cyr == cyl and cxr < cxl, (cxr, cxl)

    # pixels of the main view: red (right half, read first) right of blue; swapped in the control
    assert_first_page_right(shot_rtl, rtl["osd"], shot_ltr, control["osd"])
