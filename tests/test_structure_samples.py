"""The structure stage end to end on the samples (real ingest, clean, OCR, structure, iiif):

- samples/leaf-batch (planted missing, misordered and duplicated leaves, juan boundaries inside
  volumes and across them): every planted defect reported naming the right files, juan ranges
  equal to the truth, in the stage JSON, the QC report and the IIIF manifest;
- samples/demo-batch (clean): no leaf finding, labels equal to the truth;
- variants of the demo batch with leaf images of one volume deleted, swapped and duplicated
  (tests/structure_variants.py computes what must be reported from the demo truth).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from guji.exitcodes import ExitCode
from guji.executor import make_executor
from guji.stage import StageContext
from guji.state import StateStore
from guji.structure.model import load_item_structure

from helpers import demo_cleaned
from structure_variants import expected_missing, make_variant

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
LEAF = SAMPLES / "leaf-batch"
DEMO = SAMPLES / "demo-batch"
TRUTH = SAMPLES / "truth"
SEQ_CODES = {"leaf-missing", "leaf-misordered", "leaf-duplicated", "leaf-number-repeated"}

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def executor():
    """One pool of two worker processes for every run in this module: the OCR models load once per
    worker, not once per run (the runs are independent; only the warm processes are shared)."""
    ex = make_executor(2, None)
    yield ex
    ex.close()


def run_stages(batch: Path | None, work: Path, executor, *, iiif: bool = False) -> dict:
    """ingest and clean ``batch`` (None: ``work`` holds them already), then ocr and structure."""
    from guji.clean.stage import run as clean
    from guji.ingest.stage import run as ingest
    from guji.ocr.stage import run as ocr
    from guji.structure.stage import run as structure

    store = StateStore(work)
    ctx = StageContext(work=work, store=store, batch_dir=batch, executor=executor)
    out = {}
    try:
        if batch is not None:
            assert ingest(ctx).exit_code == ExitCode.OK
            assert clean(ctx).exit_code == ExitCode.OK
        assert ocr(ctx).exit_code == ExitCode.OK
        out["structure"] = structure(ctx)
        if iiif:
            from guji.iiif.stage import run as iiif_run

            out["iiif"] = iiif_run(ctx)
    finally:
        store.close()
    return out


def leaf_problems(st) -> list:
    return [p for p in st.problems if p.code in SEQ_CODES]


# -- the planted book ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def leaf_run(tmp_path_factory, executor):
    if not (LEAF / "batch.toml").is_file():
        pytest.skip("samples/leaf-batch not generated")
    work = tmp_path_factory.mktemp("leaf") / "work"
    res = run_stages(LEAF, work, executor, iiif=True)
    truth = json.loads((TRUTH / "leaf-batch" / "expected.json").read_text("utf-8"))
    return work, res, truth, load_item_structure(work, truth["item"])


def planted(st, code: str, wants: list[dict], same) -> list[tuple[dict, object]]:
    """Each planted defect (``wants``, from the truth file) with the one finding of ``code`` that
    ``same(finding, want)`` names; as many findings of that code as defects planted."""
    got = [p for p in st.problems if p.code == code]
    assert len(got) == len(wants), [(p.path, p.extra) for p in got]
    return [(w, next(p for p in got if same(p, w))) for w in wants]


def test_planted_missing_leaves(leaf_run):
    _work, _res, truth, st = leaf_run
    for want, p in planted(st, "leaf-missing", truth["missing"], lambda p, w: p.extra["juan"] == w["juan"]):
        assert p.extra["leaves"] == want["leaves"]
        assert p.extra["after"] == want["after"] and p.extra["before"] == want["before"]
        assert want["after"] in p.message and want["before"] in p.message


def test_planted_misordered_leaves(leaf_run):
    _work, _res, truth, st = leaf_run
    for want, p in planted(st, "leaf-misordered", truth["misordered"], lambda p, w: p.path == w["file"]):
        assert (p.extra["juan"], p.extra["leaf"]) == (want["juan"], want["leaf"])
        assert p.extra["belongs_after"] == want["after"] and p.extra["belongs_before"] == want["before"]


def test_planted_duplicated_leaves(leaf_run):
    _work, _res, truth, st = leaf_run
    for want, p in planted(st, "leaf-duplicated", truth["duplicated"], lambda p, w: p.path == w["file"]):
        assert p.extra["files"] == [want["original"], want["file"]] and p.extra["images_agree"] is True
    assert not [p for p in st.problems if p.code == "leaf-number-repeated"]


def test_planted_juan_ranges_and_labels(leaf_run):
    _work, _res, truth, st = leaf_run
    files = {c.canvas: c.file for c in st.canvases}
    assert [(j.juan["label"], [files[c] for c in j.canvases]) for j in st.juans] == \
        [(j["juan"], j["files"]) for j in truth["juan"]]
    assert st.juans[1].volumes == [f"{truth['item']}/v01", f"{truth['item']}/v02"]  # 卷二 crosses volumes
    want = {p["file"]: f"{p['juan']} 葉{'一二三四五'[p['leaf'] - 1]}" for p in truth["pages"]}
    assert {c.file: c.label["zh-Hant"][0] for c in st.canvases} == want


def test_planted_census_finding(leaf_run):
    _work, _res, truth, st = leaf_run
    got = {(p.code, p.field) for p in st.problems if p.code.startswith("census-")}
    assert got == {(c["finding"], c["field"]) for c in truth["census"]}


def test_planted_findings_in_reports_and_manifest(leaf_run):
    work, res, truth, st = leaf_run
    assert {p.code for p in res["structure"].problems} >= {"leaf-missing", "leaf-misordered", "leaf-duplicated"}
    report = json.loads((work / "structure" / "report.json").read_text("utf-8"))
    assert report["counts"]["leaf-missing"] == 1 and report["counts"]["leaf-misordered"] == 1
    html = (work / "structure" / "report.html").read_text("utf-8")
    assert html.index("闕葉") < html.index("missing") and truth["misordered"][0]["file"] in html
    qc_html = (work / "clean" / "qc" / "report.html").read_text("utf-8")
    qc = json.loads((work / "clean" / "qc" / "qc.json").read_text("utf-8"))
    assert "版心結構" in qc_html and truth["duplicated"][0]["file"] in qc_html
    assert qc["structure"]["counts"]["leaf-duplicated"] == 1
    # the manifest: juan ranges and page labels from the centre column (no structure.csv here)
    from guji.iiif import uris

    assert res["iiif"].exit_code == ExitCode.OK, [str(p) for p in res["iiif"].problems]
    m = json.loads((work / "build" / uris.manifest_path(truth["item"])).read_text("utf-8"))
    juan = m["structures"][0]
    assert [r["label"]["zh-Hant"][0] for r in juan["items"]] == [j["juan"] for j in truth["juan"]]
    assert [len(r["items"]) for r in juan["items"]] == [len(j["files"]) for j in truth["juan"]]
    assert m["items"][0]["label"] == {"zh-Hant": ["卷一 葉一"], "zh-Hans": ["卷一 叶一"], "en": ["juan 1, leaf 1"]}


# -- the clean demo batch ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, executor):
    # the session's ingest + clean of the demo batch (tests/helpers.py), copied, then ocr and structure
    work = tmp_path_factory.mktemp("demo") / "work"
    shutil.copytree(demo_cleaned(tmp_path_factory), work)
    res = run_stages(None, work, executor)
    return work, res


def test_demo_batch_has_no_finding(demo_run):
    _work, res = demo_run
    assert res["structure"].exit_code == ExitCode.OK
    assert [str(p) for p in res["structure"].problems] == []


def test_demo_batch_labels_equal_truth(demo_run):
    work, _res = demo_run
    batch = json.loads((work / "ingest" / "batch.json").read_text("utf-8"))
    for item in batch["items"]:
        if item["profile"] != "rare-book":
            continue
        st = load_item_structure(work, item["id"])
        want = []
        for v in item["volumes"]:
            for p in v["pages"]:
                vol = p["master"].split("/")[1] if p["master"].count("/") == 2 else "-"
                t = json.loads((TRUTH / "demo-batch" / item["id"] / vol / (Path(p["master"]).stem + ".json"))
                               .read_text("utf-8"))
                want += [(lf["juan"] or None, lf["leaf"]) for lf in t["leaves"]]
        got = [((c.juan or {}).get("label"), (c.leaf or {}).get("number")) for c in st.canvases]
        assert got == want, item["id"]
        if item["juan"]:
            assert st.source == "structure.csv"


# -- variants of the demo batch: leaves deleted, swapped, duplicated --------------------------------

ITEM_A = "350000-2001-0000101"
VARIANTS = {
    # v02 (卷三 葉一–四): delete 葉二, swap the last two, re-shoot 葉一
    "v02-delete-swap-duplicate": ("v02", [("delete", 2), ("swap", 2, 3), ("duplicate", 1)]),
    # v01 (卷一 葉一, 二+三 as a spread, 四; 卷二 葉一, 二): 葉一 and 葉四 exchanged, 卷二 葉一 re-shot,
    # the spread (葉二, 三) deleted
    "v01-swap-duplicate-delete": ("v01", [("swap", 1, 3), ("duplicate", 4), ("delete", 2)]),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_demo_variant(name, tmp_path, executor):
    if not (DEMO / "batch.toml").is_file():
        pytest.skip("samples/demo-batch not generated")
    volume, ops = VARIANTS[name]
    var = make_variant(DEMO, TRUTH / "demo-batch", tmp_path / "batch", ITEM_A, volume, ops)
    res = run_stages(var.batch, tmp_path / "work", executor)
    st = load_item_structure(tmp_path / "work", ITEM_A)
    probs = leaf_problems(st)
    named = lambda code: {f for p in probs if p.code == code for f in p.extra["files"] + [p.path]}  # noqa: E731
    # every deleted leaf that leaves a gap is reported as missing, nothing else is
    missing = {(p.extra["juan"], n) for p in probs if p.code == "leaf-missing" for n in p.extra["leaves"]}
    assert missing == expected_missing(var)
    # every re-shoot is a duplicated leaf naming the copy and its original
    dups = {tuple(p.extra["files"]) for p in probs if p.code == "leaf-duplicated"}
    assert dups == {(orig, copy) for copy, orig in var.duplicates}
    # every exchanged image is named by a misordered finding
    for a, b in var.swapped:
        assert {a, b} <= named("leaf-misordered"), (a, b, [str(p) for p in probs])
    assert not [p for p in probs if p.code == "leaf-number-repeated"]
    # labels: every canvas decoded to the leaf it shows
    want = [lf for _rel, leaves in var.pages for lf in leaves]
    assert [((c.juan or {}).get("label"), (c.leaf or {}).get("number")) for c in st.canvases] == want
    assert res["structure"].exit_code == ExitCode.OK
