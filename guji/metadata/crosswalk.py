"""Crosswalks of the public view of a record: Dublin Core (oai_dc), MODS 3.8, IIIF metadata pairs.

All take ``record.public_view(rec)`` output, never the full record, so restricted fields (定级,
破损级别, internal 附注) cannot leak. Language maps: ``zh-Hant`` (the original strings), ``zh-Hans``
(OpenCC t2s folding) and ``en`` (English labels; values only where they are numbers or codes).
"""

from __future__ import annotations

from typing import Any

from guji.metadata.sheet import fold
from guji.xmltext import xml_text  # drops what XML 1.0 cannot carry (the sheet reader reports it)

DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
MODS_NS = "http://www.loc.gov/mods/v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _date_text(ed: dict | None) -> tuple[str | None, str | None, str | None]:
    """(single year, range start, range end) as 4-digit-ish strings."""
    if not ed:
        return None, None, None
    if ed.get("year") is not None:
        return str(ed["year"]), None, None
    if ed.get("year_range"):
        a, b = ed["year_range"]
        return None, str(a), str(b)
    return None, None, None


def _author_str(p: dict) -> str:
    s = f"（{p['dynasty']}）" if p.get("dynasty") else ""
    s += p["name"] + (p.get("role") or "")
    return s


def to_dc(pub: dict, *, rights: str | None = None, institution: str | None = None) -> bytes:
    from lxml import etree

    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")

    def el(name: str, text: str | None) -> None:
        if text:
            e = etree.SubElement(root, f"{{{DC_NS}}}{name}")
            e.text = xml_text(text)

    orig = pub.get("original", {})
    el("title", (pub.get("title") or {}).get("title"))
    if orig.get("题名卷数") or _orig(pub, "题名卷数"):
        el("description", "题名卷数: " + _orig(pub, "题名卷数"))
    for p in pub.get("authors") or []:
        el("creator", _author_str(p))
    ed = pub.get("edition") or {}
    if ed.get("publisher"):
        el("publisher", ed["publisher"])
    y, a, b = _date_text(ed)
    el("date", y or (f"{a}/{b}" if a else None))
    if _orig(pub, "版本"):
        el("description", "版本: " + _orig(pub, "版本"))
    el("type", "Text")
    el("format", ed.get("edition_type"))
    if pub.get("volumes"):
        el("format", f"{pub['volumes']['count']}{pub['volumes']['unit']}")
    el("identifier", pub.get("identifier"))
    if pub.get("call_number"):
        el("identifier", pub["call_number"])
    el("language", "zh")
    el("subject", pub.get("classification"))
    for n in pub.get("notes") or []:
        el("description", n)
    el("rights", rights)
    el("source", institution)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _orig(pub: dict, canon: str) -> str:
    from guji.metadata.sheet import canonical_field

    for k, v in (pub.get("original") or {}).items():
        if canonical_field(k) == canon:
            return v
    return ""


def to_mods(pub: dict, *, rights: str | None = None, institution: str | None = None) -> bytes:
    from lxml import etree

    M = f"{{{MODS_NS}}}"
    root = etree.Element(M + "mods", nsmap={None: MODS_NS, "xsi": XSI}, version="3.8")
    root.set(f"{{{XSI}}}schemaLocation", f"{MODS_NS} http://www.loc.gov/standards/mods/v3/mods-3-8.xsd")

    def sub(parent, tag: str, text: str | None = None, **attrs: str):
        e = etree.SubElement(parent, M + tag, **{k: xml_text(v) for k, v in attrs.items() if v is not None})
        if text is not None:
            e.text = xml_text(text)
        return e

    t = pub.get("title") or {}
    ti = sub(root, "titleInfo", lang="chi", script="Hant")
    sub(ti, "title", t.get("title") or pub["item"])
    if t.get("prefix"):
        sub(ti, "nonSort", f"［{t['prefix']}］")
    ti2 = sub(root, "titleInfo", type="alternative", lang="chi", script="Hans")
    sub(ti2, "title", fold(t.get("title") or pub["item"]))
    for p in pub.get("authors") or []:
        n = sub(root, "name", type="personal", lang="chi")
        sub(n, "namePart", p["name"])
        if p.get("dynasty"):
            sub(n, "namePart", p["dynasty"], type="date")
        if p.get("role"):
            r = sub(n, "role")
            sub(r, "roleTerm", p["role"], type="text", lang="chi")
    sub(root, "typeOfResource", "text")
    ed = pub.get("edition") or {}
    oi = sub(root, "originInfo", eventType="publication")
    if ed.get("publisher"):
        sub(oi, "publisher", ed["publisher"])
    y, a, b = _date_text(ed)
    if y:
        sub(oi, "dateIssued", y, encoding="w3cdtf", keyDate="yes")
    elif a:
        sub(oi, "dateIssued", a, encoding="w3cdtf", point="start", keyDate="yes", qualifier="approximate")
        sub(oi, "dateIssued", b, encoding="w3cdtf", point="end", qualifier="approximate")
    if _orig(pub, "版本"):
        sub(oi, "dateIssued", _orig(pub, "版本"))
    if ed.get("edition_type"):
        sub(oi, "edition", ed["edition_type"])
    if not len(oi):
        root.remove(oi)
    # later layers of the edition: re-cuttings and later printings (manufacture), supplements (production)
    for layer in (ed.get("layers") or [])[1:]:
        role = layer.get("role")
        if role not in LAYER_EVENTS:
            continue
        event_type, label_zh, _en = LAYER_EVENTS[role]
        lo = sub(root, "originInfo", eventType=event_type, displayLabel=layer.get("type") or label_zh)
        date_tag = "dateCreated" if role == "supplement" else "dateIssued"
        for ev in layer.get("events") or []:
            if ev.get("agent"):
                sub(lo, "publisher", ev["agent"])
            if ev.get("year") is not None:
                sub(lo, date_tag, str(ev["year"]), encoding="w3cdtf")
            elif ev.get("year_range"):
                sub(lo, date_tag, str(ev["year_range"][0]), encoding="w3cdtf", point="start", qualifier="approximate")
                sub(lo, date_tag, str(ev["year_range"][1]), encoding="w3cdtf", point="end", qualifier="approximate")
        sub(lo, date_tag, _layer_text(layer))
    lang = sub(root, "language")
    sub(lang, "languageTerm", "chi", type="code", authority="iso639-2b")
    pd = sub(root, "physicalDescription")
    if ed.get("edition_type"):
        sub(pd, "form", ed["edition_type"], lang="chi")
    if pub.get("volumes"):
        sub(pd, "extent", f"{pub['volumes']['count']}{pub['volumes']['unit']}")
    if _orig(pub, "版式"):
        sub(pd, "note", _orig(pub, "版式"), type="layout")
    if _orig(pub, "尺寸"):
        sub(pd, "note", _orig(pub, "尺寸"), type="dimensions")
    if pub.get("binding"):
        sub(pd, "note", pub["binding"], type="binding")
    if not len(pd):
        root.remove(pd)
    if _orig(pub, "题名卷数"):
        sub(root, "note", _orig(pub, "题名卷数"), type="statement of responsibility" if False else "content")
    if pub.get("extant") and _orig(pub, "存卷"):
        sub(root, "note", _orig(pub, "存卷"), type="holdings")
    for a_ in pub.get("annotations") or []:
        sub(root, "note", a_, type="annotations")
    for s in pub.get("seals") or []:
        sub(root, "note", s, type="ownership")
    for n in pub.get("notes") or []:
        sub(root, "note", n)
    if pub.get("classification"):
        sub(root, "classification", pub["classification"])
    sub(root, "identifier", pub["identifier"], type="census" if pub.get("census_no") else "local")
    loc = sub(root, "location")
    if institution:
        sub(loc, "physicalLocation", institution)
    if pub.get("call_number"):
        sub(loc, "shelfLocator", pub["call_number"])
    if not len(loc):
        root.remove(loc)
    if rights:
        sub(root, "accessCondition", rights, type="use and reproduction")
    rec = sub(root, "recordInfo")
    sub(rec, "recordIdentifier", pub["identifier"])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# edition layer role -> (MODS originInfo eventType, label zh-Hant, label en)
LAYER_EVENTS = {"recut": ("manufacture", "修版", "Re-cut"), "reprint": ("manufacture", "後印", "Later printing"),
                "supplement": ("production", "配補", "Supplemented from")}

def _layer_text(layer: dict) -> str:
    text = layer.get("text") or ""
    scope = layer.get("scope")
    return text if not scope or text.startswith(scope) else f"{scope}：{text}"


LABELS: list[tuple[str, str, str]] = [  # (canonical field, zh label (trad), en)
    ("题名卷数", "題名卷數", "Title and juan"), ("著者", "著者", "Author"), ("版本", "版本", "Edition"),
    ("批校题跋", "批校題跋", "Annotations and colophons"), ("版式", "版式", "Layout"), ("装帧", "裝幀", "Binding"),
    ("册数", "冊數", "Volumes"), ("存卷", "存卷", "Extant juan"), ("尺寸", "尺寸", "Dimensions"),
    ("钤印", "鈐印", "Seals"), ("分类", "分類", "Classification"), ("索书号", "索書號", "Call number"),
    ("普查编号", "普查編號", "Census number"), ("本地编号", "本地編號", "Local id"),
]


def _lm(hant: str, en: str | None = None) -> dict[str, list[str]]:
    d = {"zh-Hant": [hant], "zh-Hans": [fold(hant)]}
    if en:
        d["en"] = [en]
    return d


def iiif_block(pub: dict, *, rights: str | None = None, institution: str | None = None) -> dict[str, Any]:
    """IIIF Presentation 3 properties for the manifest: label, summary, metadata, navDate, requiredStatement."""
    t = pub.get("title") or {}
    title = _orig(pub, "题名卷数") or t.get("title") or pub["item"]
    metadata = []
    for canon, zh, en in LABELS:
        v = _orig(pub, canon)
        if canon == "附注":
            continue
        if v:
            val = _lm(v)
            if canon in ("册数", "普查编号", "本地编号", "索书号"):
                val["en"] = [v] if canon != "册数" else [f"{pub['volumes']['count']} {pub['volumes']['unit']}"
                                                         if pub.get("volumes") else v]
            metadata.append({"label": _lm(zh, en), "value": val})
    ed = pub.get("edition") or {}
    for layer in (ed.get("layers") or [])[1:]:  # each part of a compound edition after the base
        if layer.get("role") in LAYER_EVENTS:
            _t, zh, en = LAYER_EVENTS[layer["role"]]
            text = _layer_text(layer)
            metadata.append({"label": _lm(zh, en), "value": _lm(text)})
    for n in pub.get("notes") or []:
        metadata.append({"label": _lm("附註", "Note"), "value": _lm(n)})
    nav = None
    y = ed.get("year") or (ed["year_range"][0] if ed.get("year_range") else None)
    if y is not None and 0 < y < 10000:
        nav = f"{y:04d}-01-01T00:00:00+08:00"
    summary_parts = [p for p in (_orig(pub, "著者"), _orig(pub, "版本")) if p]
    block: dict[str, Any] = {
        "label": _lm(title),
        "summary": _lm("；".join(summary_parts)) if summary_parts else None,
        "metadata": metadata,
        "navDate": nav,
        "requiredStatement": None,
    }
    if institution or rights:
        block["requiredStatement"] = {"label": _lm("收藏單位", "Holding institution"),
                                      "value": _lm(institution or "", institution or None) if institution else _lm(rights or "")}
    if rights:
        block["rights"] = rights
    return block
