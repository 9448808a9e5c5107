"""The search index: one SQLite file and its postings file, published with the collection
(docs/search.md).

Design (measured in bench/bench_search.py): the phrase lookup runs on *positional postings*
(:mod:`guji.publish.postings`, ``index.postings`` beside ``index.sqlite``, memory-mapped): per
folded character (:mod:`guji.textfold`) the sorted keys of the positions where it is the
recogniser's top-1 reading and, apart, where it is one of its kept candidates (probability ≥
:data:`ALT_MIN_P`). A phrase is the intersection of its characters' keys, shifted, from the
rarest character on; exact top-1 pages come straight from it. Pages that may match otherwise
(every character read or a candidate; one error in 4+ characters, two in 8+: the readings of
:func:`guji.publish.lattice.plans`, a misread character being any character) are found the same
way over top-1 and candidate keys, at most :data:`VERIFY_CAP` of them, and checked on their
*lattice* string (:mod:`guji.publish.lattice`: per position the top-1 reading and its candidates,
with probabilities), which gives each reading's joint probability; only the hits shown are
turned into matches with text and boxes.

Only the page's **body text** is indexed as such (:func:`guji.pagetext.body_lines`); the centre
column (版心) is in a small FTS5 table (``centre:`` in queries), margin labels are left out;
metadata is in FTS5 too (``items_fts``).

Page rows get ``rowid = item_rowid << 20 | canvas order`` so a hit's item is known without a join
and one item's pages are a rowid range (content search). Per page the index keeps the lattice
(``lat``, ``latp``), the original indexed characters (``orig``) and their boxes in *canvas*
coordinates (packed uint16 ``x, y, w, h, line``): a hit at positions i..j highlights boxes
i..j. Only public items are ever written here.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from array import array
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from guji.pagetext import body_lines, centre_text
from guji.publish import lattice as lat_mod
from guji.publish.lattice import ALT_MIN_P, UNCERTAIN_BELOW, build_lattice
from guji.textfold import compact, fold, fold_char, is_indexed, spaced
from guji.publish.meta import ItemInfo
from guji.publish.postings import Postings, PostingsWriter

INDEX_VERSION = 4  # 4: positional postings file beside the SQLite file (guji/publish/postings.py)
ROWID_SHIFT = 20
SCAN_CAP = 5000  # page hits scanned per query before counts become "at least"
MAX_PLANS = 12  # readings of one term looked up one by one in the postings (else a pigeonhole filter)
VERIFY_CAP = 100  # uncertain (alternative) pages checked per search() query (docs/search.md: p95 at real density)
# when items with exact hits fill the result page, verify only the shown items' uncertain pages:
# measured (docs/search.md), off: p50 a little lower, p95 not, and the counts would be "at least"
SKIP_UNCERTAIN_WHEN_FULL = False
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
    "centre": "centre", "center": "centre", "版心": "centre",
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
  rowid INTEGER PRIMARY KEY, lat TEXT NOT NULL, latp BLOB, canvas_id TEXT NOT NULL, canvas_uri TEXT NOT NULL,
  label TEXT, width INTEGER, height INTEGER, orig TEXT NOT NULL, boxes BLOB, centre TEXT);
CREATE VIRTUAL TABLE centre_fts USING fts5(centre, content='', columnsize=0,
  tokenize='unicode61 remove_diacritics 0');
CREATE TABLE grade_counts(grade TEXT PRIMARY KEY, books INTEGER NOT NULL);
"""


def postings_path(index_path: str | Path) -> Path:
    """The postings file that belongs to an index file (``search/index.postings``)."""
    return Path(index_path).with_suffix(".postings")


class _FoldTable:
    """:func:`fold_char` for every code point as a lookup array, filled 256 code points at a time
    on first use (CJK text touches about a hundred such blocks)."""

    def __init__(self) -> None:
        import numpy as np

        self.lut = np.arange(0x110000, dtype=np.uint32)
        self.known = np.zeros(0x110000 >> 8, dtype=bool)

    def __call__(self, text: str) -> str:
        import numpy as np

        a = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        blocks = a >> 8
        if self.known[blocks].all():
            return self.lut[a].tobytes().decode("utf-32-le", "surrogatepass")
        blocks = np.unique(blocks)
        for b in blocks[~self.known[blocks]].tolist():
            lo = b << 8
            self.lut[lo:lo + 256] = [ord(fold_char(chr(cp))) if not 0xD800 <= cp < 0xE000 else cp
                                     for cp in range(lo, lo + 256)]
            self.known[b] = True
        return self.lut[a].tobytes().decode("utf-32-le", "surrogatepass")


_FOLD: _FoldTable | None = None


def fold_text(text: str) -> str:
    """:func:`guji.textfold.fold` at C speed (same result: one folded character per character)."""
    global _FOLD
    if not text:
        return text
    if _FOLD is None:
        _FOLD = _FoldTable()
    return _FOLD(text)


@dataclass
class PageText:
    """One canvas's indexed characters (original) with canvas-space boxes and line numbers.

    ``confidences`` (optional, one per character) are the recogniser's probabilities of the
    characters; ``alternatives`` (optional, sparse) maps a character position to the
    recogniser's other candidates ``[(char, p), …]``, best first; ``centre`` is the centre
    column's (版心) text, indexed apart from the body.
    """

    canvas_id: str
    canvas_uri: str
    order: int
    chars: str  # original characters (indexed ones only)
    boxes: Sequence[Sequence[int]] | array | bytes = field(default_factory=list)  # x, y, w, h, line (or packed)
    label: str = ""
    width: int = 0
    height: int = 0
    confidences: Sequence[float] | bytes | None = None
    alternatives: Mapping[int, Sequence[tuple[str, float]]] | PackedAlternatives | None = None
    centre: str = ""


@dataclass
class PackedAlternatives:
    """Candidates in the index's own layout: ``chars`` (one per candidate, original form),
    their ``positions`` (uint16) and probabilities ``probs`` (one byte each, p × 255)."""

    chars: str
    positions: array
    probs: bytes


@dataclass
class PageContent:
    """What :func:`page_content_from_ocr` reads from a page model (fields of :class:`PageText`)."""

    text: str
    boxes: array  # packed uint16 x, y, w, h, line per character
    confidences: bytes  # one byte per character, p × 255
    alternatives: PackedAlternatives | None
    centre: str


def pack_boxes(boxes: Sequence[Sequence[int]] | array | bytes) -> bytes:
    """Boxes as uint16 ``x, y, w, h, line`` per character (native byte order), values clamped."""
    if isinstance(boxes, (bytes, bytearray)):
        return bytes(boxes)
    if isinstance(boxes, array):
        return boxes.tobytes()
    try:
        return array("H", chain.from_iterable(boxes)).tobytes()
    except (OverflowError, TypeError):  # negative, > 65535 or float values: clamp
        import numpy as np

        return np.clip(np.rint(np.asarray(boxes, dtype=np.float64)), 0, 65535).astype(np.uint16).tobytes()


def unpack_boxes(blob: bytes | None, i: int = 0, j: int | None = None) -> list[tuple[int, int, int, int, int]]:
    """Boxes ``i..j-1`` (all by default) of a packed blob."""
    if not blob:
        return []
    a = array("H")
    a.frombytes(blob[i * 10:None if j is None else j * 10])
    return [tuple(a[k:k + 5]) for k in range(0, len(a), 5)]  # type: ignore[misc]


def _union(boxes: Sequence[Sequence[int]]) -> tuple[int, int, int, int]:
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    return x0, y0, x1 - x0, y1 - y0


def _along(box: Sequence[float], vertical: bool) -> tuple[float, float]:
    return (box[1], box[1] + box[3]) if vertical else (box[0], box[0] + box[2])


def _no_overlap(cboxes: list[list[float]], vertical: bool) -> None:
    """Make a line's character boxes follow each other without overlapping (in place).

    A character's box starts where the previous one ends when they overlap: recognisers that
    place characters by CTC time steps can give a box that begins inside the previous character
    (guji's rapidocr decoding did, half a character early), so a highlight would cover two
    characters. The end of each box is kept: it is where the recogniser saw the character.
    """
    for k in range(1, len(cboxes)):
        s0, e0 = _along(cboxes[k - 1], vertical)
        s, e = _along(cboxes[k], vertical)
        if s < e0 < e:
            if vertical:
                cboxes[k] = [cboxes[k][0], e0, cboxes[k][2], e - e0]
            else:
                cboxes[k] = [e0, cboxes[k][1], e - e0, cboxes[k][3]]


def ink_boxes(grey: Any, boxes: list[tuple[int, int, int, int]], vertical: bool,
              scale: float = 1.0) -> list[tuple[int, int, int, int]]:
    """A line's character boxes (canvas px) fitted to the printed characters' em squares.

    ``grey`` is the canvas image (greyscale, possibly reduced by ``scale``); ink is what Otsu's
    threshold of the line's crop calls dark. Across the reading direction the line's ink extent
    is the em (columns of the crop dark over ≥ 85 % of its length — column rules, frame lines —
    are not text); Chinese characters are set in square ems, so along the line each box is one
    em centred on the inked extent of its own cell (on the cell when it has none). Lines whose ink cannot
    be told keep their boxes."""
    import cv2
    import numpy as np

    if not boxes:
        return boxes
    x, y, w, h = (int(round(v * scale)) for v in _union(boxes))
    H, W = grey.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return boxes
    _, ink = cv2.threshold(np.ascontiguousarray(grey[y0:y1, x0:x1]), 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if not vertical:
        ink = ink.T
        x0, y0, x1, y1 = y0, x0, y1, x1
    length = ink.shape[0]
    prof = ink.sum(axis=0)
    text = np.flatnonzero((prof >= max(1, 0.02 * length)) & (prof < 0.85 * length))
    if text.size == 0:
        return boxes
    a0, a1 = int(text[0]), int(text[-1]) + 1
    em = a1 - a0
    if em < 0.5 * (x1 - x0):
        return boxes
    band = ink[:, a0:a1]
    # printed characters along the line: runs of inked rows, merged while the merged extent stays
    # within an em (so 言 or 晶, whose strokes leave blank rows, stay one character, and two
    # neighbours, an em plus a gap apart, stay two); their middles are where the ems sit
    occupied = np.flatnonzero(band.any(axis=1))
    groups: list[list[int]] = []
    if occupied.size:
        breaks = np.flatnonzero(np.diff(occupied) > 1)
        starts = np.concatenate(([occupied[0]], occupied[breaks + 1]))
        ends = np.concatenate((occupied[breaks], [occupied[-1]])) + 1
        for r0, r1 in zip(starts.tolist(), ends.tolist()):
            if groups and r1 - groups[-1][0] <= 1.15 * em:
                groups[-1][1] = r1
            else:
                groups.append([r0, r1])
    mids = np.array([(g0 + g1) / 2 for g0, g1 in groups]) if groups else np.zeros(0)
    out = []
    for b in boxes:
        s, l = (b[1], b[3]) if vertical else (b[0], b[2])
        c0 = max(0, int(round(s * scale)) - y0)
        c1 = min(length, int(round((s + l) * scale)) - y0)
        centre = (c0 + c1) / 2
        k = int(np.argmin(np.abs(mids - centre))) if mids.size else -1
        if k >= 0 and abs(mids[k] - centre) <= 0.5 * em:
            mid = float(mids[k])  # the printed character nearest to where the recogniser put it
        else:
            rows = np.flatnonzero(band[c0:c1].any(axis=1))
            mid = c0 + (rows[0] + rows[-1] + 1) / 2 if rows.size else centre
        along = ((y0 + mid - em / 2) / scale, em / scale)
        across = ((x0 + a0) / scale, em / scale)
        nb = (across[0], along[0], across[1], along[1]) if vertical else (along[0], across[0], along[1], across[1])
        out.append(tuple(int(round(v)) for v in nb))
    return out


def page_content_from_ocr(doc: dict[str, Any], to_canvas=None, *, min_p: float = ALT_MIN_P,
                          image: Any = None, image_scale: float = 1.0) -> PageContent:
    """The body text of an OCR page model (:func:`guji.pagetext.body_lines`): indexed characters,
    their boxes mapped with ``to_canvas`` (an affine master → canvas pixels; chars without boxes
    get their line's box), the recogniser's probabilities and alternatives (those ≥ ``min_p``),
    and the centre column's text.

    With ``image`` (the canvas in greyscale, reduced by ``image_scale``) the boxes are narrowed
    across the reading direction to the line's ink (:func:`ink_boxes`): the detector's line
    boxes are padded, so highlights would spill into the margins between columns."""
    from guji.model import box_to_master

    def m(box):
        if not box:
            return (0, 0, 0, 0)
        return box_to_master(to_canvas, tuple(box)) if to_canvas is not None else tuple(int(round(v)) for v in box)

    chars: list[str] = []
    boxes = array("H")
    confs: list[float] = []
    alt_chars: list[str] = []
    alt_pos = array("H")
    alt_p: list[float] = []
    line_no = 0
    for _region, line in body_lines(doc):
        lbox = m(line.get("box"))
        cs = line.get("chars") or []
        if cs:
            raw = [list(c["box"]) if c.get("box") else None for c in cs]
            known = [b for b in raw if b is not None]
            if len(known) == len(raw):
                _no_overlap(known, (line.get("direction") or "ttb") == "ttb")
                raw = known
            vertical = (line.get("direction") or "ttb") == "ttb"
            cboxes = [m(b) if b else lbox for b in raw]
            if image is not None and cboxes:
                cboxes = ink_boxes(image, cboxes, vertical, image_scale)
            seq = [(c.get("text", ""), b, c.get("confidence"), c.get("alternatives")) for c, b in zip(cs, cboxes)]
        else:
            seq = [(c, lbox, line.get("confidence"), None) for c in line.get("text", "")]
        for text, box, conf, calts in seq:
            for ch in text:  # a char entry may hold more than one code point (rare)
                if is_indexed(fold_char(ch)):
                    if calts and len(text) == 1:
                        kept = {fold_char(ch)}
                        for a, p in sorted(calts, key=lambda ap: -ap[1]):
                            fa = fold_char(a) if len(a) == 1 else ""
                            if p >= min_p and fa not in kept and is_indexed(fa) and len(kept) <= lat_mod.ALT_MAX:
                                kept.add(fa)
                                alt_chars.append(a)
                                alt_pos.append(min(len(chars), 65535))
                                alt_p.append(float(p))
                    chars.append(ch)
                    boxes.extend(max(0, min(65535, int(v))) for v in (*box, line_no))
                    confs.append(1.0 if conf is None else float(conf))
        line_no += 1
    alts = PackedAlternatives("".join(alt_chars), alt_pos, _pack_probs(alt_p, len(alt_p)) or b"") if alt_chars else None
    return PageContent("".join(chars), boxes, _pack_probs(confs, len(confs)) or b"", alts, centre_text(doc))


def _pack_probs(confs: Sequence[float] | None, n: int) -> bytes | None:
    """Top-1 probabilities, one byte each (p × 255)."""
    if confs is None:
        return None
    if isinstance(confs, (bytes, bytearray)):
        return bytes(confs[:n])
    import numpy as np

    return (np.clip(np.asarray(confs[:n], dtype=np.float64), 0.0, 1.0) * 255 + 0.5).astype(np.uint8).tobytes()


def _pack_alts(alternatives: Mapping[int, Sequence[tuple[str, float]]] | PackedAlternatives | None,
               text: str = "") -> tuple[str, str, Any, bytes]:
    """``text`` folded, and the recogniser's candidates as folded characters, positions and
    probabilities (one byte each); one fold for both."""
    if not alternatives:
        return fold_text(text), "", None, b""
    if isinstance(alternatives, PackedAlternatives):  # positions ascending (page_content_from_ocr)
        raw, pos, probs = alternatives.chars, alternatives.positions, alternatives.probs
    else:
        import numpy as np

        flat = [(k, c, p) for k, cands in sorted(alternatives.items()) for c, p in cands if len(c) == 1]
        if not flat:
            return fold_text(text), "", None, b""
        ks, cs, ps = zip(*flat)
        raw, pos = "".join(cs), array("H", ks)
        probs = (np.clip(np.asarray(ps, dtype=np.float64), 0.0, 1.0) * 255 + 0.5).astype(np.uint8).tobytes()
    both = fold_text(text + raw)
    chars = both[len(text):]
    return both[:len(text)], chars, pos, probs


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
        self.postings = PostingsWriter()
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
            folded, alt_chars, alt_pos, alt_probs = _pack_alts(p.alternatives, p.chars)
            lat, latp = build_lattice(folded, _pack_probs(p.confidences, len(p.chars)), alt_chars, alt_pos, alt_probs)
            centre = compact(p.centre) if p.centre else ""
            page_rows.append((prow, lat, latp, p.canvas_id, p.canvas_uri, p.label, p.width, p.height, p.chars,
                              pack_boxes(p.boxes), p.centre or None))
            self.postings.add(prow, folded, alt_chars, alt_pos)
            if centre:
                fts_rows.append((prow, " ".join(centre)))
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
            self.db.executemany("INSERT INTO pages VALUES (?,?,?,?,?,?,?,?,?,?,?)", page_rows)
            self.db.executemany("INSERT INTO centre_fts(rowid, centre) VALUES (?,?)", fts_rows)
            page_rows.clear()
            fts_rows.clear()

    def set_meta(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value, ensure_ascii=False)))

    def close(self, optimize: bool = True) -> None:
        self.db.executemany("INSERT INTO grade_counts VALUES (?, ?)", sorted(self.grades.items()))
        # the pair's id: a digest of what the postings hold, so an unchanged collection gives
        # byte-identical files (publish uploads nothing) and a mismatched pair is refused
        self.build_id = self.postings.digest()
        self.db.execute("INSERT INTO meta VALUES ('postings', ?)", (self.build_id,))
        self.db.execute("COMMIT")
        if optimize:
            self.db.execute("INSERT INTO centre_fts(centre_fts) VALUES ('optimize')")
            self.db.execute("INSERT INTO items_fts(items_fts) VALUES ('optimize')")
        # no VACUUM: the file is written once, in rowid order; only FTS5's merged segments leave
        # free pages (~4 % of the file), and rewriting the whole file cost ~10 % of the build
        self.db.close()
        ptmp = self.tmp.with_name(self.tmp.name + ".postings")
        self.postings.write(ptmp, self.build_id)
        self.postings = PostingsWriter()
        # the postings first: a reader opening the old SQLite file meanwhile sees another build id
        # and asks for a reload instead of mixing the two
        os.replace(ptmp, postings_path(self.path))
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
    centre: list[str] = field(default_factory=list)  # folded compact terms in the centre column (版心)

    @property
    def empty(self) -> bool:
        return not (self.terms or self.fields or self.year or self.item or self.centre)


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
        if fname == "centre":
            out.centre.append(c)
        elif fname:
            out.fields.setdefault(fname, []).append(c)
        else:
            out.terms.append(c)
    return out


def _phrase(c: str) -> str:
    return '"' + " ".join(c) + '"'


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
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        except sqlite3.DatabaseError:
            row = None
        if row is None or row[0] != str(INDEX_VERSION):
            from guji.errors import NotReady

            self.db.close()
            raise NotReady(f"search index {self.path} is format {row[0] if row else 'unknown'}; this guji reads "
                           f"format {INDEX_VERSION}: run `guji publish` again to rebuild it")
        pid = self.db.execute("SELECT value FROM meta WHERE key = 'postings'").fetchone()
        ppath = postings_path(self.path)
        try:
            self.postings = Postings(ppath)
        except (OSError, ValueError) as e:
            from guji.errors import NotReady

            self.db.close()
            raise NotReady(f"search index {self.path}: its postings file {ppath} cannot be read ({e}): "
                           f"run `guji publish` again to rebuild the index") from e
        if pid is None or self.postings.id != pid[0]:
            from guji.errors import NotReady

            self.db.close()
            raise NotReady(f"search index {self.path} and its postings file {ppath} are from different builds "
                           f"(an index being replaced?): open it again, or run `guji publish` to rebuild it")
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

    def _centre_rows(self, q: Query, lo: int = 0, hi: int = (1 << 62)) -> set[int] | None:
        """Page rowids whose centre column (版心) has every ``centre:`` term; None = no such term."""
        if not q.centre:
            return None
        expr = " AND ".join(_phrase(t) for t in q.centre)
        return {r for (r,) in self.db.execute(
            "SELECT rowid FROM centre_fts WHERE centre_fts MATCH ? AND rowid BETWEEN ? AND ?", (expr, lo, hi))}

    def _page_ok(self, allowed: set[int] | None, centre: set[int] | None):
        """A mask function over page indexes of the postings for the item filter and centre terms."""
        if allowed is None and centre is None:
            return None
        import numpy as np

        rowids = self.postings.page_rowid
        al = np.fromiter(allowed, np.int64) if allowed is not None else None
        ce = np.fromiter(centre, np.int64) if centre is not None else None

        def ok(pg):
            r = np.asarray(rowids[pg])
            m = np.ones(r.size, bool)
            if al is not None:
                m &= np.isin(r >> ROWID_SHIFT, al)
            if ce is not None:
                m &= np.isin(r, ce)
            return m
        return ok

    def _n_keys(self, c: str) -> int:
        return self.postings.keys(c, "top").size + self.postings.keys(c, "cand").size

    def _term_pages(self, t: Sequence[str | None], *, cands: bool = False, lo: int = 0, hi: int | None = None,
                    cap: int | None = None, page_ok=None) -> tuple[Any, bool]:
        """Sorted page indexes (postings order) where term ``t`` is read (see :meth:`Postings.phrase`)."""
        starts, complete = self.postings.phrase(t, cands=cands, lo=lo, hi=hi, cap_pages=cap, page_ok=page_ok)
        return self.postings.pages_with(starts), complete

    def _text_pages(self, q: Query, allowed: set[int] | None, cap: int | None, lo: int = 0,
                    hi: int | None = None) -> tuple[Any, bool]:
        """Page indexes whose top-1 text has every term (and centre column every ``centre:`` term),
        sorted; complete = not stopped at ``cap`` pages."""
        import numpy as np

        centre = self._centre_rows(q)
        ok = self._page_ok(allowed, centre)
        if not q.terms:
            pg = np.flatnonzero(ok(np.arange(self.postings.page_rowid.size))) if ok else np.zeros(0, np.int64)
            return (pg[:cap], pg.size <= cap) if cap is not None else (pg, True)
        terms = sorted(set(q.terms), key=len, reverse=True)
        pages, complete = self._term_pages(terms[0], lo=lo, hi=hi, cap=cap if len(terms) == 1 else None,
                                           page_ok=ok)
        for t in terms[1:]:
            if pages.size == 0:
                break
            more, _ = self._term_pages(t, lo=lo, hi=hi, page_ok=ok)
            pages = np.intersect1d(pages, more)
        if cap is not None and pages.size > cap:
            pages, complete = pages[:cap], False
        return pages, complete

    def _exact_pages(self, q: Query, allowed: set[int] | None, cap: int) -> tuple[dict[int, list[int]], bool, Any]:
        """Pages whose top-1 text has every term, by item: item rowid → page rowids; at most
        about ``cap`` pages; complete = all were found; their page indexes."""
        pages, complete = self._text_pages(q, allowed, cap)
        out: dict[int, list[int]] = {}
        for r in self.postings.page_rowid[pages].tolist():
            out.setdefault(r >> ROWID_SHIFT, []).append(r)
        return out, complete, pages

    def _uncertain_pages(self, q: Query, allowed: set[int] | None, *, lo: int = 0,
                         hi: int | None = None, cap: int | None = None,
                         exact: Any = None) -> tuple[dict[int, float], bool]:
        """Pages without an exact hit where every term matches through the recogniser's candidates
        or with an allowed error: rowid → best joint probability of a reading; and whether all
        candidate pages were checked. The postings find the pages where a reading allowed by
        :func:`guji.publish.lattice.plans` is there (each a phrase whose characters may be
        candidates, ``None`` = any character); past :data:`MAX_PLANS` readings (two errors in
        long phrases) the pages where one third of the phrase is intact. At most ``cap`` of them,
        in index order, are checked on their lattice (:func:`guji.publish.lattice.find`), which
        gives each reading's probability."""
        import numpy as np

        if cap is None:
            cap = VERIFY_CAP
        centre = self._centre_rows(q)
        ok = self._page_ok(allowed, centre)
        if exact is None:
            exact, _ = self._text_pages(q, allowed, None, lo, hi)
        complete = True
        cand_sets = []
        for t in dict.fromkeys(q.terms):
            n = len(t)
            parts: list = [steps for steps, _c in lat_mod.plans(t, True, lat_mod.rules())]
            if len(parts) > 1 and None in parts[1]:  # the phrase itself: within any one-misread reading
                parts = parts[1:]
            if len(parts) > MAX_PLANS:  # two errors: one third of the phrase is intact
                k = n // 3
                parts = [t[:k], t[k:n - k], t[n - k:]]
            # the readings whose rarest character is commonest first: they find the most pages
            parts.sort(key=lambda steps: -min(self._n_keys(c) for c in steps if c is not None))
            found = []
            got = 0
            for part in parts:
                # enough pages that ``cap`` of them are not exact pages
                pg, done = self._term_pages(part, cands=True, lo=lo, hi=hi, cap=cap + exact.size, page_ok=ok)
                found.append(pg)
                complete = complete and done
                if len(q.terms) == 1 and len(parts) > 1:
                    got = np.setdiff1d(np.unique(np.concatenate(found)), exact, assume_unique=True).size
                    if got >= cap:  # enough pages to check: the rest would only be counted
                        complete = False
                        break
            cand_sets.append(np.unique(np.concatenate(found)) if len(found) > 1 else found[0])  # small
        pages = cand_sets[0]
        for c in cand_sets[1:]:
            pages = np.intersect1d(pages, c)
        pages = np.setdiff1d(pages, exact, assume_unique=True)
        if pages.size > cap:
            pages, complete = pages[:cap], False
        out: dict[int, float] = {}
        rowids = self.postings.page_rowid[pages].tolist()
        for i in range(0, len(rowids), 500):
            chunk = rowids[i:i + 500]
            for rowid, lat, latp in self.db.execute(
                    f"SELECT rowid, lat, latp FROM pages WHERE rowid IN ({','.join('?' * len(chunk))})", chunk):
                best = 1.0
                for t in q.terms:
                    ms = lat_mod.find(lat, latp, t)
                    if not ms:
                        best = 0.0
                        break
                    best *= max(m[2] for m in ms)
                if best > 0:
                    out[rowid] = best
        return out, complete

    def search(self, query: str | Query, *, limit: int = 20, offset: int = 0, hits_per_item: int = 3,
               scan_cap: int = SCAN_CAP, alternatives: bool = True) -> dict[str, Any]:
        """Items matching ``query`` (text in pages or in metadata, plus filters), with page hits and facets.

        Pages where the phrase is the recogniser's top-1 reading come first; with ``alternatives``
        pages where it matches only through the recogniser's other candidates follow, marked
        ``uncertain`` with their joint probability (docs/search.md)."""
        q = parse_query(query) if isinstance(query, str) else query
        allowed = self._filtered_items(q)
        page_hits: dict[int, str] = {}
        uncertain_hits: dict[int, list[tuple[float, int]]] = {}
        n_page_hits = n_uncertain = 0
        exact = True
        meta_items: set[int] = set()
        text = bool(q.terms or q.centre)
        if text:
            page_hits, exact, exact_pages = self._exact_pages(q, allowed, scan_cap)
            n_page_hits = sum(len(v) for v in page_hits.values())
            if q.terms and not q.centre:
                meta_items = {r[0] for r in self.db.execute("SELECT rowid FROM items_fts WHERE items_fts MATCH ?",
                                                            (" AND ".join(_phrase(t) for t in q.terms),))}
            if allowed is not None:
                meta_items &= allowed
            if alternatives and q.terms and exact:
                firsts = sorted(set(page_hits) | meta_items)
                scope = allowed
                if SKIP_UNCERTAIN_WHEN_FULL and len(firsts) >= offset + limit:
                    # items with exact or metadata hits fill the result page: only the shown items'
                    # uncertain pages can change it; the counts become "at least"
                    scope, exact = set(firsts[offset:offset + limit]), False
                unc, complete = self._uncertain_pages(q, scope, exact=exact_pages)
                exact = exact and complete
                for rowid, p in unc.items():
                    uncertain_hits.setdefault(rowid >> ROWID_SHIFT, []).append((p, rowid))
                n_uncertain = len(unc)
            firsts = sorted(set(page_hits) | meta_items)
            rest = sorted((it for it in uncertain_hits if it not in page_hits and it not in meta_items),
                          key=lambda it: (-max(uncertain_hits[it])[0], it))
            item_ids = firsts + rest
        elif allowed is not None:
            item_ids = sorted(allowed)
        else:
            item_ids = [r[0] for r in self.db.execute("SELECT rowid FROM items ORDER BY rowid")]
        facets = self._facets(item_ids)
        shown = item_ids[offset:offset + limit]
        results = []
        for rid in shown:
            row = self._row("SELECT * FROM items WHERE rowid = ?", (rid,))
            d = {k: row[k] for k in row if k != "rowid"}
            hits = sorted(page_hits.get(rid, []))
            unc = sorted(uncertain_hits.get(rid, []), key=lambda pr: (-pr[0], pr[1]))
            d["page_hits"] = len(hits) + len(unc)
            d["exact_page_hits"] = len(hits)
            d["uncertain_page_hits"] = len(unc)
            d["metadata_match"] = rid in meta_items
            rows = (hits + [r for _, r in unc])[:hits_per_item]
            d["pages_found"] = [self._page_hit(r, q.terms, alternatives=alternatives) for r in rows]
            results.append(d)
        return {
            "query": query if isinstance(query, str) else None,
            "parsed": {"terms": q.terms, "fields": q.fields, "year": list(q.year) if q.year else None,
                       "item": q.item, "centre": q.centre},
            "total_items": len(item_ids), "total_page_hits": n_page_hits + n_uncertain,
            "total_exact_page_hits": n_page_hits, "total_uncertain_page_hits": n_uncertain,
            "counts_exact": exact, "offset": offset, "limit": limit, "items": results, "facets": facets,
        }

    def _row(self, sql: str, args: tuple) -> dict[str, Any]:
        r = self.db.execute(sql, args).fetchone()
        return {k: r[k] for k in r.keys()} if r is not None else {}

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

    def _found(self, row: Any, terms: list[str], alternatives: bool) -> list[tuple[int, int, float, bool, str]]:
        """``(start, end, probability, alternative, reading)`` of every match on a page, once each,
        in result order: top-1 readings by position, then the others most probable first."""
        seen: set[tuple[int, int]] = set()
        out = []
        for t in terms:
            for i, j, p, alt in lat_mod.find(row["lat"], row["latp"], t, alternatives=alternatives):
                if (i, j) not in seen:
                    seen.add((i, j))
                    out.append((i, j, p, alt, t))
        out.sort(key=lambda m: (m[3], -m[2] if m[3] else m[0], m[0]))
        return out

    @staticmethod
    def _match(row: Any, m: tuple[int, int, float, bool, str], context: int) -> dict[str, Any]:
        i, j, p, alt, t = m
        orig, blob = row["orig"], row["boxes"]
        return {
            "start": i, "end": j, "exact": orig[i:j],
            "prefix": orig[max(0, i - context):i], "suffix": orig[j:j + context],
            "boxes": [list(b) for b in line_boxes(unpack_boxes(blob, i, j), 0, j - i)]
            if blob and len(blob) // 10 == len(orig) else [],
            "reading": t, "probability": round(p, 4), "alternative": alt,
            "uncertain": alt or p < UNCERTAIN_BELOW,
        }

    def matches(self, row: Any, terms: list[str], context: int = 10, *,
                alternatives: bool = True) -> list[dict[str, Any]]:
        """Every occurrence of every term on a page, once each: exact/prefix/suffix text, canvas
        boxes, the reading found, its joint probability and whether it is uncertain."""
        return [self._match(row, m, context) for m in self._found(row, terms, alternatives)]

    def _page_hit(self, rowid: int, terms: list[str], *, alternatives: bool = True, shown: int = 5) -> dict[str, Any]:
        row = self._page_row(rowid)
        found = self._found(row, terms, alternatives)
        ms = [self._match(row, m, 10) for m in found[:shown]]
        return {"canvas_id": row["canvas_id"], "canvas": row["canvas_uri"], "label": row["label"],
                "order": rowid & ((1 << ROWID_SHIFT) - 1), "matches": ms, "n_matches": len(found),
                "uncertain": bool(found) and all(m[3] or m[2] < UNCERTAIN_BELOW for m in found),
                "probability": round(max(m[2] for m in found), 4) if found else None}

    # -- one item (IIIF Content Search) -------------------------------------------------------
    def item(self, item_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM items WHERE item_id = ?", (item_id,)).fetchone()
        return {k: row[k] for k in row.keys()} if row else None

    def search_item(self, item_id: str, query: str, *, max_hits: int = 1000,
                    alternatives: bool = True) -> tuple[list[dict[str, Any]], int]:
        """All matches of the text terms of ``query`` in one item, each once: (hits, total).

        Matches on the recogniser's top-1 reading come first in page order, then matches through
        its other candidates (``uncertain``), most probable first."""
        q = parse_query(query)
        it = self.item(item_id)
        if it is None or not q.terms:
            return [], 0
        lo, hi = self.postings.item_range(it["rowid"], ROWID_SHIFT)
        exact, _ = self._text_pages(q, None, None, lo, hi)
        rows = self.postings.page_rowid[exact].tolist()
        if alternatives:
            unc, _ = self._uncertain_pages(q, None, lo=lo, hi=hi, cap=1 << ROWID_SHIFT, exact=exact)
            rows += sorted(unc)
        certain: list[dict[str, Any]] = []
        uncertain: list[dict[str, Any]] = []
        for rowid in sorted(set(rows)):
            row = self._page_row(rowid)
            for m in self.matches(row, q.terms, alternatives=alternatives):
                (uncertain if m["alternative"] else certain).append(
                    {**m, "canvas": row["canvas_uri"], "canvas_id": row["canvas_id"]})
        uncertain.sort(key=lambda h: -h["probability"])
        hits = certain + uncertain
        return hits[:max_hits], len(hits)

    # -- statistics ---------------------------------------------------------------------------
    def items_rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM items ORDER BY rowid")]

    def grade_counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.db.execute("SELECT grade, books FROM grade_counts ORDER BY grade")}

    def meta(self) -> dict[str, Any]:
        return {r[0]: json.loads(r[1]) if r[0] != "version" else r[1] for r in self.db.execute("SELECT key, value FROM meta")}
