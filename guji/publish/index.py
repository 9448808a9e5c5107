"""The search index: one SQLite file with FTS5, published with the collection.

Design (measured in bench/bench_search.py): FTS5's ``trigram`` tokenizer cannot answer 1- and
2-character queries, and CJK text has no spaces, so every indexed character of the *folded* text
(:mod:`guji.publish.fold`) is one token of the ``unicode61`` tokenizer ("万 历 三 年"). Any-length
substring queries are then FTS5 phrase queries ("万 历"); a 1-character query is a single token.

Page rows get ``rowid = item_rowid << 20 | canvas order`` so a hit's item is known without a join
and one item's pages are a rowid range (content search). Per page the index keeps the original
indexed characters (``orig``, same length as the folded text) and their boxes in *canvas*
coordinates (packed uint16 ``x, y, w, h, line``, zlib): a hit at folded offset i..j highlights
boxes i..j. Only public items are ever written here.
"""

from __future__ import annotations

import json
import re
import sqlite3
import zlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from guji.textfold import compact, fold, fold_char, is_indexed, spaced
from guji.publish.meta import ItemInfo

INDEX_VERSION = 1
ROWID_SHIFT = 20
SCAN_CAP = 5000  # page hits scanned per query before counts become "at least"
MAX_QUERY_CHARS = 200
META_FIELDS = ("title", "author", "edition", "census_no", "classification", "institution", "dynasty",
               "edition_type")
FIELD_ALIASES = {
    "title": "title", "题名": "title", "書名": "title", "书名": "title", "t": "title",
    "author": "author", "著者": "author", "作者": "author", "a": "author",
    "edition": "edition", "版本": "edition", "e": "edition",
    "census": "census_no", "census_no": "census_no", "普查编号": "census_no",
    "class": "classification", "classification": "classification", "分类": "classification",
    "institution": "institution", "收藏单位": "institution", "inst": "institution",
    "dynasty": "dynasty", "朝代": "dynasty",
    "type": "edition_type", "edition_type": "edition_type", "版本类型": "edition_type",
    "year": "year", "年": "year", "年代": "year",
    "item": "item",
}

SCHEMA = f"""
PRAGMA page_size=8192;
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE items(
  rowid INTEGER PRIMARY KEY, item_id TEXT UNIQUE NOT NULL,
  title TEXT, author TEXT, edition TEXT, census_no TEXT, classification TEXT, institution TEXT,
  dynasty TEXT, year_from INTEGER, year_to INTEGER, edition_type TEXT, profile TEXT,
  volumes INTEGER, pages INTEGER, canvases INTEGER, chars INTEGER, manifest TEXT, thumbnail TEXT);
CREATE VIRTUAL TABLE items_fts USING fts5({", ".join(META_FIELDS)}, content='',
  tokenize='unicode61 remove_diacritics 0');
CREATE TABLE pages(
  rowid INTEGER PRIMARY KEY, canvas_id TEXT NOT NULL, canvas_uri TEXT NOT NULL, label TEXT,
  width INTEGER, height INTEGER, orig TEXT NOT NULL, boxes BLOB);
CREATE VIRTUAL TABLE pages_fts USING fts5(body, content='', columnsize=0,
  tokenize='unicode61 remove_diacritics 0');
CREATE TABLE grade_counts(grade TEXT PRIMARY KEY, books INTEGER NOT NULL);
"""


@dataclass
class PageText:
    """One canvas's indexed characters (original) with canvas-space boxes and line numbers."""

    canvas_id: str
    canvas_uri: str
    order: int
    chars: str  # original characters (indexed ones only)
    boxes: list[tuple[int, int, int, int, int]] = field(default_factory=list)  # x, y, w, h, line
    label: str = ""
    width: int = 0
    height: int = 0


def pack_boxes(boxes: Sequence[tuple[int, int, int, int, int]]) -> bytes:
    a = array("H")
    for b in boxes:
        a.extend(max(0, min(65535, int(v))) for v in b)
    return zlib.compress(a.tobytes(), 1)


def unpack_boxes(blob: bytes | None) -> list[tuple[int, int, int, int, int]]:
    if not blob:
        return []
    a = array("H")
    a.frombytes(zlib.decompress(blob))
    return [tuple(a[i:i + 5]) for i in range(0, len(a), 5)]  # type: ignore[misc]


def page_text_from_ocr(doc: dict[str, Any], to_canvas=None) -> tuple[str, list[tuple[int, int, int, int, int]]]:
    """Indexed characters of an OCR page-model JSON and their boxes mapped with ``to_canvas``.

    ``to_canvas`` is an affine (master → canvas pixels); chars without boxes get their line's box.
    """
    from guji.model import box_to_master

    def m(box):
        if not box:
            return (0, 0, 0, 0)
        return box_to_master(to_canvas, tuple(box)) if to_canvas is not None else tuple(int(round(v)) for v in box)

    chars: list[str] = []
    boxes: list[tuple[int, int, int, int, int]] = []
    line_no = 0
    for region in doc.get("regions") or []:
        for line in region.get("lines") or []:
            lbox = m(line.get("box"))
            cs = line.get("chars") or []
            if cs:
                seq = [(c.get("text", ""), m(c.get("box")) if c.get("box") else lbox) for c in cs]
            else:
                seq = [(c, lbox) for c in line.get("text", "")]
            for text, box in seq:
                for ch in text:  # a char entry may hold more than one code point (rare)
                    if is_indexed(fold_char(ch)):
                        chars.append(ch)
                        boxes.append((*box, line_no))
            line_no += 1
    return "".join(chars), boxes


# -- building ---------------------------------------------------------------------------------

class IndexWriter:
    """Write a fresh index at ``path`` (replaced atomically on :meth:`close`)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.name}.building")
        for p in (self.tmp, Path(str(self.tmp) + "-journal")):
            if p.exists():
                p.unlink()
        self.db = sqlite3.connect(self.tmp, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(SCHEMA)
        self.db.execute("BEGIN")
        self.db.execute("INSERT INTO meta VALUES ('version', ?)", (str(INDEX_VERSION),))
        self._n_items = 0
        self.grades: dict[str, int] = {}

    def add_item(self, info: ItemInfo, pages: Iterable[PageText]) -> int:
        self._n_items += 1
        rid = self._n_items
        chars = canvases = 0
        page_rows = []
        fts_rows = []
        for p in pages:
            prow = (rid << ROWID_SHIFT) | p.order
            page_rows.append((prow, p.canvas_id, p.canvas_uri, p.label, p.width, p.height, p.chars,
                              pack_boxes(p.boxes)))
            fts_rows.append((prow, spaced(fold(p.chars))))
            chars += len(p.chars)
            canvases += 1
            if len(page_rows) >= 500:
                self._flush_pages(page_rows, fts_rows)
        self._flush_pages(page_rows, fts_rows)
        info.chars = chars
        info.canvases = canvases
        d = info.public_dict()
        cols = ["item_id", "title", "author", "edition", "census_no", "classification", "institution", "dynasty",
                "year_from", "year_to", "edition_type", "profile", "volumes", "pages", "canvases", "chars",
                "manifest", "thumbnail"]
        self.db.execute(f"INSERT INTO items(rowid, {', '.join(cols)}) VALUES (?{', ?' * len(cols)})",
                        (rid, *[d[c] for c in cols]))
        self.db.execute(f"INSERT INTO items_fts(rowid, {', '.join(META_FIELDS)}) VALUES (?{', ?' * len(META_FIELDS)})",
                        (rid, *[spaced(compact(d[c] or "")) for c in META_FIELDS]))
        if info.grade:
            self.grades[info.grade] = self.grades.get(info.grade, 0) + 1
        return rid

    def _flush_pages(self, page_rows: list, fts_rows: list) -> None:
        if page_rows:
            self.db.executemany("INSERT INTO pages VALUES (?,?,?,?,?,?,?,?)", page_rows)
            self.db.executemany("INSERT INTO pages_fts(rowid, body) VALUES (?,?)", fts_rows)
            page_rows.clear()
            fts_rows.clear()

    def set_meta(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value, ensure_ascii=False)))

    def close(self, optimize: bool = True) -> None:
        self.db.executemany("INSERT INTO grade_counts VALUES (?, ?)", sorted(self.grades.items()))
        self.db.execute("COMMIT")
        if optimize:
            self.db.execute("INSERT INTO pages_fts(pages_fts) VALUES ('optimize')")
            self.db.execute("INSERT INTO items_fts(items_fts) VALUES ('optimize')")
        self.db.execute("VACUUM")
        self.db.close()
        import os

        os.replace(self.tmp, self.path)


# -- querying ---------------------------------------------------------------------------------

class QueryError(ValueError):
    pass


@dataclass
class Query:
    terms: list[str] = field(default_factory=list)  # folded compact text terms (AND)
    fields: dict[str, list[str]] = field(default_factory=dict)  # field -> folded compact terms
    year: tuple[int, int] | None = None
    item: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.terms or self.fields or self.year or self.item)


_TOKEN_RE = re.compile(r'(?:([^\s:"：]+)[:：])?(?:"([^"]*)"|“([^”]*)”|(\S+))')


def parse_query(q: str) -> Query:
    """``万历 title:金华 author:"王 懋德" year:1573-1620 dynasty:明 "phrase with spaces"``."""
    if len(q) > MAX_QUERY_CHARS:
        raise QueryError(f"query longer than {MAX_QUERY_CHARS} characters")
    out = Query()
    for m in _TOKEN_RE.finditer(q):
        name, val = m.group(1), next((g for g in m.group(2, 3, 4) if g is not None), "")
        fname = FIELD_ALIASES.get(fold(name)) if name else None
        if name and fname is None:  # not a field: treat "a:b" as text
            val = f"{name}{val}"
        if fname == "year":
            ym = re.fullmatch(r"\s*(-?\d{1,4})\s*(?:[-–~至]\s*(-?\d{1,4}))?\s*", val)
            if not ym:
                raise QueryError(f"year filter must be YEAR or FROM-TO, not {val!r}")
            lo = int(ym.group(1))
            hi = int(ym.group(2)) if ym.group(2) else lo
            out.year = (min(lo, hi), max(lo, hi))
            continue
        if fname == "item":
            out.item = val
            continue
        c = compact(val)
        if not c:
            continue
        if fname:
            out.fields.setdefault(fname, []).append(c)
        else:
            out.terms.append(c)
    return out


def _phrase(c: str) -> str:
    return '"' + " ".join(c) + '"'


def find_all(hay: str, needle: str) -> Iterator[int]:
    i = hay.find(needle)
    while i >= 0:
        yield i
        i = hay.find(needle, i + 1)


def line_boxes(boxes: list[tuple[int, int, int, int, int]], i: int, j: int) -> list[tuple[int, int, int, int]]:
    """Union box of characters i..j-1 per line (a match may run on into the next column)."""
    out: list[tuple[int, int, int, int]] = []
    cur: list[int] | None = None
    cur_line = None
    for b in boxes[i:j]:
        x, y, w, h, ln = b
        if cur is None or ln != cur_line:
            if cur is not None:
                out.append((cur[0], cur[1], cur[2] - cur[0], cur[3] - cur[1]))
            cur = [x, y, x + w, y + h]
            cur_line = ln
        else:
            cur = [min(cur[0], x), min(cur[1], y), max(cur[2], x + w), max(cur[3], y + h)]
    if cur is not None:
        out.append((cur[0], cur[1], cur[2] - cur[0], cur[3] - cur[1]))
    return out


class SearchIndex:
    """Read-only access to a published index (one connection per thread: create one per request)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            from guji.errors import NotReady

            raise NotReady(f"no search index at {self.path}: run `guji publish` first")
        self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        self.db.execute("PRAGMA mmap_size=1073741824")
        self.db.row_factory = sqlite3.Row

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "SearchIndex":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- item filters -------------------------------------------------------------------------
    def _filtered_items(self, q: Query) -> set[int] | None:
        """Item rowids allowed by field/year/item filters; None = no filter."""
        sets: list[set[int]] = []
        if q.fields:
            expr = " AND ".join(f"{f} : {_phrase(t)}" for f, ts in q.fields.items() for t in ts)
            sets.append({r[0] for r in self.db.execute("SELECT rowid FROM items_fts WHERE items_fts MATCH ?", (expr,))})
        if q.year:
            lo, hi = q.year
            sets.append({r[0] for r in self.db.execute(
                "SELECT rowid FROM items WHERE year_from IS NOT NULL AND year_from <= ? AND COALESCE(year_to, year_from) >= ?",
                (hi, lo))})
        if q.item:
            sets.append({r[0] for r in self.db.execute("SELECT rowid FROM items WHERE item_id = ?", (q.item,))})
        if not sets:
            return None
        out = sets[0]
        for s in sets[1:]:
            out &= s
        return out

    def _text_expr(self, q: Query) -> str:
        return " AND ".join(_phrase(t) for t in q.terms)

    def search(self, query: str | Query, *, limit: int = 20, offset: int = 0, hits_per_item: int = 3,
               scan_cap: int = SCAN_CAP) -> dict[str, Any]:
        """Items matching ``query`` (text in pages or in metadata, plus filters), with page hits and facets."""
        q = parse_query(query) if isinstance(query, str) else query
        allowed = self._filtered_items(q)
        page_hits: dict[int, list[int]] = {}
        n_page_hits = 0
        exact = True
        meta_items: set[int] = set()
        if q.terms:
            expr = self._text_expr(q)
            cur = self.db.execute("SELECT rowid FROM pages_fts WHERE pages_fts MATCH ?", (expr,))
            for (rowid,) in cur:
                it = rowid >> ROWID_SHIFT
                if allowed is not None and it not in allowed:
                    continue
                n_page_hits += 1
                page_hits.setdefault(it, []).append(rowid)
                if n_page_hits >= scan_cap:
                    exact = False
                    break
            cur.close()
            meta_items = {r[0] for r in self.db.execute("SELECT rowid FROM items_fts WHERE items_fts MATCH ?", (expr,))}
            if allowed is not None:
                meta_items &= allowed
            item_ids = sorted(set(page_hits) | meta_items)
        elif allowed is not None:
            item_ids = sorted(allowed)
        else:
            item_ids = [r[0] for r in self.db.execute("SELECT rowid FROM items ORDER BY rowid")]
        facets = self._facets(item_ids)
        shown = item_ids[offset:offset + limit]
        results = []
        for rid in shown:
            row = self.db.execute("SELECT * FROM items WHERE rowid = ?", (rid,)).fetchone()
            d = {k: row[k] for k in row.keys() if k != "rowid"}
            hits = page_hits.get(rid, [])
            d["page_hits"] = len(hits)
            d["metadata_match"] = rid in meta_items
            d["pages_found"] = [self._page_hit(r, q.terms) for r in hits[:hits_per_item]]
            results.append(d)
        return {
            "query": query if isinstance(query, str) else None,
            "parsed": {"terms": q.terms, "fields": q.fields, "year": list(q.year) if q.year else None,
                       "item": q.item},
            "total_items": len(item_ids), "total_page_hits": n_page_hits, "counts_exact": exact,
            "offset": offset, "limit": limit, "items": results, "facets": facets,
        }

    def _facets(self, item_ids: list[int]) -> dict[str, dict[str, int]]:
        facets: dict[str, dict[str, int]] = {f: {} for f in ("institution", "dynasty", "classification", "edition_type")}
        if not item_ids:
            return facets
        for i in range(0, len(item_ids), 500):
            chunk = item_ids[i:i + 500]
            rows = self.db.execute(
                f"SELECT institution, dynasty, classification, edition_type FROM items WHERE rowid IN ({','.join('?' * len(chunk))})",
                chunk)
            for row in rows:
                for f in facets:
                    v = row[f] or ""
                    facets[f][v] = facets[f].get(v, 0) + 1
        return {f: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))) for f, v in facets.items()}

    def _page_row(self, rowid: int) -> sqlite3.Row:
        return self.db.execute("SELECT * FROM pages WHERE rowid = ?", (rowid,)).fetchone()

    def matches(self, row: sqlite3.Row, terms: list[str], context: int = 10) -> list[dict[str, Any]]:
        """Every occurrence of every term on a page: exact/prefix/suffix text and canvas boxes."""
        orig = row["orig"]
        folded = fold(orig)
        boxes = unpack_boxes(row["boxes"])
        out = []
        for t in terms:
            for i in find_all(folded, t):
                j = i + len(t)
                out.append({
                    "start": i, "end": j, "exact": orig[i:j],
                    "prefix": orig[max(0, i - context):i], "suffix": orig[j:j + context],
                    "boxes": [list(b) for b in line_boxes(boxes, i, j)] if len(boxes) == len(orig) else [],
                })
        out.sort(key=lambda m: m["start"])
        return out

    def _page_hit(self, rowid: int, terms: list[str]) -> dict[str, Any]:
        row = self._page_row(rowid)
        ms = self.matches(row, terms)
        return {"canvas_id": row["canvas_id"], "canvas": row["canvas_uri"], "label": row["label"],
                "order": rowid & ((1 << ROWID_SHIFT) - 1), "matches": ms[:5], "n_matches": len(ms)}

    # -- one item (IIIF Content Search) -------------------------------------------------------
    def item(self, item_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM items WHERE item_id = ?", (item_id,)).fetchone()
        return {k: row[k] for k in row.keys()} if row else None

    def search_item(self, item_id: str, query: str, *, max_hits: int = 1000) -> tuple[list[dict[str, Any]], int]:
        """All matches of the text terms of ``query`` in one item: (hits, total)."""
        q = parse_query(query)
        it = self.item(item_id)
        if it is None or not q.terms:
            return [], 0
        lo = it["rowid"] << ROWID_SHIFT
        hi = ((it["rowid"] + 1) << ROWID_SHIFT) - 1
        hits: list[dict[str, Any]] = []
        total = 0
        for (rowid,) in self.db.execute(
                "SELECT rowid FROM pages_fts WHERE pages_fts MATCH ? AND rowid BETWEEN ? AND ?",
                (self._text_expr(q), lo, hi)).fetchall():
            row = self._page_row(rowid)
            for m in self.matches(row, q.terms):
                total += 1
                if len(hits) < max_hits:
                    hits.append({**m, "canvas": row["canvas_uri"], "canvas_id": row["canvas_id"]})
        return hits, total

    # -- statistics ---------------------------------------------------------------------------
    def items_rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM items ORDER BY rowid")]

    def grade_counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.db.execute("SELECT grade, books FROM grade_counts ORDER BY grade")}

    def meta(self) -> dict[str, Any]:
        return {r[0]: json.loads(r[1]) if r[0] != "version" else r[1] for r in self.db.execute("SELECT key, value FROM meta")}
