"""guji verify over everything: masters, work folder, publication (folder and S3) and bags.

Each kind of damage the issue names — a flipped byte in a bag's payload, a deleted derivative, an
edited published file of the same size, an added stray file — is named by path with exit code 5.
"""

from __future__ import annotations

import json
import sqlite3

from helpers import moto_s3, run_guji
from package_fixture import BOOK, DOC, copy_demo


def flip_byte(p, at=None):
    data = bytearray(p.read_bytes())
    i = len(data) // 2 if at is None else at
    data[i] ^= 0x01
    p.write_bytes(bytes(data))


def problems(stdout):
    doc = json.loads(stdout)
    return {(p["code"], p["path"]) for st in doc["stages"] for p in st["problems"] if p["severity"] == "error"}


def test_intact_everything_verifies(tmp_path, tmp_path_factory):
    d = copy_demo(tmp_path_factory, tmp_path)
    bags = sorted(str(p) for p in d["bags"].iterdir())
    r = run_guji("verify", "--work", str(d["work"]), "--out", str(d["out"]), *bags, "--json")
    assert r.returncode == 0, r.stdout[-3000:]
    doc = json.loads(r.stdout)
    stages = [s["stage"] for s in doc["stages"]]
    assert stages == ["verify", "verify:work", "verify:published", "verify:bag", "verify:bag"]
    by = {s["stage"]: s for s in doc["stages"]}
    assert by["verify"]["info"]["intact"] == 4
    assert by["verify:work"]["info"]["checked"] > 20 and by["verify:work"]["failed"] == 0
    assert by["verify:published"]["info"]["checked"] > 20


def test_each_damage_is_named_with_exit_5(tmp_path, tmp_path_factory):
    d = copy_demo(tmp_path_factory, tmp_path)
    w, out, bags = d["work"], d["out"], d["bags"]
    flip_byte(bags / DOC / "data" / "masters" / "0001.png")  # 1. a flipped byte in a bag's payload
    (w / "clean" / BOOK / "v02" / "0001.thumb.jpg").unlink()  # 2. a deleted derivative
    manifest = out / "iiif" / BOOK / "manifest.json"  # 3. an edited published file, same size
    before = manifest.stat().st_size
    text = manifest.read_text("utf-8")
    manifest.write_text(text.replace('"label"', '"lab3l"', 1), "utf-8")
    assert manifest.stat().st_size == before
    (bags / BOOK / "data" / "ocr" / "stray.txt").write_text("?")  # 4. stray files
    (out / "iiif" / "stray.json").write_text("{}")
    (w / "ocr" / BOOK / "stray.txt").write_text("?")
    r = run_guji("verify", "--work", str(w), "--out", str(out), str(bags / BOOK), str(bags / DOC), "--json")
    assert r.returncode == 5
    assert problems(r.stdout) == {
        ("bag-file-changed", f"{bags / DOC}/data/masters/0001.png"),
        ("output-missing", f"clean/{BOOK}/v02/0001.thumb.jpg"),
        ("published-changed", f"iiif/{BOOK}/manifest.json"),
        ("bag-file-unexpected", f"{bags / BOOK}/data/ocr/stray.txt"),
        ("published-unexpected", "iiif/stray.json"),
        ("output-unexpected", f"ocr/{BOOK}/stray.txt"),
    }
    # each scope checked was recorded as a fixity-check event, failures per item
    db = sqlite3.connect(w / "state.sqlite")
    rows = db.execute("SELECT scope, outcome, detail FROM events WHERE type='fixity check' ORDER BY id").fetchall()
    scopes = {s.split(" ")[0]: (o, json.loads(det)) for s, o, det in rows}
    assert scopes["masters"][0] == "success" and scopes["work"][0] == "failure"
    assert scopes["work"][1]["items"] == {BOOK: [f"output-missing: clean/{BOOK}/v02/0001.thumb.jpg",
                                                 f"output-unexpected: ocr/{BOOK}/stray.txt"]}
    assert scopes["published"][0] == "failure"
    bag_events = [(s, o, json.loads(det)) for s, o, det in rows if s.startswith("bag ")]
    assert {(det["item_ids"][0], o) for _s, o, det in bag_events} == {(BOOK, "failure"), (DOC, "failure")}


def test_bag_fast_mode_catches_loss_and_strays_but_not_a_flipped_byte(tmp_path, tmp_path_factory):
    d = copy_demo(tmp_path_factory, tmp_path)
    bag = d["bags"] / BOOK
    flip_byte(bag / "data" / "masters" / "v02" / "0001.jpg")
    r = run_guji("verify", str(bag), "--fast", "--json")
    assert r.returncode == 0  # Payload-Oxum counts files and bytes only
    r = run_guji("verify", str(bag), "--json")
    assert r.returncode == 5
    assert problems(r.stdout) == {("bag-file-changed", f"{bag}/data/masters/v02/0001.jpg")}
    (bag / "data" / "ocr" / "v01_0001.txt").unlink()
    r = run_guji("verify", str(bag), "--fast", "--json")
    assert r.returncode == 5
    assert problems(r.stdout) == {("bag-file-missing", f"{bag}/data/ocr/v01_0001.txt")}
    assert not (tmp_path / "guji-work").exists()  # bags alone: no work folder is made


def test_not_a_bag_is_reported(tmp_path):
    (tmp_path / "nobag").mkdir()
    r = run_guji("verify", str(tmp_path / "nobag"), "--json")
    assert r.returncode == 5
    assert [c for c, _ in problems(r.stdout)] == ["bag-invalid"]



def test_package_to_s3_and_verify_the_published_bucket(tmp_path, tmp_path_factory, monkeypatch):
    """Bags through publish's storage layer to a real S3 server (moto on 127.0.0.1); the publication
    in the bucket verified object by object against publish's sha256 metadata."""
    d = copy_demo(tmp_path_factory, tmp_path)
    with moto_s3(monkeypatch, "archive") as (endpoint, client):
        s3 = ["--endpoint-url", endpoint, "--addressing-style", "path", "--region", "us-east-1"]
        r = run_guji("package", "--work", str(d["work"]), "--target", "s3://archive/bags", *s3, "--json", "-q")
        assert r.returncode == 0, r.stderr[-2000:]
        assert json.loads(r.stdout)["stages"][0]["done"] == 2
        keys = {o["Key"] for o in client.list_objects_v2(Bucket="archive", Prefix="bags/")["Contents"]}
        assert f"bags/{BOOK}/bagit.txt" in keys and f"bags/{DOC}/data/mets.xml" in keys
        local = {f"bags/{DOC}/" + p.relative_to(d["bags"] / DOC).as_posix()
                 for p in (d["bags"] / DOC).rglob("*") if p.is_file()}
        assert local == {k for k in keys if k.startswith(f"bags/{DOC}/")}
        r = run_guji("package", "--work", str(d["work"]), "--target", "s3://archive/bags", *s3, "--json", "-q")
        assert json.loads(r.stdout)["stages"][0]["skipped"] == 2  # nothing uploaded again

        # publish to the bucket, then damage it: same-size edit (metadata kept), a stray, a deletion
        r = run_guji("publish", "--work", str(d["work"]), "--target", "s3://archive/pub", *s3, "-q")
        assert r.returncode == 0, r.stderr[-2000:]
        r = run_guji("verify", "--work", str(d["work"]), "--target", "s3://archive/pub", *s3, "--json")
        assert r.returncode == 0, r.stdout[-2000:]
        key = f"pub/iiif/{BOOK}/manifest.json"
        obj = client.get_object(Bucket="archive", Key=key)
        body, meta = obj["Body"].read(), obj["Metadata"]
        client.put_object(Bucket="archive", Key=key, Body=body.replace(b'"label"', b'"lab3l"', 1), Metadata=meta)
        client.put_object(Bucket="archive", Key="pub/iiif/stray.json", Body=b"{}")
        client.delete_object(Bucket="archive", Key=f"pub/metadata/{BOOK}.mods.xml")
        r = run_guji("verify", "--work", str(d["work"]), "--target", "s3://archive/pub", *s3, "--json")
        assert r.returncode == 5
        got = {(c, p) for c, p in problems(r.stdout)}
        assert got == {("published-changed", f"iiif/{BOOK}/manifest.json"),
                       ("published-unexpected", "iiif/stray.json"),
                       ("published-missing", f"metadata/{BOOK}.mods.xml")}
        # publish to S3 repairs all three (ETag differs → re-upload; stray pruned; missing uploaded)
        r = run_guji("publish", "--work", str(d["work"]), "--target", "s3://archive/pub", *s3, "-q")
        assert r.returncode == 0, r.stderr[-2000:]
        r = run_guji("verify", "--work", str(d["work"]), "--target", "s3://archive/pub", *s3, "--json")
        assert r.returncode == 0, r.stdout[-2000:]
