"""A built manifest opened in a real Mirador (npm) in headless Debian Chromium, served from 127.0.0.1.

The first opening of a thread-bound book must show the right-hand page (first in reading order)
on the right. Judged twice: from Mirador's own state (visible canvases of the first view) and
from the pixels of a screenshot (each test page has its own colour), against a left-to-right
control so the pixel check is shown to tell the two apart. Screenshots: tests/artifacts/.
Install the viewer with scripts/install-viewer.sh.
"""

from __future__ import annotations

import copy
import functools
import json
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from guji.exitcodes import ExitCode
from guji.fsutil import atomic_write_json
from guji.iiif import uris
from guji.iiif.stage import run
from iiifwork import COLOURS, make_work
from guji.stage import StageContext
from guji.state import StateStore

HERE = Path(__file__).resolve().parent
VIEWER = HERE / "viewer"
ARTIFACTS = HERE / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
NODE = shutil.which("node")

missing = [why for cond, why in (
    (CHROMIUM.exists(), "Debian chromium not at /usr/bin/chromium (apt-get install chromium)"),
    (NODE is not None, "node not on PATH"),
    ((VIEWER / "node_modules/mirador/dist/mirador.min.js").is_file(), "Mirador not installed: run scripts/install-viewer.sh"),
    ((VIEWER / "node_modules/playwright-core").is_dir(), "playwright-core not installed: run scripts/install-viewer.sh"),
) if not cond]
pytestmark = [pytest.mark.browser, pytest.mark.skipif(bool(missing), reason="; ".join(missing))]


class Handler(SimpleHTTPRequestHandler):
    """/viewer/… from tests/viewer, everything else from the build folder."""

    build: Path = Path(".")

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0].split("#", 1)[0]
        if path.startswith("/viewer/"):
            root, rel = VIEWER, path[len("/viewer/"):]
        else:
            root, rel = self.build, path.lstrip("/")
        from urllib.parse import unquote

        target = (root / unquote(rel)).resolve()
        if root.resolve() not in target.parents and target != root.resolve():
            return str(root / "__forbidden__")
        return str(target)

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, *args) -> None:  # keep test output clean
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    build_holder = tmp_path_factory.mktemp("viewer")
    handler = type("H", (Handler,), {"build": build_holder / "work" / "build"})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield httpd, build_holder
    httpd.shutdown()


def colour_x(png: Path, box: dict, colour: tuple[int, int, int], tol: int = 40) -> float | None:
    """Mean x (CSS px) of the screenshot pixels inside ``box`` close to ``colour``."""
    import numpy as np
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    x0, y0 = int(box["x"]), int(box["y"])
    sub = img[y0:y0 + int(box["height"]), x0:x0 + int(box["width"])]
    mask = (np.abs(sub - np.array(colour)).max(axis=2) <= tol)
    if mask.sum() < 500:
        return None
    return float(np.nonzero(mask)[1].mean()) + x0


def build_with_ltr_control(server, control_name: str) -> tuple[str, dict, dict]:
    """Build the sample IIIF where the server fixture serves it (holder/work/build) and write beside
    it a control copy of RB-0001's manifest declared left-to-right. Returns (base, manifest, control)."""
    httpd, holder = server
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    work = make_work(holder / "work")
    store = StateStore(work)
    try:
        res = run(StageContext(work=work, store=store, options={"iiif": {"base_url": base}}))
    finally:
        store.close()
    assert res.exit_code == ExitCode.OK, [str(p) for p in res.problems]
    build = work / "build"
    m = json.loads((build / uris.manifest_path("RB-0001")).read_text())
    ltr = copy.deepcopy(m)
    ltr["id"] = base + f"control/{control_name}"
    ltr["viewingDirection"] = "left-to-right"
    atomic_write_json(build / "control" / control_name, ltr)
    return base, m, ltr


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
