// Citation lines for a book or one of its pages: GB/T 7714-2015 (electronic monograph, [M/OL], with
// the date cited) and Chicago (bibliography style). r: {title, author, edition, institution, year_from}.
window.GUJI_CITE = (function () {
  const today = () => new Date().toISOString().slice(0, 10);
  const clean = (s) => String(s || "").trim().replace(/[.。．]+$/, "");
  function gbt(r, pageLabel, url) {
    const parts = [];
    if (r.author) parts.push(clean(r.author) + ". ");
    parts.push(clean(r.title || r.item_id) + "[M/OL]. ");
    if (r.edition) parts.push(clean(r.edition) + ". ");
    if (r.institution) parts.push(clean(r.institution) + (pageLabel ? ": " + pageLabel : "") + "[" + today() + "]. ");
    else parts.push((pageLabel ? pageLabel : "") + "[" + today() + "]. ");
    parts.push(url + ".");
    return parts.join("");
  }
  function chicago(r, pageLabel, url) {
    const d = new Date();
    const month = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                   "October", "November", "December"][d.getMonth()];
    const parts = [];
    if (r.author) parts.push(clean(r.author) + ". ");
    parts.push(clean(r.title || r.item_id) + ". ");
    if (r.edition) parts.push(clean(r.edition) + ". ");
    if (r.institution) parts.push(clean(r.institution) + ". ");
    if (pageLabel) parts.push(pageLabel + ". ");
    parts.push(`Accessed ${month} ${d.getDate()}, ${d.getFullYear()}. ${url}.`);
    return parts.join("");
  }
  return { gbt, chicago };
})();
