"""IIIF Content Search responses (2.0, and the 1.0 form Mirador 4 uses) from index hits.

Each match becomes one annotation per column segment it covers (a match may continue into the
next column), targeting ``canvas#xywh=`` in canvas (access-image) pixels; 2.0 adds one
``contextualizing`` annotation per match with a TextQuoteSelector (prefix/exact/suffix), 1.0 a
``search:Hit`` with ``before``/``match``/``after``.

Matches found only through the recogniser's other candidates or with one character misread
(``uncertain`` in :meth:`guji.publish.index.SearchIndex.search_item`) carry a ``label`` saying so,
with the reading's probability (both forms allow a label on an annotation), so a viewer lists them
as uncertain; the documents stay valid.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote


def uncertain_label(hit: dict[str, Any]) -> dict[str, list[str]] | None:
    """Presentation 3 language map for an uncertain match (None for a sure one)."""
    if not hit.get("uncertain"):
        return None
    p = hit.get("probability")
    pct = f" {round(100 * p)}%" if isinstance(p, (int, float)) else ""
    reading = hit.get("reading") or ""
    return {"zh-Hans": [f"不确定：OCR 候选读作「{reading}」{pct}"], "zh-Hant": [f"不確定：OCR 候選讀作「{reading}」{pct}"],
            "en": [f"uncertain: OCR candidate reading “{reading}”{pct}"]}


def _segments(hit: dict[str, Any]) -> list[tuple[int, int, int, int]]:
    return [tuple(b) for b in hit.get("boxes") or []] or [(0, 0, 0, 0)]


def search2(hits: list[dict[str, Any]], *, service_uri: str, query: str, total: int) -> dict[str, Any]:
    qid = f"{service_uri}?q={quote(query)}"
    items, contexts = [], []
    for n, h in enumerate(hits, 1):
        seg_ids = []
        for k, (x, y, w, hgt) in enumerate(_segments(h), 1):
            aid = f"{service_uri}/anno/{n}-{k}?q={quote(query)}"
            seg_ids.append(aid)
            anno = {
                "id": aid, "type": "Annotation", "motivation": "highlighting",
                "body": {"type": "TextualBody", "value": h["exact"], "format": "text/plain", "language": "zh"},
                "target": f"{h['canvas']}#xywh={x},{y},{w},{hgt}",
            }
            label = uncertain_label(h)
            if label:
                anno["label"] = label
            items.append(anno)
        contexts.append({
            "id": f"{service_uri}/hit/{n}?q={quote(query)}", "type": "Annotation", "motivation": "contextualizing",
            "target": [{"type": "SpecificResource", "source": sid,
                        "selector": [{"type": "TextQuoteSelector", "prefix": h["prefix"], "exact": h["exact"],
                                      "suffix": h["suffix"]}]} for sid in seg_ids],
        })
    doc: dict[str, Any] = {"@context": "http://iiif.io/api/search/2/context.json", "id": qid, "type": "AnnotationPage",
                           "items": items}
    if contexts:
        doc["annotations"] = [{"type": "AnnotationPage", "items": contexts}]
    doc["partOf"] = {"id": qid, "type": "AnnotationCollection", "total": total}
    return doc


def search1(hits: list[dict[str, Any]], *, service_uri: str, query: str, total: int) -> dict[str, Any]:
    resources, hit_list = [], []
    for n, h in enumerate(hits, 1):
        ids = []
        for k, (x, y, w, hgt) in enumerate(_segments(h), 1):
            aid = f"{service_uri}/anno/{n}-{k}"
            ids.append(aid)
            res = {"@id": aid, "@type": "oa:Annotation", "motivation": "sc:painting",
                   "resource": {"@type": "cnt:ContentAsText", "chars": h["exact"]},
                   "on": f"{h['canvas']}#xywh={x},{y},{w},{hgt}"}
            label = uncertain_label(h)
            if label:
                res["label"] = label["zh-Hant"][0]
            resources.append(res)
        hit_list.append({"@type": "search:Hit", "annotations": ids, "match": h["exact"],
                         "before": h["prefix"], "after": h["suffix"]})
    return {
        "@context": ["http://iiif.io/api/presentation/2/context.json", "http://iiif.io/api/search/1/context.json"],
        "@id": f"{service_uri}?q={quote(query)}", "@type": "sc:AnnotationList",
        "within": {"@type": "sc:Layer", "total": total}, "resources": resources, "hits": hit_list,
    }
