"""Character language model of classical Chinese and re-ranking of the recogniser's candidates.

The model (``guji/ocr/data/charlm.npz``, built by ``scripts/build_lm.py`` from the MIT-licensed
npm package ``chinese-poetry``; provenance in ``guji/ocr/data/README.md``) is a smoothed
character bigram model. It is either *traditional* (text folded to traditional characters) or
*folded* (one class per character: traditional/simplified and printed variants such as 卽/即,
衆/眾 share a class). With a folded model the LM chooses the *reading*, and the form that is
printed (the variant, the traditional or the simplified character) is chosen among the
recogniser's candidates of that class by the recogniser alone, with ties going to the
traditional form (the pages are traditional).

:func:`rerank_lines` runs a beam search over each line's top-k candidates per character, scoring
``log P_rec(c) + weight · log P_LM(c | previous)``. Without the model file OCR still works, only
without re-ranking (:func:`load_default` logs that once).
"""

from __future__ import annotations

import functools
import json
import logging
import math
from pathlib import Path
from typing import Any, Iterable

from guji import resources

log = logging.getLogger(__name__)

DEFAULT_PATH = resources.path("ocr/data/charlm.npz")  # package data (guji.resources)
DEFAULT_WEIGHT = 0.1  # tuned on dzj-dev half A (0.1, 0.2, 0.3, 0.5 tried): see README
BEAM = 8
P_FLOOR = 1e-4  # recogniser probabilities below this count as this (log-prob floor)


@functools.lru_cache(maxsize=4)
def _opencc(config: str):
    import opencc

    return opencc.OpenCC(config).convert


@functools.lru_cache(maxsize=65536)
def fold_char(c: str) -> str:
    """The class of one character: simplified form, then the shared variant table (guji.textfold)."""
    from guji.textfold import fold_variants

    return fold_variants(_opencc("t2s")(c))


@functools.lru_cache(maxsize=65536)
def to_traditional(c: str) -> str:
    return _opencc("s2t")(c)


@functools.lru_cache(maxsize=65536)
def simplified_only(c: str) -> bool:
    """A character of simplified writing only (说, 时): not in the Big5 traditional repertoire.
    (云, 岳, 卷 are simplified forms *and* traditional characters of their own: never converted.)"""
    try:
        c.encode("big5")
        return False
    except UnicodeEncodeError:
        return True


@functools.lru_cache(maxsize=1)
def _variant_forms() -> frozenset[str]:
    from guji.textfold import VARIANTS

    return frozenset(VARIANTS)


def printed_variant(c: str) -> bool:
    """A form of the printed-variant table (卧, 册, 卽 …): kept as the recogniser read it."""
    return c in _variant_forms()


class CharLM:
    """A pruned bigram model: ``logprob(a, b)`` = log P(b | a) in nats; ``a`` None = line start."""

    def __init__(self, path: Path | str):
        import numpy as np

        m = np.load(str(path))
        self.path = Path(path)
        self.chars = str(m["chars"])
        self.index = {c: i + 1 for i, c in enumerate(self.chars)}
        self.V = len(self.chars) + 1
        self.uni = m["uni"].astype(np.float64)
        self.lam = m["lam"].astype(np.float64)
        self.keys = m["keys"]
        self.logp = m["logp"].astype(np.float32)
        self.meta = json.loads(str(m["meta"]))
        self.folded = bool(self.meta.get("folded"))
        self.unk = float(self.uni[1:].min()) - 2.0  # a character the corpus never shows
        self._np = np

    def describe(self) -> dict[str, str]:
        return {"lm": f"{self.path.name}:{self.meta.get('bigrams_stored')}:{'folded' if self.folded else 'trad'}"}

    def cls(self, c: str) -> str:
        """The LM's unit for a character: its folded class or its traditional form."""
        return fold_char(c) if self.folded else to_traditional(c)

    def id(self, c: str) -> int:
        return self.index.get(self.cls(c), 0)

    def logprob_ids(self, a: int, b: int) -> float:
        if b == 0:
            return self.unk
        if a == 0:
            return float(self.uni[b])
        k = a * self.V + b
        i = int(self._np.searchsorted(self.keys, k))
        if i < self.keys.size and int(self.keys[i]) == k:
            return float(self.logp[i])
        return float(self.lam[a] + self.uni[b])

    def logprob(self, a: str | None, b: str) -> float:
        return self.logprob_ids(self.id(a) if a else 0, self.id(b))

    def score(self, text: str) -> float:
        """Total log-probability of ``text`` (one run, starting fresh)."""
        total, prev = 0.0, 0
        for c in text:
            cur = self.id(c)
            total += self.logprob_ids(prev, cur)
            prev = cur
        return total


_DEFAULT: dict[str, Any] = {}


def load_default(path: Path | None = None) -> CharLM | None:
    """The installed model, loaded once; None (and one log line) when it is absent."""
    p = Path(path) if path else DEFAULT_PATH
    key = str(p)
    if key not in _DEFAULT:
        if p.is_file():
            _DEFAULT[key] = CharLM(p)
        else:
            log.warning("OCR language model %s not found: recognising without LM re-ranking "
                        "(run scripts/install-lm.sh to build it)", p)
            _DEFAULT[key] = None
    return _DEFAULT[key]


def candidates(alternatives: Iterable[tuple[str, float]], lm: CharLM, traditional: bool = True
               ) -> list[tuple[str, float, str]]:
    """(surface form, recogniser probability, LM unit) per candidate class, best surface per class.

    On a ``traditional`` page a simplified-only reading (说) also offers its traditional form (說,
    same probability); within a class the surface with the highest probability wins, ties going to
    the traditional form."""
    forms_of: dict[str, list[tuple[float, bool, int, str]]] = {}
    mass: dict[str, float] = {}
    for rank, (c, p) in enumerate(alternatives):
        forms = [c]
        t = to_traditional(c)
        if traditional and t != c and len(t) == 1 and simplified_only(c) and not printed_variant(c):
            forms.append(t)
        for u in {lm.cls(f) for f in forms}:
            mass[u] = mass.get(u, 0.0) + p
        for f in forms:
            forms_of.setdefault(lm.cls(f), []).append((p, f == to_traditional(f), -rank, f))
    best = {u: max(fs) for u, fs in forms_of.items()}
    return [(f, mass[u] if lm.folded else p, u) for u, (p, _, _, f) in best.items()]


def rerank_text(alts: list[list[tuple[str, float]]], lm: CharLM, weight: float = DEFAULT_WEIGHT,
                beam: int = BEAM, traditional: bool = True) -> list[tuple[str, float]]:
    """The best (surface, recogniser probability) per position under recogniser + weight·LM."""
    cand = [candidates(a, lm, traditional) for a in alts]
    beams: list[tuple[float, int, list[int]]] = [(0.0, 0, [])]  # score, last LM id, choices
    for cs in cand:
        ids = [lm.index.get(u, 0) for _, _, u in cs]
        rec = [math.log(max(p, P_FLOOR)) for _, p, _ in cs]
        nxt: dict[int, tuple[float, int, list[int]]] = {}
        for score, prev, path in beams:
            for j, (cid, r) in enumerate(zip(ids, rec)):
                s = score + r + weight * lm.logprob_ids(prev, cid)
                # states that share the last LM unit are merged (bigram: the future only sees it)
                if cid not in nxt or s > nxt[cid][0]:
                    nxt[cid] = (s, cid, path + [j])
        beams = sorted(nxt.values(), key=lambda b: -b[0])[:beam]
    best = beams[0][2] if beams else []
    return [(cand[k][j][0], cand[k][j][1]) for k, j in enumerate(best)]


def rerank_lines(lines: list[Any], lm: CharLM, weight: float = DEFAULT_WEIGHT, low: float = 0.5) -> int:
    """Re-rank every line's characters in place (text, confidence, low flag); returns changes.

    The page's script is judged from the recogniser's readings: simplified-only characters are
    offered in traditional form only when traditional-only characters clearly dominate."""
    changed = 0
    top = [ch.text for ln in lines for ch in ln.chars]
    n_simp = sum(1 for c in top if simplified_only(c))
    n_trad = sum(1 for c in top if fold_char(c) != c and not printed_variant(c))
    traditional = n_trad > 2 * n_simp
    for ln in lines:
        if not ln.chars or not all(ch.alternatives for ch in ln.chars):
            continue
        new = rerank_text([ch.alternatives for ch in ln.chars], lm, weight, traditional=traditional)
        for ch, (t, p) in zip(ln.chars, new):
            if t != ch.text:
                changed += 1
                ch.text = t
                ch.confidence = float(p)
                ch.low = p < low
        ln.text = "".join(ch.text for ch in ln.chars)
    return changed
