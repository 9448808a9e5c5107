// guji workspace: live checks of census fields on the record page, proofreading on the page view,
// the page images as an OpenSeadragon deep-zoom viewer over the item's IIIF tiles (the single image
// when a page has no tiles), messages with numbers following the language switch.
// Every POST carries the session's CSRF token (X-CSRF-Token) from <body data-csrf>.
(function () {
  const csrf = document.body.dataset.csrf;

  // -- messages with values (data-i18n-fmt="key" data-x="…"): i18n.js switches only plain keys ----
  function formatted() {
    document.querySelectorAll("[data-i18n-fmt]").forEach((e) => {
      const vars = { ...e.dataset };
      delete vars.i18nFmt;
      e.textContent = GUJI.t(e.dataset.i18nFmt, vars);
    });
  }
  formatted();
  GUJI.onChange(formatted);

  // -- deep zoom: <div id="osd" data-tiles="…/info.json" data-image="/image/…"> ------------------
  const osdEl = document.getElementById("osd");
  let viewer = null;
  function source(tiles, image) { return tiles || { type: "image", url: image }; }
  if (osdEl && window.OpenSeadragon) {
    viewer = OpenSeadragon({
      element: osdEl, tileSources: source(osdEl.dataset.tiles, osdEl.dataset.image), drawer: "canvas",
      showNavigationControl: false, visibilityRatio: 0.5, minZoomImageRatio: 0.5, maxZoomPixelRatio: 4,
      gestureSettingsMouse: { clickToZoom: false },
    });
    window.gujiViewer = viewer;  // for the browser tests
    viewer.addHandler("open", () => { osdEl.dataset.ready = "1"; });
    viewer.addHandler("open-failed", () => {  // tiles unreadable: the single image instead (once)
      if (osdEl.dataset.ready === "failed") return;
      osdEl.dataset.ready = "failed";
      if (osdEl.dataset.image) viewer.open({ type: "image", url: osdEl.dataset.image });
    });
    const sel = document.getElementById("page-select");
    if (sel) sel.addEventListener("change", () => {
      const o = sel.selectedOptions[0];
      osdEl.dataset.ready = "0";
      osdEl.dataset.image = o.dataset.image;
      viewer.open(source(o.value, o.dataset.image));
    });
  }
  async function post(url, body) {
    const r = await fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body) });
    const data = await r.json();
    if (!r.ok) throw new Error(data.error || r.status);
    return data;
  }
  function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }

  // -- record page ----------------------------------------------------------------------------
  const rec = document.getElementById("record");
  if (rec) {
    const api = rec.dataset.api;
    function show(data) {
      const ul = document.getElementById("findings");
      ul.replaceChildren();
      if (!data.findings.length) ul.append(el("li", "ok", GUJI.t("rec.no_findings")));
      for (const f of data.findings) {
        const li = el("li", "sev-" + f.severity);
        li.dataset.code = f.code;
        li.append(el("code", null, f.code), document.createTextNode(" " + (f.field || "") + "：" + f.message));
        ul.append(li);
      }
      const dl = document.getElementById("parsed");
      dl.replaceChildren();
      for (const [k, v] of data.parsed) dl.append(el("dt", null, k), el("dd", null, v));
    }
    let timer = null;
    rec.addEventListener("input", (e) => {
      const inp = e.target.closest("input.field");
      if (!inp) return;
      clearTimeout(timer);
      timer = setTimeout(() => post(api + "/check", { field: inp.dataset.field, value: inp.value }).then(show)
        .catch((err) => console.warn(err)), 250);
    });
    rec.addEventListener("click", async (e) => {
      const b = e.target.closest("button.save");
      if (!b) return;
      const inp = rec.querySelector(`input.field[data-field="${CSS.escape(b.dataset.field)}"]`);
      const data = await post(api + "/field", { field: inp.dataset.field, value: inp.value });
      inp.dataset.saved = inp.value;
      b.textContent = GUJI.t("rec.saved");
      b.classList.add("saved");
      show(data);
    });
  }

  // -- proofreading ---------------------------------------------------------------------------
  const page = document.getElementById("page");
  if (page) {
    const alts = document.getElementById("alternatives");
    let current = null;  // the character span whose alternatives are offered
    page.addEventListener("click", (e) => {
      const ch = e.target.closest(".ch");
      if (ch) {
        current = ch;
        mark(ch, "char");
        const box = alts.querySelector(".alts");
        box.replaceChildren();
        for (const a of ch.dataset.alt || "") {
          const b = el("button", "alt", a);
          b.type = "button";
          b.addEventListener("click", () => choose(current, a));
          box.append(b);
        }
        alts.hidden = false;
        return;
      }
      const ed = e.target.closest("button.edit");
      if (ed) {  // show the column's text for typing (a whole line at once)
        const ta = ed.parentElement.querySelector("textarea");
        ta.hidden = !ta.hidden;
        if (!ta.hidden) ta.focus();
        return;
      }
      if (e.target.id === "save-page") { save(); return; }
      const col = e.target.closest(".col");
      if (col && !e.target.closest("textarea")) mark(col, "column");  // the column's box
    });
    let box = null;  // the overlay drawn on the deep-zoom viewer
    function mark(node, kind) {  // a character's or a column's box (image pixels) on the page image
      const hl = document.getElementById("char-box"), img = document.getElementById("page-image");
      const b = (node.dataset.box || "").split(",").filter((x) => x !== "").map(Number);
      if (viewer) {
        if (box) viewer.removeOverlay(box);
        box = null;
        const tiled = viewer.world.getItemCount() ? viewer.world.getItemAt(0) : null;
        if (b.length !== 4 || !tiled) return;
        box = el("div", "box " + kind);
        box.id = "viewer-box";
        box.dataset.box = b.join(",");
        const r = tiled.imageToViewportRectangle(b[0], b[1], b[2], b[3]);
        viewer.addOverlay({ element: box, location: r });
        if (!viewer.viewport.getBounds(true).intersection?.(r)) viewer.viewport.panTo(r.getCenter());
        return;
      }
      hl.className = kind;
      if (b.length !== 4 || !img || !img.naturalWidth) { hl.hidden = true; return; }
      const k = img.clientWidth / img.naturalWidth;
      Object.assign(hl.style, { left: img.offsetLeft + b[0] * k + "px", top: img.offsetTop + b[1] * k + "px",
                                width: b[2] * k + "px", height: b[3] * k + "px" });
      hl.hidden = false;
    }
    function choose(ch, a) {
      const col = ch.closest(".col");
      const ta = col.querySelector("textarea");
      const chars = [...col.querySelectorAll(".ch")];
      const i = Number(ch.dataset.i);
      ch.textContent = a;
      ch.classList.remove("low");
      ch.classList.add("edited");
      if (chars.length === [...ta.value].length) {
        const t = [...ta.value];
        t[i] = a;
        ta.value = t.join("");
      } else {
        ta.value = chars.map((c) => c.textContent).join("");
      }
      col.classList.add("dirty");
    }
    page.addEventListener("input", (e) => { const c = e.target.closest(".col"); if (c) c.classList.add("dirty"); });
    async function save() {
      const lines = {};
      page.querySelectorAll(".col.dirty textarea").forEach((ta) => { lines[ta.dataset.line] = ta.value; });
      const st = document.getElementById("save-status");
      try {
        const r = await post(page.dataset.save, { lines });
        st.textContent = GUJI.t("pr.saved").replace("{v}", r.version);
        st.dataset.version = r.version;
        page.querySelectorAll(".col.dirty").forEach((c) => {
          c.classList.remove("dirty");
          c.classList.add("human");
          c.querySelector(".chars").textContent = c.querySelector("textarea").value;
          c.querySelector("textarea").hidden = true;
        });
      } catch (err) {
        st.textContent = String(err.message || err);
      }
    }
  }
})();
