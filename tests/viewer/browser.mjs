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
