"""Review findings on publishing: withdrawn items, foreign objects on the target."""

from __future__ import annotations

import json
from pathlib import Path


from guji.iiif import uris
from guji.publish.storage import RemoteObject
from guji.publish.sync import LocalFile, sync
from publishwork import edit_batch_items, make_work, publish_folder


def publish(work, out, expect=0):
    return publish_folder(work, out, expect=expect)[1]


def test_item_withdrawn_from_the_batch_is_not_published(tmp_path):
    """An item whose folder left the batch (re-ingest) keeps its old files in WORK/build; they must not
    stay (or become) public: publish is an allow-list of the batch's public items."""
    work = make_work(tmp_path)
    out = tmp_path / "out"
    publish(work, out)
    assert (out / uris.manifest_path("DF-0001")).exists()
    # as a re-ingest without its folder writes
    edit_batch_items(work, lambda items: [it for it in items if it["id"] != "DF-0001"])
    cv = work / "clean" / "canvases.json"
    c = json.loads(cv.read_text("utf-8"))
    c["canvases"] = [x for x in c["canvases"] if not x["id"].startswith("DF-0001/")]
    cv.write_text(json.dumps(c, ensure_ascii=False), "utf-8")
    publish(work, out)
    leaked = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and "DF-0001" in p.as_posix()]
    assert leaked == []
    fresh = tmp_path / "fresh"
    # the iiif stage did not run again, so the batch collection still lists the withdrawn manifest:
    # a fresh publication holds it back (exit 7) rather than publish a dangling reference
    st = publish(work, fresh, expect=7)
    assert [p["path"] for p in st["problems"]] == ["iiif/collection/batch-demo.json"]
    assert not [p for p in fresh.rglob("*") if "DF-0001" in p.as_posix()]


class MemStorage:
    description = "memory"

    def __init__(self, objects):
        self.objects = dict(objects)
        self.deleted = []

    def list(self):
        return {k: RemoteObject(k, len(v), None) for k, v in self.objects.items()}

    def put(self, key, path, sha256, size):
        self.objects[key] = Path(path).read_bytes()

    def verify(self, key, path, sha256, size):
        return self.objects.get(key) == Path(path).read_bytes()

    def delete(self, key):
        self.deleted.append(key)
        self.objects.pop(key, None)

    def commit(self):
        pass


def test_prune_never_deletes_objects_guji_does_not_publish(tmp_path):
    """`--target s3://bucket` on a shared bucket: pruning may remove stale publication objects only,
    never the bucket's other content."""
    f = tmp_path / "index.html"
    f.write_bytes(b"<html></html>")
    files = [LocalFile("index.html", f, f.stat().st_size, "x", 3)]
    st = MemStorage({"backups/db-2024.tar": b"precious", "website/index.html": b"other site", "logo.png": b"png",
                     "iiif/OLD/manifest.json": b"{}", "iiif/images/OLD_1_0001/info.json": b"{}",
                     "metadata/OLD.mods.xml": b"<mods/>", "stats/stats.csv": b"old"})
    rep = sync(st, files, base_url="http://x/", threads=1, backoff=0)
    assert sorted(rep.deleted) == ["iiif/OLD/manifest.json", "iiif/images/OLD_1_0001/info.json",
                                   "metadata/OLD.mods.xml", "stats/stats.csv"]
    assert {"backups/db-2024.tar", "website/index.html", "logo.png"} <= set(st.objects)


def test_old_manifest_keeps_its_images_while_the_new_one_is_held_back(tmp_path):
    """A re-cleaned item whose new tiles fail: its new manifest is held back, so the old manifest stays
    public — the old images it points to must not be pruned in the same run."""
    img = tmp_path / "info.json"
    img.write_bytes(b'{"new": 1}')
    man = tmp_path / "manifest.json"
    man.write_text(json.dumps({"id": "http://x/iiif/A/manifest.json", "type": "Manifest", "items": [
        {"id": "http://x/iiif/A/canvas/A_1_0001-r", "type": "Canvas", "items": [
            {"service": [{"id": "http://x/iiif/images/A_1_0001-r", "type": "ImageService3"}]}]}]}), "utf-8")
    files = [LocalFile("iiif/images/A_1_0001-r/info.json", img, img.stat().st_size, "a", 1, "A"),
             LocalFile("iiif/A/manifest.json", man, man.stat().st_size, "b", 2, "A")]

    class Failing(MemStorage):
        def put(self, key, path, sha256, size):
            if key.startswith("iiif/images/"):
                raise OSError("503 SlowDown")
            super().put(key, path, sha256, size)

    st = Failing({"iiif/A/manifest.json": b'{"old": 1}', "iiif/images/A_1_0001/info.json": b"{}"})
    rep = sync(st, files, base_url="http://x/", threads=1, attempts=2, backoff=0)
    assert "iiif/A/manifest.json" in rep.held_back and st.objects["iiif/A/manifest.json"] == b'{"old": 1}'
    assert "iiif/images/A_1_0001/info.json" in st.objects
