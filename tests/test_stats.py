"""`guji stats`: counts by institution, dynasty, edition type, classification, grade (counts only)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

from click.testing import CliRunner

from guji.cli import main
from publishwork import ITEMS, make_work


def published(tmp_path):
    work = make_work(tmp_path)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["publish", "--work", str(work), "--out", str(out), "-j", "1", "-q"])
    assert r.exit_code == 0, r.output
    return work, out


def stats(out, *args):
    r = CliRunner().invoke(main, ["stats", "--out", str(out), *args])
    assert r.exit_code == 0, r.output
    return r.stdout


def test_stats_json_counts(tmp_path):
    work, out = published(tmp_path)
    s = json.loads(stats(out, "--json"))
    public = {k: v for k, v in ITEMS.items() if v[0] == "public"}
    n_chars = sum(len(col) for _, _, pages in public.values() for page in pages for col in page)
    assert s["totals"] == {"books": 2, "volumes": 2, "pages": 3, "characters": n_chars}
    assert s["by"]["classification"] == {
        "史": {"books": 1, "volumes": 1, "pages": 2, "characters": sum(len(c) for p in public["110000-0101-0010283"][2] for c in p)},
        "子": {"books": 1, "volumes": 1, "pages": 1, "characters": sum(len(c) for p in public["DF-0001"][2] for c in p)}}
    assert set(s["by"]["dynasty"]) == {"明", "清"}
    assert s["by"]["edition_type"]["刻本"]["books"] == 2
    assert s["by"]["institution"]["示例市图书馆"]["books"] == 2
    # grade: counts only, public items only (the restricted item's 一级 is not counted)
    assert s["grade"]["books"] == {"二级": 1, "三级": 1}
    assert "一级" not in json.dumps(s, ensure_ascii=False)


def test_grade_never_per_record(tmp_path):
    work, out = published(tmp_path)
    r = CliRunner().invoke(main, ["search", "--out", str(out), "--json", "year:1500-1800"])
    assert "二级" not in r.stdout and "grade" not in r.stdout
    import sqlite3

    db = sqlite3.connect(out / "search" / "index.sqlite")
    cols = [r[1] for r in db.execute("PRAGMA table_info(items)")]
    assert "grade" not in cols


def test_stats_csv_table_svg(tmp_path):
    work, out = published(tmp_path)
    rows = list(csv.DictReader(io.StringIO(stats(out, "--format", "csv"))))
    assert rows[0]["dimension"] == "total" and rows[0]["books"] == "2"
    assert {(r["dimension"], r["value"]) for r in rows} >= {("dynasty", "明"), ("classification", "子"), ("grade", "二级")}
    table = stats(out)
    assert "by institution" in table and "示例市图书馆" in table
    svg = stats(out, "--format", "svg")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and len(root.findall(".//{http://www.w3.org/2000/svg}rect")) >= 6
    assert (out / "stats" / "stats.svg").read_text("utf-8") == svg  # the chart in the catalogue page
    assert "stats/index.html" in (out / "index.html").read_text("utf-8")  # the catalogue links the statistics page
    page = (out / "stats" / "index.html").read_text("utf-8")
    assert "stats.svg" in page and "合计" in page and "经部" not in page  # 史/子 only here, shown as 史部, 子部
    assert "史部" in page and "子部" in page and ">史<" not in page  # codes shown with human labels
    assert "合计" in svg and "史部" in svg  # the chart has its totals and readable labels
    # the same from the work folder's index
    r = CliRunner().invoke(main, ["stats", "--work", str(work), "--json"])
    assert json.loads(r.stdout)["totals"]["books"] == 2
