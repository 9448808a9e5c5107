// guji catalogue page: search, facets (four-part classification as a tree, dynasty, edition type,
// institution, kind, year range), sorting and paging. With `guji serve` everything is asked of
// /api/catalogue (guji.publish.catalogue); on a plain static host the same browsing runs here over
// search/records.json, without full text (the page says so). State lives in the URL.
(function () {
  const C = window.GUJI_CATALOGUE;
  const FACETS = ["classification", "dynasty", "edition_type", "institution", "profile"];
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const $ = (id) => document.getElementById(id);
  let server = null; // true: /api/catalogue answers; false: static records.json
  let records = null;
  let last = null;

  function state() {
    const p = new URLSearchParams(location.search);
    return { q: p.get("q") || "", f: p.getAll("f"), year: p.get("year") || "", sort: p.get("sort") || "relevance",
             page: Math.max(1, parseInt(p.get("page") || "1", 10) || 1),
             per: Math.min(100, Math.max(1, parseInt(p.get("per_page") || "20", 10) || 20)) };
  }
  function go(s, push = true) {
    const p = new URLSearchParams();
    if (s.q) p.set("q", s.q);
    s.f.forEach((f) => p.append("f", f));
    if (s.year) p.set("year", s.year);
    if (s.sort && s.sort !== "relevance") p.set("sort", s.sort);
    if (s.page > 1) p.set("page", String(s.page));
    if (s.per !== 20) p.set("per_page", String(s.per));
    const lang = new URLSearchParams(location.search).get("lang");
    if (lang) p.set("lang", lang);
    const url = "?" + p.toString();
    if (push) history.pushState(null, "", url); else history.replaceState(null, "", url);
    run();
  }

  // -- the static fallback: the same rules as guji.publish.catalogue.Catalogue, without full text --
  function values(r, f) {
    if (f === "classification") { const p = r.class_path || []; return p.map((_, i) => p.slice(0, i + 1).join("/")); }
    return r[f] === null || r[f] === undefined || r[f] === "" ? [] : [String(r[f])];
  }
  function passes(r, filters, year, skip) {
    for (const [f, want] of Object.entries(filters)) {
      if (f === skip) continue;
      if (!values(r, f).some((v) => want.includes(v))) return false;
    }
    if (year && skip !== "year") {
      const y0 = r.year_from, y1 = r.year_to ?? y0;
      if (y0 === null || y0 === undefined || y0 > year[1] || y1 < year[0]) return false;
    }
    return true;
  }
  function tree(counts, selected) {
    const nodes = {}, roots = [];
    const rank = (v) => { const i = "經经史子集叢丛".indexOf(v[0]); return i < 0 ? 99 : i; };
    Object.keys(counts).sort((a, b) => (a.split("/").length - b.split("/").length) || (rank(a) - rank(b)) || (a < b ? -1 : 1))
      .forEach((v) => {
        const n = { value: v, label: v.split("/").pop(), count: counts[v], selected: selected.includes(v), children: [] };
        nodes[v] = n;
        const parent = v.includes("/") ? v.slice(0, v.lastIndexOf("/")) : null;
        (parent && nodes[parent] ? nodes[parent].children : roots).push(n);
      });
    return roots;
  }
  function parseYear(y) {
    if (!y) return null;
    const m = /^(-?\d{1,4})?\s*[-–~]\s*(-?\d{1,4})?$/.exec(y) || /^(-?\d{1,4})$/.exec(y);
    if (!m) return null;
    if (m.length === 2) return [+m[1], +m[1]];
    return [m[1] ? +m[1] : -9999, m[2] ? +m[2] : 9999];
  }
  function localQuery(s) {
    const filters = {};
    s.f.forEach((x) => { const i = x.indexOf(":"); if (i > 0) (filters[x.slice(0, i)] ||= []).push(x.slice(i + 1)); });
    const year = parseYear(s.year);
    // without the server: a title/author/edition substring match on the record, no full text
    const words = s.q.split(/\s+/).filter((w) => w && !/^[a-z_]+:/.test(w));
    let pool = records.filter((r) => words.every((w) => [r.title, r.author, r.edition, r.census_no].join(" ").includes(w)));
    const chosen = pool.filter((r) => passes(r, filters, year));
    const facets = {};
    for (const f of FACETS) {
      const counts = {};
      pool.filter((r) => passes(r, filters, year, f)).forEach((r) => values(r, f).forEach((v) => { counts[v] = (counts[v] || 0) + 1; }));
      const sel = filters[f] || [];
      facets[f] = f === "classification" ? tree(counts, sel)
        : Object.entries(counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([value, count]) => ({ value, count, selected: sel.includes(value) }));
    }
    if (s.sort === "title") chosen.sort((a, b) => (a.title || a.item_id).localeCompare(b.title || b.item_id, "zh"));
    if (s.sort === "date") chosen.sort((a, b) => (a.year_from ?? 1e9) - (b.year_from ?? 1e9));
    const per = s.per, pages = Math.max(1, Math.ceil(chosen.length / per)), page = Math.min(s.page, pages);
    const years = pool.filter((r) => passes(r, filters, null)).map((r) => r.year_from).filter((y) => y !== null && y !== undefined);
    return { total: chosen.length, pages, page, items: chosen.slice((page - 1) * per, page * per).map((r) => ({ ...r, page_hits: 0, pages_found: [] })),
             facets, year_range: years.length ? [Math.min(...years), Math.max(...years)] : null, total_page_hits: 0, counts_exact: true, full_text: false };
  }

  async function answer(s) {
    if (server !== false) {
      const p = new URLSearchParams();
      if (s.q) p.set("q", s.q);
      s.f.forEach((f) => p.append("f", f));
      if (s.year) p.set("year", s.year);
      p.set("sort", s.sort); p.set("page", String(s.page)); p.set("per_page", String(s.per));
      try {
        const r = await fetch(C.root + "api/catalogue?" + p.toString());
        if (r.ok && (r.headers.get("content-type") || "").includes("json")) { server = true; return await r.json(); }
        if (r.status === 400) { server = true; const e = await r.json(); throw new Error(e.error); }
      } catch (e) { if (server) throw e; }
      server = false;
    }
    if (!records) records = await (await fetch(C.root + "search/records.json")).json();
    return localQuery(s);
  }

  function readerLink(it, canvas, q) {
    let u = C.root + "viewer/index.html?item=" + encodeURIComponent(it.item_id);
    if (canvas) u += "&canvas=" + encodeURIComponent(canvas);
    if (q) u += "&q=" + encodeURIComponent(q);
    return u;
  }
  function slugOf(canvasUri) { return decodeURIComponent(String(canvasUri).split("/canvas/").pop()); }
  function facetLabel(f, v) {
    if (f === "profile") return GUJI.t("code." + v);
    return v || GUJI.t("facet.unknown");
  }

  function renderFacets(d, s) {
    const sel = new Set(s.f);
    const box = (f, n, label) => `<li><label><input type="checkbox" data-f="${esc(f + ":" + n.value)}"${sel.has(f + ":" + n.value) ? " checked" : ""}> ${esc(label)} <span class="n">(${n.count})</span></label>`;
    const treeHtml = (nodes) => `<ul>${nodes.map((n) => box("classification", n, n.label) + (n.children.length ? treeHtml(n.children) : "") + "</li>").join("")}</ul>`;
    let html = "";
    for (const f of FACETS) {
      const vals = d.facets[f] || [];
      if (!vals.length) continue;
      html += `<h3>${esc(GUJI.t("facet." + f))}</h3>`;
      html += f === "classification" ? treeHtml(vals) : `<ul>${vals.map((n) => box(f, n, facetLabel(f, n.value)) + "</li>").join("")}</ul>`;
    }
    const yr = d.year_range;
    const [y0, y1] = (s.year || "").split(/[-–~]/);
    html += `<h3>${esc(GUJI.t("facet.year"))}</h3><form class="years" id="years"><input type="number" name="y0" value="${esc(y0 || "")}" placeholder="${yr ? yr[0] : ""}"> – <input type="number" name="y1" value="${esc(y1 || "")}" placeholder="${yr ? yr[1] : ""}"> <button>${esc(GUJI.t("facet.apply"))}</button></form>`;
    if (s.f.length || s.year) html += `<p><a href="#" id="clear">${esc(GUJI.t("facet.clear"))}</a></p>`;
    $("facets").innerHTML = html;
    $("facets").querySelectorAll("input[type=checkbox]").forEach((el) => el.addEventListener("change", () => {
      const st = state();
      st.f = el.checked ? [...st.f, el.dataset.f] : st.f.filter((x) => x !== el.dataset.f);
      st.page = 1; go(st);
    }));
    $("years").addEventListener("submit", (e) => {
      e.preventDefault();
      const st = state(), a = e.target.y0.value, b = e.target.y1.value;
      st.year = a || b ? `${a}-${b}` : ""; st.page = 1; go(st);
    });
    const c = $("clear");
    if (c) c.addEventListener("click", (e) => { e.preventDefault(); const st = state(); st.f = []; st.year = ""; st.page = 1; go(st); });
  }

  function render(d, s) {
    last = { d, s };
    $("mode").hidden = d.full_text !== false;
    $("summary").textContent = GUJI.t("result.found", { n: d.total }) +
      (s.q && d.full_text ? " · " + GUJI.t("result.page_hits", { n: d.total_page_hits + (d.counts_exact ? "" : "+") }) : "");
    const text = s.q.split(/\s+/).filter((w) => w && !/^[a-z_]+:/.test(w)).join(" ").replace(/"/g, "");
    $("list").innerHTML = d.items.length ? d.items.map((it) => {
      const meta = [it.author, it.edition, it.institution, it.census_no || it.item_id].filter(Boolean).map(esc).join(" · ");
      const chips = [it.class_path && it.class_path.length ? it.class_path.join(" › ") : "", it.dynasty, it.edition_type,
                     GUJI.t("code." + it.profile), GUJI.t("result.pages", { n: it.canvas_count || it.canvases || 0 })].filter(Boolean);
      const hits = (it.pages_found || []).map((p) => p.matches.slice(0, 1).map((m) =>
        `<div class="hit"><a href="${esc(readerLink(it, slugOf(p.canvas), text))}">${esc(p.label || p.canvas_id)}</a>：…${esc(m.prefix)}<mark>${esc(m.exact)}</mark>${esc(m.suffix)}…</div>`).join("")).join("");
      const more = it.page_hits ? `<div class="hit"><a class="all-hits" href="${esc(readerLink(it, "", text))}">${esc(GUJI.t("result.all_hits", { n: it.page_hits }))}</a></div>` : "";
      return `<div class="item" data-item="${esc(it.item_id)}">${it.thumbnail ? `<img loading="lazy" src="${esc(C.root + it.thumbnail)}" alt="">` : `<div style="width:90px"></div>`}
        <div class="body"><h2><a class="title" href="${esc(C.root + it.record_page)}">${esc(it.title || it.item_id)}</a></h2>
        <div class="meta">${meta}</div><div class="chips">${chips.map((c) => `<span>${esc(c)}</span>`).join("")}</div>
        <div class="meta"><a class="read" href="${esc(readerLink(it, "", text))}">${esc(GUJI.t("result.read"))}</a>
        ${it.metadata_match ? " · " + esc(GUJI.t("result.metadata_match")) : ""}</div>${hits}${more}</div></div>`;
    }).join("") : `<p>${esc(GUJI.t("result.none"))}</p>`;
    const pg = $("pager");
    pg.innerHTML = d.pages > 1 ? `<button id="prev"${d.page <= 1 ? " disabled" : ""}>${esc(GUJI.t("pager.prev"))}</button>
      <span id="pageno">${esc(GUJI.t("pager.of", { p: d.page, n: d.pages }))}</span>
      <button id="next"${d.page >= d.pages ? " disabled" : ""}>${esc(GUJI.t("pager.next"))}</button>` : "";
    if (d.pages > 1) {
      $("prev").onclick = () => { const st = state(); st.page = d.page - 1; go(st); };
      $("next").onclick = () => { const st = state(); st.page = d.page + 1; go(st); };
    }
    renderFacets(d, s);
  }

  async function run() {
    const s = state();
    $("q").value = s.q;
    $("sort").value = s.sort;
    try { render(await answer(s), s); }
    catch (e) { $("summary").textContent = GUJI.t("search.failed") + ": " + e.message; }
  }

  // the manifests' homepage is index.html#<item>: that book's record page
  if (location.hash.length > 1) {
    const item = decodeURIComponent(location.hash.slice(1));
    location.replace(C.root + "viewer/books/" + encodeURIComponent(item) + ".html");
    return;
  }
  $("f").addEventListener("submit", (e) => { e.preventDefault(); const st = state(); st.q = $("q").value.trim(); st.page = 1; go(st); });
  $("sort").addEventListener("change", () => { const st = state(); st.sort = $("sort").value; st.page = 1; go(st); });
  window.addEventListener("popstate", run);
  GUJI.onChange(() => last && render(last.d, last.s));
  run();
})();
