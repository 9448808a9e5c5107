"""A page's reading lattice for search: the folded top-1 reading and the recogniser's candidates in
one string, matched by compiled regular expressions (docs/search.md, "How a phrase matches").

Layout (built once per page at index time, :func:`build_lattice`)::

    |万|历萬|三|年午平|…|

one *segment* per character position, segments separated (and enclosed) by ``|``: the segment's
first character is the folded top-1 reading, the others are the recogniser's kept candidates
(folded). ``|`` is never an indexed character (:func:`guji.textfold.is_indexed`). Beside the
string, ``latp`` holds the probabilities (× 255, one byte each): the top-1 readings', then the
candidates' in string order. Position *i* of the page's indexed text is segment *i*.

A query term becomes one regular expression (:func:`pattern`, cached) whose branches are the
readings allowed, tried in order at every segment start: the term on the top-1 text or its
candidates first, then (phrases of :data:`FUZZY_MIN_LEN`+ characters) one character misread
(any segment), one inner character not read (segment missing), one extra character read
(an extra segment), and for :data:`FUZZY_TWO_LEN`+ characters two misread. The matching runs
in C (``re``); Python only walks the few segments of each match to compute its joint
probability.
"""

from __future__ import annotations

import re
from array import array
from functools import lru_cache
from typing import Any, Sequence

SEP = "|"
ALT_MIN_P = 0.02  # recogniser candidates below this probability are not indexed (bench/bench_recall.py)
ALT_MAX = 4  # at most this many candidates per position (the recogniser gives its top 5)
UNCERTAIN_BELOW = 0.5  # a match whose reading has a lower joint probability is marked uncertain
FUZZY_MIN_LEN = 4  # phrases this long (0 = never) also match with one character misread
FUZZY_DELETIONS = True  # … or with one inner character not read
FUZZY_EDGE_DELETIONS = False  # … or with its first or last character not read
FUZZY_INSERTIONS = False  # … or with one extra character read inside the phrase
FUZZY_TWO_LEN = 8  # phrases this long (0 = never) also match with two characters misread
FUZZY_CANDIDATES = True  # in those readings the other characters may be candidates (else top-1 only; bench_recall: 4-char 0.766 → 0.808)
FUZZY_PENALTY = 0.05  # probability factor of a misread, missed or extra character
MIN_MATCH_P = 0.0  # readings other than the top-1 text with a lower joint probability are not matches

ANY = None  # a plan step matching any one segment


def build_lattice(folded: str, probs: bytes | None, alt_chars: str = "", alt_pos: Sequence[int] | None = None,
                  alt_probs: bytes | None = None) -> tuple[str, bytes]:
    """The lattice string and its probabilities of a page (see the module docstring).

    ``folded``: the folded top-1 reading (one character per position); ``probs``: its
    probabilities, one byte each (missing = certain); ``alt_chars`` / ``alt_pos`` /
    ``alt_probs``: the kept candidates (folded), their positions in **ascending** order and
    their probabilities (bytes). The probabilities are stored as they come: the *n* top-1 bytes,
    then the candidates' in lattice order (candidate *j* at position *i* sits at string offset
    ``2i + j + 2``, so its byte is found from the offset, :func:`_prob`)."""
    n = len(folded)
    if n == 0:
        return SEP, b""
    pb = bytes(probs[:n]) if probs else b""
    if len(pb) < n:
        pb += b"\xff" * (n - len(pb))
    m = len(alt_chars) if alt_chars and alt_pos is not None else 0
    if m and alt_pos[m - 1] >= n:  # candidates past the text (clamped positions): dropped
        from bisect import bisect_left

        m = bisect_left(alt_pos, n, 0, m)
    if not m:
        return SEP + SEP.join(folded) + SEP, pb
    import numpy as np

    global _RANGE
    if _RANGE.size < 2 * (n + m) + 4:
        _RANGE = np.arange(2 * (n + m) + 4, dtype=np.int64)
    P = np.frombuffer(alt_pos, np.uint16, m) if isinstance(alt_pos, (array, bytes)) else np.asarray(alt_pos[:m])
    counts = np.bincount(P, minlength=n)
    out = np.full(1 + 2 * n + m, ord(SEP), np.uint32)
    out[_RANGE[1:2 * n:2] + (np.cumsum(counts) - counts)] = np.frombuffer(
        folded.encode("utf-32-le", "surrogatepass"), np.uint32)
    out[2 * P + _RANGE[2:m + 2]] = np.frombuffer(alt_chars[:m].encode("utf-32-le", "surrogatepass"), np.uint32)
    ap = bytes(alt_probs[:m]) if alt_probs else b""
    return out.tobytes().decode("utf-32-le", "surrogatepass"), pb + ap + b"\0" * (m - len(ap))


class _Empty:
    size = 0


_RANGE: Any = _Empty()


def _prob(lat: str, latp: bytes | None, seg: int, k: int) -> float:
    """Probability of the reading at string offset ``k`` (in segment ``seg``) of a lattice."""
    if not latp:
        return 1.0
    n = len(lat) - 1 - len(latp)
    if lat[k - 1] == SEP:
        return latp[seg] / 255
    return latp[n + k - 2 * seg - 2] / 255


def rules() -> tuple:
    """The matching rules in force (a cache key: tests and benchmarks change the module constants)."""
    return (FUZZY_MIN_LEN, FUZZY_DELETIONS, FUZZY_INSERTIONS, FUZZY_TWO_LEN, FUZZY_CANDIDATES, FUZZY_EDGE_DELETIONS)


def plans(t: str, alternatives: bool, rule: tuple) -> list[tuple[tuple[str | None, ...], bool]]:
    """The readings of term ``t`` allowed, in order of preference: ``(steps, candidates)`` where a
    step is a character to find in the segment or :data:`ANY`, and ``candidates`` says whether a
    character may be a candidate (else only the top-1 reading)."""
    min_len, deletions, insertions, two_len, fuzzy_cands, edges = rule
    n = len(t)
    out = [(tuple(t), alternatives)]
    if not alternatives or not min_len or n < min_len:
        return out
    c = fuzzy_cands
    out += [(tuple(t[:k]) + (ANY,) + tuple(t[k + 1:]), c) for k in range(n)]
    if deletions:
        out += [(tuple(t[:k] + t[k + 1:]), c) for k in range(1, n - 1)]
    if edges:
        out += [(tuple(t[1:]), c), (tuple(t[:-1]), c)]
    if insertions:
        out += [(tuple(t[:k]) + (ANY,) + tuple(t[k:]), c) for k in range(1, n)]
    if two_len and n >= two_len:
        out += [(tuple(t[:a]) + (ANY,) + tuple(t[a + 1:b]) + (ANY,) + tuple(t[b + 1:]), c)
                for a in range(n) for b in range(a + 1, n)]
    seen: set = set()
    return [p for p in out if not (p[0] in seen or seen.add(p[0]))]  # type: ignore[func-returns-value]


def _step(ch: str | None, cands: bool) -> str:
    if ch is None:
        return r"[^|]+\|"
    e = re.escape(ch)
    return rf"[^|]*{e}[^|]*\|" if cands else rf"{e}[^|]*\|"


@lru_cache(maxsize=4096)
def pattern(t: str, alternatives: bool, rule: tuple) -> tuple[re.Pattern, list]:
    """One regular expression for every allowed reading of ``t`` (group *k* = reading *k*)."""
    ps = plans(t, alternatives, rule)
    # the readings as a trie (shared first steps tried once), an empty group closing each one:
    # ``m.lastindex`` tells which reading matched
    root: dict = {}
    for i, (steps, c) in enumerate(ps):
        node = root
        for ch in steps:
            node = node.setdefault((ch, c), {})
        node.setdefault(None, i)
    order: list[int] = []

    def emit(node: dict) -> str:
        alts = []
        for key, child in node.items():
            if key is None:
                order.append(child)
                alts.append("()")
            else:
                alts.append(_step(*key) + emit(child))
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    body = emit(root)
    ps = [ps[i] for i in order]
    # a guard tried first at each segment: the first character some reading needs there or in
    # the next segment(s), so most positions fail after a step or two instead of every reading
    anchors = sorted({(k, ch) for steps, _ in ps for k, ch in enumerate(steps) if ch is not None
                      and all(s is None for s in steps[:k])})
    guard = "|".join(_step(None, True) * k + rf"[^|]*{re.escape(ch)}" for k, ch in anchors)
    return re.compile(r"\|(?=" + guard + r")(?=(?:" + body + "))"), ps


@lru_cache(maxsize=4096)
def prefilter(t: str, alternatives: bool, rule: tuple) -> re.Pattern | None:
    """A quick necessary test for pages (None when there is none): every allowed reading of ``t``
    of 3+ characters has two of its characters in neighbouring segments, so one of those pairs
    must be there. The alternatives all start with a character, which ``re`` skips to quickly."""
    ps = plans(t, alternatives, rule)
    if len(t) < 3:
        return None
    pairs: set[tuple[str, str]] = set()
    for steps, _ in ps:
        mine = {(a, b) for a, b in zip(steps, steps[1:]) if a is not None and b is not None}
        if not mine:
            return None
        pairs |= mine
    return re.compile("|".join(rf"{re.escape(a)}[^|]*\|[^|]*{re.escape(b)}" for a, b in sorted(pairs)))


def find(lat: str, latp: bytes | None, t: str, *, alternatives: bool = True,
         first: bool = False) -> list[tuple[int, int, float, bool]]:
    """``(start, end, joint probability, not the top-1 reading)`` of every reading of ``t`` in the
    lattice, one per start position (the first allowed reading there); ``first``: stop at one."""
    if len(t) == 1:
        return _find_char(lat, latp, t, alternatives, first)
    rule = rules()
    pre = prefilter(t, alternatives, rule)
    if pre is not None and pre.search(lat) is None:
        return []
    rx, ps = pattern(t, alternatives, rule)
    out: list[tuple[int, int, float, bool]] = []
    seg = 0
    prev = 0
    for m in rx.finditer(lat):
        o = m.start()
        seg += lat.count(SEP, prev, o)
        prev = o
        steps, _ = ps[m.lastindex - 1]
        a = o + 1
        p = 1.0
        alt = False
        for step, ch in enumerate(steps):
            b = lat.find(SEP, a)
            if ch is None:
                p *= FUZZY_PENALTY
                alt = True
            elif lat[a] == ch:
                p *= _prob(lat, latp, seg + step, a)
            else:
                p *= _prob(lat, latp, seg + step, lat.find(ch, a + 1, b))
                alt = True
            a = b + 1
        d = len(steps) - len(t)
        if d:  # a missed character
            p *= FUZZY_PENALTY ** abs(d) if d < 0 else 1.0
            alt = True
        if alt and p < MIN_MATCH_P:
            continue
        out.append((seg, seg + len(steps), p, alt))
        if first:
            break
    return out


def _find_char(lat: str, latp: bytes | None, c: str, alternatives: bool,
               first: bool) -> list[tuple[int, int, float, bool]]:
    """:func:`find` for a one-character term: every segment that reads it (or has it as a candidate)."""
    out: list[tuple[int, int, float, bool]] = []
    seg = 0
    prev = 0
    k = lat.find(c)
    while k >= 0:
        alt = lat[k - 1] != SEP
        if alternatives or not alt:
            seg += lat.count(SEP, prev, k)
            prev = k
            out.append((seg - 1, seg, _prob(lat, latp, seg - 1, k), alt))
            if first:
                break
        k = lat.find(c, k + 1)
    return out


def top1(lat: str) -> str:
    """The folded top-1 reading of a lattice string."""
    return "".join(s[:1] for s in lat[1:-1].split(SEP)) if len(lat) > 1 else ""
