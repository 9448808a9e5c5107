"""Reviewer checks, one test each, on real-looking census records (a good one and a bad one),
plus edition layers, the typed record (round trip, schema) and the era table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guji.metadata.record import normalise, public_view

REPO = Path(__file__).resolve().parents[1]

BASE = {  # a real-looking census row (国家图书馆 style)
    "普查编号": "110000-0101-0013797", "题名卷数": "鐵崖文集五卷", "著者": "（元）楊維楨撰",
    "版本": "明弘治十四年（1501）馮允中刻本", "版式": "半葉十行，行二十字，白口，四周雙邊",
    "册数": "2册", "存卷": "存五卷（一至五）",
}


def findings(**changes):
    fields = dict(BASE)
    fields.update(changes)
    rec, probs = normalise(fields, item="t", row=2, institution_code="110000-0101")
    return rec, {(p.code, p.severity, p.field) for p in probs}, probs


def codes(**changes):
    return {c for c, _s, _f in findings(**changes)[1]}


def test_good_record_has_no_finding():
    rec, found, _ = findings()
    assert found == set()
    assert rec["edition"]["year"] == 1501 and rec["facets"]["dynasty"] == "明"


# -- 著者: every person has 时代 and 著作方式 ---------------------------------------------------------

def test_author_without_dynasty_or_role():
    assert codes(著者="（宋）程頤　朱熹撰") == set()  # 朱熹 inherits （宋） and 撰
    _r, found, probs = findings(著者="楊維楨撰")
    assert ("author-no-dynasty", "warning", "著者") in found
    _r, found, _ = findings(著者="（元）楊維楨")
    assert ("author-no-role", "warning", "著者") in found
    msg = next(p for p in probs if p.code == "author-no-dynasty")
    assert "时代" in msg.message and "dynasty" in msg.extra["message_en"]  # Chinese message, English in JSON
    assert codes(著者="（宋）佚名輯") == set()


def test_author_dynasty_later_than_edition():
    assert "author-after-edition" not in codes(著者="（明）陳桱撰", 版本="元至正二十一年（1361）顧逖刻明修本")  # 元末明初
    _r, found, _ = findings(著者="（清）丁雄飛撰", 版本="明嘉靖刻本")  # 清 from 1616, 嘉靖 to 1566
    assert ("author-after-edition", "warning", "著者") in found
    _r, found, _ = findings(著者="（清）紀昀撰", 版本="宋刻本")
    assert ("author-after-edition", "error", "著者") in found
    assert codes(著者="（英國）胡威立撰", 版本="明刻本") == set()  # foreign labels are not dated
    # （宋） may be 劉宋: a 北魏 manuscript of 范曄 is no impossibility
    assert "author-after-edition" not in codes(著者="（宋）范曄撰", 版本="北魏寫本")


# -- 版式: plausible numbers -------------------------------------------------------------------------

def test_layout_plausibility():
    assert "layout-implausible" not in codes(版式="半葉九行，行十八字，小字雙行同，黑口，四周雙邊")
    _r, found, _ = findings(版式="半葉九十行，行十八字")  # 九十行: a typo for 九行
    assert ("layout-implausible", "error", "版式") in found
    _r, found, _ = findings(版式="半葉三行，行六字")  # rare (large-character) but attested
    assert ("layout-implausible", "warning", "版式") in found
    assert ("layout-implausible", "error", "版式") in findings(版式="半葉十行，行八十字")[1]


# -- 版本: census scope, eras, layers ----------------------------------------------------------------

def test_census_scope_before_1912():
    assert "census-scope" not in codes(版本="清宣統三年（1911）石印本")
    _r, found, _ = findings(版本="民國十年（1921）上海商務印書館鉛印本")
    assert ("census-scope", "warning", "版本") in found
    assert "census-scope" not in codes(版本="清末民初石印本")  # straddles 1912: no finding
    assert "census-scope" not in codes(版本="民國十年（1921）鉛印本", 文献类型="地方文献")  # local documents are


def test_era_year_beyond_the_end_is_a_warning_with_the_reason():
    rec, found, probs = findings(版本="明弘治十九年（1506）刻本")
    assert ("era-year-beyond-end", "warning", "版本") in found and rec["edition"]["year"] == 1506
    assert "1506" in next(p.message for p in probs if p.code == "era-year-beyond-end")
    assert ("era-year-out-of-range", "error", "版本") in findings(版本="明弘治四十年刻本")[1]
    assert ("year-mismatch", "error", "版本") in findings(版本="明弘治十四年（1510）刻本")[1]


def test_compound_edition_dates_each_layer_by_its_own_dynasty():
    rec, found, _ = findings(版本="元刻明正德十年（1515）司禮監嘉靖南京國子監遞修本")
    assert found == set()  # was "（1515） lies outside 元"
    ed = rec["edition"]
    assert [L["role"] for L in ed["layers"]] == ["base", "recut"]
    assert ed["dynasty"] == "元" and ed["year"] is None and ed["year_range"][1] == 1368  # the base edition's
    recut = ed["layers"][1]["events"]
    assert [(e["era"], e["year"], e["agent"]) for e in recut] == [("正德", 1515, "司禮監"), ("嘉靖", None, "南京國子監")]
    assert ed["edition_type"] == "遞修本" and ed["category"] == "刻本"
    rec, found, _ = findings(版本="宋淳祐十二年（1252）魏克愚徽州紫陽書院刻元至元二十五年（1288）吳夢炎重修本"
                                "（卷六至十、二十四至二十六配清抄本）")
    assert found == set() and rec["edition"]["year"] == 1252 and rec["facets"]["year"] == 1252
    sup = rec["edition"]["layers"][2]
    assert sup["role"] == "supplement" and sup["scope"] == "卷六至十、二十四至二十六"
    assert sup["events"][0]["dynasty"] == "清"
    # a re-cut dated before its base edition is impossible
    assert ("edition-layer-order", "error", "版本") in findings(版本="明萬曆刻元至正重修本")[1]
    # a bracketed year against the wrong layer is still caught
    assert ("year-mismatch", "error", "版本") in findings(版本="元刻明正德十年（1525）司禮監遞修本")[1]


def test_copies_of_an_older_edition_take_the_copy_date():
    rec, found, _ = findings(版本="清影宋抄本")
    ed = rec["edition"]
    assert found == set() and ed["dynasty"] == "清" and ed["category"] == "抄本" and ed["edition_type"] == "影抄本"
    assert [L["role"] for L in ed["layers"]] == ["base", "model"]
    rec, found, _ = findings(版本="明影抄宋紹興淮南路轉運司刻本")
    assert found == set() and rec["edition"]["year_range"][0] == 1368  # a 明 copy, not a 宋 print


def test_bare_year_of_a_later_layer_takes_the_era_in_force():
    rec, found, _ = findings(版本="明正德七年（1512）劉喬刻嘉靖十六年（1537）季本、詹治重修三十九年（1560）何遷遞修本")
    assert found == set()
    layers = rec["edition"]["layers"]
    assert [(L["role"], L["events"][0]["year"], L["events"][0]["agent"]) for L in layers] == \
        [("base", 1512, "劉喬"), ("recut", 1537, "季本、詹治"), ("recut", 1560, "何遷")]
    assert ("year-mismatch", "error", "版本") in findings(版本="明嘉靖十一年（1532）曹嘉刻三十一年（1550）朱睦㮮增修本")[1]
    rec, found, _ = findings(版本="明嘉靖四十五年至隆慶四年（1566－1570）陝西布政司刻本")
    assert found == set() and rec["edition"]["year_range"] == [1566, 1570]
    assert rec["edition"]["publisher"] == "陝西布政司"


def test_edition_types_of_re_cuttings_are_recognised():
    for s in ("宋刻宋元遞修本", "明刻遞修本", "宋刻元明遞修印本", "明嘉靖刻萬曆重修本", "元刻明修本"):
        rec, found, _ = findings(版本=s)
        assert "edition-type-unknown" not in {c for c, _s, _f in found}, s
        assert rec["edition"]["category"] == "刻本", s


def test_homonym_eras_resolved_by_dynasty_or_bracket():
    from guji.metadata.parsers import parse_edition

    assert parse_edition("元後至元二年（1336）刻本")[0]["year"] == 1336
    assert parse_edition("元至元二十六年刻本")[0]["year"] == 1289  # only the first 至元 has a 26th year
    assert parse_edition("遼統和二十一年刻本")[0]["year"] == 1003
    assert parse_edition("西夏天盛十三年刻本")[0]["year"] == 1161
    ed, f = parse_edition("唐長安四年寫本")  # 武周 era written under 唐
    assert ed["year"] == 704 and not f
    ed, f = parse_edition("太平天國三年刻本")
    assert ed["year"] == 1853
    ed, f = parse_edition("大德十年刻本")  # 元 大德 and 西夏 大德: the major dynasty
    assert ed["year"] == 1306
    ed, f = parse_edition("天順五年刻本")  # 元 天順 had one year only: 明
    assert ed["year"] == 1461 and not f


def test_undated_manuscript_takes_the_author_dynasty():
    rec, found, _ = findings(版本="稿本", 著者="（清）孫詒讓撰", 题名卷数="溫州經籍志三十三卷", 存卷="")
    assert found == set() and rec["edition"]["dynasty"] == "清" and rec["edition"]["dynasty_source"] == "著者"
    assert "edition-undated" in codes(版本="抄本")  # a copy is not dated by its author


# -- 题名卷数 vs 版本, 存卷 vs 卷數 -------------------------------------------------------------------

def test_gazetteer_prefix_against_edition_era():
    assert "title-prefix-after-edition" not in codes(题名卷数="［萬曆］金華府志三十卷", 版本="明萬曆六年（1578）刻本",
                                                     存卷="")
    assert "title-prefix-after-edition" not in codes(题名卷数="［萬曆］金華府志三十卷", 版本="清光緒刻本", 存卷="")
    _r, found, _ = findings(题名卷数="［萬曆］金華府志三十卷", 版本="明嘉靖三十年（1551）刻本", 存卷="")
    assert ("title-prefix-after-edition", "error", "题名卷数") in found
    assert ("title-prefix-after-edition", "error", "题名卷数") in findings(
        题名卷数="［民國］重修浙江通志稿", 版本="清光緒刻本", 存卷="")[1]
    # a supplied title in brackets is no era: ［金剛經］ is not 金
    assert "title-prefix-after-edition" not in codes(题名卷数="［金剛經］", 版本="唐寫本", 存卷="")


def test_extant_against_juan_count():
    assert codes(题名卷数="大易集義六十四卷", 存卷="存五十二卷（一至五十二）") == set()
    _r, found, _ = findings(存卷="存八卷")  # 鐵崖文集 has five
    assert ("extant-exceeds-total", "error", "存卷") in found
    _r, found, _ = findings(存卷="存二卷（四至六）")
    assert ("extant-exceeds-total", "error", "存卷") in found  # 卷六 of five
    _r, found, _ = findings(存卷="存三卷（一至五）")
    assert ("extant-count-mismatch", "warning", "存卷") in found
    # several works: 存卷 counts against all of them
    assert codes(题名卷数="新箋决科古今源流至論前集十卷後集十卷續集十卷　別集十卷",
                 存卷="存二十五卷（前集六至十、後集一至十、續集六至十卷、別集一至五）") == set()


def test_grade_against_date():
    assert "grade-date" not in codes(定级="二級乙等")
    _r, found, _ = findings(定级="一級甲等", 版本="清光緒二十年（1894）刻本")
    assert ("grade-date", "warning", "定级") in found


# -- the typed record -----------------------------------------------------------------------------

def test_record_round_trip_and_schema_file():
    from guji.metadata.census import CensusRecord, json_schema

    rec, _f, _ = findings(分类="經部 › 四書類 › 論語之屬", 版本="元刻明正德十年（1515）司禮監遞修本（卷一配清抄本）")
    model = CensusRecord.from_dict(rec)
    assert model.to_dict() == rec
    assert CensusRecord.from_dict(json.loads(json.dumps(rec, ensure_ascii=False))).to_dict() == rec
    assert model.classification.path == ["經部", "四書類", "論語之屬"] and model.facets.division == "經部"
    assert model.facets.layers == ["recut", "supplement"]
    path = next(p for p in (REPO / "schemas" / "record.schema.json", REPO / "guji" / "schemas" / "record.schema.json")
                if p.exists())
    on_disk = json.loads(path.read_text("utf-8"))
    assert on_disk == json.loads(json.dumps(json_schema())), \
        f"{path} is stale: python -m guji.metadata.census > {path.relative_to(REPO)}"
    import jsonschema

    jsonschema.Draft202012Validator(on_disk).validate(rec)
    with pytest.raises(ValueError):
        CensusRecord.from_dict({**rec, "unknown_key": 1})


def test_public_view_keeps_old_keys_and_adds_facets():
    rec, _f, _ = findings(分类="史部/地理類/方志之屬", 收藏单位="國家圖書館")
    pub = public_view(rec)
    assert pub["classification"] == "史部/地理類/方志之屬"  # still a string, as before
    assert pub["facets"]["classification"] == ["史部", "地理類", "方志之屬"]
    assert pub["facets"]["institution"] == "國家圖書館" and pub["facets"]["year"] == 1501
    assert pub["facets"]["authors"] == ["楊維楨"] and "findings" not in pub


def test_layered_mods_validates():
    import xsdcatalog  # MODS 3.8 from tests/xsd (vendored, offline)
    from lxml import etree

    from guji.metadata.crosswalk import iiif_block, to_mods

    mods = xsdcatalog.mods()
    rec, _f, _ = findings(版本="元刻明正德十年（1515）司禮監嘉靖南京國子監遞修本（卷一配清抄本）")
    pub = public_view(rec)
    doc = etree.fromstring(to_mods(pub))
    assert mods.validate(doc), [e.message for e in mods.error_log][:3]
    ns = {"m": "http://www.loc.gov/mods/v3"}
    events = [o.get("eventType") for o in doc.findall("m:originInfo", ns)]
    assert events == ["publication", "manufacture", "production"]
    assert doc.find("m:originInfo[@eventType='manufacture']/m:publisher", ns).text == "司禮監"
    labels = [p["label"]["zh-Hant"][0] for p in iiif_block(pub)["metadata"]]
    assert "修版" in labels and "配補" in labels


def test_review_html_is_chinese_first_and_escaped(tmp_path):
    from guji.metadata.review import review_entries, write_html

    rec, _f, probs = findings(题名卷数="<b>鐵崖文集</b>五卷", 版式="半葉九十行，行十八字")
    entries = review_entries([rec], probs)
    write_html(tmp_path / "review.html", [rec], entries, "批次一")
    html = (tmp_path / "review.html").read_text("utf-8")
    assert html.index("著錄審校報告") < html.index("Metadata review")  # Chinese first, English after
    assert "&lt;b&gt;鐵崖文集&lt;/b&gt;" in html and "<b>鐵崖文集</b>" not in html
    assert "<code>layout-implausible</code>" in html and "錯誤" in html
    assert "impossible" in html  # the English message rides along as a tooltip


def test_publish_reads_typed_facets_not_its_own_tables(tmp_path):
    """guji.publish.meta takes dynasty, years and edition type from the record's facets; without a
    metadata stage run it uses the same census parser (a compound edition keeps its base year)."""
    from guji.model import Item
    from guji.publish.meta import item_info

    row = {"题名卷数": "晉書一百三十卷", "版本": "元刻明正德十年（1515）司禮監嘉靖南京國子監遞修本",
           "分类": "史部 › 正史類", "本地编号": "JS-1"}
    item = Item(id="JS-1", folder="JS-1", record=row)
    info = item_info(tmp_path, item)  # no WORK/metadata yet
    assert (info.dynasty, info.year_from, info.year_to, info.edition_type, info.classification) == \
        ("元", 1206, 1368, "刻本", "史")
    rec, _ = normalise(row, item="JS-1", row=2, institution="南京圖書館")
    pub = public_view(rec)
    pub["facets"]["dynasty"] = "明"  # what the file says wins: publish does not re-parse 版本
    (tmp_path / "metadata").mkdir()
    (tmp_path / "metadata" / "JS-1.public.json").write_text(json.dumps(pub, ensure_ascii=False), "utf-8")
    info = item_info(tmp_path, item)
    assert info.dynasty == "明" and info.institution == "南京圖書館" and info.title == "晉書一百三十卷"
