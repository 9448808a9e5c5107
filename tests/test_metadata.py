"""Metadata stage: real census rows, broken variants, reign table vs DILA, crosswalks, review, apply."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest

from guji.metadata.record import normalise, public_view
from helpers import SHARED

EXAMPLES = SHARED / "census" / "examples.tsv"
DILA = SHARED / "reference" / "dila" / "dila_time_chinese.sqlite"
XSD = SHARED / "reference" / "xsd"
REPO = Path(__file__).resolve().parents[1]

needs_examples = pytest.mark.skipif(not EXAMPLES.exists(), reason="../shared/census/examples.tsv not available")

# examples.tsv column -> canonical field
COLS = {"索书号": "索书号", "题名卷数": "题名卷数", "著者": "著者", "版本": "版本", "批校题跋": "批校题跋", "版式": "版式",
        "版框尺寸_开本": "尺寸", "装帧": "装帧", "册数": "册数", "存卷": "存卷", "钤印": "钤印"}


def _examples() -> list[dict]:
    with EXAMPLES.open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _fields(ex: dict) -> dict[str, str]:
    f = {canon: ex[col] for col, canon in COLS.items() if ex.get(col)}
    if ex["record_kind"].startswith("census") and ex["id_普查编号_or_名录号"].count("-") == 2:
        f["普查编号"] = ex["id_普查编号_or_名录号"]
    else:
        f["本地编号"] = "名录" + (ex["id_普查编号_or_名录号"] or ex["row"])
    # row 3 quotes the source's abbreviation after the value: keep only the value itself
    if " (source" in f.get("版本", ""):
        f["版本"] = f["版本"].split(" (source")[0]
    return f


@needs_examples
def test_every_example_record_parses_without_errors():
    rows = _examples()
    records = [r for r in rows if not r["record_kind"].startswith("unit_code_list")]
    assert len(records) == 12  # row 13 is a list of holding-unit codes, not a record
    for ex in records:
        inst = f"{ex['province_code']}-{ex['unit_code']}" if ex["record_kind"].startswith("census") and ex["unit_code"] else None
        rec, probs = normalise(_fields(ex), item=f"ex{ex['row']}", row=int(ex["row"]) + 1, institution_code=inst)
        errors = [str(p) for p in probs if p.severity == "error"]
        assert errors == [], (ex["row"], errors)
    # spot checks of parsed values on real rows
    by = {r["row"]: r for r in rows}
    rec, _ = normalise(_fields(by["1"]), item="a", row=2, institution_code="110000-0101")
    assert rec["edition"]["year"] == 1551 and rec["edition"]["category"] == "活字本" and rec["edition"]["publisher"] == "芝城"
    assert rec["extant"]["juan"] == [16, 17, 18, 19] and rec["title"]["juan_unknown"]
    rec, _ = normalise(_fields(by["2"]), item="b", row=3)
    assert [(p["name"], p["role"]) for p in rec["authors"]] == [("王懋德", "纂修"), ("陸鳳儀", "纂修")]
    assert rec["edition"]["year_range"] == [1573, 1620] and rec["title"]["prefix"] == "萬曆"
    assert rec["volumes"] == {"count": 18, "unit": "册", "note": None}
    rec, _ = normalise(_fields(by["6"]), item="c", row=7)
    assert rec["edition"]["year"] == 1181 and rec["edition"]["publisher"] == "陳應行泉州州學"
    assert [w["juan"] for w in rec["title"]["works"]] == [2, 1, 2]
    assert rec["layout"]["lines"] == 12 and rec["layout"]["chars"] == 22 and rec["layout"]["border"] == "左右雙邊"
    assert rec["size"]["frame_cm"] == [13.6, 19.6]
    assert rec["seals"][:2] == ["郁印松年", "田耕堂藏"] and len(rec["seals"]) == 5
    rec, _ = normalise(_fields(by["9"]), item="d", row=10)
    assert rec["layout"]["small_double"] and rec["layout"]["mouth"] == "細黑口"
    assert [p["scope"] for p in rec["authors"]][-1] == "年譜"
    rec, _ = normalise(_fields(by["8"]), item="e", row=9)
    assert rec["size"]["page_cm"] == [20.4, 28.0] and rec["edition"]["category"] == "抄本"


@needs_examples
@pytest.mark.parametrize("field,bad,code", [
    ("版本", "明嘉靖三十年（1555）芝城銅活字印本", "year-mismatch"),
    ("版本", "明嘉靖三十年（1552）芝城銅活字印本", "year-bracket-off-by-one"),
    ("版本", "清乾隆四十年（1778）刻本", "year-mismatch"),
    ("版本", "明萬曆六十年刻本", "era-year-out-of-range"),
    ("版本", "明弘治十九年（1506）刻本", "era-year-beyond-end"),
    ("普查编号", "110000-0101-001379", "census-no-format"),
    ("普查编号", "990000-0101-0013797", "census-no-province"),
    ("普查编号", "110000-0202-0013797", "census-no-unit"),
    ("存卷", "存四卷（十六至十九）", "extant-exceeds-total"),
    ("存卷", "存五卷（一至四）", "extant-count-mismatch"),
    ("尺寸", "匡高29厘米，廣23厘米；開本高28厘米，廣20.4厘米", "frame-larger-than-page"),
    ("定级", "六級", "grade-invalid"),
    ("破损级别", "嚴重", "damage-invalid"),
])
def test_broken_variants_give_the_right_finding(field, bad, code):
    ex = {r["row"]: r for r in _examples()}["1"]
    fields = _fields(ex)
    fields["题名卷数"] = "通書類聚尅擇大全十卷"  # 10 juan: 存四卷（十六至十九） is then impossible
    fields["存卷"] = "存四卷（一至四）"
    fields[field] = bad
    rec, probs = normalise(fields, item="x", row=2, institution_code="110000-0101")
    hits = [p for p in probs if p.code == code]
    assert hits, [str(p) for p in probs]
    assert hits[0].row == 2 and hits[0].field == field
    # no false errors elsewhere: every error is about the broken field
    assert all(p.field == field or p.severity != "error" for p in probs), [str(p) for p in probs]


def test_trailing_role_and_era_lookup():
    from guji.metadata.parsers import parse_authors, parse_edition

    ps, _ = parse_authors("（明）甲乙 丙丁（清）戊己輯 庚辛注")
    assert [(p["name"], p["role"]) for p in ps] == [("甲乙", "輯"), ("丙丁", "輯"), ("戊己", "輯"), ("庚辛", "注")]
    ed, f = parse_edition("元天順元年刻本")  # 元 天順 (1328), not the Ming era of the same name
    assert ed["year"] == 1328 and not f
    ed, f = parse_edition("明天順元年刻本")
    assert ed["year"] == 1457
    ed, _ = parse_edition("清乾隆至嘉慶間刻本")
    assert ed["year_range"] == [1736, 1820]
    ed, _ = parse_edition("民國二十年（1931）上海商務印書館石印本")
    assert ed["year"] == 1931 and ed["publisher"] == "上海商務印書館" and ed["category"] == "石印本"
    ed, _ = parse_edition("清洪武三十五年刻本")  # dynasty and era disagree: no era is taken
    assert ed["era"] is None
    ed, _ = parse_edition("明洪武三十五年刻本")  # 洪武 counted to 35 (1402)
    assert ed["year"] == 1402


def test_duplicate_census_number_and_corrections_in_stage(tmp_path):
    from guji.metadata import stage as mstage
    from guji.metadata.review import apply_corrections
    from guji.model import Batch, Item, Volume
    from guji.stage import StageContext
    from guji.state import StateStore

    work = tmp_path / "w"
    base = {"普查编号": "350000-2001-0000001", "题名卷数": "論語十卷", "著者": "（宋）朱熹撰",
            "版本": "清乾隆四十年（1775）刻本", "版式": "半葉八行，行十六字", "册数": "2册", "存卷": "存三卷（一至三）",
            "尺寸": "匡高19.6厘米，廣11.9厘米", "定级": "三級乙等", "破损级别": "二級",
            "附注": "卷三缺末葉；內部：待修復，勿外借", "访问级别": "公开"}
    other = dict(base, 题名卷数="孟子七卷", 存卷="")
    b = Batch(id="t", root=str(tmp_path), config={"batch": {"institution_code": "350000-2001", "institution": "示例館",
                                                            "rights": "http://rightsstatements.org/vocab/InC/1.0/"}},
              items=[Item(id="A", folder="A", record=base, record_row=2,
                          volumes=[Volume(id="A/v1", item_id="A", label="v1", seq=1)]),
                     Item(id="B", folder="B", record=other, record_row=3)])
    (work / "ingest").mkdir(parents=True)
    (work / "ingest" / "batch.json").write_text(json.dumps(b.to_dict(), ensure_ascii=False), "utf-8")
    # hand-written OCR page JSON in the documented format
    (work / "ocr" / "A").mkdir(parents=True)
    page = {"canvas": "A/v1/0001", "item": "A", "layout_facts": {"columns_per_half_leaf": 10, "chars_per_column": 16,
                                                                  "frame_px": [1200, 1960], "frame_cm": [12.0, 19.5]},
            "centre_column": {"juan": "卷五"}}
    (work / "ocr" / "A" / "0001.json").write_text(json.dumps(page, ensure_ascii=False), "utf-8")

    def run():
        store = StateStore(work)
        try:
            return mstage.run(StageContext(work=work, store=store))
        finally:
            store.close()

    res = run()
    codes = {(p.item, p.code) for p in res.problems}
    assert ("B", "census-no-duplicate") in codes
    assert ("A", "volumes-vs-scanned") in codes  # 2册 but one volume folder
    assert ("A", "layout-vs-measured") in codes  # 8 lines vs 10 measured
    assert ("A", "extant-vs-detected") in codes  # juan 5 seen, 存卷 一至三
    assert ("A", "frame-vs-measured") not in codes  # 19.6×11.9 vs 19.5×12.0
    md = work / "metadata"
    rec = json.loads((md / "A.json").read_text("utf-8"))
    assert rec["edition"]["year"] == 1775 and rec["notes"]["internal"] == ["待修復，勿外借"]
    pub = json.loads((md / "A.public.json").read_text("utf-8"))
    assert pub["iiif"]["navDate"] == "1775-01-01T00:00:00+08:00"
    assert list(pub["iiif"]["label"]) == ["zh-Hant", "zh-Hans"] and pub["iiif"]["label"]["zh-Hans"] == ["论语十卷"]
    # nothing restricted in any public output
    for name in ("A.public.json", "A.mods.xml", "A.dc.xml", "B.public.json", "B.mods.xml", "B.dc.xml"):
        text = (md / name).read_text("utf-8")
        for secret in ("三級乙等", "二級", "待修復", "定级", "破损级别", "破損"):
            assert secret not in text, (name, secret)
    assert "卷三缺末葉" in (md / "A.dc.xml").read_text("utf-8")  # public note kept
    html = (md / "review.html").read_text("utf-8")
    assert "census-no-duplicate" in html and "sortBy" in html and "filt()" in html
    # resumable: same inputs -> skipped, same bytes
    before = (md / "A.json").read_bytes()
    res2 = run()
    assert res2.skipped == 2 and res2.done == 0 and (md / "A.json").read_bytes() == before
    # corrections: fix B's census number through the review CSV
    rows = list(csv.DictReader((md / "review.csv").read_text("utf-8-sig").splitlines()))
    for r in rows:
        if r["item"] == "B" and r["rule"] == "census-no-duplicate":
            r["corrected_value"], r["reviewer"] = "350000-2001-0000002", "李審"
    fixed = tmp_path / "fixed.csv"
    with fixed.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    done, probs = apply_corrections(fixed, work, who="tester")
    assert probs == [] and len(done) == 1
    log = [json.loads(x) for x in (md / "corrections.jsonl").read_text("utf-8").splitlines()]
    assert log[0]["who"] == "李審" and log[0]["old"] == "350000-2001-0000001" and log[0]["when"]
    res3 = run()
    assert res3.done == 2 and ("B", "census-no-duplicate") not in {(p.item, p.code) for p in res3.problems}
    recb = json.loads((md / "B.json").read_text("utf-8"))
    assert recb["census_no"]["value"] == "350000-2001-0000002"
    assert mstage.status(StageContext(work=work, store=StateStore(work)))["records"] == 2


def _mods_schema():
    spec = importlib.util.spec_from_file_location("offline_schemas", XSD / "offline_schemas.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.skipif(not (XSD / "offline_schemas.py").exists(), reason="../shared/reference/xsd not available")
@needs_examples
def test_mods_and_dc_validate_against_xsd():
    from lxml import etree

    from guji.metadata.crosswalk import iiif_block, to_dc, to_mods

    schemas = _mods_schema()
    mods, oaidc = schemas.load("mods-3.8"), schemas.load("oai_dc")
    for ex in _examples()[:12]:
        rec, _ = normalise(_fields(ex), item=f"ex{ex['row']}", row=int(ex["row"]) + 1)
        pub = public_view(rec)
        doc = etree.fromstring(to_mods(pub, rights="http://rightsstatements.org/vocab/InC/1.0/", institution="國家圖書館"))
        assert mods.validate(doc), (ex["row"], [e.message for e in mods.error_log][:3])
        dc = etree.fromstring(to_dc(pub, institution="國家圖書館"))
        assert oaidc.validate(dc), (ex["row"], [e.message for e in oaidc.error_log][:3])
        block = iiif_block(pub)
        for pair in block["metadata"]:
            assert list(pair["label"])[:2] == ["zh-Hant", "zh-Hans"]


@pytest.mark.skipif(not DILA.exists(), reason="../shared/reference/dila not available")
def test_reign_table_agrees_with_dila():
    spec = importlib.util.spec_from_file_location("reign_agreement", REPO / "bench" / "reign_agreement.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    r = mod.compare(DILA)
    print(f"reign table: {r['exact']}/{r['kept']} kept eras identical, {len(r['deliberate'])} deliberate")
    assert r["exact"] == r["kept"], r["disagreements"]
    assert r["dila_not_in_table"] == []
    assert all(d["note"] for d in r["deliberate"])
    # every dynasty the issue names is in the table
    for dyn in ("西漢", "東漢", "遼", "金", "西夏", "後唐", "吳越", "武周", "南明", "太平天國", "民國", "清"):
        assert dyn in r["dynasties"], dyn
    # the committed table is exactly what the generator makes from DILA (no hand edits)
    spec = importlib.util.spec_from_file_location("build_eras", REPO / "scripts" / "build_eras.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    table = (REPO / "guji" / "metadata" / "data" / "reign_eras.tsv").read_text("utf-8")
    assert gen.render(DILA) == table, "reign_eras.tsv differs from scripts/build_eras.py's output: run it again"


def test_demo_batch_rows_parse_cleanly():
    from guji.metadata.cli import records_from_batch_folder

    batch = REPO / "samples" / "demo-batch"
    if not (batch / "records.csv").exists():
        pytest.skip("samples/demo-batch/records.csv not generated yet")
    _bid, records, problems = records_from_batch_folder(batch)
    assert records
    assert [str(p) for p in problems if p.severity == "error"] == []


def test_internal_note_after_a_sentence_end_stays_internal():
    """附注 written as sentences ("…。內部：…") must not publish the internal part."""
    from guji.metadata.parsers import parse_notes

    notes, _ = parse_notes("書衣有蟲蛀。內部：待修復，勿外借")
    assert notes == {"public": ["書衣有蟲蛀。"], "internal": ["待修復，勿外借"]}
    notes, _ = parse_notes("前有序，[内部] 估價五萬元")
    assert notes == {"public": ["前有序，"], "internal": ["估價五萬元"]}
    assert parse_notes("卷內部分缺葉")[0] == {"public": ["卷內部分缺葉"], "internal": []}
