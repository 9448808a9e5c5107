"""guji package: BagIt bags with METS (MODS, MIX, PREMIS) from a real pipeline run on part of the demo batch."""

from __future__ import annotations

import json
import os

import bagit
import pytest
from lxml import etree

import xsdcatalog
from helpers import run_guji
from guji import __version__
from package_fixture import BOOK, DOC, copy_demo, demo

METS = "{http://www.loc.gov/METS/}"
PREMIS = "{http://www.loc.gov/premis/v3}"
XLINK = "{http://www.w3.org/1999/xlink}"
NS = {"mets": "http://www.loc.gov/METS/", "premis": "http://www.loc.gov/premis/v3",
      "mods": "http://www.loc.gov/mods/v3", "xlink": "http://www.w3.org/1999/xlink"}

# element order of PREMIS 3.0 event and agent (the data dictionary / premis-v3-0.xsd sequences)
EVENT_ORDER = ["eventIdentifier", "eventType", "eventDateTime", "eventDetailInformation", "eventOutcomeInformation",
               "linkingAgentIdentifier", "linkingObjectIdentifier"]
AGENT_ORDER = ["agentIdentifier", "agentName", "agentType", "agentVersion", "agentNote"]


@pytest.fixture(scope="module")
def pkg(tmp_path_factory):
    return demo(tmp_path_factory)


def bags_of(d):
    return sorted(p for p in d["bags"].iterdir() if p.is_dir() and not p.name.startswith("."))


def test_every_bag_validates_with_bagit_and_its_mets_with_the_xsds(pkg):
    bags = bags_of(pkg)
    assert [b.name for b in bags] == [BOOK, DOC]
    mets_schema, mods_schema = xsdcatalog.mets(), xsdcatalog.mods()
    for b in bags:
        bag = bagit.Bag(str(b))
        bag.validate()  # bagit's own full validator: raises on any problem
        assert set(bag.algorithms) == {"sha256", "sha512"}
        assert (b / "manifest-sha512.txt").exists() and (b / "tagmanifest-sha256.txt").exists()
        doc = etree.parse(str(b / "data" / "mets.xml"))
        assert mets_schema.validate(doc), [e.message for e in mets_schema.error_log][:5]
        mods = doc.find(".//mets:dmdSec/mets:mdWrap/mets:xmlData/mods:mods", NS)
        assert mods is not None
        assert mods_schema.validate(etree.ElementTree(mods)), [e.message for e in mods_schema.error_log][:5]


def test_the_schemas_reject_a_broken_mets_and_mods(pkg):
    """The validation above can fail: the same schemas reject a METS without its structMap's divs'
    required content and a MODS with an unknown element."""
    doc = etree.parse(str(pkg["bags"] / BOOK / "data" / "mets.xml"))
    fgrp = doc.find(".//mets:fileGrp/mets:file", NS)
    del fgrp.attrib["ID"]  # ID is required on mets:file
    assert not xsdcatalog.mets().validate(doc)
    mods = doc.find(".//mods:mods", NS)
    etree.SubElement(mods, "{http://www.loc.gov/mods/v3}notAModsElement")
    assert not xsdcatalog.mods().validate(etree.ElementTree(mods))


def test_bag_payload_masters_byte_identical_and_bag_info(pkg):
    b = pkg["bags"] / BOOK
    for rel in ("v01/0001.jpg", "v01/0002.jpg", "v02/0001.jpg"):
        assert (b / "data" / "masters" / rel).read_bytes() == (pkg["batch"] / BOOK / rel).read_bytes()
    data = sorted(p.relative_to(b / "data").as_posix() for p in (b / "data").rglob("*") if p.is_file())
    # derivatives, OCR renderings, metadata, QC and the IIIF manifest are all there
    for must in ("derivatives/v01/0002-r.access.jpg", "derivatives/v01/0002-l.ocr.png",
                 "derivatives/v02/0001.thumb.jpg", "ocr/v01_0001.alto.xml", "ocr/v01_0001.hocr",
                 "ocr/v01_0001.txt", "ocr/v01_0001.json", f"metadata/{BOOK}.json", f"metadata/{BOOK}.mods.xml",
                 f"metadata/{BOOK}.dc.xml", "qc/qc.json", "iiif/manifest.json", "mets.xml"):
        assert must in data, must
    qc = json.loads((b / "data" / "qc" / "qc.json").read_text("utf-8"))
    assert qc["item"] == BOOK and {p["item"] for p in qc["pages"]} == {BOOK} and len(qc["pages"]) == 4
    info = bagit.Bag(str(b)).info
    assert info["Census-Number"] == BOOK and info["External-Identifier"] == BOOK
    assert info["Batch"] == "demo-2026-11" and info["Organization-Code"] == "350000-2001"
    assert "示例省圖書館" in info["Source-Organization"]
    assert info["External-Description"] == "論語集注十卷"
    assert info["Bagging-Date"] and info["Date-Ingested"] <= info["Date-Last-Processed"]
    n = len(data)
    size = sum((b / "data" / p).stat().st_size for p in data)
    assert info["Payload-Oxum"] == f"{size}.{n}"
    doc_info = bagit.Bag(str(pkg["bags"] / DOC)).info
    assert "Census-Number" not in doc_info and doc_info["External-Identifier"] == DOC


def test_mets_structure_files_and_premis_provenance(pkg):
    doc = etree.parse(str(pkg["bags"] / BOOK / "data" / "mets.xml"))
    groups = [g.get("USE") for g in doc.findall(".//mets:fileGrp", NS)]
    assert groups[:2] == ["MASTER", "ACCESS"] and {"OCR", "THUMBS"} <= set(groups)
    masters = doc.findall(".//mets:fileGrp[@USE='MASTER']/mets:file", NS)
    assert len(masters) == 3
    for f in masters:
        href = f.find("mets:FLocat", NS).get(XLINK + "href")
        path = pkg["bags"] / BOOK / "data" / href
        import hashlib
        assert f.get("CHECKSUMTYPE") == "SHA-256" and f.get("CHECKSUM") == hashlib.sha256(path.read_bytes()).hexdigest()
        assert int(f.get("SIZE")) == path.stat().st_size
        tech = doc.find(f".//mets:techMD[@ID='{f.get('ADMID')}']", NS)
        assert tech.find(".//{http://www.loc.gov/mix/v20}imageWidth").text.isdigit()
    # physical: volumes → master images → page surfaces (the spread gives right then left)
    phys = doc.find(".//mets:structMap[@TYPE='PHYSICAL']/mets:div", NS)
    vols = phys.findall("mets:div[@TYPE='volume']", NS)
    assert [v.get("LABEL") for v in vols] == ["v01", "v02"]
    images = vols[0].findall("mets:div[@TYPE='image']", NS)
    assert [len(i.findall("mets:div[@TYPE='page']", NS)) for i in images] == [1, 2]
    spread = [p.get("LABEL") for p in images[1].findall("mets:div[@TYPE='page']", NS)]
    assert spread == [f"{BOOK}/v01/0002-r", f"{BOOK}/v01/0002-l"]
    # logical: two juan, linked to the master images they hold (juan 2 starts in volume 2)
    juan = doc.findall(".//mets:structMap[@TYPE='LOGICAL']/mets:div/mets:div[@TYPE='juan']", NS)
    assert [j.get("LABEL") for j in juan] == ["卷一", "卷二"]
    links = [(s.get(XLINK + "from"), s.get(XLINK + "to")) for s in doc.findall(".//mets:smLink", NS)]
    img_ids = [i.get("ID") for i in images] + [vols[1].find("mets:div", NS).get("ID")]
    assert (juan[0].get("ID"), img_ids[0]) in links and (juan[0].get("ID"), img_ids[1]) in links
    assert (juan[1].get("ID"), img_ids[2]) in links and (juan[1].get("ID"), img_ids[0]) not in links
    # PREMIS: what guji did, with dates, agents (guji and engine versions), parameters, outcomes
    events = doc.findall(".//mets:digiprovMD/mets:mdWrap[@MDTYPE='PREMIS:EVENT']/mets:xmlData/premis:event", NS)
    types = {e.findtext("premis:eventType", namespaces=NS) for e in events}
    assert {"ingestion", "message digest calculation", "derivation", "optical character recognition",
            "metadata normalization", "publication"} <= types
    for e in events:
        tags = [etree.QName(c).localname for c in e]
        assert tags == sorted(tags, key=EVENT_ORDER.index)
        assert e.findtext("premis:eventDateTime", namespaces=NS).startswith("20")
        assert e.findtext("premis:eventOutcomeInformation/premis:eventOutcome", namespaces=NS) in ("success", "failure")
    ocr = next(e for e in events if e.findtext("premis:eventType", namespaces=NS) == "optical character recognition")
    assert '"engine":"rapidocr"' in ocr.findtext(".//premis:eventDetail", namespaces=NS)  # parameters
    agents_of_ocr = {a.text for a in ocr.findall(".//premis:linkingAgentIdentifierValue", NS)}
    assert f"software:guji/{__version__}" in agents_of_ocr and any(a.startswith("software:rapidocr/") for a in agents_of_ocr)
    file_ids = {f.get("ID") for f in doc.findall(".//mets:file", NS)}
    linked = {o.text for o in ocr.findall(".//premis:linkingObjectIdentifierValue", NS)}
    assert linked and linked <= file_ids
    agents = doc.findall(".//mets:digiprovMD/mets:mdWrap[@MDTYPE='PREMIS:AGENT']/mets:xmlData/premis:agent", NS)
    for a in agents:
        tags = [etree.QName(c).localname for c in a]
        assert tags == sorted(tags, key=AGENT_ORDER.index)
    by_id = {a.findtext("premis:agentIdentifier/premis:agentIdentifierValue", namespaces=NS): a for a in agents}
    assert by_id[f"software:guji/{__version__}"].findtext("premis:agentVersion", namespaces=NS) == __version__
    assert by_id["person:王小明"].findtext("premis:agentType", namespaces=NS) == "person"
    assert agents_of_ocr <= set(by_id)


def test_repackaging_an_unchanged_item_writes_nothing(tmp_path, tmp_path_factory):
    d = copy_demo(tmp_path_factory, tmp_path)
    # the copied state store names the shared bag folder; package into the copy's own folder first
    r = run_guji("package", "--work", str(d["work"]), "--out", str(tmp_path / "b2"), "--json", "-q")
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)["stages"][0]["done"] == 2
    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in (tmp_path / "b2").rglob("*")}
    r = run_guji("package", "--work", str(d["work"]), "--out", str(tmp_path / "b2"), "--json", "-q")
    st = json.loads(r.stdout)["stages"][0]
    assert r.returncode == 0 and st["done"] == 0 and st["skipped"] == 2
    after = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in (tmp_path / "b2").rglob("*")}
    assert after == before
    # a verify in between is recorded, but alone does not make a new bag
    assert run_guji("verify", "--work", str(d["work"]), "-q").returncode == 0
    r = run_guji("package", "--work", str(d["work"]), "--out", str(tmp_path / "b2"), "--json", "-q")
    assert json.loads(r.stdout)["stages"][0]["skipped"] == 2
    # a damaged bag is rewritten; then the new fixity-check events are in its METS
    (tmp_path / "b2" / DOC / "tagmanifest-sha256.txt").write_text("damaged\n")
    r = run_guji("package", "--work", str(d["work"]), "--out", str(tmp_path / "b2"), "--json", "-q")
    st = json.loads(r.stdout)["stages"][0]
    assert st["done"] == 1 and st["skipped"] == 1
    bagit.Bag(str(tmp_path / "b2" / DOC)).validate()
    doc = etree.parse(str(tmp_path / "b2" / DOC / "data" / "mets.xml"))
    assert "fixity check" in {e.text for e in doc.findall(".//premis:eventType", NS)}
    assert not [p for p in (tmp_path / "b2").iterdir() if p.name.startswith(".")]  # no staging left


def test_a_changed_source_is_not_packaged_and_the_other_item_is(tmp_path, tmp_path_factory):
    d = copy_demo(tmp_path_factory, tmp_path)
    acc = d["work"] / "clean" / BOOK / "v01" / "0001.access.jpg"
    data = bytearray(acc.read_bytes())
    data[len(data) // 2] ^= 0xFF
    acc.write_bytes(bytes(data))
    r = run_guji("package", "--work", str(d["work"]), "--out", str(tmp_path / "b3"), "--json", "-q")
    assert r.returncode == 4
    st = json.loads(r.stdout)["stages"][0]
    assert st["done"] == 1 and st["failed"] == 1
    probs = [(p["code"], p["path"], p["item"]) for p in st["problems"] if p["severity"] == "error"]
    assert probs == [("package-source-changed", f"clean/{BOOK}/v01/0001.access.jpg", BOOK)]
    assert not (tmp_path / "b3" / BOOK).exists() and (tmp_path / "b3" / DOC).is_dir()


def test_package_needs_a_destination(tmp_path, tmp_path_factory):
    d = demo(tmp_path_factory)
    r = run_guji("package", "--work", str(d["work"]))
    assert r.returncode == 2 and "--out" in r.stderr
    assert not os.path.exists(tmp_path / "guji-out")


def test_review_corrections_become_premis_events_with_the_reviewer(tmp_path, tmp_path_factory):
    d = copy_demo(tmp_path_factory, tmp_path)
    csv_path = tmp_path / "review.csv"
    csv_path.write_text(f"item,field,corrected_value,reviewer\n{BOOK},著者,（宋）朱熹集注,李審校\n", "utf-8")
    r = run_guji("metadata", "apply", str(csv_path), "--work", str(d["work"]))
    assert r.returncode == 0, r.stderr[-2000:]
    r = run_guji("package", "--work", str(d["work"]), "--out", str(tmp_path / "b4"), "--item", BOOK, "--json", "-q")
    assert r.returncode == 0 and json.loads(r.stdout)["stages"][0]["done"] == 1
    assert not (tmp_path / "b4" / DOC).exists()  # --item
    doc = etree.parse(str(tmp_path / "b4" / BOOK / "data" / "mets.xml"))
    ev = [e for e in doc.findall(".//premis:event", NS)
          if e.findtext("premis:eventType", namespaces=NS) == "metadata modification"]
    assert len(ev) == 1
    assert "（宋）朱熹集注" in ev[0].findtext(".//premis:eventOutcomeDetailNote", namespaces=NS)
    roles = {(a.findtext("premis:linkingAgentIdentifierValue", namespaces=NS),
              a.findtext("premis:linkingAgentRole", namespaces=NS)) for a in ev[0].findall("premis:linkingAgentIdentifier", NS)}
    assert ("person:李審校", "implementer") in roles


def test_canvas_events_give_the_processing_steps_for_alto(pkg):
    """The reusable provenance export: the steps behind one canvas (for ALTO <Processing>)."""
    from guji.model import load_batch, load_canvases
    from guji.package.provenance import canvas_events
    from guji.state import StateStore

    batch = load_batch(pkg["work"])
    canvas = next(c for c in load_canvases(pkg["work"]) if c.id == f"{BOOK}/v01/0002-l")
    with StateStore(pkg["work"]) as store:
        prov = canvas_events(store, batch, canvas)
    assert [e.type for e in prov.events] == ["ingestion", "derivation", "optical character recognition"]
    ocr = prov.events[-1]
    assert ocr.params["engine"] == "rapidocr" and ocr.outcome == "success"
    engines = [prov.agents[a] for a, _ in ocr.agents if prov.agents[a].note == "recognition engine"]
    assert engines and engines[0].name == "rapidocr" and engines[0].version
    dates = [e.date for e in prov.events]
    assert dates == sorted(dates) and all(d.startswith("20") for d in dates)
