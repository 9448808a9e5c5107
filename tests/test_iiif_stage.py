"""guji iiif: tiles, manifests, annotations, collections, validation, resumability (synthetic work dir)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from guji.exitcodes import ExitCode
from guji.fsutil import sha256_file
from guji.iiif import uris
from guji.iiif.stage import run
from iiifwork import HALF, make_work
from guji.iiif.validate import BuildChecker, load_schema, schema_errors
from guji.stage import StageContext
from guji.state import StateStore

from helpers import SHARED  # noqa: E402 (../shared: one definition, tests/helpers.py)
SCHEMA = SHARED / "reference" / "iiif" / "iiif_3_0.json"
BASE = uris.DEFAULT_BASE_URL


def run_stage(work: Path, **opts):
    store = StateStore(work)
    try:
        return run(StageContext(work=work, store=store, options={"iiif": opts}))
    finally:
        store.close()


def load(work: Path, rel: str) -> dict:
    return json.loads((work / "build" / rel).read_text("utf-8"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = make_work(tmp_path_factory.mktemp("iiif") / "work")
    res = run_stage(work, schema=str(SCHEMA) if SCHEMA.is_file() else None)
    return work, res


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    return {p.relative_to(root).as_posix(): (p.stat().st_mtime_ns, sha256_file(p))
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_stage_runs_clean(built):
    work, res = built
    assert res.exit_code == ExitCode.OK, [str(p) for p in res.problems]
    assert res.done == 9 and res.failed == 0
    assert res.info["manifests"] == 2 and res.info["annotations"] == 2
    assert res.info["validation_errors"] == 0


def test_rare_book_manifest(built):
    work, _ = built
    m = load(work, uris.manifest_path("RB-0001"))
    assert m["id"] == BASE + "iiif/RB-0001/manifest.json"
    assert m["viewingDirection"] == "right-to-left" and m["behavior"] == ["paged"]
    # language maps: zh-Hant first, zh-Hans second; traditional title kept as written (注 not 註)
    assert list(m["label"]) == ["zh-Hant", "zh-Hans"]
    assert m["label"]["zh-Hant"] == ["論語注疏十卷"] and m["label"]["zh-Hans"] == ["论语注疏十卷"]
    assert [list(p["label"])[:2] for p in m["metadata"]] == [["zh-Hant", "zh-Hans"]] * 3
    assert "定级" not in json.dumps(m, ensure_ascii=False)  # non-public sheet fields never published
    assert m["requiredStatement"]["value"]["zh-Hant"] == ["示例市圖書館"]
    assert m["rights"] == "http://creativecommons.org/licenses/by-nc-sa/4.0/"
    assert m["provider"][0]["type"] == "Agent"
    assert m["homepage"][0]["id"] == BASE + "index.html#RB-0001"
    assert m["navDate"] == "1775-01-01T00:00:00Z"
    # seeAlso → MODS copied into the build
    assert m["seeAlso"][0]["id"] == BASE + uris.mods_path("RB-0001")
    assert (work / "build" / uris.mods_path("RB-0001")).read_bytes() == (work / "metadata/RB-0001.mods.xml").read_bytes()
    # canvases in reading order: cover, then right half before left half of each spread
    ids = [c["id"].rsplit("/", 1)[1] for c in m["items"]]
    assert ids == ["RB-0001_v1_0001", "RB-0001_v1_0002-r", "RB-0001_v1_0002-l", "RB-0001_v1_0003-r",
                   "RB-0001_v1_0003-l", "RB-0001_v2_0001-r", "RB-0001_v2_0001-l"]
    # start = first page with text; thumbnail from it
    assert m["start"]["id"].endswith("RB-0001_v1_0002-r")
    assert "RB-0001_v1_0002-r/full/" in m["thumbnail"][0]["id"]
    # search services: Content Search 2 and a Search 1 entry for Mirador
    svc = {s.get("type") or s.get("@type"): s for s in m["service"]}
    assert svc["SearchService2"]["id"] == uris.content_search_uri(BASE, "RB-0001", 2)
    assert svc["SearchService1"]["@id"] == uris.content_search_uri(BASE, "RB-0001", 1)
    assert svc["SearchService1"]["profile"] == "http://iiif.io/api/search/1/search"


def test_structures_juan_then_volumes(built):
    work, _ = built
    m = load(work, uris.manifest_path("RB-0001"))
    juan, vols = m["structures"]
    assert juan["label"]["en"] == ["Juan"] and vols["label"]["en"] == ["Volumes"]
    j1, j2 = juan["items"]
    assert j1["label"]["zh-Hant"] == ["卷一"]
    tail = lambda r: [x["id"].rsplit("/", 1)[1] for x in r["items"]]  # noqa: E731
    assert tail(j1) == ["RB-0001_v1_0002-r", "RB-0001_v1_0002-l"]
    # juan 2 crosses the volume boundary
    assert tail(j2) == ["RB-0001_v1_0003-r", "RB-0001_v1_0003-l", "RB-0001_v2_0001-r", "RB-0001_v2_0001-l"]
    assert [v["label"]["zh-Hant"][0] for v in vols["items"]] == ["第一冊", "第二冊"]
    assert len(vols["items"][0]["items"]) == 5 and len(vols["items"][1]["items"]) == 2


def test_local_document_left_to_right_and_restricted(built):
    work, _ = built
    m = load(work, uris.manifest_path("DF-0001"))
    assert m["viewingDirection"] == "left-to-right"
    index = load(work, uris.build_index_path())
    assert index["items"]["DF-0001"]["access"] == "restricted"
    assert "iiif/DF-0001/" in index["items"]["DF-0001"]["paths"]
    assert index["items"]["RB-0001"]["access"] == "public"
    for kind, name in (("batch", "test-batch"), ("institution", "350000-2001")):
        coll = load(work, uris.collection_path(kind, name))
        assert [i["id"] for i in coll["items"]] == [BASE + "iiif/RB-0001/manifest.json"]  # restricted left out


def test_tiles_and_info_json(built):
    work, _ = built
    cid = "RB-0001/v1/0002-r"
    svc = work / "build" / uris.image_service_path(cid)
    info = json.loads((svc / "info.json").read_text())
    assert info["id"] == uris.image_service_uri(BASE, cid)
    assert info["profile"] == "level0" and info["type"] == "ImageService3"
    assert (info["width"], info["height"]) == HALF
    assert info["tiles"][0]["width"] == 512 and info["tiles"][0]["scaleFactors"][0] == 1
    assert {"width": 90, "height": 135} in info["sizes"]
    for s in info["sizes"]:
        assert (svc / f"full/{s['width']},{s['height']}/0/default.jpg").is_file()
    assert (svc / "full/90,/0/default.jpg").is_file()  # what Universal Viewer asks for
    # full/max is the access JPEG itself
    canv = json.loads((work / "clean/canvases.json").read_text())["canvases"]
    access = next(c for c in canv if c["id"] == cid)["access"]["path"]
    assert (svc / "full/max/0/default.jpg").read_bytes() == (work / access).read_bytes()
    import pyvips

    tile = pyvips.Image.new_from_file(str(svc / "full/90,135/0/default.jpg"))
    assert (tile.width, tile.height) == (90, 135)


def test_ocr_annotation_page(built):
    work, _ = built
    m = load(work, uris.manifest_path("RB-0001"))
    canvas = m["items"][1]
    ref = canvas["annotations"][0]
    assert ref["type"] == "AnnotationPage" and "items" not in ref
    page = load(work, uris.annotation_page_path("RB-0001", "RB-0001/v1/0002-r"))
    assert page["id"] == ref["id"]
    a1, a2 = page["items"]
    assert a1["motivation"] == "supplementing"
    assert a1["body"] == {"type": "TextualBody", "value": "學而時習之", "format": "text/plain", "language": "zh-Hant"}
    # master box [4w-100, 40, 40, 2h-80] of the right half (master x offset 2w, scale 2) → canvas px
    w, h = HALF
    assert a1["target"] == f"{canvas['id']}#xywh={w - 50},20,20,{h - 40}"
    assert a2["target"] == f"{canvas['id']}#xywh={w - 80},20,20,{h - 40}"
    # canvases without OCR have no annotations entry
    assert "annotations" not in m["items"][0]


@pytest.mark.skipif(not SCHEMA.is_file(), reason=f"IIIF schema not available at {SCHEMA} (../shared/ missing)")
def test_schema_valid(built):
    work, res = built
    assert res.info["schema_validated"] is True
    schema = load_schema(SCHEMA)
    docs = [uris.manifest_path("RB-0001"), uris.manifest_path("DF-0001"),
            uris.collection_path("batch", "test-batch"), uris.collection_path("institution", "350000-2001")]
    for rel in docs:
        assert schema_errors(load(work, rel), schema) == [], rel
    # and the schema does catch a broken manifest
    m = load(work, docs[0])
    m["viewingDirection"] = "upwards"
    del m["items"][0]["width"]
    assert len(schema_errors(m, schema)) >= 1


def test_checker_finds_what_schema_misses(built, tmp_path):
    work, _ = built
    m = load(work, uris.manifest_path("RB-0001"))
    m["navDate"] = "1775-01-01T00:00:00"
    m["behavior"] = ["paged", "individuals"]
    m["items"][2]["id"] = m["items"][1]["id"]
    checker = BuildChecker(work / "build", BASE)
    checker.add("iiif/RB-0001/manifest.json", m)
    checker.finish()
    codes = sorted({p.code for p in checker.problems})
    assert codes == ["iiif-behavior-disjoint", "iiif-duplicate-id", "iiif-navdate-timezone"]
    # a missing tile is found through the info.json it is promised by
    import shutil

    build = tmp_path / "build"
    shutil.copytree(work / "build", build)
    svc = build / uris.image_service_path("RB-0001/v1/0001")
    victim = svc / f"full/{HALF[0]},{HALF[1]}/0/default.jpg"  # the one scale-1 tile of a small page
    victim.unlink()
    checker = BuildChecker(build, BASE)
    checker.add("iiif/RB-0001/manifest.json", load(work, uris.manifest_path("RB-0001")))
    checker.finish()
    missing = [p for p in checker.problems if p.code == "iiif-missing-file"]
    assert len(missing) == 1 and victim.relative_to(build).as_posix() in missing[0].message


def test_rerun_rewrites_nothing_and_base_url_does_not_retile(tmp_path):
    work = make_work(tmp_path / "work")
    first = run_stage(work)
    assert first.exit_code == ExitCode.OK and first.done == 9
    before = snapshot(work / "build")
    second = run_stage(work)
    assert second.done == 0 and second.skipped == 9
    assert second.info["files_written"] == 0
    assert snapshot(work / "build") == before  # mtimes and hashes unchanged
    # a new base URL changes ids, not tiles
    third = run_stage(work, base_url="https://books.example.org/guji")
    assert third.done == 0 and third.skipped == 9
    m = load(work, uris.manifest_path("RB-0001"))
    assert m["id"] == "https://books.example.org/guji/iiif/RB-0001/manifest.json"
    after = snapshot(work / "build")
    tiles = [k for k in before if "/images/" in k and not k.endswith("info.json")]
    assert tiles and all(after[k] == before[k] for k in tiles)
    assert after["iiif/RB-0001/manifest.json"] != before["iiif/RB-0001/manifest.json"]


def test_public_metadata_preferred_and_reordered(tmp_path):
    public = {"iiif": {
        "label": {"en": ["Analects"], "zh-Hans": ["论语"], "zh-Hant": ["論語"]},
        "navDate": "1775-01-01T00:00:00+08:00",
        "metadata": [{"label": {"en": ["Edition"], "zh-Hant": ["版本"]}, "value": {"zh-Hant": ["刻本"]}}],
    }}
    work = make_work(tmp_path / "work", public=public)
    res = run_stage(work)
    assert res.exit_code == ExitCode.OK
    m = load(work, uris.manifest_path("RB-0001"))
    assert list(m["label"]) == ["zh-Hant", "zh-Hans", "en"]
    assert m["navDate"] == "1775-01-01T00:00:00+08:00"
    assert list(m["metadata"][0]["label"]) == ["zh-Hant", "en"]


@pytest.mark.skipif(not SCHEMA.is_file(), reason=f"IIIF schema not available at {SCHEMA} (../shared/ missing)")
def test_multi_part(tmp_path):
    work = make_work(tmp_path / "work")
    res = run_stage(work, multi_part=3, schema=str(SCHEMA))
    assert res.exit_code == ExitCode.OK, [str(p) for p in res.problems]
    coll = load(work, uris.item_collection_path("RB-0001"))
    assert coll["type"] == "Collection" and coll["behavior"] == ["multi-part"]
    assert [i["id"] for i in coll["items"]] == [BASE + uris.volume_manifest_path("RB-0001", 1),
                                               BASE + uris.volume_manifest_path("RB-0001", 2)]
    v2 = load(work, uris.volume_manifest_path("RB-0001", 2))
    assert len(v2["items"]) == 2 and v2["partOf"][0]["id"] == coll["id"]
    assert v2["structures"][0]["items"][0]["label"]["zh-Hant"] == ["卷二"]  # juan 2 continues in volume 2
    batch = load(work, uris.collection_path("batch", "test-batch"))
    assert batch["items"][0]["type"] == "Collection"
    # DF-0001 has one volume: stays a single manifest
    assert (work / "build" / uris.manifest_path("DF-0001")).is_file()


def test_bad_canvas_is_a_problem_and_batch_goes_on(tmp_path):
    work = make_work(tmp_path / "work")
    data = json.loads((work / "clean/canvases.json").read_text())
    (work / data["canvases"][3]["access"]["path"]).unlink()
    res = run_stage(work)
    # the other canvases are tiled, but a book with a page missing gets no manifest at all
    assert [p.code for p in res.problems if p.severity == "error"] == ["iiif-no-access-image", "iiif-item-incomplete"]
    assert res.exit_code == ExitCode.ITEMS_BLOCKED
    assert res.done == 8
    assert not (work / "build" / uris.manifest_path("RB-0001")).exists()
    assert (work / "build" / uris.manifest_path("DF-0001")).exists()


def test_cli_json(tmp_path):
    work = make_work(tmp_path / "work")
    env = {**os.environ, "GUJI_WORK": str(work)}
    proc = subprocess.run([sys.executable, "-m", "guji", "iiif", "-j", "1", "--json", "--base-url",
                           "http://example.org/x/"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    results = doc["stages"]
    assert any(r.get("stage") == "iiif" and r["info"]["base_url"] == "http://example.org/x/" for r in results)
