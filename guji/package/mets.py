"""METS 1.12 document of one preservation package, built with lxml.

- ``metsHdr``: guji as creator, the institution as custodian, the census number as altRecordID;
- ``dmdSec``: the item's MODS (``WORK/metadata/<item>.mods.xml``; a minimal MODS from the census
  sheet when metadata has not run);
- ``amdSec``: one ``techMD`` per image (NISO MIX 2.0: size, format, compression, fixity,
  dimensions, colour space and ICC profile, resolution, bits per sample) and one ``digiprovMD``
  per PREMIS 3 event and agent (:mod:`guji.package.provenance`);
- ``fileSec``: groups MASTER, ACCESS, OCR-INPUT (the cleaned image OCR read), OCR (page model
  JSON, ALTO, hOCR, text), THUMBS and METADATA, each file with size and SHA-256;
- ``structMap TYPE="PHYSICAL"``: item → volumes (册) → master images → page surfaces (canvases;
  two for a split spread, right-hand page first for thread-bound books);
- ``structMap TYPE="LOGICAL"``: item → juan (卷) from ``structure.csv``, linked to the master
  images of each juan through ``structLink`` (a juan may cross volumes).

File locations are paths relative to the METS file (it sits in the bag's ``data/`` folder).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from guji import __version__
from guji.model import Batch, Canvas, Item
from guji.package.premis import agent_element, event_element
from guji.package.provenance import MASTER_PREFIX, Provenance

METS_NS = "http://www.loc.gov/METS/"
MODS_NS = "http://www.loc.gov/mods/v3"
MIX_NS = "http://www.loc.gov/mix/v20"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
M = f"{{{METS_NS}}}"
X = f"{{{XLINK_NS}}}"
MIX = f"{{{MIX_NS}}}"
NSMAP = {"mets": METS_NS, "mods": MODS_NS, "premis": "http://www.loc.gov/premis/v3", "mix": MIX_NS,
         "xlink": XLINK_NS, "xsi": XSI_NS}
MNS = {"mets": METS_NS}  # on each section written on its own (no repeated declarations of the rest)
MXNS = {"mets": METS_NS, "xlink": XLINK_NS}
SCHEMA_LOCATION = (f"{METS_NS} http://www.loc.gov/standards/mets/version112/mets.xsd "
                   f"{MODS_NS} http://www.loc.gov/standards/mods/v3/mods-3-8.xsd")

GROUPS = ("MASTER", "ACCESS", "OCR-INPUT", "OCR", "THUMBS", "METADATA")
MIMETYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".tif": "image/tiff", ".tiff": "image/tiff",
    ".jp2": "image/jp2", ".json": "application/json", ".txt": "text/plain", ".hocr": "text/html",
    ".html": "text/html", ".csv": "text/csv",
}


def mimetype(rel: str) -> str:
    if rel.endswith(".alto.xml"):
        return "application/alto+xml"
    if rel.endswith(".mods.xml"):
        return "application/mods+xml"
    if rel.endswith(".xml"):
        return "application/xml"
    return MIMETYPES.get(Path(rel).suffix.lower(), "application/octet-stream")


@dataclass
class BagFile:
    """One payload file of a package: where it comes from, what it should hash to, what it is."""

    rel: str  # path inside the bag's data/ folder (POSIX)
    group: str  # fileSec group
    sha256: str  # the SHA-256 the state store recorded (checked against the copy)
    source: Path | None = None  # file to copy, or None for ``data``
    data: bytes | None = None  # generated content (QC extract, METS)
    size: int = 0
    work_path: str = ""  # how provenance names it: master:<batch path> or WORK-relative path
    page_id: str | None = None
    canvas_id: str | None = None
    tech: dict[str, Any] = field(default_factory=dict)  # image facts for MIX
    file_id: str = ""


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: Any) -> etree._Element:
    el = etree.SubElement(parent, tag)
    for k, v in attrs.items():
        if v is not None:
            el.set(k, str(v))
    if text is not None:
        el.text = text
    return el


COLOR_SPACES = {"RGB": "RGB", "RGBA": "RGB", "L": "BlackIsZero", "LA": "BlackIsZero", "1": "BlackIsZero",
                "I;16": "BlackIsZero", "I;16B": "BlackIsZero", "I": "BlackIsZero", "CMYK": "CMYK",
                "P": "PaletteColor", "YCbCr": "YCbCr", "LAB": "CIELab"}
CHANNELS = {"RGB": 3, "RGBA": 4, "L": 1, "LA": 2, "1": 1, "I;16": 1, "I;16B": 1, "I": 1, "CMYK": 4, "P": 1,
            "YCbCr": 3, "LAB": 3}


def mix_element(f: BagFile, *, producer: str | None = None) -> etree._Element:
    """NISO MIX 2.0 technical metadata of one image (what ingest measured, or the derivative's size)."""
    t = f.tech
    mix = etree.Element(MIX + "mix", nsmap={"mix": MIX_NS})
    basic = _el(mix, MIX + "BasicDigitalObjectInformation")
    oid = _el(basic, MIX + "ObjectIdentifier")
    _el(oid, MIX + "objectIdentifierType", "local")
    _el(oid, MIX + "objectIdentifierValue", f.rel)
    _el(basic, MIX + "fileSize", str(f.size))
    fd = _el(basic, MIX + "FormatDesignation")
    _el(fd, MIX + "formatName", mimetype(f.rel))
    if t.get("compression"):
        comp = _el(basic, MIX + "Compression")
        _el(comp, MIX + "compressionScheme", str(t["compression"]))
    fx = _el(basic, MIX + "Fixity")
    _el(fx, MIX + "messageDigestAlgorithm", "SHA-256")
    _el(fx, MIX + "messageDigest", f.sha256)
    _el(fx, MIX + "messageDigestOriginator", f"guji {__version__}")
    if t.get("width") and t.get("height"):
        bii = _el(mix, MIX + "BasicImageInformation")
        bic = _el(bii, MIX + "BasicImageCharacteristics")
        _el(bic, MIX + "imageWidth", str(int(t["width"])))
        _el(bic, MIX + "imageHeight", str(int(t["height"])))
        if t.get("mode") in COLOR_SPACES:
            pi = _el(bic, MIX + "PhotometricInterpretation")
            _el(pi, MIX + "colorSpace", COLOR_SPACES[t["mode"]])
            if t.get("icc_profile"):
                cp = _el(pi, MIX + "ColorProfile")
                icc = _el(cp, MIX + "IccProfile")
                _el(icc, MIX + "iccProfileName", str(t["icc_profile"]))
    if producer:
        icm = _el(mix, MIX + "ImageCaptureMetadata")
        gci = _el(icm, MIX + "GeneralCaptureInformation")
        _el(gci, MIX + "imageProducer", producer)
    ppi = t.get("ppi")
    bits = t.get("bit_depth")
    if ppi or bits:
        iam = _el(mix, MIX + "ImageAssessmentMetadata")
        if ppi:
            sm = _el(iam, MIX + "SpatialMetrics")
            _el(sm, MIX + "samplingFrequencyUnit", "in.")
            for axis, v in zip(("x", "y"), ppi):
                sf = _el(sm, MIX + f"{axis}SamplingFrequency")
                _el(sf, MIX + "numerator", str(round(float(v))))
        if bits:
            ice = _el(iam, MIX + "ImageColorEncoding")
            bps = _el(ice, MIX + "BitsPerSample")
            n = CHANNELS.get(str(t.get("mode")), 1)
            _el(bps, MIX + "bitsPerSampleValue", ",".join([str(int(bits))] * n))
            _el(bps, MIX + "bitsPerSampleUnit", "integer")
            _el(ice, MIX + "samplesPerPixel", str(n))
    return mix


def minimal_mods(item: Item) -> etree._Element:
    """A small valid MODS record from the census sheet row (when ``guji metadata`` has not run)."""
    mods = etree.Element(f"{{{MODS_NS}}}mods", nsmap={"mods": MODS_NS})
    mods.set("version", "3.8")
    ti = _el(mods, f"{{{MODS_NS}}}titleInfo")
    _el(ti, f"{{{MODS_NS}}}title", item.record.get("题名卷数") or item.id)
    if item.census_no:
        _el(mods, f"{{{MODS_NS}}}identifier", item.census_no, type="local", displayLabel="普查编号")
    _el(mods, f"{{{MODS_NS}}}identifier", item.id, type="local")
    return mods


def _juan_pages(item: Item) -> list[tuple[str, list[str]]]:
    """(juan label, page ids) in order; a juan runs to its end_page or up to the next juan's start."""
    order = [p.id for p in item.pages()]
    pos = {pid: i for i, pid in enumerate(order)}
    juan = [j for j in item.juan if j.start_page in pos]
    out = []
    for n, j in enumerate(juan):
        start = pos[j.start_page]
        if j.end_page and j.end_page in pos:
            end = pos[j.end_page] + 1
        elif n + 1 < len(juan):
            end = pos[juan[n + 1].start_page]
        else:
            end = len(order)
        out.append((j.label, order[start:end]))
    return out


def build_mets(batch: Batch, item: Item, canvases: list[Canvas], files: list[BagFile], prov: Provenance, *,
               mods: etree._Element | None) -> bytes:
    """The METS document (bytes, UTF-8) of one package. Assigns ``file_id`` to every file."""
    buf = io.BytesIO()
    write_mets(buf, batch, item, canvases, files, prov, mods=mods)
    return buf.getvalue()


def write_mets(out: Any, batch: Batch, item: Item, canvases: list[Canvas], files: list[BagFile], prov: Provenance,
               *, mods: etree._Element | None) -> None:
    """Write the METS document to ``out`` (a path or binary file) section by section (lxml
    ``xmlfile``): each techMD / digiprovMD / file element is built, written and dropped, so memory
    does not grow with the number of pages beyond the plain lists of files and events."""
    inst = batch.institution
    title = item.record.get("题名卷数") or item.id
    # file ids first (techMD and PREMIS link to them)
    counters: dict[str, int] = {}
    for f in files:
        counters[f.group] = counters.get(f.group, 0) + 1
        f.file_id = f"FILE-{f.group}-{counters[f.group]:05d}"
    by_work = {f.work_path: f.file_id for f in files if f.work_path}
    imaged = ("MASTER", "ACCESS", "OCR-INPUT", "THUMBS")

    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        attrs = {f"{{{XSI_NS}}}schemaLocation": SCHEMA_LOCATION, "OBJID": item.id, "LABEL": title,
                 "TYPE": "local document" if item.profile == "local-document" else "rare book"}
        with xf.element(M + "mets", attrs, nsmap=NSMAP):
            xf.write("\n")
            created = max((e.date for e in prov.events if e.date), default=None)
            hdr = etree.Element(M + "metsHdr", nsmap=MNS)
            if created:
                hdr.set("CREATEDATE", created)
            ag = _el(hdr, M + "agent", ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
            _el(ag, M + "name", f"guji {__version__}")
            if inst.get("institution"):
                ag = _el(hdr, M + "agent", ROLE="CUSTODIAN", TYPE="ORGANIZATION")
                _el(ag, M + "name", str(inst["institution"]))
            if inst.get("operator"):
                ag = _el(hdr, M + "agent", ROLE="CREATOR", TYPE="INDIVIDUAL")
                _el(ag, M + "name", str(inst["operator"]))
                _el(ag, M + "note", "scan operator")
            if item.census_no:
                _el(hdr, M + "altRecordID", item.census_no, TYPE="census number (普查编号)")
            _el(hdr, M + "altRecordID", batch.id, TYPE="batch")
            xf.write(hdr, pretty_print=True)

            dmd = etree.Element(M + "dmdSec", ID="DMD-MODS", nsmap=MNS)
            wrap = _el(dmd, M + "mdWrap", MDTYPE="MODS", MDTYPEVERSION="3.8")
            xd = _el(wrap, M + "xmlData")
            xd.append(mods if mods is not None else minimal_mods(item))
            xf.write(dmd, pretty_print=True)

            producer = str(inst.get("operator")) if inst.get("operator") else None
            with xf.element(M + "amdSec", ID="AMD"):
                xf.write("\n")
                for f in files:
                    if f.group in imaged:
                        tmd = etree.Element(M + "techMD", ID=f"TECH-{f.file_id}", nsmap=MNS)
                        w = _el(tmd, M + "mdWrap", MDTYPE="NISOIMG", MDTYPEVERSION="2.0")
                        _el(w, M + "xmlData").append(mix_element(f, producer=producer if f.group == "MASTER" else None))
                        xf.write(tmd, pretty_print=True)
                for n, ev in enumerate(prov.events, 1):
                    d = etree.Element(M + "digiprovMD", ID=f"EVENT-{n:05d}", nsmap=MNS)
                    w = _el(d, M + "mdWrap", MDTYPE="PREMIS:EVENT", MDTYPEVERSION="3.0")
                    _el(w, M + "xmlData").append(event_element(ev, by_work.get))
                    xf.write(d, pretty_print=True)
                for n, agent in enumerate(sorted(prov.agents.values(), key=lambda a: a.id), 1):
                    d = etree.Element(M + "digiprovMD", ID=f"AGENT-{n:05d}", nsmap=MNS)
                    w = _el(d, M + "mdWrap", MDTYPE="PREMIS:AGENT", MDTYPEVERSION="3.0")
                    _el(w, M + "xmlData").append(agent_element(agent))
                    xf.write(d, pretty_print=True)
            xf.write("\n")

            with xf.element(M + "fileSec"):
                xf.write("\n")
                for g in GROUPS:
                    members = [f for f in files if f.group == g]
                    if not members:
                        continue
                    grp = etree.Element(M + "fileGrp", USE=g, nsmap=MXNS)
                    for f in members:
                        fe = _el(grp, M + "file", ID=f.file_id, MIMETYPE=mimetype(f.rel), SIZE=str(f.size),
                                 CHECKSUM=f.sha256, CHECKSUMTYPE="SHA-256",
                                 ADMID=f"TECH-{f.file_id}" if g in imaged else None)
                        loc = _el(fe, M + "FLocat", LOCTYPE="OTHER", OTHERLOCTYPE="FILE")
                        loc.set(X + "type", "simple")
                        loc.set(X + "href", f.rel)
                    xf.write(grp, pretty_print=True)
            xf.write("\n")
            for el in _struct(item, canvases, files, title):
                xf.write(el, pretty_print=True)


def _struct(item: Item, canvases: list[Canvas], files: list[BagFile], title: str) -> list[etree._Element]:
    """The physical and logical structMaps and the structLink."""
    by_page: dict[str, list[BagFile]] = {}
    by_canvas: dict[str, list[BagFile]] = {}
    for f in files:
        if f.canvas_id:
            by_canvas.setdefault(f.canvas_id, []).append(f)
        elif f.page_id:
            by_page.setdefault(f.page_id, []).append(f)
    canv_of_page: dict[str, list[Canvas]] = {}
    for c in sorted((c for c in canvases if c.item_id == item.id), key=lambda c: c.order):
        canv_of_page.setdefault(c.page_id, []).append(c)
    # physical structure: item → volumes → master images → page surfaces
    phys = etree.Element(M + "structMap", TYPE="PHYSICAL", LABEL="volumes (册) and pages", nsmap=MNS)
    top = _el(phys, M + "div", ID="PHYS-ITEM", TYPE="item", LABEL=title, DMDID="DMD-MODS")
    for f in files:
        if f.group == "METADATA":
            _el(top, M + "fptr", FILEID=f.file_id)
    image_div_id: dict[str, str] = {}
    n_img = 0
    for vol in item.volumes:
        vdiv = _el(top, M + "div", ID=f"PHYS-V{vol.seq:03d}", TYPE="volume", ORDER=str(vol.seq), LABEL=vol.label)
        for page in vol.pages:
            n_img += 1
            pid = f"PHYS-IMG-{n_img:05d}"
            image_div_id[page.id] = pid
            idiv = _el(vdiv, M + "div", ID=pid, TYPE="image", ORDER=str(page.seq), LABEL=Path(page.master).name)
            for f in by_page.get(page.id, []):
                _el(idiv, M + "fptr", FILEID=f.file_id)
            for c in canv_of_page.get(page.id, []):
                cdiv = _el(idiv, M + "div", ID=f"PHYS-PAGE-{c.order:05d}", TYPE="page", ORDER=str(c.order),
                           ORDERLABEL=c.label or None, LABEL=c.id)
                for f in by_canvas.get(c.id, []):
                    _el(cdiv, M + "fptr", FILEID=f.file_id)
    # logical structure: item → juan, linked to master images
    log = etree.Element(M + "structMap", TYPE="LOGICAL", LABEL="juan (卷)", nsmap=MNS)
    ldiv = _el(log, M + "div", ID="LOG-ITEM", TYPE="item", LABEL=title, DMDID="DMD-MODS")
    links: list[tuple[str, str]] = [("LOG-ITEM", "PHYS-ITEM")]
    for n, (label, page_ids) in enumerate(_juan_pages(item), 1):
        jid = f"LOG-JUAN-{n:03d}"
        _el(ldiv, M + "div", ID=jid, TYPE="juan", ORDER=str(n), LABEL=label)
        links += [(jid, image_div_id[p]) for p in page_ids if p in image_div_id]
    sl = etree.Element(M + "structLink", nsmap=MXNS)
    for a, b in links:
        sm = _el(sl, M + "smLink")
        sm.set(X + "from", a)
        sm.set(X + "to", b)
    return [phys, log, sl]


def master_work_path(master: str) -> str:
    return MASTER_PREFIX + master
