"""The published catalogue and reading room in a real browser, served by a real `guji serve` process.

A small subset of samples/demo-batch (論語集注: leaf 0001 and the two-leaf spread 0002; 老子道德經:
leaf 0001) goes through the real stages (ingest, clean, metadata, iiif, publish; no OCR, the slow
stage: titles are enough to search by). `guji serve` runs in a subprocess on a free 127.0.0.1 port,
and headless Debian Chromium (playwright-core) loads the catalogue, types a simplified-character
title word (论语) that must find the traditional record (論語集注), checks the thumbnails load, clicks
the book and checks that Mirador (copied into the publication by `guji publish`) shows it right to
left: on the spread's opening the first page in reading order (the right half of leaf 二) is drawn
on the right — judged from Mirador's state and from the screenshot's pixels compared with the two
page images. Screenshots: tests/artifacts/catalogue-*.png. Install the viewer with
scripts/install-viewer.sh.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from guji.cli import main
from guji.iiif import uris

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEMO = REPO / "samples" / "demo-batch"
VIEWER_NODE = HERE / "viewer" / "node_modules"
ARTIFACTS = HERE / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
NODE = shutil.which("node")
A, B = "350000-2001-0000101", "350000-2001-0000102"

missing = [why for cond, why in (
    ((DEMO / "batch.toml").is_file(), "samples/demo-batch not in this checkout"),
    (CHROMIUM.exists(), "Debian chromium not at /usr/bin/chromium (apt-get install chromium)"),
    (NODE is not None, "node not on PATH"),
    ((VIEWER_NODE / "mirador/dist/mirador.min.js").is_file(), "Mirador not installed: run scripts/install-viewer.sh"),
    ((VIEWER_NODE / "playwright-core").is_dir(), "playwright-core not installed: run scripts/install-viewer.sh"),
) if not cond]
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.skipif(bool(missing), reason="; ".join(missing))]


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
    keep = [lines[0]] + [ln for ln in lines[1:] if ln.split(",", 1)[0] in pages]
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
        if self.proc.stderr:
            self.proc.stderr.close()


def run_browser(script: str, *args: str, timeout: float = 120) -> list[dict]:
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


# tests/viewer/browser.mjs (and so playwright-core from tests/viewer/node_modules) wherever the script is
DRIVER_PRELUDE = r"""
import { pathToFileURL } from "url";
const { launch, watch } = await import(pathToFileURL(process.env.VIEWER_DIR + "/browser.mjs").href);
const browser = await launch();
async function miradorState(page) {
  await page.waitForFunction(() => {
    const st = window.miradorInstance && window.miradorInstance.store.getState();
    if (!st || !st.windows.w1) return false;
    const ids = Mirador.getVisibleCanvasIds(st, { windowId: "w1" });
    return ids && ids.length > 0 && document.querySelector(".openseadragon-canvas canvas");
  }, null, { timeout: 30000 });
  await page.waitForLoadState("networkidle");
  await page.waitForTimeout(1500); // OpenSeadragon fades tiles in
  return page.evaluate(() => {
    const st = window.miradorInstance.store.getState();
    const win = st.windows.w1;
    const m = st.manifests[win.manifestId].json;
    const osd = document.querySelector(".openseadragon-canvas").getBoundingClientRect();
    const v = Mirador.OSDReferences.get("w1").current;
    const home = v.world.getHomeBounds(), vb = v.viewport.getBounds(true), eps = 0.01 * home.width;
    const inView = home.x >= vb.x - eps && home.y >= vb.y - eps && home.x + home.width <= vb.x + vb.width + eps
      && home.y + home.height <= vb.y + vb.height + eps;
    return { inView, shownShare: Math.min(home.width / vb.width, home.height / vb.height), view: win.view, manifestId: win.manifestId, canvasId: win.canvasId,
             visible: Mirador.getVisibleCanvasIds(st, { windowId: "w1" }),
             viewingDirection: m.viewingDirection, title: document.title,
             windowTitle: (document.querySelector("[class*=WindowTopBar] h2, .mirador-window-top-bar h2") || {}).textContent || null,
             osd: { x: osd.x, y: osd.y, width: osd.width, height: osd.height } };
  });
}
"""

CATALOGUE_FLOW = r"""
const [base, query, shotDir] = process.argv.slice(2);
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const log = watch(page);
  await page.goto(base, { waitUntil: "networkidle" });
  const initial = await page.locator("#list .item").count();
  await page.locator("#q").fill(query);
  await page.locator("#q").press("Enter");
  await page.waitForFunction((q) => location.search.includes(encodeURIComponent(q))
      && document.querySelector("#summary").textContent.length > 0, query, { timeout: 15000 });
  await page.waitForLoadState("networkidle");
  await page.waitForFunction(() => [...document.images].every((i) => i.complete), null, { timeout: 15000 });
  const results = await page.evaluate(() => [...document.querySelectorAll("#list .item")].map((el) => {
    const img = el.querySelector("img");
    const a = el.querySelector("h2 a");
    return { title: a.textContent, href: a.href,
             thumb: img ? { src: img.src, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
                            shownWidth: img.getBoundingClientRect().width } : null };
  }));
  const summary = await page.locator("#summary").textContent();
  // CJK text must be drawn with a CJK font: the heading's glyphs are as wide as they are tall
  const glyph = await page.evaluate(() => {
    const s = document.createElement("span"); s.style.fontSize = "40px"; s.textContent = "論語集注";
    document.querySelector("#results").appendChild(s);
    const r = s.getBoundingClientRect(); s.remove(); return { width: r.width, height: r.height };
  });
  await page.screenshot({ path: `${shotDir}/catalogue-search.png`, fullPage: true });
  console.log(JSON.stringify({ step: "catalogue", initial, results, summary, glyph, ...log }));

  // open the first book from the catalogue: a real click on its title
  const vlog = watch(page);
  await Promise.all([page.waitForURL(/viewer/), page.locator("#list .item h2 a").first().click()]);
  const first = await miradorState(page);
  await page.screenshot({ path: `${shotDir}/catalogue-viewer-start.png` });
  console.log(JSON.stringify({ step: "viewer-start", url: page.url(), ...first }));
  // next opening: Mirador's own "next" control
  await page.locator("button[aria-label*='Next'], button[aria-label*='下一']").first().click();
  await page.waitForFunction((prev) => {
    const st = window.miradorInstance.store.getState();
    return JSON.stringify(Mirador.getVisibleCanvasIds(st, { windowId: "w1" })) !== prev;
  }, JSON.stringify(first.visible), { timeout: 15000 });
  const second = await miradorState(page);
  await page.screenshot({ path: `${shotDir}/catalogue-viewer-opening.png` });
  console.log(JSON.stringify({ step: "viewer-opening", ...second, ...vlog }));
} finally {
  await browser.close();
}
"""


def correlation(a, b) -> float:
    import numpy as np

    a = a - a.mean()
    b = b - b.mean()
    return float((a * b).sum() / (np.sqrt((a * a).sum() * (b * b).sum()) + 1e-9))


def halves_match(shot: Path, osd: dict, right_img: bytes, left_img: bytes) -> dict[str, float]:
    """Correlate the drawn pages' left/right halves of the viewer with the two page images."""
    import io

    import numpy as np
    from PIL import Image

    img = np.asarray(Image.open(shot).convert("L")).astype(float)
    x0, y0 = int(osd["x"]), int(osd["y"])
    sub = img[y0:y0 + int(osd["height"]), x0:x0 + int(osd["width"])]
    bg = np.median(np.concatenate([sub[:5].ravel(), sub[-5:].ravel()]))
    ys, xs = np.nonzero(np.abs(sub - bg) > 12)
    assert len(xs) > 1000, "nothing drawn in the viewer"
    # the drawn pages: rows/columns where most pixels differ from the viewer background
    cols = (np.abs(sub - bg) > 12).mean(axis=0) > 0.3
    rows = (np.abs(sub - bg) > 12).mean(axis=1) > 0.3
    cx, cy = np.nonzero(cols)[0], np.nonzero(rows)[0]
    page = sub[cy[0]:cy[-1] + 1, cx[0]:cx[-1] + 1]
    mid = page.shape[1] // 2
    out = {}
    for side, part in (("left", page[:, :mid]), ("right", page[:, mid:])):
        for name, data in (("R", right_img), ("L", left_img)):
            ref = Image.open(io.BytesIO(data)).convert("L").resize((part.shape[1], part.shape[0]))
            out[f"{side}~{name}"] = correlation(part, np.asarray(ref).astype(float))
    return out


def test_catalogue_search_thumbnails_and_viewer(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    batch = make_subset(tmp_path, {A: [("v01/0001.jpg", "v01/0001.jpg"), ("v01/0002.jpg", "v01/0002.jpg")],
                                   B: [("0001.jpg", "0001.jpg")]})
    work, out = build_publication(tmp_path, batch, base)
    assert (out / "viewer/index.html").is_file() and (out / "viewer/mirador.min.js").is_file()
    assert (out / "viewer/mirador.LICENSE.txt").is_file()

    with Serve(out, port) as srv:
        # the reading room is served with the right types
        s, h, _ = srv.get("/viewer/mirador.min.js")
        assert s == 200 and h["content-type"].startswith("text/javascript")
        manifest = json.loads(srv.get("/" + uris.manifest_path(A))[2])
        canvases = [c["id"] for c in manifest["items"]]
        assert manifest["viewingDirection"] == "right-to-left" and len(canvases) == 3
        services = [c["items"][0]["items"][0]["body"]["service"][0]["id"] for c in manifest["items"]]
        r_img, l_img = (srv.get("/" + s[len(base):] + "/full/400,/0/default.jpg") for s in services[1:3])
        assert r_img[0] == 200 and l_img[0] == 200, (r_img[0], l_img[0])

        cat, start, opening = run_browser(CATALOGUE_FLOW, base + "index.html", "论语", str(ARTIFACTS))

    # catalogue: the initial page lists every public book; the simplified query finds the traditional title
    assert cat["initial"] == 2
    assert [r["title"] for r in cat["results"]] == ["論語集注十卷"], cat["results"]
    res = cat["results"][0]
    assert res["href"].startswith(base + "viewer/index.html?manifest=")
    thumb = res["thumb"]
    assert thumb and thumb["naturalWidth"] > 0 and thumb["naturalHeight"] > 0, thumb  # it loaded
    assert thumb["naturalWidth"] >= thumb["shownWidth"], "thumbnail smaller than it is shown: blurry"
    assert not cat["failed"] and not cat["errors"], (cat["failed"], cat["errors"])
    # four CJK characters at 40px: a CJK font draws them about 160px wide (tofu or missing glyphs differ)
    assert 150 <= cat["glyph"]["width"] <= 170, cat["glyph"]

    # viewer: the book, in book view, right to left, opened at its first page
    assert start["manifestId"] == manifest["id"] and start["view"] == "book"
    assert start["viewingDirection"] == "right-to-left"
    assert start["visible"] == [manifest["start"]["id"]] == [canvases[0]]
    # the spread's opening: first page in reading order (0002-r) first in Mirador's order ...
    assert opening["visible"] == canvases[1:3] and canvases[1].endswith("0002-r")
    assert not [u for u in opening["failed"] if "favicon" not in u], opening["failed"]
    assert not opening["errors"], opening["errors"]
    # ... and drawn on the right: each half of the screenshot looks like its page image
    c = halves_match(ARTIFACTS / "catalogue-viewer-opening.png", opening["osd"], r_img[2], l_img[2])
    assert c["right~R"] > c["right~L"] and c["left~L"] > c["left~R"], c
    # the whole opening is in view and fills the window (fitted, not left at the first page's zoom)
    assert start["inView"] and opening["inView"], (start, opening)
    assert opening["shownShare"] > 0.8, opening
