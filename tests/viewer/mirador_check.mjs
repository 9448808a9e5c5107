// Open a manifest in Mirador (served from 127.0.0.1) in headless Debian chromium via playwright-core.
// Usage: node mirador_check.mjs PAGE_URL SCREENSHOT.png [PAGE_URL SCREENSHOT.png ...]
// Prints one JSON line per page: Mirador's state for the first view (visible canvases, viewing direction),
// the OpenSeadragon element's box and the URLs that failed, for the Python test to judge.
import { launch, watch } from "./browser.mjs";

const args = process.argv.slice(2);
const browser = await launch();
try {
 for (let i = 0; i + 1 < args.length; i += 2) {
  const [pageUrl, shot] = [args[i], args[i + 1]];
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const { failed, errors } = watch(page);
  await page.goto(pageUrl, { waitUntil: "load" });
  // wait until the manifest is in and the first view's images are drawn
  await page.waitForFunction(() => {
    const st = window.miradorInstance && window.miradorInstance.store.getState();
    if (!st) return false;
    const ids = Mirador.getVisibleCanvasIds(st, { windowId: "w1" });
    return ids && ids.length > 0 && document.querySelector(".openseadragon-canvas canvas");
  }, null, { timeout: 30000 });
  await page.waitForLoadState("networkidle");
  await page.waitForTimeout(1500); // OpenSeadragon fades tiles in
  const state = await page.evaluate(() => {
    const st = window.miradorInstance.store.getState();
    const win = st.windows.w1;
    const manifest = st.manifests[win.manifestId].json;
    const osd = document.querySelector(".openseadragon-canvas").getBoundingClientRect();
    return {
      view: win.view,
      canvasId: win.canvasId,
      visible: Mirador.getVisibleCanvasIds(st, { windowId: "w1" }),
      viewingDirection: manifest.viewingDirection,
      osd: { x: osd.x, y: osd.y, width: osd.width, height: osd.height },
      title: document.querySelector("h2") ? document.querySelector("h2").textContent : null,
      devicePixelRatio: window.devicePixelRatio,
    };
  });
  await page.screenshot({ path: shot });
  console.log(JSON.stringify({ ...state, failed, errors }));
  await page.close();
 }
} finally {
  await browser.close();
}
