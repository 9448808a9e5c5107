"""Review findings on publishing: withdrawn items, foreign objects on the target."""

from __future__ import annotations

import json

from click.testing import CliRunner

from guji.cli import main
from guji.iiif import uris
from test_publish_fixture import make_work


def publish(work, out):
    r = CliRunner().invoke(main, ["publish", "--work", str(work), "--out", str(out), "--json", "-j", "1"])
    assert r.exit_code in (0, 7), r.output
    return json.loads(r.stdout)["stages"][0]


def test_item_withdrawn_from_the_batch_is_not_published(tmp_path):
    """An item whose folder left the batch (re-ingest) keeps its old files in WORK/build; they must not
    stay (or become) public: publish is an allow-list of the batch's public items."""
    work = make_work(tmp_path)
    out = tmp_path / "out"
    publish(work, out)
    assert (out / uris.manifest_path("DF-0001")).exists()
    bj = work / "ingest" / "batch.json"
    b = json.loads(bj.read_text("utf-8"))
    b["items"] = [it for it in b["items"] if it["id"] != "DF-0001"]  # as a re-ingest without its folder writes
    bj.write_text(json.dumps(b, ensure_ascii=False), "utf-8")
    cv = work / "clean" / "canvases.json"
    c = json.loads(cv.read_text("utf-8"))
    c["canvases"] = [x for x in c["canvases"] if not x["id"].startswith("DF-0001/")]
    cv.write_text(json.dumps(c, ensure_ascii=False), "utf-8")
    publish(work, out)
    leaked = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and "DF-0001" in p.as_posix()]
    assert leaked == []
    fresh = tmp_path / "fresh"
    publish(work, fresh)
    assert not [p for p in fresh.rglob("*") if "DF-0001" in p.as_posix()]
