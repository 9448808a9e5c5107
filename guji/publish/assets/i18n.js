// guji publication: language switch (zh-Hans default, zh-Hant, en). The page embeds the message
// table as <script id="i18n" type="application/json">; elements with data-i18n="key" (and
// data-i18n-attr="placeholder:key") are switched in place; scripts use GUJI.t(key, {n: 3}).
(function () {
  const table = JSON.parse(document.getElementById("i18n").textContent);
  const LANGS = ["zh-Hans", "zh-Hant", "en"];
  const fromUrl = new URLSearchParams(location.search).get("lang");
  let lang = LANGS.includes(fromUrl) ? fromUrl : (localStorage.getItem("guji.lang") || "zh-Hans");
  if (!LANGS.includes(lang)) lang = "zh-Hans";
  const listeners = [];
  function t(key, vars) {
    let s = (table[lang] && table[lang][key]) || table["zh-Hans"][key] || key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replace("{" + k + "}", v);
    return s;
  }
  // a IIIF language map in the current language
  function label(v) {
    if (!v || typeof v !== "object" || Array.isArray(v)) return Array.isArray(v) ? v.join("；") : (v == null ? "" : String(v));
    const order = { "zh-Hans": ["zh-Hans", "zh", "zh-Hant", "none", "en"], "zh-Hant": ["zh-Hant", "zh", "zh-Hans", "none", "en"],
                    en: ["en", "none", "zh-Hant", "zh-Hans", "zh"] }[lang];
    for (const k of order) if (v[k] && v[k].length) return v[k].join("；");
    for (const k of Object.keys(v)) if (v[k] && v[k].length) return v[k].join("；");
    return "";
  }
  function apply() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-attr]").forEach((el) => {
      for (const pair of el.dataset.i18nAttr.split(";")) {
        const [attr, key] = pair.split(":");
        el.setAttribute(attr, t(key));
      }
    });
    document.querySelectorAll("[data-lang-map]").forEach((el) => { el.textContent = label(JSON.parse(el.dataset.langMap)); });
    document.querySelectorAll(".langs button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === lang)));
  }
  function set(l) {
    if (!LANGS.includes(l)) return;
    lang = l;
    localStorage.setItem("guji.lang", l);
    apply();
    listeners.forEach((f) => f(l));
  }
  document.addEventListener("click", (e) => {
    const b = e.target.closest && e.target.closest(".langs button");
    if (b) set(b.dataset.lang);
  });
  window.GUJI = { t, label, set, get lang() { return lang; }, onChange: (f) => listeners.push(f), apply };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", apply); else apply();
})();
