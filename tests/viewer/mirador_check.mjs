// Open a manifest in Mirador (served from 127.0.0.1) in headless Debian chromium via playwright-core.
// Usage: node mirador_check.mjs PAGE_URL SCREENSHOT.png [PAGE_URL SCREENSHOT.png ...]
// Prints one JSON line per page: Mirador's state for the first view (visible canvases, viewing direction),
// the OpenSeadragon element's box and the URLs that failed, for the Python test to judge.
import { checkPages } from "./browser.mjs";

await checkPages(process.argv.slice(2), {
  // wait until the manifest is in and the first view's images are drawn
  ready: () => {
    const st = window.miradorInstance && window.miradorInstance.store.getState();
    if (!st) return false;
    const ids = Mirador.getVisibleCanvasIds(st, { windowId: "w1" });
    return ids && ids.length > 0 && document.querySelector(".openseadragon-canvas canvas");
  },
  state: () => {
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
  },
});
