"""Census sheet reading: encodings, xlsx, header variants, row numbers, problems."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from guji.errors import BadBatch
from guji.metadata.sheet import CANONICAL_FIELDS, canonical_field, read_sheet

HEADERS = ["普查編號", "題名卷數", "責任者", "版本年代", "行款", "版框尺寸", "鈐印", "破損定級", "備註", "館藏號", "其他"]
ROWS = [
    ["350000-2001-0000001", "論語集注十卷", "（宋）朱熹撰", "明萬曆三十年（1602）刻本", "半葉九行，行十八字",
     "匡高20.1厘米，廣14.2厘米", "有“天一閣”印", "二級", "內部：待修", "", "x"],
    ["", "", "", "", "", "", "", "", "", "", ""],
    ["350000-2001-0000002", "孟子", "", "清刻本", "", "", "", "", "", "LOC-2", ""],
]


def _csv_text(rows, delim=","):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim, lineterminator="\n")
    w.writerow(HEADERS)
    w.writerows(rows)
    return buf.getvalue()


def _write_all(tmp: Path) -> dict[str, Path]:
    import openpyxl

    text = _csv_text(ROWS)
    paths = {
        "gb18030": tmp / "gb.csv",
        "utf-8-sig": tmp / "bom.csv",
        "utf-8": tmp / "plain.tsv",
        "xlsx": tmp / "r.xlsx",
    }
    paths["gb18030"].write_bytes(text.encode("gb18030"))
    paths["utf-8-sig"].write_bytes(text.encode("utf-8-sig"))
    paths["utf-8"].write_bytes(_csv_text(ROWS, "\t").encode("utf-8"))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for r in ROWS:
        ws.append([c or None for c in r])
    wb.save(paths["xlsx"])
    return paths


def test_encodings_and_xlsx_import_identically(tmp_path):
    paths = _write_all(tmp_path)
    sheets = {k: read_sheet(p) for k, p in paths.items()}
    assert sheets["gb18030"].encoding == "gb18030"
    assert sheets["utf-8-sig"].encoding == "utf-8-sig"
    assert sheets["utf-8"].encoding == "utf-8"
    assert sheets["xlsx"].encoding is None
    ref = sheets["utf-8-sig"]
    assert [r.row for r in ref.rows] == [2, 4]  # the empty row 3 is skipped, numbers kept
    for k, s in sheets.items():
        assert s.headers == HEADERS, k
        assert [(r.row, r.fields, r.original) for r in s.rows] == [(r.row, r.fields, r.original) for r in ref.rows], k
        assert s.problems == [], k
    f = ref.rows[0].fields
    assert f["普查编号"] == "350000-2001-0000001"
    assert f["题名卷数"] == "論語集注十卷"  # original characters kept
    assert f["著者"] == "（宋）朱熹撰" and f["版本"].startswith("明萬曆")
    assert f["版式"] and f["尺寸"] and f["钤印"] and f["破损级别"] == "二級" and f["附注"]
    assert ref.rows[1].fields["本地编号"] == "LOC-2"
    assert ref.unknown_headers == ["其他"]
    assert ref.rows[0].original["其他"] == "x"


@pytest.mark.parametrize("header,canon", [
    ("普查編號", "普查编号"), ("普查编号", "普查编号"), ("題名", "题名卷数"), ("题名（卷数）", "题名卷数"),
    ("著 者", "著者"), ("責任者", "著者"), ("版本年代", "版本"), ("行款", "版式"), ("開本", "尺寸"),
    ("印章", "钤印"), ("定級", "定级"), ("破損級別", "破损级别"), ("附註", "附注"), ("本地編號", "本地编号"),
    ("文獻類型", "文献类型"), ("開放級別", "访问级别"), ("裝幀", "装帧"), ("冊數", "册数"), ("索書號", "索书号"),
])
def test_header_variants(header, canon):
    assert canonical_field(header) == canon


def test_every_canonical_field_maps_to_itself():
    for f in CANONICAL_FIELDS:
        assert canonical_field(f) == f


def test_duplicate_header_and_value_without_header(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("题名,題名,版本\n甲,乙,明刻本,stray\n", "utf-8")
    s = read_sheet(p)
    codes = [(x.code, x.row) for x in s.problems]
    assert ("duplicate-header", 1) in codes
    assert ("value-without-header", 2) in codes
    assert s.rows[0].fields["题名卷数"] == "甲"


def test_undecodable_bytes_named_by_row(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_bytes("题名,版本\n甲,明刻本\n".encode("utf-8") + b"\xff\xff\xff,x\n")
    s = read_sheet(p)
    bad = [x for x in s.problems if x.code == "undecodable-bytes"]
    assert bad and bad[0].row == 3
    assert s.rows[0].fields["题名卷数"] == "甲"


def test_empty_sheet_and_unreadable(tmp_path):
    e = tmp_path / "e.csv"
    e.write_text("", "utf-8")
    assert [x.code for x in read_sheet(e).problems] == ["empty-sheet"]
    h = tmp_path / "h.csv"
    h.write_text("题名,版本\n", "utf-8")
    assert read_sheet(h).rows == [] and read_sheet(h).problems[0].code == "empty-sheet"
    with pytest.raises(BadBatch, match="not found"):
        read_sheet(tmp_path / "missing.csv")
    x = tmp_path / "broken.xlsx"
    x.write_bytes(b"not a zip")
    with pytest.raises(BadBatch, match="broken.xlsx"):
        read_sheet(x)
