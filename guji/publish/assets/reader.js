// guji reading room: OpenSeadragon shows the page image (the canvas's level-0 IIIF image service),
// the side panel its text column by column (vertical right to left for rare books, horizontal for
// local documents) from search/text/<item>/<canvas>.json (characters with canvas-pixel boxes), or from the
// canvas's OCR AnnotationPage (lines) for a manifest from elsewhere. Click a character or a column:
// its box on the image; hover the image: the text under the pointer. ?q= runs the book's IIIF
// Content Search and draws every hit on its page from the boxes the server returns.
// URL: ?item=ID (or ?manifest=URL) &canvas=SLUG &q=...; it follows the page turns (a permalink).
(function () {
  const R = window.GUJI_READER;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const params = new URLSearchParams(location.search);
  const item = params.get("item");
  let manifestUrl = params.get("manifest") || (item ? new URL(R.root + "iiif/" + encodeURI(item) + "/manifest.json", location.href).href : null);
  const S = { manifest: null, canvases: [], index: -1, text: null, hits: [], hitIndex: -1, record: null, rtl: false,
              selection: null, hoverEl: null, juan: [], volumes: [] };
  window.gujiReader = S; // for the browser tests and the curious

  function message(text) { const m = $("msg"); m.textContent = text; m.hidden = !text; }
  const slugOf = (canvasId) => decodeURIComponent(String(canvasId).split("/canvas/").pop());

  if (!manifestUrl) {
    message(GUJI.t("reader.no_book"));
    return;
  }

  const viewer = OpenSeadragon({
    element: $("osd"), drawer: "canvas", showNavigationControl: false, crossOriginPolicy: "Anonymous", preserveViewport: false,
    visibilityRatio: 0.5, minZoomImageRatio: 0.5, maxZoomPixelRatio: 4, gestureSettingsMouse: { clickToZoom: false },
  });
  S.viewer = viewer;
  viewer.addHandler("open-failed", () => message(GUJI.t("reader.image_failed")));
  viewer.addHandler("tile-load-failed", () => message(GUJI.t("reader.image_failed")));

  // -- page image and overlays (boxes in canvas pixels → image pixels → viewport) --------------------
  function image() { return viewer.world.getItemCount() ? viewer.world.getItemAt(0) : null; }
  function toViewport(box) {
    const img = image(), c = S.canvases[S.index];
    if (!img || !box) return null;
    const size = img.getContentSize();
    const sx = size.x / (c.width || size.x), sy = size.y / (c.height || size.y);
    return img.imageToViewportRectangle(box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy);
  }
  function overlay(box, cls, data) {
    const r = toViewport(box);
    if (!r) return null;
    const el = document.createElement("div");
    el.className = "ov " + cls;
    el.dataset.box = box.join(",");
    for (const [k, v] of Object.entries(data || {})) el.dataset[k] = v;
    viewer.addOverlay({ element: el, location: r });
    return el;
  }
  function drop(el) { if (el) viewer.removeOverlay(el); }
  function select(box, cls = "sel") {
    drop(S.selection);
    S.selection = box ? overlay(box, cls) : null;
  }

  // -- the manifest --------------------------------------------------------------------------------
  const lm = (v) => GUJI.label(v);
  // a very large book may be published as one manifest per volume under iiif/<item>/collection.json
  // (`[iiif] multi_part`): then ?vol=N (1-based) picks the volume, default the first
  async function volumeManifest() {
    if (!item || params.get("manifest")) return null;
    const r = await fetch(R.root + "iiif/" + encodeURI(item) + "/collection.json");
    if (!r.ok) return null;
    const c = await r.json();
    S.volumeManifests = (c.items || []).filter((x) => x.type === "Manifest");
    let v = Math.min(S.volumeManifests.length, Math.max(1, +(params.get("vol") || 1)));
    const want = params.get("canvas");
    if (want && !params.get("vol")) { // a page link without its volume: find the volume that has it
      for (let i = 0; i < S.volumeManifests.length; i++) {
        try {
          const vm = await (await fetch(S.volumeManifests[i].id)).json();
          if ((vm.items || []).some((c) => slugOf(c.id) === want)) { v = i + 1; break; }
        } catch (e) { /* try the next volume */ }
      }
    }
    S.vol = v;
    return S.volumeManifests.length ? S.volumeManifests[v - 1].id : null;
  }
  async function load() {
    let m;
    if (item) {
      try {
        const recs = await (await fetch(R.root + "search/records.json")).json();
        S.record = recs.find((r) => r.item_id === item) || null;
      } catch (e) { S.record = null; }
    }
    try {
      // a book without a single manifest (one per volume): straight to its collection
      let r = S.record && !S.record.manifest && (await volumeManifest()) ? null : await fetch(manifestUrl);
      if (!r && S.volumeManifests) { manifestUrl = S.volumeManifests[S.vol - 1].id; r = await fetch(manifestUrl); }
      if (r.status === 404) {
        const v = await volumeManifest();
        if (v) { manifestUrl = v; r = await fetch(v); }
      }
      if (!r.ok) throw new Error(r.status + " " + r.statusText);
      m = await r.json();
    } catch (e) {
      message(GUJI.t("reader.load_failed") + " " + manifestUrl + ": " + e.message);
      return;
    }
    S.manifest = m;
    S.rtl = m.viewingDirection === "right-to-left";
    S.canvases = (m.items || []).map((c) => {
      const body = (((c.items || [])[0] || {}).items || [])[0]?.body || {};
      const svc = (body.service || [])[0] || {};
      return { id: c.id, label: c.label, width: c.width, height: c.height, slug: slugOf(c.id),
               service: svc.id || svc["@id"] || null, image: body.id, annotations: (c.annotations || []).map((a) => a.id) };
    });
    for (const top of m.structures || []) {
      const kind = /\/juan$/.test(top.id) ? "juan" : /\/volumes$/.test(top.id) ? "volumes" : null;
      if (!kind) continue;
      S[kind] = (top.items || []).map((r) => ({ label: r.label, canvases: (r.items || []).map((c) => c.id) }));
    }
    if (item) {
      $("dl-book").href = R.root + "search/text/" + encodeURI(item) + ".txt";
    } else {
      $("dl-book").hidden = true;
    }
    $("dl-juan").hidden = !S.juan.length;
    renderChrome();
    const want = params.get("canvas");
    let i = want ? S.canvases.findIndex((c) => c.slug === want || c.id === want) : -1;
    if (i < 0 && params.get("page")) i = Math.min(S.canvases.length, Math.max(1, +params.get("page"))) - 1;
    if (i < 0 && m.start) i = S.canvases.findIndex((c) => c.id === m.start.id);
    show(Math.max(0, i));
    const q = params.get("q");
    if (q) { $("sq").value = q; search(q); }
  }

  function renderChrome() {
    const m = S.manifest;
    $("booktitle").textContent = lm(m.label);
    document.title = lm(m.label) + " · " + GUJI.t("site.reader");
    $("pages").innerHTML = S.canvases.map((c, i) => `<option value="${i}">${esc(lm(c.label) || String(i + 1))}</option>`).join("");
    $("pages").value = String(Math.max(0, S.index));
    const opts = [`<option value="">${esc(GUJI.t("reader.contents"))}</option>`];
    for (const [kind, key] of [["juan", "record.juan"], ["volumes", "record.volumes"]]) {
      if (!S[kind].length) continue;
      opts.push(`<optgroup label="${esc(GUJI.t(key))}">` + S[kind].map((r) =>
        `<option value="${esc(r.canvases[0])}">${esc(lm(r.label))}</option>`).join("") + "</optgroup>");
    }
    if (S.volumeManifests && S.volumeManifests.length > 1) {
      opts.push(`<optgroup label="${esc(GUJI.t("record.volumes"))}">` + S.volumeManifests.map((v, i) =>
        `<option value="vol:${i + 1}">${esc(lm(v.label))}</option>`).join("") + "</optgroup>");
    }
    $("contents").innerHTML = opts.join("");
    // reading direction: for a right-to-left book the next page is on the left
    const [a, b] = S.rtl ? ["reader.next", "reader.prev"] : ["reader.prev", "reader.next"];
    $("btn-a").textContent = (S.rtl ? "‹ " : "‹ ") + GUJI.t(a); $("btn-a").dataset.step = S.rtl ? 1 : -1;
    $("btn-b").textContent = GUJI.t(b) + " ›"; $("btn-b").dataset.step = S.rtl ? -1 : 1;
    if (S.index >= 0) { renderCites(); renderHits(); }
  }

  function pageLabel() { const c = S.canvases[S.index]; return c ? (lm(c.label) || String(S.index + 1)) : ""; }
  function permalink() {
    const u = new URL(location.href);
    const p = new URLSearchParams();
    if (item) p.set("item", item); else p.set("manifest", manifestUrl);
    if (S.vol) p.set("vol", String(S.vol));
    p.set("canvas", S.canvases[S.index].slug);
    u.search = p.toString(); u.hash = "";
    return u.href;
  }

  // -- turning pages ------------------------------------------------------------------------------
  function show(i) {
    if (i < 0 || i >= S.canvases.length) return;
    S.index = i;
    const c = S.canvases[i];
    $("pages").value = String(i);
    $("pagelabel").textContent = pageLabel();
    const p = new URLSearchParams(location.search);
    p.delete("page"); p.set("canvas", c.slug);
    history.replaceState(null, "", "?" + p.toString());
    $("permalink").href = permalink();
    document.body.dataset.canvas = c.slug;
    document.body.dataset.ready = "0";
    S.selection = null; S.hoverEl = null;
    viewer.clearOverlays();
    message("");
    const source = c.service ? c.service.replace(/\/$/, "") + "/info.json" : { type: "image", url: c.image };
    viewer.open(source);
    viewer.addOnceHandler("open", () => { viewer.viewport.goHome(true); drawHits(); document.body.dataset.imageReady = c.slug; });
    loadText(c).then(() => { document.body.dataset.ready = "1"; });
    renderCites();
  }
  function step(n) { show(S.index + n); }
  $("btn-a").addEventListener("click", (e) => step(+e.currentTarget.dataset.step));
  $("btn-b").addEventListener("click", (e) => step(+e.currentTarget.dataset.step));
  $("pages").addEventListener("change", () => show(+$("pages").value));
  $("contents").addEventListener("change", () => {
    const id = $("contents").value;
    if (id.startsWith("vol:")) {
      const p = new URLSearchParams(location.search);
      p.set("vol", id.slice(4)); p.delete("canvas");
      location.search = "?" + p.toString();
      return;
    }
    if (id) show(S.canvases.findIndex((c) => c.id === id));
    $("contents").value = "";
  });
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, select, textarea")) return;
    if (e.key === "ArrowLeft") step(S.rtl ? 1 : -1);
    if (e.key === "ArrowRight") step(S.rtl ? -1 : 1);
  });

  // -- the text ------------------------------------------------------------------------------------
  async function pageText(c) {
    if (item) {
      try {
        const r = await fetch(R.root + "search/text/" + encodeURI(item) + "/" + encodeURIComponent(c.slug) + ".json");
        if (r.ok) return await r.json();
      } catch (e) { /* fall back to the annotations */ }
    }
    const lines = [];
    for (const a of c.annotations) {
      try {
        const page = await (await fetch(a)).json();
        for (const an of page.items || []) {
          const m = /#xywh=(\d+),(\d+),(\d+),(\d+)/.exec(typeof an.target === "string" ? an.target : an.target.id || "");
          const body = Array.isArray(an.body) ? an.body[0] : an.body;
          lines.push({ type: "body", kind: "text", text: body.value || "", box: m ? m.slice(1).map(Number) : null, chars: [] });
        }
      } catch (e) { /* no text */ }
    }
    return { layout: S.rtl ? "vertical-rtl" : "", lines };
  }

  async function loadText(c) {
    const t = await pageText(c);
    if (S.canvases[S.index] !== c) return; // turned on meanwhile
    S.text = t;
    const vertical = /vertical/.test(t.layout || "") || (S.rtl && !t.layout);
    const box = $("text");
    box.className = "text" + (vertical ? " vertical" : "");
    const centre = t.lines.filter((l) => l.type === "centre-column").map((l) => l.text).join(" ");
    $("centre").textContent = centre ? GUJI.t("reader.centre") + "：" + centre : "";
    const body = t.lines.map((l, i) => [l, i]).filter(([l]) => l.type !== "centre-column");
    if (!body.length) { box.innerHTML = `<p class="none">${esc(GUJI.t("reader.no_text"))}</p>`; return; }
    const low = esc(GUJI.t("reader.low"));
    box.innerHTML = body.map(([l, i]) => {
      const cls = "line" + (l.kind === "note" ? " note" : "") + (l.type === "other" || l.type === "header" ? " other" : "");
      const inner = l.chars && l.chars.length
        ? l.chars.map((ch, j) => `<span class="c${ch.low ? " low" : ""}" data-c="${j}"${ch.low ? ` title="${low}"` : ""}>${esc(ch.t)}</span>`).join("")
        : esc(l.text);
      return `<div class="${cls}" data-l="${i}">${inner}</div>`;
    }).join("");
  }
  function lineText(l) { return l.chars && l.chars.length ? l.chars.map((c) => c.t).join("") : l.text; }
  function plainText(t) { return (t ? t.lines.filter((l) => l.type !== "centre-column").map(lineText) : []).join("\n"); }

  $("text").addEventListener("click", (e) => {
    const lineEl = e.target.closest(".line");
    if (!lineEl) return;
    const l = S.text.lines[+lineEl.dataset.l];
    document.querySelectorAll(".text .on").forEach((x) => x.classList.remove("on"));
    const chEl = e.target.closest(".c");
    if (chEl && l.chars[+chEl.dataset.c] && l.chars[+chEl.dataset.c].b) {
      chEl.classList.add("on");
      select(l.chars[+chEl.dataset.c].b);
    } else {
      lineEl.classList.add("on");
      select(l.box);
    }
    if (S.selection) S.selection.dataset.kind = chEl ? "char" : "line";
  });

  // hover a box on the image: its text
  function hitTest(x, y) {
    if (!S.text) return null;
    const inside = (b) => b && x >= b[0] && x <= b[0] + b[2] && y >= b[1] && y <= b[1] + b[3];
    for (let i = 0; i < S.text.lines.length; i++) {
      const l = S.text.lines[i];
      for (let j = 0; j < (l.chars || []).length; j++) if (inside(l.chars[j].b)) return { i, j, l, box: l.chars[j].b };
      if (inside(l.box)) return { i, j: -1, l, box: l.box };
    }
    return null;
  }
  new OpenSeadragon.MouseTracker({
    element: viewer.canvas,
    moveHandler: (e) => {
      const img = image(), c = S.canvases[S.index];
      if (!img || !c) return;
      const p = img.viewerElementToImageCoordinates(e.position);
      const size = img.getContentSize();
      const h = hitTest(p.x * (c.width || size.x) / size.x, p.y * (c.height || size.y) / size.y);
      const tip = $("tip");
      document.querySelectorAll(".text .hover").forEach((x) => x.classList.remove("hover"));
      drop(S.hoverEl); S.hoverEl = null;
      if (!h) { tip.hidden = true; return; }
      S.hoverEl = overlay(h.box, "hover");
      tip.textContent = h.j >= 0 ? `${h.l.chars[h.j].t} · ${lineText(h.l)}` : lineText(h.l);
      tip.style.left = (e.position.x + 14) + "px"; tip.style.top = (e.position.y + 14) + "px";
      tip.hidden = false;
      const el = document.querySelector(`.text .line[data-l="${h.i}"]`);
      if (el) el.classList.add("hover");
    },
    leaveHandler: () => { $("tip").hidden = true; drop(S.hoverEl); S.hoverEl = null; },
  });

  // copy and downloads
  function download(name, text) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
    a.download = name;
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }
  const bookName = () => (S.record && S.record.title) || lm(S.manifest.label) || "book";
  $("copy").addEventListener("click", async () => {
    const text = plainText(S.text);
    try { await navigator.clipboard.writeText(text); } catch (e) {
      const ta = document.createElement("textarea"); ta.value = text; document.body.appendChild(ta); ta.select();
      document.execCommand("copy"); ta.remove();
    }
    $("copy").textContent = GUJI.t("reader.copied");
    setTimeout(() => { $("copy").textContent = GUJI.t("reader.copy"); }, 1500);
  });
  $("dl-page").addEventListener("click", () => download(`${bookName()} ${pageLabel()}.txt`, `【${pageLabel()}】\n` + plainText(S.text) + "\n"));
  $("dl-juan").addEventListener("click", async () => {
    const id = S.canvases[S.index].id;
    const juan = S.juan.find((r) => r.canvases.includes(id)) || S.juan[0];
    if (!juan) return;
    const parts = [];
    for (const cid of juan.canvases) {
      const c = S.canvases.find((x) => x.id === cid);
      if (!c) continue;
      parts.push(`【${lm(c.label)}】\n` + plainText(await pageText(c)));
    }
    download(`${bookName()} ${lm(juan.label)}.txt`, parts.join("\n\n") + "\n");
  });

  // -- citations -----------------------------------------------------------------------------------
  function renderCites() {
    if (S.index < 0) return;
    const r = S.record || { title: lm(S.manifest.label), item_id: item || "" };
    $("cite-gbt").querySelector("span").textContent = GUJI_CITE.gbt(r, pageLabel(), permalink());
    $("cite-chicago").querySelector("span").textContent = GUJI_CITE.chicago(r, pageLabel(), permalink());
  }

  // -- search in the book (IIIF Content Search 2.0) ------------------------------------------------
  function searchService() {
    for (const s of S.manifest.service || []) {
      const t = s.type || s["@type"] || "";
      if (/SearchService2/.test(t)) return s.id || s["@id"];
    }
    return item ? new URL(R.root + "search/2/" + encodeURIComponent(item), location.href).href : null;
  }
  async function search(q) {
    $("hits").hidden = false;
    $("hit-list").innerHTML = "";
    const svc = searchService();
    let d;
    try {
      const r = await fetch(svc + "?q=" + encodeURIComponent(q));
      if (!r.ok || !(r.headers.get("content-type") || "").includes("json")) throw new Error(String(r.status));
      d = await r.json();
    } catch (e) {
      S.hits = []; $("hits-title").textContent = GUJI.t("reader.search_unavailable");
      document.body.dataset.hits = "unavailable";
      return;
    }
    const segs = {};
    for (const a of d.items || []) {
      const m = /^(.*)#xywh=(-?\d+),(-?\d+),(\d+),(\d+)$/.exec(typeof a.target === "string" ? a.target : (a.target.id || ""));
      if (m) segs[a.id] = { canvas: m[1], box: m.slice(2).map(Number) };
    }
    // one hit per match: the contextualizing annotations group a match's segments (columns)
    const ctx = ((d.annotations || [])[0] || {}).items || [];
    S.hits = ctx.length ? ctx.map((c) => {
      const targets = Array.isArray(c.target) ? c.target : [c.target];
      const sel = ((targets[0] || {}).selector || [])[0] || {};
      const parts = targets.map((t) => segs[t.source]).filter(Boolean);
      return { canvas: parts.length ? parts[0].canvas : null, boxes: parts.map((p) => p.box),
               prefix: sel.prefix || "", exact: sel.exact || "", suffix: sel.suffix || "" };
    }) : Object.values(segs).map((s) => ({ canvas: s.canvas, boxes: [s.box], prefix: "", exact: q, suffix: "" }));
    S.hits = S.hits.filter((h) => h.canvas);
    S.hitIndex = -1;
    renderHits();
    drawHits();
    document.body.dataset.hits = String(S.hits.length);
  }
  function renderHits() {
    if ($("hits").hidden) return;
    $("hits-title").textContent = S.hits.length ? GUJI.t("reader.hits", { n: S.hits.length }) : GUJI.t("reader.no_hits");
    $("hit-list").innerHTML = S.hits.map((h, n) => {
      const c = S.canvases.find((x) => x.id === h.canvas);
      return `<li data-n="${n}"${n === S.hitIndex ? ' class="current"' : ""}><b>${esc(c ? lm(c.label) : "")}</b> …${esc(h.prefix)}<mark>${esc(h.exact)}</mark>${esc(h.suffix)}…</li>`;
    }).join("");
  }
  function drawHits() {
    const c = S.canvases[S.index];
    if (!c || !image()) return;
    document.querySelectorAll(".ov.ov-hit").forEach((el) => viewer.removeOverlay(el));
    S.hits.forEach((h, n) => {
      if (h.canvas !== c.id) return;
      h.boxes.forEach((b) => overlay(b, "ov-hit" + (n === S.hitIndex ? " current" : ""), { hit: String(n) }));
    });
  }
  $("hit-list").addEventListener("click", (e) => {
    const li = e.target.closest("li");
    if (!li) return;
    S.hitIndex = +li.dataset.n;
    const h = S.hits[S.hitIndex];
    const i = S.canvases.findIndex((c) => c.id === h.canvas);
    renderHits();
    if (i !== S.index) show(i); else drawHits();
  });
  $("sf").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = $("sq").value.trim();
    const p = new URLSearchParams(location.search);
    if (q) p.set("q", q); else p.delete("q");
    history.replaceState(null, "", "?" + p.toString());
    if (q) search(q); else { S.hits = []; $("hits").hidden = true; drawHits(); }
  });

  GUJI.onChange(() => { if (S.manifest) { renderChrome(); $("pagelabel").textContent = pageLabel(); } });
  load();
})();
