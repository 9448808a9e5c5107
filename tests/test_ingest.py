"""Ingest: measurements, every defect check, blocking, reports, resumption, fixity."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import numpy as np
from PIL import Image

from batchmaker import make_batch, noise_image
from helpers import copy_batch, run_guji
from guji.fsutil import sha256_file
from guji.model import load_batch


def ingest(batch: Path, work: Path, *extra: str):
    return run_guji("ingest", str(batch), "--work", str(work), "--json", *extra)


def codes(report: dict, item: str | None = None) -> set[str]:
    if item is None:
        return {p["code"] for p in report["batch_problems"]}
    it = next(i for i in report["items"] if i["id"] == item)
    return {p["code"] for p in it["problems"]}


def test_good_batch_measures_every_image(tmp_path):
    b = make_batch(tmp_path / "b", items={"350000-2001-0000001": {"v01": 2, "v02": 1}, "DF-1": 2})
    r = ingest(b, tmp_path / "w")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["exit_name"] == "OK"
    batch = load_batch(tmp_path / "w")
    assert [i.id for i in batch.items] == ["350000-2001-0000001", "DF-1"]
    book = batch.item("350000-2001-0000001")
    assert [v.label for v in book.volumes] == ["v01", "v02"]
    assert book.census_no == "350000-2001-0000001" and book.profile == "rare-book"
    assert batch.item("DF-1").profile == "local-document"
    page = book.volumes[0].pages[1]
    assert page.id == "350000-2001-0000001/v01/0002"
    assert page.master == "350000-2001-0000001/v01/0002.jpg"
    assert page.sha256 == sha256_file(b / page.master)
    assert (page.format, page.width, page.height, page.mode, page.bit_depth) == ("JPEG", 120, 90, "RGB", 8)
    assert page.ppi == (400.0, 400.0)
    assert page.number == 2
    assert (tmp_path / "w" / "ingest" / "report.txt").read_text("utf-8").startswith("guji ingest report")


def test_each_defect_is_reported_and_only_its_item_blocked(tmp_path):
    items = {"350000-2001-0000001": 2, "350000-2001-0000002": 3, "DF-1": 1}
    b = make_batch(tmp_path / "b", items=items, toml_extra="[ingest]\nmax_pixels = 100000\n")
    bad = b / "350000-2001-0000002"
    (bad / "0004.jpg").write_bytes(b"")  # zero bytes
    data = (bad / "0001.jpg").read_bytes()
    (bad / "0005.jpg").write_bytes(data[: len(data) // 2])  # truncated
    (bad / "0006.tif").write_text("not an image", "utf-8")
    (bad / "0007.heic").write_bytes(b"\x00\x00\x00\x18ftypheic")
    (bad / "0008.jpg").write_bytes((bad / "0002.jpg").read_bytes())  # duplicate of 0002
    noise_image(bad / "0010.png", 99, size=(400, 300))  # over max_pixels, and a gap (0009 missing)
    noise_image(bad / "0011.jpg", 98)
    noise_image(bad / "0011.tif", 97, compression="tiff_lzw")  # duplicate number 11
    noise_image(bad / "0012\uf900.jpg", 96)  # CJK compatibility ideograph
    noise_image(bad / "0012\u8c48.jpg", 95)  # its NFC form: same name after NFC
    assert unicodedata.normalize("NFC", "\uf900") == "\u8c48"
    noise_image(b / "no-record-folder" / "0001.jpg", 94)
    with open(b / "records.csv", "a", encoding="utf-8") as f:
        f.write("350000-2001-0000099,,不存在的書,古籍,公开\n")

    r = ingest(b, tmp_path / "w")
    assert r.returncode == 4, r.stderr
    rep = json.loads((tmp_path / "w" / "ingest" / "report.json").read_text("utf-8"))
    got = codes(rep, "350000-2001-0000002")
    for code in ["zero-byte-file", "truncated-image", "not-an-image", "unsupported-format", "duplicate-image",
                 "decompression-bomb", "page-number-gap", "duplicate-page-number", "item-blocked"]:
        assert code in got, (code, got)
    assert "no-record" in codes(rep, "no-record-folder")
    assert "record-without-images" in codes(rep)
    status = {i["id"]: i["status"] for i in rep["items"]}
    assert status == {"350000-2001-0000001": "ok", "350000-2001-0000002": "blocked", "DF-1": "ok",
                      "no-record-folder": "blocked"}
    # every error names the file (or sheet row) and a reason
    for it in rep["items"]:
        for p in it["problems"]:
            assert p.get("path") and p["message"]
    text = (tmp_path / "w" / "ingest" / "report.txt").read_text("utf-8")
    assert "350000-2001-0000002/0006.tif" in text and "records.csv, row 5" in text
    # NFC twins: both names reported together
    twins = [p for p in rep["items"][1]["problems"] if p["code"] == "unicode-normalisation-twins"]
    assert rep["items"][1]["id"] == "350000-2001-0000002" and twins


def test_bad_batch_toml_is_exit_3_naming_the_file(tmp_path):
    b = make_batch(tmp_path / "b", items={"DF-1": 1})
    (b / "batch.toml").write_text('[batch]\nid = "x y"\nrights = "all rights reserved"\n', "utf-8")
    r = ingest(b, tmp_path / "w")
    assert r.returncode == 3
    assert "batch.toml" in r.stderr and "batch.id" in r.stderr and "batch.rights" in r.stderr
    (b / "batch.toml").write_text("[batch\n", "utf-8")
    r = ingest(b, tmp_path / "w")
    assert r.returncode == 3 and "not valid TOML" in r.stderr


def test_missing_sheet_is_exit_3(tmp_path):
    b = make_batch(tmp_path / "b", items={"DF-1": 1})
    (b / "records.csv").unlink()
    r = ingest(b, tmp_path / "w")
    assert r.returncode == 3 and "census sheet" in r.stderr


def test_rerun_skips_and_detects_changed_master(tmp_path):
    b = make_batch(tmp_path / "b", items={"DF-1": 3})
    w = tmp_path / "w"
    assert ingest(b, w).returncode == 0
    r = ingest(b, w)
    doc = json.loads(r.stdout)
    assert doc["stages"][0]["skipped"] == 3 and doc["stages"][0]["done"] == 0
    # a master changed after ingest: re-ingest flags it against the fixity ledger
    noise_image(b / "DF-1" / "0002.jpg", 1234)
    r = ingest(b, w)
    assert r.returncode == 4
    rep = json.loads((w / "ingest" / "report.json").read_text("utf-8"))
    assert "master-changed" in codes(rep, "DF-1")


def test_verify_reports_changed_and_missing_masters(tmp_path):
    b = make_batch(tmp_path / "b", items={"DF-1": 3})
    w = tmp_path / "w"
    assert ingest(b, w).returncode == 0
    r = run_guji("verify", "--work", str(w), "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["stages"][0]["info"]["intact"] == 3
    with open(b / "DF-1" / "0001.jpg", "ab") as f:
        f.write(b"\0")
    (b / "DF-1" / "0003.jpg").unlink()
    r = run_guji("verify", "--work", str(w), "--json")
    assert r.returncode == 5
    probs = {p["path"]: p["code"] for p in json.loads(r.stdout)["stages"][0]["problems"]}
    assert probs == {"DF-1/0001.jpg": "master-changed", "DF-1/0003.jpg": "master-missing"}


def test_structure_csv_gives_juan_across_volumes(tmp_path):
    b = make_batch(tmp_path / "b", items={"350000-2001-0000001": {"v01": 3, "v02": 2}})
    (b / "350000-2001-0000001" / "structure.csv").write_text(
        "juan,volume,file\n卷一,v01,0001.jpg\n卷二,v01,0003.jpg\n卷三,v02,0002.jpg\n卷四,v03,0001.jpg\n", "utf-8")
    r = ingest(b, tmp_path / "w")
    assert r.returncode == 0
    item = load_batch(tmp_path / "w").items[0]
    assert [(j.label, j.start_page, j.end_page) for j in item.juan] == [
        ("卷一", "350000-2001-0000001/v01/0001", "350000-2001-0000001/v01/0002"),
        ("卷二", "350000-2001-0000001/v01/0003", "350000-2001-0000001/v02/0001"),
        ("卷三", "350000-2001-0000001/v02/0002", "350000-2001-0000001/v02/0002"),
    ]
    warn = [p for p in item.problems if p.code == "bad-structure-row"]
    assert warn and warn[0].row == 5 and warn[0].field == "file"


def test_image_properties_bit_depth_mode_icc(tmp_path):
    b = make_batch(tmp_path / "b", items={"DF-1": 1})
    d = b / "DF-1"
    Image.fromarray((np.arange(120 * 90, dtype=np.uint16).reshape(90, 120) * 7)).save(d / "0002.tif")
    Image.new("1", (120, 90), 1).save(d / "0003.tif", compression="group4")
    Image.new("CMYK", (120, 90), (10, 20, 30, 0)).save(d / "0004.jpg")
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    noise_image(d / "0005.png", 5, icc_profile=srgb)
    r = ingest(b, tmp_path / "w")
    assert r.returncode == 0, r.stderr
    pages = {p.master.split("/")[-1]: p for p in load_batch(tmp_path / "w").pages()}
    assert (pages["0002.tif"].bit_depth, pages["0002.tif"].mode) == (16, "I;16")
    assert (pages["0003.tif"].bit_depth, pages["0003.tif"].compression) == (1, "group4")
    assert pages["0004.jpg"].mode == "CMYK"
    assert pages["0005.png"].icc_profile and "sRGB" in pages["0005.png"].icc_profile


def test_sample_bad_batch(tmp_path):
    b = copy_batch("bad-batch", tmp_path)
    r = ingest(b, tmp_path / "w")
    assert r.returncode == 4, r.stderr
    rep = json.loads((tmp_path / "w" / "ingest" / "report.json").read_text("utf-8"))
    assert rep["summary"]["items_ok"] >= 1 and rep["summary"]["items_blocked"] >= 1
    all_codes = codes(rep) | {p["code"] for it in rep["items"] for p in it["problems"]}
    for code in ["zero-byte-file", "truncated-image", "not-an-image", "decompression-bomb", "duplicate-image",
                 "page-number-gap", "duplicate-page-number", "unicode-normalisation-twins", "no-record",
                 "record-without-images"]:
        assert code in all_codes, code


def test_masters_are_never_written(tmp_path):
    b = copy_batch("demo-batch", tmp_path)
    before = {p: sha256_file(p) for p in b.rglob("*") if p.is_file()}
    mtimes = {p: p.stat().st_mtime_ns for p in before}
    r = ingest(b, tmp_path / "w")
    assert r.returncode == 0, r.stderr
    assert {p: sha256_file(p) for p in before} == before
    assert {p: p.stat().st_mtime_ns for p in before} == mtimes
    assert sorted(p for p in b.rglob("*") if p.is_file()) == sorted(before)


def test_fixity_ledger_follows_files_when_pages_renumber(tmp_path):
    """Page ids are positions; after a page is withdrawn and another added, every master on disk must
    still be in the fixity ledger, and a later change to it must be caught (ledger keyed by file)."""
    from guji.state import StateStore

    b = make_batch(tmp_path / "b", items={"DF-1": 3}, toml_extra="[ingest]\nallow_number_gaps = true\n")
    w = tmp_path / "w"
    assert ingest(b, w).returncode == 0
    (b / "DF-1" / "0002.jpg").unlink()
    noise_image(b / "DF-1" / "0004.jpg", 999, dpi=(400, 400), quality=90)
    assert ingest(b, w).returncode == 0  # the gap is a warning here
    with StateStore(w) as st:
        ledger = {path: digest for _pid, path, digest, _size in st.masters()}
    assert ledger.get("DF-1/0004.jpg") == sha256_file(b / "DF-1" / "0004.jpg")
    with open(b / "DF-1" / "0004.jpg", "ab") as f:
        f.write(b"\0")
    r = ingest(b, w)
    assert r.returncode == 4
    rep = json.loads((w / "ingest" / "report.json").read_text("utf-8"))
    assert "master-changed" in codes(rep, "DF-1")


def test_page_ids_come_from_file_names_so_inserting_a_page_renumbers_nothing(tmp_path):
    b = make_batch(tmp_path / "b", items={"DF-1": 0}, toml_extra="[ingest]\nallow_number_gaps = true\n")
    noise_image(b / "DF-1" / "0001.jpg", 1)
    noise_image(b / "DF-1" / "0003.jpg", 3)
    assert ingest(b, tmp_path / "w1").returncode == 0
    before = {p.master: p.id for p in load_batch(tmp_path / "w1").pages()}
    noise_image(b / "DF-1" / "0002.jpg", 2)  # a leaf found later and shot again
    assert ingest(b, tmp_path / "w2").returncode == 0
    after = {p.master: p.id for p in load_batch(tmp_path / "w2").pages()}
    assert after["DF-1/0003.jpg"] == before["DF-1/0003.jpg"] == "DF-1/1/0003"
    assert [p.seq for p in load_batch(tmp_path / "w2").pages()] == [1, 2, 3]


def test_page_ids_stay_unique_when_numbers_collide(tmp_path):
    from guji.ingest.scan import page_key

    used: set[str] = set()
    keys = [page_key(Path(n), used) for n in ["0005.jpg", "0005.tif", "a b.jpg", "..x.jpg"]]
    assert keys == ["0005", "0005.tif", "a_b", "x"]


def test_a_copied_leaf_and_a_deleted_leaf_do_not_block_the_book(tmp_path):
    """Staff (or a test of the leaf analysis) copy one image and delete another without renumbering:
    both are warnings, the book goes on (the structure stage says whether leaves are duplicated or
    missing); with allow_number_gaps = false the gap blocks it as before."""
    b = make_batch(tmp_path / "b", items={"DF-1": 4})
    (b / "DF-1" / "0005.jpg").write_bytes((b / "DF-1" / "0002.jpg").read_bytes())  # byte-identical copy
    (b / "DF-1" / "0003.jpg").unlink()  # a gap: 0003 missing
    r = ingest(b, tmp_path / "w")
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path / "w" / "ingest" / "report.json").read_text("utf-8"))
    assert {"duplicate-image", "page-number-gap"} <= codes(rep, "DF-1") | codes(rep)
    assert {i["id"]: i["status"] for i in rep["items"]}["DF-1"] == "ok"
    strict = make_batch(tmp_path / "s", items={"DF-1": 3}, toml_extra="[ingest]\nallow_number_gaps = false\n")
    (strict / "DF-1" / "0002.jpg").unlink()
    assert ingest(strict, tmp_path / "w2").returncode == 4
