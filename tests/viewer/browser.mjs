// Shared by the browser tests: Debian's headless chromium through playwright-core, and a page
// watcher collecting failed requests and page errors for the Python tests to judge.
import { chromium } from "playwright-core";

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run"],
  });
}

// Returns { failed, errors, requested } filled as the page runs (requested only when asked).
export function watch(page, { requests = false } = {}) {
  const log = { failed: [], errors: [], requested: [] };
  if (requests) page.on("request", (r) => log.requested.push(r.url()));
  page.on("requestfailed", (r) => log.failed.push(r.url()));
  page.on("response", (r) => { if (r.status() >= 400) log.failed.push(`${r.status()} ${r.url()}`); });
  page.on("pageerror", (e) => log.errors.push(String(e)));
  return log;
}

// For each (PAGE_URL, SCREENSHOT.png) pair of argv: open the page in a fresh tab, wait until `ready`
// (a page function) holds and the network is idle, let OpenSeadragon fade its tiles in, read the
// viewer's state with `state` (a page function), take the screenshot and print one JSON line with the
// state and what the watcher collected.
export async function checkPages(args, { ready, state, requests = false }) {
  const browser = await launch();
  try {
    for (let i = 0; i + 1 < args.length; i += 2) {
      const [pageUrl, shot] = [args[i], args[i + 1]];
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const log = watch(page, { requests });
      await page.goto(pageUrl, { waitUntil: "load" });
      await page.waitForFunction(ready, null, { timeout: 30000 });
      await page.waitForLoadState("networkidle");
      await page.waitForTimeout(1500); // OpenSeadragon fades tiles in
      const st = await page.evaluate(state);
      await page.screenshot({ path: shot });
      const { requested, failed, errors } = log;
      console.log(JSON.stringify({ ...st, ...(requests ? { requested } : {}), failed, errors }));
      await page.close();
    }
  } finally {
    await browser.close();
  }
}
