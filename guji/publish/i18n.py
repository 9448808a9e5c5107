"""The words of the publication's pages: Simplified Chinese (default), Traditional Chinese, English.

Each message is written once in zh-Hans and English; zh-Hant is derived with OpenCC
(s2tw: standard Traditional characters, 為 not 爲; the library the search folding uses) and checked by eye in the screenshots. Templates render the
zh-Hans text and mark it ``data-i18n="key"``; ``assets/i18n.js`` switches the page to zh-Hant or
English in place (the choice is kept in localStorage) from the table :func:`table` embeds.
Codes are shown through the ``code.*`` labels (profiles, facet names), never raw.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

LANGS = ("zh-Hans", "zh-Hant", "en")
DEFAULT = "zh-Hans"

# key: (zh-Hans, English)
MESSAGES: dict[str, tuple[str, str]] = {
    "site.catalogue": ("古籍目录", "Catalogue of ancient books"),
    "site.stats": ("统计", "Statistics"),
    "site.reader": ("阅览室", "Reading room"),
    "site.home": ("目录", "Catalogue"),
    "lang.label": ("语言", "Language"),
    "search.placeholder": ("题名、著者、全文……（简繁通检）", "Title, author, full text… (simplified = traditional)"),
    "search.button": ("检索", "Search"),
    "search.help": ("简繁通检：万历 = 萬曆。字段：title: author: edition: dynasty: year:1573-1620",
                    "Simplified and traditional match (万历 = 萬曆). Fields: title: author: edition: dynasty: year:1573-1620"),
    "search.no_server": ("全文检索需要检索服务（guji serve）；此处只能按分类浏览。",
                         "Full-text search needs the search server (guji serve); here you can only browse."),
    "search.failed": ("检索失败", "Search failed"),
    "sort.label": ("排序", "Sort"),
    "sort.relevance": ("相关度", "Relevance"),
    "sort.title": ("题名", "Title"),
    "sort.date": ("年代", "Date"),
    "facet.classification": ("四部分类", "Classification"),
    "facet.dynasty": ("朝代", "Dynasty"),
    "facet.edition_type": ("版本类型", "Edition type"),
    "facet.institution": ("收藏单位", "Institution"),
    "facet.profile": ("文献类型", "Kind"),
    "facet.year": ("年代范围", "Years"),
    "facet.clear": ("清除筛选", "Clear filters"),
    "facet.apply": ("应用", "Apply"),
    "facet.unknown": ("未详", "Unknown"),
    "code.rare-book": ("古籍", "Rare book"),
    "code.local-document": ("地方文献", "Local document"),
    "result.books": ("部", "books"),
    "result.found": ("共 {n} 部", "{n} books"),
    "result.page_hits": ("{n} 页命中", "{n} page hits"),
    "result.all_hits": ("本书全部命中（{n} 叶）›", "All hits in this book ({n} pages) ›"),
    "result.metadata_match": ("著录命中", "Matched in the record"),
    "result.none": ("没有找到", "Nothing found"),
    "result.pages": ("{n} 叶", "{n} pages"),
    "result.read": ("阅览", "Read"),
    "result.record": ("著录", "Record"),
    "pager.prev": ("上一页", "Previous"),
    "pager.next": ("下一页", "Next"),
    "pager.of": ("第 {p} / {n} 页", "Page {p} of {n}"),
    "record.title": ("著录", "Record"),
    "record.fields": ("著录项", "Catalogue record"),
    "record.links": ("数据下载", "Data"),
    "record.manifest": ("IIIF 清单", "IIIF manifest"),
    "record.iiif_drag": ("拖入任一 IIIF 阅览器", "Drag into any IIIF viewer"),
    "record.collection": ("IIIF 分册合集", "IIIF collection of the volumes"),
    "record.mods": ("MODS 记录", "MODS record"),
    "record.dc": ("DC 记录", "Dublin Core record"),
    "record.text": ("全书文字", "Text of the whole book"),
    "record.volumes": ("册", "Volumes"),
    "record.juan": ("卷", "Juan"),
    "record.cite": ("引用", "Cite"),
    "record.read": ("开始阅览", "Start reading"),
    "cite.gbt": ("GB/T 7714", "GB/T 7714"),
    "cite.chicago": ("Chicago", "Chicago"),
    "reader.prev": ("上一叶", "Previous page"),
    "reader.next": ("下一叶", "Next page"),
    "reader.text": ("文字", "Text"),
    "reader.no_text": ("此叶没有识别文字。", "No recognised text on this page."),
    "reader.low": ("低置信度字", "low-confidence character"),
    "reader.copy": ("复制本叶", "Copy page"),
    "reader.copied": ("已复制", "Copied"),
    "reader.dl_page": ("下载本叶", "Page text"),
    "reader.dl_juan": ("下载本卷", "Juan text"),
    "reader.dl_book": ("下载全书", "Book text"),
    "reader.search": ("书内检索", "Search this book"),
    "reader.hits": ("{n} 处命中", "{n} hits"),
    "reader.no_hits": ("没有命中", "No hits"),
    "reader.search_unavailable": ("书内检索需要检索服务（guji serve）。", "Searching needs the search server (guji serve)."),
    "reader.contents": ("目次", "Contents"),
    "reader.permalink": ("本叶链接", "Link to this page"),
    "reader.no_book": ("没有指定书目：请从目录打开一部书。", "No book given: open a book from the catalogue."),
    "reader.load_failed": ("无法载入", "Could not load"),
    "reader.image_failed": ("图像无法载入。若此出版物为他址所建，请以 guji serve 浏览（会改写地址）。",
                            "The image could not be loaded. If this publication was built for another address, browse it with guji serve (it rewrites the ids)."),
    "reader.centre": ("版心", "Centre column"),
    "stats.title": ("馆藏统计", "Collection statistics"),
    "stats.totals": ("合计", "Totals"),
    "stats.books": ("部", "Books"),
    "stats.volumes": ("册", "Volumes"),
    "stats.pages": ("叶", "Pages"),
    "stats.characters": ("字", "Characters"),
    "stats.grade": ("定级（仅计数）", "Grade (counts only)"),
    "stats.by": ("按{d}", "By {d}"),
    "stats.download": ("下载", "Download"),
    "qc.title": ("扫描质量检查报告", "Scan QC report"),
    "qc.summary": ("共 {n} 叶，{f} 叶有标记，{r} 叶需重拍（见 reshoot.csv）。",
                   "{n} canvases, {f} with flags, {r} pages to re-shoot (see reshoot.csv)."),
    "qc.problem": ("问题", "Problem"),
    "qc.code": ("代码", "Code"),
    "qc.pages": ("叶数", "Pages"),
    "qc.legend": ("红框：需重拍（列入 reshoot.csv）；橙框：仅提示，无须重拍。",
                  "Red outline: page on the re-shoot list (reshoot.csv); orange: informational flags only."),
    "qc.sort": ("排序：", "Sort by:"),
    "qc.order": ("阅读顺序", "reading order"),
    "qc.flags": ("问题数", "number of problems"),
    "qc.skew": ("倾斜", "skew"),
    "qc.sharp": ("清晰度（低者在前）", "sharpness (lowest first)"),
    "qc.ppi": ("分辨率", "ppi"),
    "qc.only": ("只看有问题的", "only flagged"),
    "qc.thresholds": ("阈值", "Thresholds"),
}


def build_table(messages: Mapping[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
    """{lang: {key: text}} for every language from {key: (zh-Hans, en)}: zh-Hant derived with OpenCC
    s2tw (its phrase table turns 叶 (leaf) into 葉 and 目录 into 目錄: what the books themselves use).
    The workspace builds its own table the same way."""
    from guji.textfold import convert

    out: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
    for key, (hans, en) in messages.items():
        out["zh-Hans"][key] = hans
        out["zh-Hant"][key] = convert("s2tw", hans)
        out["en"][key] = en
    return out


def script_json(tab: Mapping[str, Any]) -> str:
    """A message table as JSON safe inside a <script> element."""
    import json

    return json.dumps(tab, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")


@lru_cache(maxsize=1)
def table() -> dict[str, dict[str, str]]:
    """{lang: {key: text}} for every language."""
    return build_table(MESSAGES)


def script() -> str:
    """The language switch script (``assets/i18n.js``), for pages that carry it inline (QC report)."""
    from importlib import resources

    return resources.files("guji.publish").joinpath("assets", "i18n.js").read_text("utf-8")


def table_json() -> str:
    """The message table as JSON safe inside a <script> element."""
    return script_json(table())


def t(key: str, lang: str = DEFAULT, **kw: Any) -> str:
    text = table().get(lang, table()[DEFAULT]).get(key) or table()[DEFAULT].get(key) or key
    return text.format(**kw) if kw else text


def label(value: Any, lang: str = DEFAULT) -> str:
    """A IIIF language map (or plain value) in ``lang``, falling back through the Chinese forms."""
    if isinstance(value, dict):
        order = {"zh-Hans": ("zh-Hans", "zh", "zh-Hant", "none", "en"),
                 "zh-Hant": ("zh-Hant", "zh", "zh-Hans", "none", "en"),
                 "en": ("en", "none", "zh-Hant", "zh-Hans", "zh")}.get(lang, ("zh-Hans", "zh-Hant", "none", "en"))
        for k in order:
            if value.get(k):
                return "；".join(str(x) for x in value[k])
        for v in value.values():
            if v:
                return "；".join(str(x) for x in v)
        return ""
    if isinstance(value, list):
        return "；".join(str(x) for x in value)
    return "" if value is None else str(value)
