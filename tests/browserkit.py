"""Browser-test kit shared by the reading-room tests (test_catalogue_browser, test_search_truth,
test_search_highlights): a subset of samples/demo-batch built by the real stages, `guji serve` in a
subprocess, a static host, and the playwright-core driver (headless Debian Chromium).

``missing`` lists why the browser tests cannot run here (each test module skips with it).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from click.testing import CliRunner

from guji.cli import main

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEMO = REPO / "samples" / "demo-batch"
VIEWER_NODE = HERE / "viewer" / "node_modules"
ARTIFACTS = HERE / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
NODE = shutil.which("node")
A, B, DF = "350000-2001-0000101", "350000-2001-0000102", "DF-0001"

missing = [why for cond, why in (
    ((DEMO / "batch.toml").is_file(), "samples/demo-batch not in this checkout"),
    (CHROMIUM.exists(), "Debian chromium not at /usr/bin/chromium (apt-get install chromium)"),
    (NODE is not None, "node not on PATH"),
    ((VIEWER_NODE / "openseadragon/build/openseadragon/openseadragon.min.js").is_file(),
     "OpenSeadragon not installed: run scripts/install-viewer.sh"),
    ((VIEWER_NODE / "playwright-core").is_dir(), "playwright-core not installed: run scripts/install-viewer.sh"),
) if not cond]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_subset(dest: Path, pages: dict[str, list[tuple[str, str]]]) -> Path:
    """A copy of demo-batch with only some items and pages: {item: [(sample path, path in the copy)]}."""
    batch = dest / "batch"
    batch.mkdir(parents=True)
    shutil.copy2(DEMO / "batch.toml", batch / "batch.toml")
    lines = (DEMO / "records.csv").read_text("utf-8").splitlines()
    # rows by census number (first column) or, without one, by local number (本地编号, column 17)
    keep = [lines[0]] + [ln for ln in lines[1:] if any(ln.split(",")[i] in pages for i in (0, 16) if len(ln.split(",")) > i)]
    (batch / "records.csv").write_text("\n".join(keep) + "\n", "utf-8")
    for item, files in pages.items():
        for src, dst in files:
            (batch / item / dst).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(DEMO / item / src, batch / item / dst)
    return batch


def build_publication(root: Path, batch: Path, base: str, *, ocr: bool = False) -> tuple[Path, Path]:
    """The real stages on ``batch``: WORK and OUT (published for ``base``)."""
    work, out = root / "work", root / "out"
    runner = CliRunner()
    steps = [["ingest", str(batch)], ["clean"], *([["ocr"]] if ocr else []), ["metadata"], ["iiif", "--base-url", base]]
    for args in steps:
        r = runner.invoke(main, [*args, "--work", str(work), "-j", "1", "-q"])
        assert r.exit_code == 0, (args, r.output)
    r = runner.invoke(main, ["publish", "--work", str(work), "--out", str(out), "-j", "1", "-q"])
    assert r.exit_code == 0, r.output
    return work, out


class Serve:
    """`guji serve OUT` in a subprocess on 127.0.0.1:port, stopped on exit."""

    def __init__(self, out: Path, port: int):
        self.out, self.port = out, port
        self.base = f"http://127.0.0.1:{port}/"

    def __enter__(self) -> "Serve":
        env = {k: v for k, v in os.environ.items() if not k.startswith("GUJI_")}
        self.proc = subprocess.Popen([sys.executable, "-m", "guji", "serve", str(self.out), "--host", "127.0.0.1",
                                      "--port", str(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env)
        for _ in range(150):
            try:
                with urllib.request.urlopen(self.base + "index.html", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("guji serve exited: " + self.proc.stderr.read().decode(errors="replace"))
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("guji serve did not answer within 15 s")

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        import http.client

        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
        if self.proc.stderr:
            self.proc.stderr.close()


class StaticHost:
    """A plain static file server (Python's http.server): no API, no rewriting."""

    def __init__(self, root: Path, port: int = 0):
        self.srv = ThreadingHTTPServer(("127.0.0.1", port), partial(_QuietHandler, directory=str(root)))
        self.base = f"http://127.0.0.1:{self.srv.server_address[1]}/"

    def __enter__(self) -> "StaticHost":
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.srv.shutdown()
        self.srv.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def run_browser(script: str, *args: str, timeout: float = 180) -> list[dict]:
    """Run a playwright-core script (ES module text) with node; one JSON document per stdout line."""
    ARTIFACTS.mkdir(exist_ok=True)
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "driver.mjs"
        path.write_text(DRIVER_PRELUDE + script, "utf-8")
        proc = subprocess.run([NODE, str(path), *args], capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "VIEWER_DIR": str(VIEWER_NODE.parent)})
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-4000:])
    return [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]


# tests/viewer/browser.mjs (and so playwright-core from tests/viewer/node_modules) wherever the script is;
# console errors count as errors here too
DRIVER_PRELUDE = r"""
import { pathToFileURL } from "url";
const { launch, watch: watchPage } = await import(pathToFileURL(process.env.VIEWER_DIR + "/browser.mjs").href);
const browser = await launch();
function watch(page) {
  const log = watchPage(page);
  page.on("console", (m) => { if (m.type() === "error") log.errors.push("console: " + m.text()); });
  return log;
}
// the reader: wait until the page's text and image are in
async function readerReady(page, slug) {
  await page.waitForFunction((s) => document.body.dataset.ready === "1" && (!s || document.body.dataset.canvas === s)
      && document.body.dataset.imageReady === document.body.dataset.canvas, slug || null, { timeout: 30000 });
  await page.waitForTimeout(300);
}
// where a canvas box should be on screen: the drawn image's rectangle scaled to the canvas
async function expected(page, box) {
  return page.evaluate((box) => {
    const S = window.gujiReader, v = S.viewer, img = v.world.getItemAt(0), c = S.canvases[S.index];
    const b = v.viewport.viewportToViewerElementRectangle(img.getBounds(true));
    const el = v.element.getBoundingClientRect();
    const kx = b.width / c.width, ky = b.height / c.height;
    return { x: el.x + b.x + box[0] * kx, y: el.y + b.y + box[1] * ky, width: box[2] * kx, height: box[3] * ky };
  }, box);
}
async function overlays(page, sel) {
  return page.evaluate((sel) => [...document.querySelectorAll(sel)].map((el) => {
    const r = el.getBoundingClientRect();
    return { box: el.dataset.box.split(",").map(Number), rect: { x: r.x, y: r.y, width: r.width, height: r.height },
             hit: el.dataset.hit };
  }), sel);
}
"""
