"""Publishing to a local folder through the real stage and CLI: order, skip, restricted, dry run, prune."""

from __future__ import annotations

import json

from click.testing import CliRunner

from guji.cli import main
from guji.fsutil import sha256_file
from guji.iiif import uris
import publishwork
from publishwork import A, edit_batch_items, make_work



publish = publishwork.publish_folder


def test_publish_folder_then_nothing_to_do(tmp_path):
    work = make_work(tmp_path)
    out = tmp_path / "out"
    code, st = publish(work, out)
    assert code == 0 and st["failed"] == 0, st
    info = st["info"]
    assert info["uploaded"] == st["done"] > 0 and info["restricted_skipped"] > 0
    build = work / "build"
    # every public build file is there with the same bytes; restricted items and internal files are not
    for p in build.rglob("*"):
        if p.is_file():
            rel = p.relative_to(build).as_posix()
            target = out / rel
            if "DF-SECRET" in rel or rel == "build-index.json":
                assert not target.exists(), rel
            else:
                assert sha256_file(target) == sha256_file(p), rel
    for extra in (uris.search_index_path(), "index.html", "stats/stats.svg", "stats/stats.csv", "stats/stats.json"):
        assert (out / extra).is_file(), extra
    assert "DF-SECRET" not in (out / "stats/stats.json").read_text("utf-8")

    code, st2 = publish(work, out)
    assert code == 0 and st2["info"]["uploaded"] == 0 and st2["info"]["unchanged"] == info["uploaded"]


def test_dry_run_lists_changes_and_changes_nothing(tmp_path):
    work = make_work(tmp_path)
    out = tmp_path / "out"
    publish(work, out)
    ap = work / "build" / uris.annotation_page_path(A, f"{A}/v1/0001")
    ap.write_text('{"changed": true}', "utf-8")
    before = sha256_file(out / uris.annotation_page_path(A, f"{A}/v1/0001"))
    code, st = publish(work, out, "--dry-run")
    plan = st["info"]["plan"]
    assert [(p["action"], p["key"]) for p in plan] == [("update", uris.annotation_page_path(A, f"{A}/v1/0001"))]
    assert sha256_file(out / uris.annotation_page_path(A, f"{A}/v1/0001")) == before
    code, st = publish(work, out)
    assert st["info"]["uploaded"] == 1 and sha256_file(out / uris.annotation_page_path(A, f"{A}/v1/0001")) == sha256_file(ap)


def test_item_turned_restricted_is_removed(tmp_path):
    work = make_work(tmp_path)
    out = tmp_path / "out"
    publish(work, out)
    assert (out / uris.manifest_path("DF-0001")).exists()
    edit_batch_items(work, lambda items: [{**it, "access": "restricted"} if it["id"] == "DF-0001" else it
                                          for it in items])
    coll = work / "build" / uris.collection_path("batch", "demo")
    c = json.loads(coll.read_text("utf-8"))
    c["items"] = [m for m in c["items"] if "DF-0001" not in m["id"]]
    coll.write_text(json.dumps(c), "utf-8")  # as the iiif stage would rewrite it
    code, st = publish(work, out)
    assert code == 0, st
    assert not (out / uris.manifest_path("DF-0001")).exists()
    assert not list((out / "iiif" / "images").glob("DF-0001_*"))
    assert st["info"]["deleted"] > 0
    r = CliRunner().invoke(main, ["search", "--out", str(out), "--json", "通书"])
    assert json.loads(r.stdout)["total_items"] == 0


def test_search_and_stats_commands(tmp_path):
    work = make_work(tmp_path)
    out = tmp_path / "out"
    publish(work, out)
    r = CliRunner().invoke(main, ["search", "--out", str(out), "万历"])
    assert r.exit_code == 0 and "萬曆" in r.output and A in r.output
    r = CliRunner().invoke(main, ["search", "--out", str(out), "--item", A, "--json", "萬曆"])
    assert json.loads(r.stdout)["total"] == 2
    r = CliRunner().invoke(main, ["search", "--work", str(work), "--json", "人"])
    assert json.loads(r.stdout)["total_page_hits"] == 1


def test_a_same_size_edit_in_the_publication_is_repaired(tmp_path):
    """Someone edits a published file in place keeping its size: the next publish copies it again
    (the stat cache sees another mtime), and `guji verify --published` is clean afterwards."""
    import os

    work = make_work(tmp_path)
    out = tmp_path / "out"
    publish(work, out)
    build = work / "build"
    rel = next(p.relative_to(build).as_posix() for p in sorted(build.rglob("*.json"))
               if p.is_file() and "DF-SECRET" not in p.as_posix() and p.name != "build-index.json")
    target = out / rel
    good = target.read_bytes()
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0x01
    target.write_bytes(bytes(bad))
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert target.stat().st_size == len(good) and target.read_bytes() != good
    code, st2 = publish(work, out)
    assert code == 0 and st2["info"]["uploaded"] >= 1, st2
    assert target.read_bytes() == good
