"""Every field, every byte: bad input is a named finding and never stops the other items.

One small batch (tiny pages, so the OCR stage is quick) holds everything at once: control
characters in census fields, a Chinese 本地编号, an NFD-named folder with a space, ``#``, ``%`` and
``?``, and a JPEG whose entropy-coded data is damaged. ``guji run --json`` must publish every good
item (manifests, collections, MODS, search), name each bad thing, and exit 4 (ITEMS_BLOCKED, cli.md).
Plus: census sheet encodings, XLSX formulas without values, ``--json`` on error exits, tile temp
folders left by a kill.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from lxml import etree
from PIL import Image

from guji.iiif import uris
from guji.metadata.sheet import read_sheet
from helpers import REPO, moto_s3

HEADER = ["普查编号", "题名卷数", "著者", "版本", "附注", "本地编号", "文献类型", "访问级别"]

GOOD_CENSUS = "350000-2001-0000201"
CHINESE_ID = "地文0001"
NFC_ID = "Café 文書 #1%?"  # é decomposes: the folder is written NFD, the sheet NFC
BROKEN = "350000-2001-0000202"


def guji(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "guji", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=timeout)


def page(path: Path, seed: int, size=(360, 480)) -> Path:
    """A small page: paper tone, a few dark vertical 'columns', some noise."""
    rng = np.random.default_rng(seed)
    arr = np.full((size[1], size[0], 3), 225, np.uint8)
    for x in range(40, size[0] - 40, 60):
        arr[60:size[1] - 60, x:x + 18] = 40
    arr = np.clip(arr.astype(int) + rng.integers(-20, 20, arr.shape), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, "JPEG", quality=90, dpi=(400, 400))
    return path


def corrupt_entropy_data(path: Path, seed: int = 5) -> None:
    """Overwrite 200 bytes in the middle of the scan data (never with 0xFF, so no marker is made):
    libjpeg then reports 'Corrupt JPEG data: N extraneous bytes before marker 0xd9'."""
    data = bytearray(path.read_bytes())
    sos, eoi = data.index(b"\xff\xda"), len(data) - 2
    rng = np.random.default_rng(seed)
    mid = (sos + eoi) // 2
    for k in range(mid, mid + 200):
        v = int(rng.integers(0, 255))
        data[k] = v if v != 0xFF else 0x12
    path.write_bytes(bytes(data))
    with Image.open(path) as im:  # Pillow decodes it without a word: that is the point
        im.load()


def build_batch(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "batch.toml").write_text(
        '[batch]\nid = "hard-batch"\ninstitution = "测试图书馆"\ninstitution_code = "350000-2001"\n'
        'rights = "http://creativecommons.org/licenses/by/4.0/"\nprofile = "rare-book"\n', "utf-8")
    page(root / GOOD_CENSUS / "0001.jpg", 1)
    page(root / CHINESE_ID / "0001.jpg", 2)
    nfd = unicodedata.normalize("NFD", NFC_ID)
    assert nfd != NFC_ID
    page(root / nfd / "0001.jpg", 3)
    page(root / BROKEN / "0001.jpg", 4)
    corrupt_entropy_data(page(root / BROKEN / "0002.jpg", 5))
    rows = [
        [GOOD_CENSUS, "論語集注\x0b十卷", "（宋）朱熹撰", "清乾隆四十年（1775）刻本",
         "示例\x07數據\x00：鈐\x1b印\ufffe", "", "古籍", "公开"],
        ["", "示例县春耕通知", "示例县人民政府", "1953年铅印本", "示例数据", CHINESE_ID, "地方文献", "公开"],
        ["", "咖啡館文書", "佚名", "1950年油印本", "", NFC_ID, "地方文献", "公开"],
        [BROKEN, "老子道德經二卷", "（春秋）李耳撰", "清光緒二年（1876）刻本", "", "", "古籍", "公开"],
    ]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([HEADER, *rows])
    (root / "records.csv").write_text(buf.getvalue(), "utf-8")
    return root


@pytest.fixture(scope="module")
def hard_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("hard")
    batch = build_batch(base / "batch")
    work, out = base / "work", base / "out"
    r = guji("run", str(batch), "--work", str(work), "--out", str(out), "--json", "-j", "1")
    return r, work, out


def problems(doc: dict, stage: str) -> list[dict]:
    return next(s for s in doc["stages"] if s["stage"] == stage)["problems"]


def test_run_exits_4_with_exactly_one_json_document(hard_run):
    r, _work, _out = hard_run
    doc = json.loads(r.stdout)  # the whole of stdout is one document
    assert r.returncode == 4 and doc["exit_code"] == 4 and doc["exit_name"] == "ITEMS_BLOCKED", r.stderr[-3000:]
    assert [s["stage"] for s in doc["stages"]] == ["ingest", "clean", "ocr", "structure", "metadata", "iiif", "publish"]
    codes = {s["stage"]: s["exit_name"] for s in doc["stages"]}
    assert codes["ingest"] == "ITEMS_BLOCKED" and codes["publish"] == "OK", codes


def test_corrupt_jpeg_is_a_named_finding_and_blocks_only_its_item(hard_run):
    r, work, _out = hard_run
    doc = json.loads(r.stdout)
    bad = [p for p in problems(doc, "ingest") if p["code"] == "corrupt-jpeg-data"]
    assert len(bad) == 1 and bad[0]["path"] == f"{BROKEN}/0002.jpg" and bad[0]["item"] == BROKEN
    assert "extraneous bytes" in bad[0]["message"]
    rep = json.loads((work / "ingest" / "report.json").read_text("utf-8"))
    status = {i["id"]: i["status"] for i in rep["items"]}
    assert status == {GOOD_CENSUS: "ok", CHINESE_ID: "ok", NFC_ID: "ok", BROKEN: "blocked"}


def test_control_characters_are_findings_and_dropped_everywhere(hard_run):
    r, work, out = hard_run
    doc = json.loads(r.stdout)
    found = {(p["row"], p["field"]): p for p in problems(doc, "ingest") if p["code"] == "xml-invalid-char"}
    assert set(found) == {(2, "题名卷数"), (2, "附注")}
    assert found[(2, "附注")]["extra"]["code_points"] == ["U+0007", "U+0000", "U+001B", "U+FFFE"]
    assert "U+0007 (BEL)" in found[(2, "附注")]["message"] and "第 2 行" in found[(2, "附注")]["message"]
    mods = out / uris.mods_path(GOOD_CENSUS)
    tree = etree.parse(str(mods))  # well-formed XML
    text = "".join(tree.getroot().itertext())
    assert "論語集注十卷" in text and "示例數據：鈐印" in text
    manifest = (out / uris.manifest_path(GOOD_CENSUS)).read_text("utf-8")
    for ch in ("\x07", "\x00", "\x0b", "\x1b", "\ufffe", "\\u0007", "\\u0000"):
        assert ch not in manifest and ch not in mods.read_text("utf-8")
    rec = (work / "metadata" / f"{GOOD_CENSUS}.json").read_text("utf-8")
    assert "\\u0007" not in rec and "\x07" not in rec


def test_every_good_item_is_published_and_referenced(hard_run):
    r, work, out = hard_run
    doc = json.loads(r.stdout)
    assert not [p for p in problems(doc, "publish") if p["code"] in ("publish-held-back", "publish-failed")]
    for item in (GOOD_CENSUS, CHINESE_ID, NFC_ID):
        m = json.loads((out / uris.manifest_path(item)).read_text("utf-8"))
        assert m["id"] == uris.manifest_uri("http://127.0.0.1:8000/", item)
        assert " " not in m["id"] and "#" not in m["id"] and "?" not in m["id"]
        # every id under the base URL that names a file is that file in the publication
        canvas = m["items"][0]
        body = canvas["items"][0]["items"][0]["body"]
        for ref in (body["id"], body["service"][0]["id"] + "/info.json", canvas["annotations"][0]["id"]):
            assert (out / uris.path_of(ref, "http://127.0.0.1:8000/")).is_file(), ref
    assert not (out / uris.manifest_path(BROKEN)).exists()
    # the NFD folder became an NFC id, everywhere
    names = {p.name for p in (out / "iiif").iterdir()}
    assert NFC_ID in names and unicodedata.normalize("NFD", NFC_ID) not in names
    coll = json.loads((out / uris.collection_path("batch", "hard-batch")).read_text("utf-8"))
    listed = {uris.path_of(x["id"], "http://127.0.0.1:8000/") for x in coll["items"]}
    assert listed == {uris.manifest_path(i) for i in (GOOD_CENSUS, CHINESE_ID, NFC_ID)}
    assert (out / uris.collection_path("institution", "350000-2001")).is_file()


def test_chinese_and_unsafe_ids_are_searchable(hard_run):
    _r, _work, out = hard_run
    for query, item in (("春耕", CHINESE_ID), ("咖啡館", NFC_ID)):
        s = guji("search", "--out", str(out), "--json", query)
        assert s.returncode == 0, s.stderr
        hits = json.loads(s.stdout)
        assert [i["item_id"] for i in hits["items"]] == [item]


def test_resumed_run_is_a_no_op_with_the_same_exit(hard_run, tmp_path):
    r, work, out = hard_run
    batch = Path(json.loads(r.stdout)["stages"][0]["info"]["report"]).parents[2] / "batch"
    again = guji("run", str(batch), "--work", str(work), "--out", str(out), "--json", "-j", "1")
    doc = json.loads(again.stdout)
    assert again.returncode == 4 and doc["exit_code"] == 4
    pub = next(s for s in doc["stages"] if s["stage"] == "publish")
    assert pub["info"]["uploaded"] == 0 and pub["info"]["held_back"] == 0


# -- census sheets ------------------------------------------------------------------------------

SHEET_T = "普查編號,題名卷數,附注\n350000-2001-0000101,論語集注十卷,清乾隆四十年（1775）刻本\n"


@pytest.mark.parametrize("encoding,name", [("cp950", "Big5"), ("utf-16", "UTF-16")])
def test_big5_and_utf16_sheets_are_read_with_a_note_naming_the_encoding(tmp_path, encoding, name):
    p = tmp_path / "records.csv"
    p.write_bytes(SHEET_T.encode(encoding))
    s = read_sheet(p)
    assert s.rows[0].fields["题名卷数"] == "論語集注十卷"
    assert s.rows[0].fields["附注"] == "清乾隆四十年（1775）刻本"
    (note,) = [x for x in s.problems if x.code == "sheet-encoding"]
    assert note.extra["encoding"] == name and name in note.message


def _leaf(mode: str) -> Image.Image:
    rng = np.random.default_rng(3)
    a = np.full((400, 300, 3), 220, np.uint8)
    for _ in range(60):  # dark strokes on paper: something for the entropy coder to do
        x, y = int(rng.integers(0, 280)), int(rng.integers(0, 380))
        a[y:y + 18, x:x + 4] = 30
    a = np.clip(a.astype(int) + rng.integers(-6, 6, a.shape), 0, 255).astype(np.uint8)
    im = Image.fromarray(a)
    return im.convert("L") if mode == "L" else im


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_jpeg_compressed_tiff_with_damaged_data_is_a_per_file_finding(tmp_path, mode):
    from PIL import TiffImagePlugin

    from guji.ingest.images import inspect_image

    good = tmp_path / "good.tif"
    _leaf(mode).save(good, compression="jpeg", quality=90)
    assert inspect_image(good, 10**9)["problems"] == [] and inspect_image(good, 10**9)["compression"] == "jpeg"
    with Image.open(good) as im:
        offsets, counts = im.tag_v2[TiffImagePlugin.STRIPOFFSETS], im.tag_v2[TiffImagePlugin.STRIPBYTECOUNTS]
    k = len(offsets) // 2  # a strip in the middle: damage inside its entropy-coded data
    data = bytearray(good.read_bytes())
    start = data.index(b"\xff\xda", offsets[k]) + 20
    rng = np.random.default_rng(1)  # never 0xFF (no marker is made); random bytes may decode cleanly by
    for i in range(start, min(start + 60, offsets[k] + counts[k] - 4)):  # chance, this damage does not
        data[i] = int(rng.integers(0, 255))
    bad = tmp_path / "bad.tif"
    bad.write_bytes(bytes(data))
    with Image.open(bad) as im:  # Pillow (libtiff) decodes it without a word: the reason for the check
        im.load()
    (p,) = inspect_image(bad, 10**9)["problems"]
    assert p["severity"] == "error" and p["code"] == "corrupt-jpeg-data"
    assert f"strip {k + 1} of {len(offsets)}" in p["message"] and "libjpeg" in p["message"]


# Japanese and Korean Windows write kanji / hanja titles in these; GB18030 decodes their bytes without an
# error (as garbage), so before they were candidates the sheet was read as GB18030 silently.
SHEET_JK = "題名卷數,附注\n論語集注十卷,乾隆四十年（1775）刻本\n"


@pytest.mark.parametrize("encoding,name", [("cp932", "Shift_JIS"), ("shift_jis", "Shift_JIS"), ("euc_jp", "EUC-JP"),
                                           ("euc_kr", "EUC-KR"), ("cp949", "EUC-KR")])
def test_japanese_and_korean_sheets_are_read_with_a_note_naming_the_encoding(tmp_path, encoding, name):
    p = tmp_path / "records.csv"
    p.write_bytes(SHEET_JK.encode(encoding))
    s = read_sheet(p)
    assert s.rows[0].fields == {"题名卷数": "論語集注十卷", "附注": "乾隆四十年（1775）刻本"}
    (note,) = [x for x in s.problems if x.code == "sheet-encoding"]
    assert note.extra["encoding"] == name and name in note.message and note.path == "records.csv"


def test_bytes_no_encoding_reads_are_errors_naming_the_encodings_tried(tmp_path):
    p = tmp_path / "records.csv"
    p.write_bytes("题名卷数,附注\n论语,".encode() + b"\xff\xfe\xfd\x80\x80\n")
    s = read_sheet(p)
    (err,) = [x for x in s.problems if x.code == "undecodable-bytes"]
    assert err.row == 2 and all(n in err.message for n in ("GB18030", "Big5", "Shift_JIS", "EUC-JP", "EUC-KR"))


def test_gb18030_sheets_stay_silent_even_with_ascii_headers(tmp_path):
    for text in (SHEET_T, "census_no,title\n350000-2001-0000101,论语集注十卷\n",
                 "census_no,title\n350000-2001-0000101,論語集注十卷\n"):
        p = tmp_path / "records.csv"
        p.write_bytes(text.encode("gb18030"))
        s = read_sheet(p)
        assert s.encoding == "gb18030" and not [x for x in s.problems if x.code == "sheet-encoding"]
        assert text.splitlines()[1].split(",")[1] in s.rows[0].fields.values()


def test_xlsx_formula_without_cached_value_is_a_finding(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["普查编号", "题名卷数", "册数"])
    ws.append(["350000-2001-0000101", "論語集注十卷", "=1+1"])  # openpyxl writes no cached value
    wb.save(tmp_path / "records.xlsx")
    s = read_sheet(tmp_path / "records.xlsx")
    (f,) = [x for x in s.problems if x.code == "formula-without-value"]
    assert (f.row, f.field) == (2, "册数")
    assert s.rows[0].fields["题名卷数"] == "論語集注十卷"


# -- --json on error exits ------------------------------------------------------------------------

def _one_doc(r: subprocess.CompletedProcess) -> dict:
    doc = json.loads(r.stdout)
    assert doc["exit_code"] == r.returncode
    return doc


def test_json_document_on_usage_bad_batch_not_ready_and_internal_error(tmp_path):
    r = guji("run", str(tmp_path), "--bogus-option", "--json")
    assert r.returncode == 2 and _one_doc(r)["exit_name"] == "USAGE"
    r = guji("ingest", str(tmp_path / "missing"), "--work", str(tmp_path / "w1"), "--json")
    assert r.returncode == 3 and "missing" in _one_doc(r)["error"]
    r = guji("ingest", str(tmp_path), "--work", str(tmp_path / "w2"), "--json")  # no batch.toml
    assert r.returncode == 3 and "batch.toml" in _one_doc(r)["error"]
    r = guji("status", "--work", str(tmp_path / "nothing"), "--json")
    assert r.returncode == 9 and _one_doc(r)["exit_name"] == "NOT_READY"
    broken = tmp_path / "w3"
    (broken / "ingest").mkdir(parents=True)
    (broken / "ingest" / "batch.json").write_text("{ not json", "utf-8")
    r = guji("clean", "--work", str(broken), "--json", "-j", "1")
    doc = _one_doc(r)
    assert r.returncode == 1 and doc["exit_name"] == "INTERNAL_ERROR" and "JSONDecodeError" in doc["error"]
    assert "Traceback" in r.stderr


# -- tiling killed half-way ---------------------------------------------------------------------

def test_a_tiling_killed_half_way_leaves_no_temp_folder_behind(tmp_path):
    src = tmp_path / "big.jpg"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (3000, 4000, 3), dtype=np.uint8)).save(src, quality=95)
    dest = tmp_path / "iiif" / "images" / "地文 #1%?_1_0001"
    code = ("import sys; from pathlib import Path; from guji.iiif.tiles import make_tiles; "
            "make_tiles(Path(sys.argv[1]), Path(sys.argv[2]), tile_size=64)")
    p = subprocess.Popen([sys.executable, "-c", code, str(src), str(dest)], env={**os.environ, "PYTHONPATH": str(REPO)})
    t0 = time.monotonic()
    temps: list[Path] = []
    while not temps and time.monotonic() - t0 < 120 and p.poll() is None:
        temps = [x for x in dest.parent.glob(".*.tmp") if any(x.rglob("*.jpg"))] if dest.parent.exists() else []
        time.sleep(0.02)
    assert temps and p.poll() is None, "tiling finished before it could be killed"
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert temps[0].is_dir() and not dest.exists()  # what the kill leaves
    from guji.iiif.tiles import make_tiles

    facts = make_tiles(src, dest, tile_size=512)
    assert facts["width"] == 4000 and (dest / "full" / "max" / "0" / "default.jpg").is_file()
    assert [x.name for x in dest.parent.iterdir()] == [dest.name]


# -- the same ids over HTTP: guji serve and a real S3 server ----------------------------------------

def _get(url: str) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def test_served_publication_answers_the_encoded_ids(hard_run):
    from guji.publish.server import start_server

    _r, _work, out = hard_run
    with start_server(out, "127.0.0.1", 0) as srv:
        base = srv.url  # another address than the build's base URL: ids are rewritten to it
        for item in (CHINESE_ID, NFC_ID):
            m = json.loads((out / uris.manifest_path(item)).read_text("utf-8"))
            status, body = _get(m["id"].replace("http://127.0.0.1:8000/", base))
            assert status == 200 and json.loads(body)["id"] == m["id"].replace("http://127.0.0.1:8000/", base)
            svc = m["items"][0]["items"][0]["items"][0]["body"]["service"][0]["id"]
            status, body = _get(svc.replace("http://127.0.0.1:8000/", base) + "/info.json")
            assert status == 200 and json.loads(body)["width"] > 0
            status, _ = _get(uris.content_search_uri(base, item, 2) + "?q=" + uris.encode_path("文"))
            assert status == 200


def test_s3_keys_are_the_plain_paths_and_urls_reach_them(hard_run, tmp_path, monkeypatch):
    with moto_s3(monkeypatch, "books") as (endpoint, client):
        client.put_bucket_policy(Bucket="books", Policy=json.dumps({  # a public bucket, as for a website
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                    "Resource": "arn:aws:s3:::books/*"}]}))
        _r, work, out = hard_run
        r = guji("publish", "--work", str(work), "--target", "s3://books/pub", "--endpoint-url", endpoint,
                 "--addressing-style", "path", "--region", "us-east-1", "--json")
        doc = json.loads(r.stdout)
        assert r.returncode == 0 and doc["exit_code"] == 0, (r.stdout[-2000:], r.stderr[-2000:])
        keys = {o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket="books")
                for o in page.get("Contents", [])}
        for item in (GOOD_CENSUS, CHINESE_ID, NFC_ID):
            key = "pub/" + uris.manifest_path(item)
            assert key in keys  # the key is the plain NFC path …
            status, body = _get(uris.uri(f"{endpoint}/books/pub/", uris.manifest_path(item)))
            assert status == 200 and json.loads(body)["id"] == uris.manifest_uri("http://127.0.0.1:8000/", item)
        assert "pub/" + uris.collection_path("batch", "hard-batch") in keys  # … and nothing was held back
        assert not [k for k in keys if BROKEN in k]
        # the folder publication and the bucket hold the same keys
        local = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and ".guji" not in p.parts}
        assert {k[len("pub/"):] for k in keys} == local


def test_crosswalks_drop_what_xml_cannot_carry_even_past_the_sheet():
    """Corrections (guji metadata apply) or an old batch.json can still carry them: MODS and DC
    are written anyway, without the characters."""
    from guji.metadata import crosswalk
    from guji.metadata.record import normalise, public_view

    fields = {"普查编号": "350000-2001-0000101", "题名卷数": "論語\x00集注十卷", "著者": "（宋）朱熹\x07撰",
              "版本": "清刻本", "附注": "示例\x1b數據\ufffe\ud800"}
    rec, _ = normalise(fields, item="x", row=2, institution_code="350000-2001")
    pub = public_view(rec)
    for xml in (crosswalk.to_mods(pub, institution="館\x0c"), crosswalk.to_dc(pub, institution="館\x0c")):
        text = "".join(etree.fromstring(xml).itertext())
        assert "論語集注十卷" in text and "示例數據" in text and "館" in text
        assert not any(c in text for c in "\x00\x07\x0c\x1b\ufffe\ud800")


# -- one record whose processing raises ---------------------------------------------------------------

def test_a_record_that_makes_a_parser_raise_is_a_finding_and_the_others_go_on(tmp_path):
    """册数 of 5000 digits makes the volumes parser raise (Python refuses int() of over 4300 digits):
    that record becomes an error finding naming row and field, kept without the field; every other
    record is processed as usual."""
    from batchmaker import make_batch

    from guji.metadata.record import normalise

    huge = "9" * 5000
    with pytest.raises(ValueError):  # the parser really raises on it (else this test shows nothing)
        normalise({"普查编号": "350000-2001-0000101", "题名卷数": "論語十卷", "册数": huge}, item="x", row=2)
    header = "普查编号,本地编号,题名卷数,文献类型,访问级别,册数\n"
    batch = make_batch(tmp_path / "batch", items={"350000-2001-0000101": 1, "350000-2001-0000102": 1,
                                                   "350000-2001-0000103": 1})
    (batch / "records.csv").write_text(header + "350000-2001-0000101,,論語十卷,古籍,公开,2\n"
                                       f"350000-2001-0000102,,孟子七卷,古籍,公开,{huge}\n"
                                       "350000-2001-0000103,,大學一卷,古籍,公开,1\n", "utf-8")
    work = tmp_path / "work"
    r = guji("ingest", str(batch), "--work", str(work), "--jobs", "1", "--json")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    r = guji("metadata", "--work", str(work), "--jobs", "1", "--json")
    doc = json.loads(r.stdout)
    assert doc["exit_code"] == r.returncode == 8, r.stderr[-2000:]  # VALIDATION_FAILED: an error finding
    (st,) = [s for s in doc.get("stages", [doc]) if s.get("stage") == "metadata"]
    (f,) = [p for p in st["problems"] if p["code"] == "metadata-record-failed"]
    assert (f["item"], f["row"], f["field"]) == ("350000-2001-0000102", 3, "册数")
    assert "ValueError" in f["message"]
    md = work / "metadata"
    for item in ("350000-2001-0000101", "350000-2001-0000102", "350000-2001-0000103"):
        assert (md / f"{item}.mods.xml").is_file() and (md / f"{item}.public.json").is_file()
    bad = json.loads((md / "350000-2001-0000102.json").read_text("utf-8"))
    assert "孟子" in json.dumps(bad, ensure_ascii=False) and huge not in json.dumps(bad)
    assert any(x["code"] == "metadata-record-failed" for x in bad["findings"])
