// Open a manifest in Universal Viewer (npm UMD build, served from 127.0.0.1) in headless Debian chromium
// via playwright-core. Usage: node uv_check.mjs PAGE_URL SCREENSHOT.png [PAGE_URL SCREENSHOT.png ...]
// Prints one JSON line per page: UV's own state (viewing direction, paging, canvases of the current view
// in the order UV lays them out), the title shown, the thumbnails' image URLs and screen positions,
// the OpenSeadragon element's box, every URL requested and the requests that failed.
import { checkPages } from "./browser.mjs";

await checkPages(process.argv.slice(2), {
  requests: true,
  // wait until UV has loaded the manifest, drawn the main image and every thumbnail image has arrived
  // or failed (a broken image is "complete" too; the test judges them from `failed` and `loaded`)
  ready: () => {
    const ch = window.uv && window.uv._assignedContentHandler;
    const ext = ch && ch.extension;
    if (!ext || !ext.helper || !window.uvEvents.some((e) => e[0] === "load")) return false;
    const imgs = [...document.querySelectorAll(".thumb img")];
    return document.querySelector(".openseadragon-canvas canvas") && imgs.length > 0
      && imgs.every((im) => im.complete);
  },
  state: () => {
    const ext = window.uv._assignedContentHandler.extension;
    const h = ext.helper;
    const box = (el) => { const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; };
    return {
      viewingDirection: h.getViewingDirection(),
      canvasIndex: h.canvasIndex,
      pagingEnabled: h.isPagingEnabled(),
      current: ext.getCurrentCanvases().map((c) => c.id),
      title: [...document.querySelectorAll(".headerPanel .title, .mainPanel .title")].map((e) => e.textContent.trim()).filter(Boolean),
      thumbs: [...document.querySelectorAll(".thumb img")].map((im) => ({ src: im.src, loaded: im.naturalWidth > 0, ...box(im) })),
      osd: box(document.querySelector(".openseadragon-canvas")),
      events: window.uvEvents,
    };
  },
});
