"""Viewer-test kit shared by test_iiif_viewer (Mirador) and test_iiif_uv (Universal Viewer): a local
HTTP server for tests/viewer and the IIIF build, a pixel colour probe, and a build with a left-to-right
control manifest. ``missing`` lists why the viewer tests cannot run here."""

from __future__ import annotations

import copy
import json
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from guji.exitcodes import ExitCode
from guji.fsutil import atomic_write_json
from guji.iiif import uris
from guji.iiif.stage import run
from guji.stage import StageContext
from guji.state import StateStore
from iiifwork import make_work

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


def assert_first_page_right(shot_rtl: Path, osd_rtl: dict, shot_ltr: Path, osd_ltr: dict) -> None:
    """Pixels of the main view: RB-0001's right-hand half-leaf (red, read first) is drawn right of its
    facing page (blue) in the right-to-left manifest, and — so the check can fail — left of it in the
    control declared left-to-right."""
    from iiifwork import COLOURS

    red, blue = COLOURS["RB-0001/v1/0002-r"], COLOURS["RB-0001/v1/0002-l"]
    xr, xb = colour_x(shot_rtl, osd_rtl, red), colour_x(shot_rtl, osd_rtl, blue)
    assert xr is not None and xb is not None, "both pages of the first opening must be drawn"
    assert xr > xb, f"right-to-left: first page (red) at x={xr:.0f} must be right of its facing page at x={xb:.0f}"
    cr, cb = colour_x(shot_ltr, osd_ltr, red), colour_x(shot_ltr, osd_ltr, blue)
    assert cr is not None and cb is not None and cr < cb, (cr, cb)


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
