"""End to end on samples/demo-batch: ingest → clean → metadata → iiif (real stages) → publish → search/serve.

OCR is left out to keep the test short (it is the slow stage); the full text path is covered by
test_search.py. This checks publish against the real build layout and the metadata stage's records.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from guji.cli import main
from guji.iiif import uris

DEMO = Path(__file__).resolve().parent.parent / "samples" / "demo-batch"

pytestmark = pytest.mark.slow


@pytest.mark.skipif(not (DEMO / "batch.toml").exists(), reason="samples/demo-batch not in this checkout")
def test_demo_batch_publish_search_stats(tmp_path):
    work, out = tmp_path / "work", tmp_path / "out"
    runner = CliRunner()
    for args in (["ingest", str(DEMO)], ["clean"], ["metadata"], ["iiif"]):
        r = runner.invoke(main, [*args, "--work", str(work), "-j", "1", "-q"])
        assert r.exit_code == 0, (args, r.output)
    r = runner.invoke(main, ["publish", "--work", str(work), "--out", str(out), "-j", "1", "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)["stages"][0]["info"]
    assert info["failed"] == 0 and info["held_back"] == 0 and info["restricted_skipped"] > 0

    from guji.model import load_batch

    batch = load_batch(work)
    public = [i.id for i in batch.items if i.access == "public" and i.ok]
    restricted = [i.id for i in batch.items if i.access != "public"]
    assert public and restricted
    for item in public:
        assert (out / uris.manifest_path(item)).is_file() or (out / uris.item_collection_path(item)).is_file()
    for item in restricted:
        assert not (out / "iiif" / item).exists()
        assert not list((out / "iiif" / "images").glob(uris.slug(item) + "_*"))
        assert not (out / uris.mods_path(item)).exists()
    # every published IIIF reference resolves inside the publication
    base = info["base_url"]
    for m in out.glob("iiif/*/manifest.json"):
        doc = json.loads(m.read_text("utf-8"))
        from guji.publish.sync import references

        missing = [p for p in references(doc, base) if not (out / p).exists() and not p.startswith("search/")]
        assert not missing, (m, missing[:5])

    # metadata search with folding: the sheet has 論語集注 (traditional); query simplified
    r = runner.invoke(main, ["search", "--out", str(out), "--json", "title:论语"])
    d = json.loads(r.stdout)
    assert [i["item_id"] for i in d["items"]] == ["350000-2001-0000101"]
    assert d["items"][0]["dynasty"] == "清" and d["items"][0]["year_from"] == 1775
    r = runner.invoke(main, ["search", "--out", str(out), "--json", "year:1770-1780"])
    assert [i["item_id"] for i in json.loads(r.stdout)["items"]] == ["350000-2001-0000101"]
    r = runner.invoke(main, ["stats", "--out", str(out), "--json"])
    s = json.loads(r.stdout)
    assert s["totals"]["books"] == len(public)
    assert sum(v["books"] for v in s["by"]["classification"].values()) == len(public)

    # second publish: nothing to upload
    r = runner.invoke(main, ["publish", "--work", str(work), "--out", str(out), "-j", "1", "--json"])
    assert json.loads(r.stdout)["stages"][0]["info"]["uploaded"] == 0
