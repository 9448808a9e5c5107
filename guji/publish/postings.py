"""Positional postings of the search index: where each folded character is read (docs/search.md).

Every indexed character position of the collection has a *key*: its page's start offset (pages laid
end to end in the order they were indexed) plus its position on the page. Per folded character the
file keeps the sorted keys where it is the recogniser's **top-1** reading, and apart from those the
sorted keys where it is one of the kept **candidates**: one contiguous array per kind plus an
offsets table per character (``chars`` sorted by code point, ``offs[k]:offs[k+1]`` = character
*k*'s slice). A phrase ``c0 c1 … cn-1`` starts at key *s* when ``s + i`` is among ``ci``'s keys for
every *i*: the arrays are intersected, shifted, starting from the rarest character, window by
window (so a query can stop once it has enough pages), and a start is kept only when the phrase
ends on the same page (never across pages).

File ``index.postings`` beside ``index.sqlite``: ``GUJIPOST`` + 8-byte header length + a JSON
header (format, the build id also stored in the SQLite file, per array its offset, dtype and
length) + the arrays, 64-byte aligned, opened with ``numpy.memmap`` (zero copy, read only).

Building is one stable sort of all top-1 character ids (their keys are the sort order itself) and
one of all candidates; no per-character insert.
"""

from __future__ import annotations

import hashlib
import json
import os
from array import array
from bisect import bisect_left
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

MAGIC = b"GUJIPOST"
FORMAT = 1
WINDOW = 1 << 18  # postings of the rarest character handled per step (at most)
FIRST_WINDOW = 1 << 13  # … in the first step


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """The distinct values of a sorted array."""
    if a.size < 2:
        return a
    keep = np.empty(a.size, bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def _codes(s: str) -> np.ndarray:
    return np.frombuffer(s.encode("utf-32-le", "surrogatepass"), np.uint32)


def _group(codes: np.ndarray, keys: np.ndarray | None, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(chars, offs, keys sorted by character then key)``; ``keys`` None = ``arange`` (top-1:
    the stable sort's order is the keys)."""
    if codes.size == 0:
        return np.zeros(0, np.uint32), np.zeros(1, np.int64), np.zeros(0, dtype)
    counts = np.bincount(codes, minlength=0)
    chars = np.flatnonzero(counts).astype(np.uint32)
    if chars.size <= 65536:  # dense ids of 16 bits: numpy's stable sort is a radix sort then
        lut = np.zeros(counts.size, np.uint16)
        lut[chars] = np.arange(chars.size, dtype=np.uint16)
        order = np.argsort(lut[codes], kind="stable")
    else:
        order = np.argsort(codes, kind="stable")
    offs = np.zeros(chars.size + 1, np.int64)
    np.cumsum(counts[chars], out=offs[1:])
    out = order.astype(dtype) if keys is None else keys[order].astype(dtype)
    return chars, offs, out


def _bounds(k: np.ndarray, a: int, b: int) -> tuple[int, int]:
    """Slice of sorted ``k`` holding the keys in ``[a, b)`` (the bounds in ``k``'s own dtype: a
    search with int64 values would copy a uint32 array whole)."""
    top = np.iinfo(k.dtype).max
    v = np.array((min(max(a, 0), top), min(max(b, 0), top)), dtype=k.dtype)
    i, j = np.searchsorted(k, v)
    if b > top:
        j = k.size
    return int(i), int(j)


class PostingsWriter:
    """Collect pages (in index order) and write the postings file (:meth:`write`)."""

    def __init__(self) -> None:
        self.rowids: list[int] = []
        self.lengths: list[int] = []
        self.texts: list[str] = []
        self.cand_chars: list[str] = []
        self.cand_pos = array("H")
        self.cand_pages: list[int] = []  # page index per page with candidates …
        self.cand_counts: list[int] = []  # … and how many
        self.offset = 0
        self.arrays: dict[str, np.ndarray] | None = None
        self._digest = ""

    def add(self, rowid: int, folded: str, alt_chars: str = "", alt_pos: Sequence[int] | None = None) -> None:
        """One page: its folded top-1 text and its kept candidates (folded, positions ascending;
        those past the text are dropped, as in the lattice). Gathered; sorted once at the end."""
        n = len(folded)
        self.rowids.append(rowid)
        self.lengths.append(n)
        self.texts.append(folded)
        m = len(alt_chars) if alt_chars and alt_pos is not None else 0
        if m and alt_pos[m - 1] >= n:
            m = bisect_left(alt_pos, n, 0, m)
        if m:
            self.cand_chars.append(alt_chars[:m])
            self.cand_pos.extend(alt_pos[:m])
            self.cand_pages.append(len(self.rowids) - 1)
            self.cand_counts.append(m)
        self.offset += n

    def digest(self) -> str:
        """Sort everything added (:meth:`finish`) and return the digest of the postings (the
        build id of the file: the same pages give the same file)."""
        self.finish()
        return self._digest

    def finish(self) -> None:
        if self.arrays is not None:
            return
        total = self.offset
        dtype = np.uint32 if total < (1 << 32) - 1 else np.uint64
        starts = np.zeros(len(self.lengths) + 1, np.int64)
        np.cumsum(np.asarray(self.lengths, np.int64), out=starts[1:])
        top = _codes("".join(self.texts))
        self.texts.clear()
        h = hashlib.blake2b(digest_size=16)
        arrays: dict[str, np.ndarray] = {"page_rowid": np.asarray(self.rowids, np.int64), "page_start": starts}
        arrays["top_chars"], arrays["top_offs"], arrays["top_keys"] = _group(top, None, dtype)
        del top
        cc = _codes("".join(self.cand_chars))
        ck = np.frombuffer(self.cand_pos, np.uint16).astype(np.int64) if len(self.cand_pos) else np.zeros(0, np.int64)
        if ck.size:
            ck += np.repeat(starts[np.asarray(self.cand_pages, np.int64)], np.asarray(self.cand_counts, np.int64))
        self.cand_chars.clear()
        self.cand_pos = array("H")
        arrays["cand_chars"], arrays["cand_offs"], arrays["cand_keys"] = _group(cc, ck, dtype)
        for a in arrays.values():
            h.update(np.ascontiguousarray(a).data)
        self.arrays = arrays
        self._digest = h.hexdigest()

    def write(self, path: str | Path, build_id: str) -> None:
        """Write to ``path`` (the caller renames it into place)."""
        self.finish()
        arrays = self.arrays
        assert arrays is not None
        header: dict = {"format": FORMAT, "id": build_id, "arrays": {}}
        off = 0
        for name, a in arrays.items():
            off = (off + 63) // 64 * 64
            header["arrays"][name] = [off, a.dtype.str, int(a.size)]
            off += a.nbytes
        hb = json.dumps(header).encode()
        base = (16 + len(hb) + 63) // 64 * 64
        with open(path, "wb") as f:
            f.write(MAGIC + len(hb).to_bytes(8, "little") + hb)
            for name, a in arrays.items():
                f.seek(base + header["arrays"][name][0])
                f.write(np.ascontiguousarray(a).tobytes())
            f.truncate(base + off)
            f.flush()
            os.fsync(f.fileno())


class Postings:
    """A postings file opened read-only (memory-mapped)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with open(self.path, "rb") as f:
            head = f.read(16)
            if len(head) < 16 or head[:8] != MAGIC:
                raise ValueError(f"{self.path} is not a guji postings file")
            hb = f.read(int.from_bytes(head[8:], "little"))
        header = json.loads(hb)
        self.format = header.get("format")
        self.id = header.get("id")
        base = (16 + len(hb) + 63) // 64 * 64
        a: dict[str, np.ndarray] = {}
        for name, (off, dt, n) in header["arrays"].items():
            a[name] = np.memmap(self.path, dtype=np.dtype(dt), mode="r", offset=base + off, shape=(n,)) \
                if n else np.zeros(0, np.dtype(dt))
        self.page_rowid = a["page_rowid"]
        self.page_start = np.asarray(a["page_start"])
        self._kinds = {"top": (a["top_chars"], a["top_offs"], a["top_keys"]),
                       "cand": (a["cand_chars"], a["cand_offs"], a["cand_keys"])}
        self._item_ranges: dict[int, tuple[int, int]] | None = None

    def keys(self, ch: str, kind: str = "top") -> np.ndarray:
        """The sorted keys where ``ch`` (folded) is read (``top``) or a candidate (``cand``)."""
        chars, offs, keys = self._kinds[kind]
        c = ord(ch)
        k = int(np.searchsorted(chars, c))
        if k >= chars.size or chars[k] != c:
            return keys[:0]
        return keys[int(offs[k]):int(offs[k + 1])]

    def item_range(self, item_rowid: int, shift: int) -> tuple[int, int]:
        """Key range ``[lo, hi)`` of one item's pages (indexed one after the other)."""
        pg = np.flatnonzero((self.page_rowid >> shift) == item_rowid)
        if pg.size == 0:
            return 0, 0
        return int(self.page_start[pg[0]]), int(self.page_start[pg[-1] + 1])

    def pages_of(self, starts: np.ndarray) -> np.ndarray:
        """Page indexes of keys."""
        return np.searchsorted(self.page_start, starts, side="right") - 1

    def pages_with(self, starts: np.ndarray) -> np.ndarray:
        """The distinct page indexes (sorted) of sorted keys."""
        if starts.size == 0:
            return np.zeros(0, np.int64)
        p0, p1 = (int(v) for v in self.pages_of(starts[[0, -1]]))
        cnt = np.diff(np.searchsorted(starts, self.page_start[p0:p1 + 2]))
        return np.flatnonzero(cnt) + p0

    def phrase(self, t: Sequence[str | None], *, cands: bool = False, lo: int = 0, hi: int | None = None,
               cap_pages: int | None = None, page_ok: Callable[[np.ndarray], np.ndarray] | None = None,
               ) -> tuple[np.ndarray, bool]:
        """Sorted start keys (int64) where ``t`` is read at consecutive positions of one page:
        every character the top-1 reading, or with ``cands`` the top-1 reading or a candidate
        (``None`` in ``t``: any character);
        starts in ``[lo, hi)`` with the whole phrase before ``hi``. With ``cap_pages`` the search
        stops after the window in which that many pages (passing ``page_ok``, a mask over page
        indexes) were found: then ``complete`` is False."""
        n = len(t)
        end = int(self.page_start[-1]) if hi is None else hi
        if n == 0 or end - lo < n:
            return np.zeros(0, np.int64), True
        kinds = ("top", "cand") if cands else ("top",)
        arrs = [[self.keys(c, k) for k in kinds] if c is not None else [] for c in t]
        sizes = [sum(a.size for a in ks) for ks in arrs]
        known = [i for i in range(n) if t[i] is not None]
        if not known or min(sizes[i] for i in known) == 0:
            return np.zeros(0, np.int64), True  # a character never read (all-wildcard phrases: not asked)
        order = sorted(known, key=lambda i: sizes[i])
        r = order[0]
        smax = end - n  # last possible start
        span = smax + 1 - lo
        # windows of the start keys holding about FIRST_WINDOW postings of the rarest character,
        # doubling up to WINDOW: a query that finds its pages early stops early
        full = max(1024, int(span * WINDOW / max(1, sizes[r])) + 1)
        step = max(1024, min(full, int(span * FIRST_WINDOW / max(1, sizes[r])) + 1))
        out: list[np.ndarray] = []
        npages = 0
        a = lo
        while a <= smax:
            b = min(smax + 1, a + step)  # starts [a, b)
            S = self._slice_all(arrs[r], a + r, b + r, -r)
            for i in order[1:]:
                if S.size == 0:
                    break
                S = self._member(S, arrs[i], i, a, b)
            if S.size:
                if len(arrs[r]) > 1:
                    S = sorted_unique(S)
                # the page of each start without a binary search per start: the window's page
                # bounds located in the sorted starts
                p0, p1 = (int(v) for v in self.pages_of(S[[0, -1]]))
                bounds = self.page_start[p0:p1 + 2]
                cnt = np.diff(np.searchsorted(S, bounds))
                pg = np.repeat(np.arange(p0, p1 + 1), cnt)
                ok = S + n <= np.repeat(bounds[1:], cnt)  # the whole phrase on the start's page
                S, pg = S[ok], pg[ok]
                if page_ok is not None and S.size:
                    ok = page_ok(pg)
                    S, pg = S[ok], pg[ok]
                if S.size:
                    out.append(S)
                    if cap_pages is not None:
                        npages += sorted_unique(pg).size
            a = b
            step = min(full, 2 * step)
            if cap_pages is not None and npages >= cap_pages and a <= smax:
                return (np.concatenate(out) if out else np.zeros(0, np.int64)), False
        return (np.concatenate(out) if out else np.zeros(0, np.int64)), True

    @staticmethod
    def _slice_all(ks: list[np.ndarray], a: int, b: int, shift: int) -> np.ndarray:
        parts = []
        for k in ks:
            i, j = _bounds(k, a, b)
            if j > i:
                parts.append(k[i:j].astype(np.int64) + shift)
        if not parts:
            return np.zeros(0, np.int64)
        return parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts))  # sorted: binary searches stay in cache

    @staticmethod
    def _member(S: np.ndarray, ks: list[np.ndarray], i: int, a: int, b: int) -> np.ndarray:
        """The starts ``s`` of ``S`` (all in ``[a, b)``) with ``s + i`` among the keys ``ks``."""
        keep = np.zeros(S.size, bool)
        width = b - a
        mask = None
        for k in ks:
            x, y = _bounds(k, a + i, b + i)
            if y <= x:
                continue
            sl = k[x:y]
            # few starts, or a window much wider than the keys in it: binary search
            if S.size * 8 < sl.size or width > 16 * (S.size + sl.size) or width > (1 << 26):
                q = (S + i).astype(sl.dtype)
                idx = np.searchsorted(sl, q)
                idx[idx >= sl.size] = sl.size - 1
                keep |= sl[idx] == q
            else:  # many: a byte mask over the window
                if mask is None:
                    mask = np.zeros(width, bool)
                mask[sl - sl.dtype.type(a + i)] = True  # in the keys' dtype: no int64 copy
        if mask is not None:
            keep |= mask[S - a]
        return S[keep]
