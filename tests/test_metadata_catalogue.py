"""Printed-catalogue entries → census fields: the 2,162 real 名录 entries of ../shared/census/minglu-dev.tsv
(authoritative: no error may be reported on them), the splitter on tricky entries, the CLI."""

from __future__ import annotations

import csv
import json
from collections import Counter

from helpers import run_guji, shared_path

from guji.metadata.catalogue import split_entry
from guji.metadata.record import normalise

# warnings the 名录 may draw, each where the entry really lacks something or is unusual (README lists them)
ALLOWED_WARNINGS = {"author-no-dynasty", "author-no-role", "edition-undated", "era-year-beyond-end",
                    "extant-count-mismatch", "extant-exceeds-total", "year-bracket-off-by-one", "era-ambiguous",
                    "author-after-edition"}


def _minglu() -> list[dict]:
    p = shared_path("census", "minglu-dev.tsv")
    with p.open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_minglu_entries_draw_no_error():
    rows = _minglu()
    assert len(rows) > 2000
    counts: Counter = Counter()
    errors = []
    no_edition = 0
    for r in rows:
        e = split_entry(r["图录版名录内容"])
        if "版本" not in e.fields:
            no_edition += 1
        fields = {k: v for k, v in e.fields.items()}
        fields["本地编号"] = r["名录ID"]
        rec, probs = normalise(fields, item=r["名录ID"], row=2)
        for p in list(e.problems) + probs:
            counts[(p.severity, p.code)] += 1
            if p.severity == "error":
                errors.append((r["名录ID"], p.code, p.message))
        assert rec["title"] and rec["edition"], r["名录ID"]
    print(sorted(counts.items()))
    assert errors == []
    assert no_edition == 0
    assert {c for (_s, c) in counts} <= ALLOWED_WARNINGS
    assert sum(counts.values()) < 0.02 * len(rows)  # warnings where the entry lacks something, not noise


def test_minglu_split_fields_and_institution():
    rows = _minglu()
    same = sum(split_entry(r["图录版名录内容"]).fields.get("收藏单位") == r["馆名(institution.json)"] for r in rows)
    # the joined 馆名 is the unit's present name (山東博物館 for 山東省博物館): most agree verbatim
    assert same > 0.85 * len(rows)


def test_split_entry_forms():
    e = split_entry("程朱二先生周易傳義十卷　（宋）程頤　朱熹撰　上下篇義一卷　（宋）程頤撰　"
                    "元後至元二年（1336）建安碧灣書堂刻本　國家圖書館")
    assert e.fields["题名卷数"] == "程朱二先生周易傳義十卷　上下篇義一卷"
    assert e.fields["著者"] == "（宋）程頤　朱熹撰；上下篇義一卷：（宋）程頤撰"
    assert e.fields["版本"] == "元後至元二年（1336）建安碧灣書堂刻本" and e.fields["收藏单位"] == "國家圖書館"
    e = split_entry("玉照新志五卷　（宋）王明清撰　明萬曆十四年（1586）秦四麟抄本（卷三至五配明抄本）　秦四麟　孫江　"
                    "黃丕烈跋　國家圖書館")
    assert e.fields["批校题跋"] == "秦四麟、孫江、黃丕烈跋"
    e = split_entry("文選六十卷　（梁）蕭統輯　（唐）李善　呂延濟　劉良　張銑　呂向　李周翰注　宋刻本　某大學圖書館　"
                    "存二卷（一至二）")
    assert "题名卷数" in e.fields and e.fields["题名卷数"] == "文選六十卷" and e.fields["存卷"] == "存二卷（一至二）"
    rec, probs = normalise({**e.fields, "本地编号": "x"}, item="x", row=2)
    assert [p["role"] for p in rec["authors"]] == ["輯", "注", "注", "注", "注", "注", "注"] and not probs
    e = split_entry("洪鈞日記不分卷（清同治九年九月十六日至同治十年九月二十九日　光緒二年十一月初四至光緒四年九月二十二日）"
                    "　（清）洪鈞撰　稿本　蘇州博物館")
    assert e.fields["题名卷数"].startswith("洪鈞日記不分卷（") and e.fields["版本"] == "稿本"
    assert split_entry("某書十卷　（清）某甲撰　蘇州博物館").problems[0].code == "catalogue-no-edition"


def test_import_catalogue_cli(tmp_path):
    rows = _minglu()[:30]
    src = tmp_path / "minglu.txt"
    src.write_text("\n".join(r["图录版名录内容"] for r in rows) + "\n", "utf-8")
    out = tmp_path / "census.csv"
    res = run_guji("metadata", "import-catalogue", str(src), str(out))
    assert res.returncode == 0, res.stderr
    with out.open(encoding="utf-8-sig") as f:
        sheet = list(csv.DictReader(f))
    assert len(sheet) == 30 and sheet[0]["题名卷数"] and sheet[0]["版本"] and sheet[0]["收藏单位"]
    # the census sheet it writes is read back by guji's own sheet reader
    from guji.metadata.sheet import read_sheet

    back = read_sheet(out)
    assert [r.fields["版本"] for r in back.rows] == [r["版本"] for r in sheet]
    # a sheet with an id column and a column of entries, written as .xlsx
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["名录ID", "名录内容"])
    for r in rows[:5]:
        wb.active.append([r["名录ID"], r["图录版名录内容"]])
    wb.save(tmp_path / "list.xlsx")
    res = run_guji("metadata", "import-catalogue", str(tmp_path / "list.xlsx"), str(tmp_path / "c.xlsx"), "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert [e["fields"]["本地编号"] for e in doc["entries"]] == [r["名录ID"] for r in rows[:5]]
    assert read_sheet(tmp_path / "c.xlsx").rows[0].fields["本地编号"] == rows[0]["名录ID"]
    bad = tmp_path / "bad.txt"
    bad.write_text("某書十卷　（明）某甲撰　刻本　某館\n某書十卷　（清）紀昀撰　宋刻本　某館\n", "utf-8")
    res = run_guji("metadata", "import-catalogue", str(bad), str(tmp_path / "b.xlsx"), "--json")
    assert res.returncode != 0
    doc = json.loads(res.stdout)
    err = [f for f in doc["findings"] if f["severity"] == "error"]
    assert err and err[0]["code"] == "author-after-edition" and err[0]["row"] == 2 and err[0]["path"] == "bad.txt"
