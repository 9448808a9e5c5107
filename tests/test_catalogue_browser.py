"""The published catalogue and reading room in a real browser, served by a real `guji serve` process.

A small subset of samples/demo-batch goes through the real stages, OCR included (論語集注: leaf
0001, the two-leaf spread 0002 split into two canvases, the leaf skewed by +2° as 0003; 老子道德經
0001; the local document DF-0001, a page of another size with horizontal text). The build is made
for a base URL on one port and `guji serve` runs on ANOTHER port, so every test here also shows
that the reader works when served at an address other than the base URL (ids rewritten on the fly).
Headless Debian Chromium (playwright-core) drives the pages; page errors, console errors and
failed requests fail the tests. Screenshots: tests/artifacts/ (copies in docs/img/).

The build, server and browser driver are tests/browserkit.py, shared with the search browser tests.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest

from guji.iiif import uris

from browserkit import (A, ARTIFACTS, B, DF, Serve, StaticHost, build_publication, free_port,
                        make_subset, missing, run_browser)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.skipif(bool(missing), reason="; ".join(missing))]


@pytest.fixture(scope="module")
def pub(tmp_path_factory):
    root = tmp_path_factory.mktemp("catalogue")
    built_for = free_port()
    base = f"http://127.0.0.1:{built_for}/"
    batch = make_subset(root, {
        A: [("v01/0001.jpg", "v01/0001.jpg"), ("v01/0002.jpg", "v01/0002.jpg"), ("v01/0004.jpg", "v01/0003.jpg")],
        B: [("0001.jpg", "0001.jpg")],
        DF: [("0001.png", "0001.png")],
    })
    work, out = build_publication(root, batch, base, ocr=True)
    port = free_port()
    assert port != built_for
    with Serve(out, port) as srv:
        yield {"srv": srv, "base": srv.base, "built_for": base, "built_port": built_for, "out": out, "work": work}
    # said once in the log that ids are rewritten for this address
    assert srv.log.count("rewritten") == 1, srv.log


def page_text(out: Path, item: str, slug: str) -> dict:
    return json.loads((out / "search" / "text" / item / f"{slug}.json").read_text("utf-8"))


def slugs(out: Path, item: str) -> list[str]:
    m = json.loads((out / uris.manifest_path(item)).read_text("utf-8"))
    return [c["id"].rsplit("/canvas/", 1)[1] for c in m["items"]]


def close(rect: dict, want: dict, tol: float = 2.5) -> bool:
    return all(abs(rect[k] - want[k]) <= tol for k in ("x", "y", "width", "height"))


def no_errors(log: dict) -> None:
    assert not log["errors"], log["errors"]
    assert not [u for u in log["failed"] if "favicon" not in u], log["failed"]


# -- the reading room ------------------------------------------------------------------------------

READER_FLOW = r"""
const [url, shotDir] = process.argv.slice(2);
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const log = watch(page);
  await page.goto(url, { waitUntil: "networkidle" });
  await readerReady(page);
  const read = () => page.evaluate(() => ({
    canvas: document.body.dataset.canvas, url: location.href, label: document.getElementById("pagelabel").textContent,
    lines: [...document.querySelectorAll("#text .line")].map((l) => l.textContent),
    vertical: document.getElementById("text").classList.contains("vertical"),
    writingMode: getComputedStyle(document.getElementById("text")).writingMode,
    low: document.querySelectorAll("#text .c.low").length,
    pageOptions: [...document.querySelectorAll("#pages option")].map((o) => o.textContent),
    permalink: document.getElementById("permalink").href,
    gbt: document.querySelector("#cite-gbt span").textContent, chicago: document.querySelector("#cite-chicago span").textContent,
    textBox: (() => { const r = document.getElementById("text").getBoundingClientRect(); return { x: r.x, width: r.width }; })(),
    osdBox: (() => { const r = document.getElementById("osd").getBoundingClientRect(); return { x: r.x, width: r.width }; })(),
  }));
  const first = await read();
  // click a character that has a box: its box is outlined on the image
  const target = await page.evaluate(() => {
    const S = window.gujiReader;
    for (const [i, l] of S.text.lines.entries()) {
      if (l.type === "centre-column") continue;
      for (const [j, c] of (l.chars || []).entries()) if (c.b && c.t.trim()) return { i, j, t: c.t, b: c.b };
    }
    return null;
  });
  await page.locator(`#text .line[data-l="${target.i}"] .c[data-c="${target.j}"]`).click();
  const sel = await overlays(page, ".ov.sel");
  const want = await expected(page, target.b);
  // hover the middle of that box on the image: its text shows
  const cx = want.x + want.width / 2, cy = want.y + want.height / 2;
  await page.mouse.move(cx, cy);
  await page.waitForTimeout(200);
  const tip = await page.evaluate(() => ({ hidden: document.getElementById("tip").hidden, text: document.getElementById("tip").textContent,
                                           hovered: [...document.querySelectorAll("#text .line.hover")].map((l) => +l.dataset.l) }));
  await page.mouse.move(5, 5);
  // click a whole column (the line element beside its characters): the line's box
  const lineBox = await page.evaluate((i) => window.gujiReader.text.lines[i].box, target.i);
  await page.evaluate((i) => document.querySelector(`#text .line[data-l="${i}"]`).dispatchEvent(new MouseEvent("click", { bubbles: true })), target.i);
  const lineSel = await overlays(page, ".ov.sel");
  const lineWant = await expected(page, lineBox);
  await page.screenshot({ path: `${shotDir}/reader-text.png` });
  // download the page's text, and the whole book's (a published file)
  const [dl] = await Promise.all([page.waitForEvent("download"), page.locator("#dl-page").click()]);
  const fs = await import("fs");
  const pageFile = fs.readFileSync(await dl.path(), "utf-8");
  const bookHref = await page.locator("#dl-book").evaluate((a) => a.href);
  const book = await page.evaluate(async (u) => (await fetch(u)).text(), bookHref);
  // turn the page with the reader's own "next" button (for a right-to-left book: the left one)
  await page.locator('.turn[data-step="1"]').click();
  await page.waitForFunction((c) => document.body.dataset.canvas !== c, first.canvas);
  await readerReady(page);
  const second = await read();
  // the permalink opens that page again
  const again = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const log2 = watch(again);
  await again.goto(second.permalink, { waitUntil: "networkidle" });
  await readerReady(again);
  const reopened = await again.evaluate(() => ({ canvas: document.body.dataset.canvas, label: document.getElementById("pagelabel").textContent,
                                                lines: [...document.querySelectorAll("#text .line")].map((l) => l.textContent) }));
  console.log(JSON.stringify({ first, second, reopened, target, sel, want, tip, lineSel, lineWant, pageFile, book,
                               pageFileName: dl.suggestedFilename(),
                               errors: [...log.errors, ...log2.errors], failed: [...log.failed, ...log2.failed] }));
} finally {
  await browser.close();
}
"""


def test_reader_text_beside_image_follows_pages_and_permalinks(pub):
    out, base = pub["out"], pub["base"]
    a_slugs = slugs(out, A)
    assert len(a_slugs) == 4  # leaf, spread right + left halves, skewed leaf
    (r,) = run_browser(READER_FLOW, f"{base}viewer/index.html?item={quote(A)}", str(ARTIFACTS))
    no_errors(r)
    first, second = r["first"], r["second"]

    def body_lines(slug):
        return [ln["text"] for ln in page_text(out, A, slug)["lines"] if ln["type"] != "centre-column"]

    # the text of the page shown, column by column, beside (right of) the image, vertical right to left
    assert first["canvas"] == a_slugs[0] and first["lines"] == body_lines(a_slugs[0]) and first["lines"]
    assert first["vertical"] and first["writingMode"] == "vertical-rl"
    assert first["textBox"]["x"] >= first["osdBox"]["x"] + first["osdBox"]["width"] - 1
    # page names are the manifest's canvas labels, shown as they are
    m = json.loads(pub["srv"].get("/" + uris.manifest_path(A))[2])
    labels = [next(iter(c["label"].values()))[0] for c in m["items"]]
    assert first["pageOptions"] == labels and first["label"] == labels[0]
    # the text follows the page turn; the URL follows too and is a permalink
    assert second["canvas"] == a_slugs[1] and second["lines"] == body_lines(a_slugs[1]) != first["lines"]
    assert f"canvas={quote(a_slugs[1])}" in second["url"] or f"canvas={a_slugs[1]}" in second["url"]
    assert r["reopened"]["canvas"] == a_slugs[1] and r["reopened"]["lines"] == second["lines"]
    # citations name the book and the page, with the permalink
    for cite in (second["gbt"], second["chicago"]):
        assert "論語集注" in cite and labels[1] in cite and second["permalink"] in cite
    assert "[M/OL]" in second["gbt"] and "Accessed" in second["chicago"]
    # the clicked character's box is drawn where the character is on the image
    (sel,) = r["sel"]
    assert sel["box"] == r["target"]["b"] and close(sel["rect"], r["want"]), (sel, r["want"])
    (line_sel,) = r["lineSel"]
    assert close(line_sel["rect"], r["lineWant"]), (line_sel, r["lineWant"])
    # the page's text downloads as shown; the book's text has every page
    assert r["pageFile"].splitlines()[1:] == first["lines"] and r["pageFileName"].endswith(".txt")
    assert all(ln in r["book"] for ln in first["lines"] + second["lines"])
    # hovering that place on the image shows its text
    assert not r["tip"]["hidden"] and r["tip"]["text"].startswith(r["target"]["t"]) and r["tip"]["hovered"] == [r["target"]["i"]]


# -- search hits: listed once, drawn on the server's boxes ----------------------------------------

SEARCH_FLOW = r"""
const [base, casesJson, shotDir] = process.argv.slice(2);
const cases = JSON.parse(casesJson);
const results = [];
const logs = { errors: [], failed: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const log = watch(page);
  for (const c of cases) {
    await page.goto(`${base}viewer/index.html?item=${encodeURIComponent(c.item)}&canvas=${encodeURIComponent(c.slug)}&q=${encodeURIComponent(c.q)}`,
                    { waitUntil: "networkidle" });
    await readerReady(page, c.slug);
    await page.waitForFunction(() => document.body.dataset.hits !== undefined && document.body.dataset.hits !== "", null, { timeout: 15000 });
    await page.waitForTimeout(200);
    const listed = await page.evaluate(() => [...document.querySelectorAll("#hit-list li")].map((li) => li.textContent));
    const ov = await overlays(page, ".ov.ov-hit");
    const want = [];
    for (const o of ov) want.push(await expected(page, o.box));
    results.push({ ...c, hits: await page.evaluate(() => document.body.dataset.hits), listed, ov, want });
    if (c.shot) await page.screenshot({ path: `${shotDir}/${c.shot}` });
  }
  logs.errors.push(...log.errors); logs.failed.push(...log.failed);
  console.log(JSON.stringify({ results, ...logs }));
} finally {
  await browser.close();
}
"""


def _queries(out: Path) -> list[dict]:
    """Single characters and phrases read on the spread's right and left halves, the skewed leaf and
    the local document (another page size): taken from the published page text, so they exist."""
    a = slugs(out, A)
    pages = [(A, a[1], "spread right half"), (A, a[2], "spread left half"), (A, a[3], "skewed leaf"),
             (DF, slugs(out, DF)[0], "page of another size")]
    cases = []
    for item, slug, what in pages:
        lines = [ln for ln in page_text(out, item, slug)["lines"] if ln["type"] == "body" and len(ln["text"]) >= 6]
        text = "".join(ln["text"] for ln in lines)
        common = Counter(ch for ch in text if "\u4e00" <= ch <= "\u9fff").most_common(1)[0][0]
        mid = lines[len(lines) // 2]["text"]
        cases.append({"item": item, "slug": slug, "what": what, "q": common})
        cases.append({"item": item, "slug": slug, "what": what, "q": mid[2:5]})
        cases.append({"item": item, "slug": slug, "what": what, "q": lines[0]["text"][-2:]})
    cases[0]["shot"] = "reader-search.png"
    return cases


def test_search_hits_listed_once_and_drawn_on_the_server_boxes(pub):
    out, srv = pub["out"], pub["srv"]
    cases = _queries(out)
    assert len(cases) >= 10
    (r,) = run_browser(SEARCH_FLOW, pub["base"], json.dumps(cases, ensure_ascii=False), str(ARTIFACTS), timeout=300)
    no_errors(r)
    for res in r["results"]:
        d = json.loads(srv.get(f"/search/2/{quote(res['item'])}?q={quote(res['q'])}")[2])
        matches = d["annotations"][0]["items"] if d.get("annotations") else []
        segs = {a["id"]: a["target"] for a in d["items"]}
        # each hit listed once: as many entries as the server's matches
        assert int(res["hits"]) == len(matches) == len(res["listed"]) > 0, (res["q"], res["what"], res["listed"])
        # the boxes drawn on this page are the server's boxes for this page, each once
        canvas = uris.canvas_uri(pub["base"], res["item"], res["slug"].replace("_", "/"))
        on_page = sorted(tuple(int(v) for v in t.split("#xywh=")[1].split(",")) for t in segs.values()
                         if t.split("#")[0].endswith("/canvas/" + res["slug"]))
        drawn = sorted(tuple(o["box"]) for o in res["ov"])
        assert drawn == on_page and drawn, (res["q"], res["what"], drawn, on_page, canvas)
        # and each is drawn where that box is on the page image
        for o, want in zip(res["ov"], res["want"]):
            assert close(o["rect"], want), (res["q"], res["what"], o, want)


# -- the catalogue ---------------------------------------------------------------------------------

CATALOGUE_FLOW = r"""
const [base, shotDir] = process.argv.slice(2);
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const log = watch(page);
  const items = () => page.evaluate(() => [...document.querySelectorAll("#list .item")].map((el) => ({
    id: el.dataset.item, title: el.querySelector("h2 a").textContent, record: el.querySelector("h2 a").href,
    read: el.querySelector("a.read").href, allHits: (el.querySelector("a.all-hits") || {}).textContent || null,
    allHitsHref: (el.querySelector("a.all-hits") || {}).href || null,
    thumb: (() => { const i = el.querySelector("img"); return i ? { w: i.naturalWidth, complete: i.complete } : null; })() })));
  const settle = async () => { await page.waitForLoadState("networkidle"); await page.waitForTimeout(150); };
  await page.goto(base + "index.html", { waitUntil: "networkidle" });
  const out = { initial: await items(), mode: await page.locator("#mode").isVisible() };
  out.facetHeads = await page.locator("#facets h3").allTextContents();
  out.classTree = await page.evaluate(() => [...document.querySelectorAll("#facets ul ul input")].map((i) => i.dataset.f));
  // a facet click filters (the classification tree: 經部)
  await page.locator('#facets input[data-f="classification:經部"]').check();
  await page.waitForURL(/f=classification/); await settle();
  out.afterClass = await items();
  // a second facet combines (AND) with the first: 經部 and 地方文献 = nothing, the facet shows 0 choices
  await page.locator('#facets input[data-f="classification:經部"]').uncheck();
  await page.waitForURL((u) => !u.search.includes("classification")); await settle();
  await page.locator('#facets input[data-f="profile:local-document"]').check();
  await page.waitForURL(/f=profile/); await settle();
  out.afterProfile = await items();
  out.profileLabel = await page.locator('#facets input[data-f="profile:local-document"]').locator("xpath=..").textContent();
  // sorting and paging
  await page.goto(base + "index.html?sort=date&per_page=1", { waitUntil: "networkidle" });
  out.page1 = await items(); out.pageno1 = await page.locator("#pageno").textContent();
  await page.locator("#next").click(); await page.waitForURL(/page=2/); await settle();
  out.page2 = await items(); out.pageno2 = await page.locator("#pageno").textContent();
  await page.goto(base + "index.html?sort=date", { waitUntil: "networkidle" });
  out.byDate = await items();
  // full text: per-book hit counts, "all hits in this book"
  await page.locator("#q").fill("子曰"); await page.locator("#q").press("Enter");
  await page.waitForURL(/q=/); await settle();
  out.search = await items(); out.summary = await page.locator("#summary").textContent();
  await page.screenshot({ path: `${shotDir}/catalogue-search.png` });
  // language switch: Traditional, English, back
  await page.locator('.langs button[data-lang="zh-Hant"]').click();
  out.hant = await page.locator("header.top h1 span").textContent();
  await page.locator('.langs button[data-lang="en"]').click();
  out.en = await page.locator("header.top h1 span").textContent();
  out.enFacets = await page.locator("#facets h3").allTextContents();
  await page.locator('.langs button[data-lang="zh-Hans"]').click();
  // record page of the first book
  await page.goto(out.initial.find((i) => i.id === "350000-2001-0000101").record, { waitUntil: "networkidle" });
  out.record = await page.evaluate(() => ({
    title: document.querySelector("#record h2").textContent,
    fields: [...document.querySelectorAll("table.fields tr")].map((tr) => [tr.querySelector("th").textContent, tr.querySelector("td").textContent]),
    links: [...document.querySelectorAll(".links a")].map((a) => a.href),
    drag: document.getElementById("iiif-drag").href,
    thumbs: [...document.querySelectorAll(".thumbs img")].map((i) => i.naturalWidth),
    cite: document.querySelector("#cite-gbt span").textContent }));
  // a phone: 390 px wide
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  const log2 = watch(phone);
  await phone.goto(base + "index.html?q=" + encodeURIComponent("子曰"), { waitUntil: "networkidle" });
  await phone.waitForTimeout(300);
  out.phone = await phone.evaluate(() => ({ results: document.getElementById("results").getBoundingClientRect().width,
                                            scrollWidth: document.documentElement.scrollWidth }));
  await phone.screenshot({ path: `${shotDir}/catalogue-phone.png` });
  out.errors = [...log.errors, ...log2.errors]; out.failed = [...log.failed, ...log2.failed];
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
}
"""


def test_catalogue_facets_sorting_paging_record_page(pub):
    base = pub["base"]
    (r,) = run_browser(CATALOGUE_FLOW, base, str(ARTIFACTS))
    no_errors(r)
    assert len(r["initial"]) == 3 and not r["mode"]
    assert all(i["thumb"] and i["thumb"]["w"] > 0 for i in r["initial"])  # thumbnails load on this other port
    assert r["facetHeads"][:2] == ["四部分类", "朝代"]
    assert "classification:經部/四書類" in r["classTree"] and "classification:經部/四書類/論語之屬" in r["classTree"]
    assert [i["id"] for i in r["afterClass"]] == [A]
    assert [i["id"] for i in r["afterProfile"]] == [DF] and "地方文献" in r["profileLabel"]
    # paging (1 per page, by date: 1775, 1876, 1953)
    assert [i["id"] for i in r["page1"]] == [A] and [i["id"] for i in r["page2"]] == [B]
    assert "1 / 3" in r["pageno1"] and "2 / 3" in r["pageno2"]
    assert [i["id"] for i in r["byDate"]] == [A, B, DF]
    # full text: the books whose pages have 子曰, with their hit counts and a link to all of them
    assert r["search"] and r["search"][0]["id"] == A
    first = r["search"][0]
    assert first["allHits"] and "viewer/index.html?item=" in first["allHitsHref"] and "q=" in first["allHitsHref"]
    n = int("".join(ch for ch in first["allHits"] if ch.isdigit()))
    d = json.loads(pub["srv"].get("/api/search?q=" + quote("子曰") + "&limit=10")[2])
    assert n == next(i["page_hits"] for i in d["items"] if i["item_id"] == A)
    assert r["hant"] == "古籍目錄" and r["en"] == "Catalogue of ancient books" and r["enFacets"][0] == "Classification"
    # record page: every public field of the manifest, links that resolve, thumbnails, citation
    m = json.loads(pub["srv"].get("/" + uris.manifest_path(A))[2])
    assert len(r["record"]["fields"]) >= len(m["metadata"]) and r["record"]["title"]
    for link in r["record"]["links"]:
        assert pub["srv"].get(link[len(base) - 1:])[0] == 200, link
    assert r["record"]["drag"].endswith("?manifest=" + quote(base + uris.manifest_path(A), safe=""))
    assert r["record"]["thumbs"] and all(w > 0 for w in r["record"]["thumbs"])
    assert "[M/OL]" in r["record"]["cite"]
    # 390 px: the results use the width, nothing scrolls sideways
    assert r["phone"]["results"] >= 340 and r["phone"]["scrollWidth"] <= 390, r["phone"]


# -- a plain static host ---------------------------------------------------------------------------

STATIC_FLOW = r"""
const [base, item, which] = process.argv.slice(2);
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const log = watch(page);
  const out = {};
  if (which === "at-base") {
    await page.goto(base + "index.html", { waitUntil: "networkidle" });
    out.mode = await page.locator("#mode").isVisible(); out.n = await page.locator("#list .item").count();
    await page.locator('#facets input[data-f="profile:local-document"]').check();
    await page.waitForURL(/f=profile/); await page.waitForLoadState("networkidle");
    out.filtered = await page.locator("#list .item").count();
    await page.goto(`${base}viewer/index.html?item=${encodeURIComponent(item)}&q=${encodeURIComponent("子")}`, { waitUntil: "networkidle" });
    await readerReady(page);
    await page.waitForFunction(() => document.body.dataset.hits === "unavailable", null, { timeout: 15000 });
    out.lines = await page.locator("#text .line").count();
    out.hitsTitle = await page.locator("#hits-title").textContent();
  } else {
    // the same files on a static host at another address than the base URL: the page says why
    await page.goto(`${base}viewer/index.html?item=${encodeURIComponent(item)}`, { waitUntil: "networkidle" });
    await page.waitForFunction(() => !document.getElementById("msg").hidden, null, { timeout: 20000 });
    out.msg = await page.locator("#msg").textContent();
  }
  // a static host has no /api/ and no /search/2/: those 404s are expected
  out.errors = log.errors.filter((e) => !e.includes("Failed to load resource"));
  out.failed = log.failed.filter((u) => !u.includes("/api/") && !u.includes("/search/2/"));
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
}
"""


def test_static_host_browses_and_says_what_needs_the_server(pub):
    """Served by a plain static file server at the base URL: browsing, facets and reading work, search
    says it needs `guji serve`; at another address without the server the reader says why images fail."""
    with StaticHost(pub["out"], pub["built_port"]) as at_base:
        assert at_base.base == pub["built_for"]
        (r,) = run_browser(STATIC_FLOW, at_base.base, A, "at-base")
    assert not r["errors"] and not [u for u in r["failed"] if "favicon" not in u], r
    assert r["mode"] and r["n"] == 3 and r["filtered"] == 1
    assert r["lines"] > 0 and "guji serve" in r["hitsTitle"]
    with StaticHost(pub["out"]) as elsewhere:  # nothing answers at the base URL now
        (r,) = run_browser(STATIC_FLOW, elsewhere.base, A, "elsewhere")
    assert "guji serve" in r["msg"], r
