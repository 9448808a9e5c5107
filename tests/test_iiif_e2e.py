"""End to end on samples/demo-batch: real ingest, clean and metadata, then guji iiif (OCR is left
out to keep the suite fast; its annotations are covered by test_iiif_stage with a page model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guji.exitcodes import ExitCode
from guji.iiif import uris
from guji.stage import StageContext
from guji.state import StateStore

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "samples" / "demo-batch"
from helpers import SHARED  # noqa: E402 (../shared: one definition, tests/helpers.py)
SCHEMA = SHARED / "reference" / "iiif" / "iiif_3_0.json"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (DEMO / "batch.toml").is_file(), reason="samples/demo-batch not generated")]


def test_demo_batch_to_iiif(tmp_path):
    from guji.clean.stage import run as clean
    from guji.iiif.stage import run as iiif
    from guji.ingest.stage import run as ingest
    from guji.metadata.stage import run as metadata

    work = tmp_path / "work"
    store = StateStore(work)
    try:
        ctx = StageContext(work=work, store=store, batch_dir=DEMO,
                           options={"iiif": {"schema": str(SCHEMA) if SCHEMA.is_file() else None}})
        assert ingest(ctx).exit_code in (ExitCode.OK, ExitCode.ITEMS_BLOCKED)
        assert clean(ctx).exit_code in (ExitCode.OK, ExitCode.ITEMS_BLOCKED)
        metadata(ctx)
        res = iiif(ctx)
    finally:
        store.close()
    assert res.exit_code == ExitCode.OK, [str(p) for p in res.problems if p.severity == "error"]
    assert res.info["validation_errors"] == 0 and res.info["schema_validated"] == SCHEMA.is_file()

    build = work / "build"
    batch = json.loads((work / "ingest/batch.json").read_text())
    canvases = json.loads((work / "clean/canvases.json").read_text())["canvases"]
    for item in batch["items"]:
        if item["status"] != "ok":
            continue
        m = json.loads((build / uris.manifest_path(item["id"])).read_text())
        want = "right-to-left" if item["profile"] == "rare-book" else "left-to-right"
        assert m["viewingDirection"] == want
        assert list(m["label"])[0] == "zh-Hant"
        ids = [c["id"] for c in m["items"]]
        assert ids == [uris.canvas_uri(uris.DEFAULT_BASE_URL, item["id"], c["id"])
                       for c in canvases if c["item_id"] == item["id"]]
        # public metadata from the metadata stage, MODS alongside
        assert m["seeAlso"][0]["id"].endswith(uris.mods_path(item["id"]))
        if item["juan"]:
            juan = m["structures"][0]
            assert [r["label"]["zh-Hant"][0] for r in juan["items"]] == [j["label"] for j in item["juan"]]
            assert sum(len(r["items"]) for r in juan["items"]) <= len(ids)
