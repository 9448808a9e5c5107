"""Renderings of the OCR page model: ALTO 4.4, hOCR and PAGE XML (2019-07-15), built with lxml
(never by string concatenation), plus readers that parse ALTO and PAGE back into page-model
dicts, so the renderings are tested as round trips (as kraken does).

What each carries (one printed column or column segment = one line; one character = one glyph):

- **ALTO 4.4**: ``Description/Processing`` (guji, engine and their settings: the provenance of the
  page), ``Tags`` (region types), ``ReadingOrder`` (the blocks in reading order, right to left for
  vertical pages), ``TextBlock`` → ``TextLine`` → one ``String`` per line segment with its text and
  ``WC`` → ``Glyph`` per character (``GC`` confidence) with the recogniser's alternatives as
  ``Variant`` (``VC`` probability).
- **hOCR**: ``ocr_page`` → ``ocr_carea`` → ``ocr_line`` → ``ocrx_word`` per character (Chinese has
  no word spaces), confidences as ``x_wconf``; ``ocr-system`` and the settings in meta elements.
- **PAGE**: ``Metadata`` with a ``MetadataItem`` per processing step, ``ReadingOrder``,
  ``TextRegion`` (type, and guji's own region type in ``custom``) → ``TextLine`` → ``Word`` →
  ``Glyph`` with one ``TextEquiv`` per reading (index 1 = chosen, then the alternatives).

Coordinates are the page model's: master pixels, boxes ``[x, y, w, h]``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Mapping

from lxml import etree

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
ALTO_XSD = "http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"
PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
PAGE_XSD = PAGE_NS + "/pagecontent.xsd"
XHTML_NS = "http://www.w3.org/1999/xhtml"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
XHTML_DOCTYPE = ('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
                 '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">')

# guji region type → PAGE TextRegion@type (guji's own type is kept in @custom)
PAGE_REGION_TYPE = {"body": "paragraph", "note": "footnote", "header": "header",
                    "centre-column": "header", "other": "marginalia"}
PAGE_DIRECTION = {"vertical-rtl": "right-to-left", "horizontal": "left-to-right"}

Processing = Mapping[str, Any]  # {"step", "software", "version", "engine", "engine_version", "settings"}


def _pieces(line: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A line's characters; a line without character boxes is one piece (its whole text)."""
    chars = line.get("chars") or []
    if chars:
        return chars
    return [{"text": line["text"], "box": line["box"], "confidence": line.get("confidence", 0.0)}] \
        if line.get("text") else []


def _conf(v: Any) -> str:
    return f"{min(1.0, max(0.0, float(v or 0.0))):.4f}"


def _box_attrs(el: etree._Element, box: Iterable[int]) -> None:
    x, y, w, h = (int(v) for v in box)
    el.set("HPOS", str(x))
    el.set("VPOS", str(y))
    el.set("WIDTH", str(w))
    el.set("HEIGHT", str(h))


def _settings_text(settings: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(settings or {}), ensure_ascii=False, sort_keys=True, default=str)


def _default_processing(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"step": "ocr", "software": "guji", "version": "", "engine": doc.get("engine", ""),
             "engine_version": doc.get("engine_version", ""), "settings": {}}]


def _serialise(root: etree._Element) -> str:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")


# -- ALTO ----------------------------------------------------------------------------------------

def to_alto(doc: Mapping[str, Any], image_name: str, processing: list[Processing] | None = None) -> str:
    """ALTO 4.4 of a page-model dict (``PageModel.to_dict()``)."""
    A = f"{{{ALTO_NS}}}"
    root = etree.Element(A + "alto", nsmap={None: ALTO_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{ALTO_NS} {ALTO_XSD}")
    desc = etree.SubElement(root, A + "Description")
    etree.SubElement(desc, A + "MeasurementUnit").text = "pixel"
    src = etree.SubElement(desc, A + "sourceImageInformation")
    etree.SubElement(src, A + "fileName").text = image_name
    steps = processing or _default_processing(doc)
    for k, p in enumerate(steps, 1):
        proc = etree.SubElement(desc, A + "Processing", ID=f"proc{k}")
        etree.SubElement(proc, A + "processingStepDescription").text = str(p.get("step", "ocr"))
        etree.SubElement(proc, A + "processingStepSettings").text = _settings_text(
            {**({"engine": p["engine"], "engine_version": p.get("engine_version", "")} if p.get("engine") else {}),
             **dict(p.get("settings") or {})})
        sw = etree.SubElement(proc, A + "processingSoftware")
        etree.SubElement(sw, A + "softwareName").text = str(p.get("software", "guji"))
        if p.get("version"):
            etree.SubElement(sw, A + "softwareVersion").text = str(p["version"])
    regions = list(doc.get("regions") or [])
    types = sorted({r["type"] for r in regions})
    kinds = sorted({ln.get("kind", "text") for r in regions for ln in r.get("lines") or []} - {"text"})
    if types or kinds:
        tags = etree.SubElement(root, A + "Tags")
        for t in types:
            etree.SubElement(tags, A + "OtherTag", ID=f"type-{t}", LABEL=t, TYPE="region-type")
        for k in kinds:
            etree.SubElement(tags, A + "OtherTag", ID=f"kind-{k}", LABEL=k, TYPE="line-kind")
    if regions:
        ro = etree.SubElement(root, A + "ReadingOrder")
        grp = etree.SubElement(ro, A + "OrderedGroup", ID="ro1")
        for k, r in enumerate(regions, 1):
            etree.SubElement(grp, A + "ElementRef", ID=f"ro1e{k}", REF=r["id"])
    layout = etree.SubElement(root, A + "Layout")
    W, H = (int(v) for v in doc["master_size"])
    page = etree.SubElement(layout, A + "Page", ID="page1", PHYSICAL_IMG_NR="1", WIDTH=str(W), HEIGHT=str(H),
                            PROCESSINGREFS=" ".join(f"proc{k}" for k in range(1, len(steps) + 1)))
    ps = etree.SubElement(page, A + "PrintSpace", HPOS="0", VPOS="0", WIDTH=str(W), HEIGHT=str(H))
    for r in regions:
        blk = etree.SubElement(ps, A + "TextBlock", ID=r["id"])
        _box_attrs(blk, r["box"])
        blk.set("TAGREFS", f"type-{r['type']}")
        for ln in r.get("lines") or []:
            tl = etree.SubElement(blk, A + "TextLine", ID=ln["id"])
            _box_attrs(tl, ln["box"])
            if ln.get("kind", "text") != "text":  # e.g. "note": a double-row small-note sub-column
                tl.set("TAGREFS", f"kind-{ln['kind']}")
            pieces = list(ln.get("chars") or [])  # one Glyph per character box; none without boxes
            content = "".join(c["text"] for c in pieces) if pieces else ln.get("text", "")
            if not content:
                continue
            s = etree.SubElement(tl, A + "String", ID=f"{ln['id']}s1", CONTENT=content,
                                 WC=_conf(ln.get("confidence")))
            _box_attrs(s, ln["box"])
            for k, c in enumerate(pieces, 1):
                g = etree.SubElement(s, A + "Glyph", ID=f"{ln['id']}g{k}", CONTENT=c["text"], GC=_conf(c.get("confidence")))
                _box_attrs(g, c["box"])
                for alt, p in c.get("alternatives") or []:
                    if alt != c["text"]:
                        etree.SubElement(g, A + "Variant", CONTENT=alt, VC=_conf(p))
    return _serialise(root)


def _box_of(el: etree._Element) -> list[int]:
    return [int(float(el.get(a, 0))) for a in ("HPOS", "VPOS", "WIDTH", "HEIGHT")]


def from_alto(xml: str | bytes) -> dict[str, Any]:
    """The page-model dict an ALTO file written by :func:`to_alto` carries (regions, lines, chars
    with boxes, confidences and alternatives, reading order, processing steps)."""
    root = etree.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml)
    ns = {"a": ALTO_NS}
    tags = {t.get("ID"): t.get("LABEL") for t in root.iterfind(".//a:Tags/a:OtherTag", ns)}
    page = root.find(".//a:Layout/a:Page", ns)
    blocks = {b.get("ID"): b for b in root.iterfind(".//a:TextBlock", ns)}
    order = [e.get("REF") for e in root.iterfind(".//a:ReadingOrder/a:OrderedGroup/a:ElementRef", ns)] or list(blocks)
    regions = []
    for rid in order:
        b = blocks[rid]
        lines = []
        for tl in b.iterfind("a:TextLine", ns):
            s = tl.find("a:String", ns)
            chars = []
            if s is not None:
                for g in s.iterfind("a:Glyph", ns):
                    ch: dict[str, Any] = {"text": g.get("CONTENT"), "box": _box_of(g), "confidence": float(g.get("GC", 0))}
                    alts = [[v.get("CONTENT"), float(v.get("VC", 0))] for v in g.iterfind("a:Variant", ns)]
                    if alts:
                        ch["alternatives"] = alts
                    chars.append(ch)
            lines.append({"id": tl.get("ID"), "box": _box_of(tl), "text": s.get("CONTENT") if s is not None else "",
                          "confidence": float(s.get("WC", 0)) if s is not None else 0.0,
                          "kind": tags.get(tl.get("TAGREFS", ""), "text"), "chars": chars})
        regions.append({"id": rid, "type": tags.get(b.get("TAGREFS", ""), "body"), "box": _box_of(b), "lines": lines})
    steps = []
    for p in root.iterfind(".//a:Description/a:Processing", ns):
        steps.append({"step": p.findtext("a:processingStepDescription", "", ns),
                      "settings": json.loads(p.findtext("a:processingStepSettings", "{}", ns) or "{}"),
                      "software": p.findtext("a:processingSoftware/a:softwareName", "", ns),
                      "version": p.findtext("a:processingSoftware/a:softwareVersion", "", ns)})
    return {"master_size": [int(page.get("WIDTH")), int(page.get("HEIGHT"))], "regions": regions,
            "processing": steps, "image": root.findtext(".//a:sourceImageInformation/a:fileName", "", ns)}


# -- hOCR ----------------------------------------------------------------------------------------

def _bbox(box: Iterable[int]) -> str:
    x, y, w, h = (int(v) for v in box)
    return f"bbox {x} {y} {x + w} {y + h}"


def to_hocr(doc: Mapping[str, Any], image_name: str, processing: list[Processing] | None = None) -> str:
    """hOCR 1.2 (XHTML) of a page-model dict."""
    X = f"{{{XHTML_NS}}}"
    lang = str(doc.get("language") or "zh-Hant")
    root = etree.Element(X + "html", nsmap={None: XHTML_NS})
    root.set(f"{{{XML_NS}}}lang", lang)
    root.set("lang", lang)
    head = etree.SubElement(root, X + "head")
    etree.SubElement(head, X + "title").text = image_name
    etree.SubElement(head, X + "meta", {"http-equiv": "Content-Type", "content": "text/html; charset=utf-8"})
    etree.SubElement(head, X + "meta", name="ocr-system",
                     content=f"guji {doc.get('engine', '')} {doc.get('engine_version', '')}".strip())
    etree.SubElement(head, X + "meta", name="ocr-capabilities",
                     content="ocr_page ocr_carea ocr_line ocrx_word")
    for k, p in enumerate(processing or _default_processing(doc), 1):
        etree.SubElement(head, X + "meta", name=f"guji-processing-{k}",
                         content=f"{p.get('step', '')} {p.get('software', '')} {p.get('version', '')} "
                                 f"{_settings_text(p.get('settings'))}")
    body = etree.SubElement(root, X + "body")
    W, H = (int(v) for v in doc["master_size"])
    page = etree.SubElement(body, X + "div", {"class": "ocr_page", "id": "page_1",
                                              "title": f"image {image_name}; bbox 0 0 {W} {H}"})
    for r in doc.get("regions") or []:
        area = etree.SubElement(page, X + "div", {"class": "ocr_carea", "id": r["id"], "title": _bbox(r["box"]),
                                                  "data-type": r["type"]})
        for ln in r.get("lines") or []:
            d = "ttb" if ln.get("direction") == "ttb" else "ltr"
            span = etree.SubElement(area, X + "span", {
                "class": "ocr_line", "id": ln["id"], "data-direction": d, "data-kind": ln.get("kind", "text"),
                "title": f"{_bbox(ln['box'])}; x_wconf {round(100 * float(ln.get('confidence') or 0))}"})
            for k, c in enumerate(_pieces(ln), 1):
                w = etree.SubElement(span, X + "span", {
                    "class": "ocrx_word", "id": f"{ln['id']}w{k}",
                    "title": f"{_bbox(c['box'])}; x_wconf {round(100 * float(c.get('confidence') or 0))}"})
                w.text = c["text"]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True,
                          doctype=XHTML_DOCTYPE).decode("utf-8")


_BBOX = re.compile(r"bbox (\d+) (\d+) (\d+) (\d+)")
_WCONF = re.compile(r"x_wconf (\d+)")


def from_hocr(xml: str | bytes) -> dict[str, Any]:
    """Regions → lines → characters (text, box, confidence in whole percent) of an hOCR file."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml, parser)
    ns = {"h": XHTML_NS}

    def box(el):
        m = _BBOX.search(el.get("title", ""))
        x0, y0, x1, y1 = (int(v) for v in m.groups())
        return [x0, y0, x1 - x0, y1 - y0]

    regions = []
    for area in root.iterfind(".//h:div[@class='ocr_carea']", ns):
        lines = []
        for ln in area.iterfind("h:span[@class='ocr_line']", ns):
            chars = [{"text": w.text or "", "box": box(w), "confidence": int(_WCONF.search(w.get("title")).group(1)) / 100}
                     for w in ln.iterfind("h:span[@class='ocrx_word']", ns)]
            lines.append({"id": ln.get("id"), "box": box(ln), "text": "".join(c["text"] for c in chars), "chars": chars})
        regions.append({"id": area.get("id"), "type": area.get("data-type"), "box": box(area), "lines": lines})
    return {"regions": regions}


# -- PAGE XML ------------------------------------------------------------------------------------

def _points(box: Iterable[int]) -> str:
    x, y, w, h = (int(v) for v in box)
    return f"{x},{y} {x + w},{y} {x + w},{y + h} {x},{y + h}"


def _text_equiv(parent: etree._Element, text: str, conf: Any = None, index: int | None = None) -> None:
    P = f"{{{PAGE_NS}}}"
    te = etree.SubElement(parent, P + "TextEquiv")
    if index is not None:
        te.set("index", str(index))
    if conf is not None:
        te.set("conf", _conf(conf))
    etree.SubElement(te, P + "Unicode").text = text


def to_page(doc: Mapping[str, Any], image_name: str, processing: list[Processing] | None = None,
            created: str = "1970-01-01T00:00:00") -> str:
    """PAGE XML 2019-07-15 of a page-model dict. ``created``: an xs:dateTime for Metadata (pass a
    date that belongs to the inputs, e.g. the master's, so re-runs give the same bytes)."""
    P = f"{{{PAGE_NS}}}"
    root = etree.Element(P + "PcGts", nsmap={None: PAGE_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{PAGE_NS} {PAGE_XSD}")
    md = etree.SubElement(root, P + "Metadata")
    etree.SubElement(md, P + "Creator").text = "guji"
    etree.SubElement(md, P + "Created").text = created
    etree.SubElement(md, P + "LastChange").text = created
    for p in processing or _default_processing(doc):
        item = etree.SubElement(md, P + "MetadataItem", type="processingStep", name=str(p.get("step", "ocr")),
                                value=f"{p.get('software', 'guji')} {p.get('version', '')}".strip())
        labels = etree.SubElement(item, P + "Labels")
        settings = {**({"engine": p["engine"], "engine_version": p.get("engine_version", "")} if p.get("engine") else {}),
                    **dict(p.get("settings") or {})}
        for k, v in sorted(settings.items()):
            etree.SubElement(labels, P + "Label", value=json.dumps(v, ensure_ascii=False, default=str), type=str(k))
    W, H = (int(v) for v in doc["master_size"])
    page = etree.SubElement(root, P + "Page", imageFilename=image_name, imageWidth=str(W), imageHeight=str(H))
    rdir = PAGE_DIRECTION.get(str(doc.get("layout")))
    if rdir:
        page.set("readingDirection", rdir)
    regions = list(doc.get("regions") or [])
    if regions:
        ro = etree.SubElement(page, P + "ReadingOrder")
        grp = etree.SubElement(ro, P + "OrderedGroup", id="ro1", caption="reading order")
        for k, r in enumerate(regions):
            etree.SubElement(grp, P + "RegionRefIndexed", index=str(k), regionRef=r["id"])
    for r in regions:
        reg = etree.SubElement(page, P + "TextRegion", id=r["id"], type=PAGE_REGION_TYPE.get(r["type"], "other"),
                               custom=f"structure {{type:{r['type']};}}")
        etree.SubElement(reg, P + "Coords", points=_points(r["box"]))
        texts = []
        for ln in r.get("lines") or []:
            tl = etree.SubElement(reg, P + "TextLine", id=ln["id"], custom=f"structure {{type:{ln.get('kind', 'text')};}}")
            etree.SubElement(tl, P + "Coords", points=_points(ln["box"]))
            pieces = _pieces(ln)
            if pieces:
                word = etree.SubElement(tl, P + "Word", id=f"{ln['id']}w1")
                etree.SubElement(word, P + "Coords", points=_points(ln["box"]))
                for k, c in enumerate(pieces, 1):
                    g = etree.SubElement(word, P + "Glyph", id=f"{ln['id']}g{k}")
                    etree.SubElement(g, P + "Coords", points=_points(c["box"]))
                    _text_equiv(g, c["text"], c.get("confidence"), 1)
                    n = 2
                    for alt, p in c.get("alternatives") or []:
                        if alt != c["text"]:
                            _text_equiv(g, alt, p, n)
                            n += 1
                line_text = "".join(c["text"] for c in pieces)
                _text_equiv(word, line_text)
            else:
                line_text = ""
            _text_equiv(tl, line_text, ln.get("confidence"))
            texts.append(line_text)
        _text_equiv(reg, "\n".join(texts))
    return _serialise(root)


def _box_from_points(points: str) -> list[int]:
    pts = [tuple(int(v) for v in p.split(",")) for p in points.split()]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def from_page(xml: str | bytes) -> dict[str, Any]:
    """The page-model dict a PAGE file written by :func:`to_page` carries."""
    root = etree.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml)
    ns = {"p": PAGE_NS}
    page = root.find("p:Page", ns)
    regs = {r.get("id"): r for r in page.iterfind("p:TextRegion", ns)}
    order = [e.get("regionRef") for e in sorted(page.iterfind("p:ReadingOrder/p:OrderedGroup/p:RegionRefIndexed", ns),
                                                key=lambda e: int(e.get("index")))] or list(regs)
    kind = re.compile(r"type:([^;]+);")
    regions = []
    for rid in order:
        r = regs[rid]
        lines = []
        for tl in r.iterfind("p:TextLine", ns):
            chars = []
            for g in tl.iterfind("p:Word/p:Glyph", ns):
                tes = sorted(g.iterfind("p:TextEquiv", ns), key=lambda e: int(e.get("index", 0)))
                ch: dict[str, Any] = {"text": tes[0].findtext("p:Unicode", "", ns),
                                      "box": _box_from_points(g.find("p:Coords", ns).get("points")),
                                      "confidence": float(tes[0].get("conf", 0))}
                if len(tes) > 1:
                    ch["alternatives"] = [[e.findtext("p:Unicode", "", ns), float(e.get("conf", 0))] for e in tes[1:]]
                chars.append(ch)
            te = tl.find("p:TextEquiv", ns)
            lines.append({"id": tl.get("id"), "box": _box_from_points(tl.find("p:Coords", ns).get("points")),
                          "text": te.findtext("p:Unicode", "", ns) if te is not None else "",
                          "confidence": float(te.get("conf", 0)) if te is not None else 0.0,
                          "kind": kind.search(tl.get("custom", "")).group(1) if tl.get("custom") else "text",
                          "chars": chars})
        regions.append({"id": rid, "type": kind.search(r.get("custom", "")).group(1),
                        "box": _box_from_points(r.find("p:Coords", ns).get("points")), "lines": lines})
    steps = [{"step": m.get("name"), "value": m.get("value"),
              "settings": {lb.get("type"): json.loads(lb.get("value")) for lb in m.iterfind("p:Labels/p:Label", ns)}}
             for m in root.iterfind("p:Metadata/p:MetadataItem", ns)]
    return {"master_size": [int(page.get("imageWidth")), int(page.get("imageHeight"))], "regions": regions,
            "processing": steps, "image": page.get("imageFilename")}
