"""Leaf sequence analysis: from noisy centre-column readings in capture order to the most likely
true (juan, leaf) of every canvas, then missing, misordered and duplicated leaves.

Two steps (docs/structure.md has the costs and why):

1. **Decoding** (Viterbi over the canvases of one item, all volumes in capture order). The hidden
   state of a canvas is its true label ``(juan, leaf)`` or "not a leaf" (cover, blank, colour
   chart). Emission costs say how well the OCR readings fit a label (0 when read exactly, more
   for look-alikes undone, a lot for overriding a clean reading); transition costs say how well
   two labels follow each other (the next leaf: 0; a skipped leaf: ``MISSING`` each; a new juan:
   ``BOUNDARY``; the same leaf again: cheap when the two images look alike, dear when they
   do not; anything else: ``MISORDER``). Unreadable canvases get labels from their neighbours.
2. **Analysis** of the decoded labels: the longest non-decreasing run in book order (LIS) is the
   backbone; a canvas off it is misordered (and we say between which canvases it belongs) unless
   its leaf is also on it (then it is a duplicate); leaf numbers absent inside a juan are missing;
   a leaf captured twice is a duplicate when the images (or their OCR text) agree, else a repeated
   number to check.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, Callable

from guji.structure.centre import JuanLabel, LeafNo, Reading

# costs (negative log-likelihoods, roughly); see docs/structure.md
MISSING = 1.0  # per leaf skipped inside a juan (capped)
MISSING_CAP = 3
MISORDER = 1.5  # a jump backwards or to an earlier juan
BOUNDARY = 0.1  # a new juan
DUP_SIMILAR = 0.2  # the same leaf again, images/texts agree (a re-shoot)
DUP_UNKNOWN = 2.0
DUP_DISSIMILAR = 4.0  # the same number on two different-looking canvases: probably a misread
UNREAD = 0.8  # a label guessed for a canvas with no reading
UNKNOWN_PART = 0.4  # juan or leaf not read, filled in from the neighbours
NOT_A_LEAF_UNREAD = 0.3  # "not a leaf" for a canvas with no centre-column reading
NOT_A_LEAF_READ = 6.0  # "not a leaf" for a canvas whose centre column was read
OVERRIDE = 3.0  # overriding a read leaf number or juan (plus more for every further character)
OVERRIDE_STEP = 1.5

Label = tuple  # (JuanLabel | None, LeafNo)


@dataclass
class Obs:
    """One canvas in capture order, with what the centre column said."""

    canvas: str
    page: str
    volume: str
    file: str  # master path relative to the batch folder
    readings: list[Reading] = field(default_factory=list)
    text: str = ""  # body text (for the duplicate witness)
    part: str = "full"
    centre_text: str = ""  # the centre column as OCR read it


@dataclass
class Decoded:
    labels: list[Label | None]
    cost: float


# numerals OCR confuses with each other (stroke counts, similar shapes): cheaper to override
CONFUSABLE = [set("一二三"), set("十千干士土"), set("七匕"), set("八入人"), set("上下"), set("六大")]


def _sub(a: str, b: str) -> float:
    if a == b:
        return 0.0
    return 1.0 if any(a in g and b in g for g in CONFUSABLE) else 2.0


def _leaf_dist(a: LeafNo, b: LeafNo) -> float:
    """Edit distance between the printed forms (十二 vs 十三 = 1, 二 vs 十二 = 1, 四 vs 二 = 2):
    substituting a look-alike numeral costs 1, any other 2, dropping or adding 一 1, others 1.5."""
    sa, sb = a.label(), b.label()
    indel = lambda c: 1.0 if c == "一" else 1.5  # noqa: E731
    prev = [0.0]
    for cb in sb:
        prev.append(prev[-1] + indel(cb))
    for ca in sa:
        cur = [prev[0] + indel(ca)]
        for j, cb in enumerate(sb, 1):
            cur.append(min(prev[j] + indel(ca), cur[j - 1] + indel(cb), prev[j - 1] + _sub(ca, cb)))
        prev = cur
    return max(1.0, prev[-1])


def mismatch(r: Reading, s: Label) -> float:
    """Cost of the true label being ``s`` when the OCR reading is ``r``."""
    juan, leaf = s
    c = r.cost
    if r.juan is None:
        c += UNKNOWN_PART if juan is not None else 0.0
    elif r.juan != juan:
        c += OVERRIDE if juan is not None else OVERRIDE
    if r.leaf is None:
        c += UNKNOWN_PART
    elif r.leaf != leaf:
        c += OVERRIDE + OVERRIDE_STEP * (_leaf_dist(r.leaf, leaf) - 1.0)
    return c


def juan_key(j: JuanLabel | None) -> tuple:
    return (-1, 0, 0) if j is None else j.rank


def book_key(label: Label) -> tuple:
    return (juan_key(label[0]), label[1].rank)


def _successors(label: Label, juans: list[JuanLabel | None]) -> list[Label]:
    j, lf = label
    out = [(j, LeafNo(lf.number + 1))]
    later = [x for x in juans if juan_key(x) > juan_key(j)]
    if later:
        out.append((min(later, key=juan_key), LeafNo(1)))
    return out


def _predecessors(label: Label) -> list[Label]:
    j, lf = label
    if lf.suffix:
        return [(j, LeafNo(lf.number))]
    return [(j, LeafNo(lf.number - 1))] if lf.number > 1 else []


def transition(a: Label | None, b: Label, dup_cost: float) -> float:
    """Cost of label ``b`` following label ``a`` (None = start of the item)."""
    jb, lb = b
    if a is None:
        return MISSING * min(max(lb.number - 1, 0), MISSING_CAP)
    ja, la = a
    if ja == jb:
        if lb.rank == la.rank:
            return dup_cost
        if lb.rank > la.rank:
            gap = max(lb.number - la.number - 1, 0)
            return MISSING * min(gap, MISSING_CAP)
        return MISORDER
    if juan_key(jb) > juan_key(ja):
        return BOUNDARY + MISSING * min(max(lb.number - 1, 0), MISSING_CAP)
    return MISORDER


def candidates(obs: list[Obs], max_per: int = 12) -> list[dict[Label, float]]:
    """Candidate labels per canvas with their emission cost (own readings + neighbours' guesses)."""
    juans = sorted({r.juan for o in obs for r in o.readings if r.juan is not None}, key=juan_key)
    juan_set: list[JuanLabel | None] = list(juans) if juans else [None]
    cands: list[dict[Label, float]] = []
    for o in obs:
        c: dict[Label, float] = {}
        for r in o.readings:
            if r.leaf is None:
                continue
            for j in ([r.juan] if (r.juan is not None or not juans) else juan_set):
                lab = (j, r.leaf)
                c[lab] = min(c.get(lab, 1e9), mismatch(r, lab))
        cands.append(c)
    # neighbours' successors / predecessors, a few rounds so runs of unreadable canvases fill in
    for _ in range(3):
        changed = False
        for i, o in enumerate(obs):
            new: set[Label] = set()
            if i > 0:
                for lab in list(cands[i - 1])[:max_per]:
                    new.update(_successors(lab, juan_set))
            if i + 1 < len(obs):
                for lab in list(cands[i + 1])[:max_per]:
                    new.update(_predecessors(lab))
            for lab in new:
                if lab in cands[i]:
                    continue
                if o.readings:
                    cost = min(mismatch(r, lab) for r in o.readings)
                else:
                    cost = UNREAD
                cands[i][lab] = cost
                changed = True
        for i in range(len(cands)):
            if len(cands[i]) > max_per:
                cands[i] = dict(sorted(cands[i].items(), key=lambda kv: kv[1])[:max_per])
        if not changed:
            break
    return cands


def decode(obs: list[Obs], similar: Callable[[int, int], bool | None], rounds: int = 4) -> Decoded:
    """Viterbi over the canvases; ``similar(i, j)`` is the duplicate witness (None = unknown).

    Viterbi looks one canvas back only, so it may give one label to two canvases far apart whose
    images differ (a leaf number read twice). Such a label is then made dearer (``DUP_DISSIMILAR``)
    on the canvas whose own readings support it least, and the decoding repeated (a few rounds)."""
    if not obs:
        return Decoded([], 0.0)
    cands = candidates(obs)
    best = _viterbi(obs, cands, similar)
    for _ in range(rounds):
        first: dict[Label, int] = {}
        changed = False
        for i, lab in enumerate(best.labels):
            if lab is None:
                continue
            j = first.setdefault(lab, i)
            if j == i or similar(j, i) is not False:
                continue
            weaker = i if cands[i].get(lab, 0.0) >= cands[j].get(lab, 0.0) else j
            if len(cands[weaker]) > 1:
                cands[weaker][lab] = cands[weaker].get(lab, 0.0) + DUP_DISSIMILAR
                changed = True
        if not changed:
            break
        best = _viterbi(obs, cands, similar)
    return best


def _viterbi(obs: list[Obs], cands: list[dict[Label, float]], similar: Callable[[int, int], bool | None]) -> Decoded:
    # state: (label, source index) — for "not a leaf" the label carried from the last leaf
    # layer: {state: (cost, backpointer state, is_leaf)}
    prev: dict[tuple, tuple[float, tuple | None, bool]] = {(None, -1): (0.0, None, False)}
    history: list[dict[tuple, tuple[float, tuple | None, bool]]] = []
    for i, o in enumerate(obs):
        cur: dict[tuple, tuple[float, tuple | None, bool]] = {}
        for lab, emit in cands[i].items():
            best = None
            for st, (cost, _bp, _leaf) in prev.items():
                a, src = st
                if a is not None and a == lab:
                    sim = similar(src, i) if src >= 0 else None
                    dup = DUP_SIMILAR if sim else (DUP_UNKNOWN if sim is None else DUP_DISSIMILAR)
                else:
                    dup = 0.0
                t = cost + transition(a, lab, dup)
                if best is None or t < best[0]:
                    best = (t, st)
            assert best is not None
            cur[(lab, i)] = (best[0] + emit, best[1], True)
        none_cost = NOT_A_LEAF_READ if any(r.leaf is not None or r.juan is not None for r in o.readings) \
            else NOT_A_LEAF_UNREAD
        for st, (cost, _bp, _leaf) in prev.items():
            key = st  # carry the label and its source
            t = cost + none_cost
            if key not in cur or cur[key][0] > t:
                cur[key] = (t, st, False)
        history.append(cur)
        prev = cur
    # backtrack
    end = min(prev.items(), key=lambda kv: (kv[1][0], str(kv[0])))
    labels: list[Label | None] = [None] * len(obs)
    st: tuple | None = end[0]
    total = end[1][0]
    for i in range(len(obs) - 1, -1, -1):
        cost, bp, is_leaf = history[i][st]
        labels[i] = st[0] if is_leaf else None
        st = bp
    return Decoded(labels, total)


# -- analysis ------------------------------------------------------------------------------------

def _lis(keys: list[tuple]) -> list[int]:
    """Indices of a longest strictly increasing subsequence of ``keys``; among equal keys the
    earliest position that keeps the order is used (the original, not its later copy)."""
    tails: list[tuple] = []
    tails_idx: list[int] = []
    back = [-1] * len(keys)
    for i, k in enumerate(keys):
        pos = bisect.bisect_left(tails, k)
        if pos == len(tails):
            tails.append(k)
            tails_idx.append(i)
        else:
            tails[pos] = k
            tails_idx[pos] = i
        back[i] = tails_idx[pos - 1] if pos > 0 else -1
    out = []
    i = tails_idx[-1] if tails_idx else -1
    while i >= 0:
        out.append(i)
        i = back[i]
    out = out[::-1]
    for p, i in enumerate(out):
        lo = out[p - 1] if p > 0 else -1
        out[p] = next(j for j in range(lo + 1, i + 1) if keys[j] == keys[i])
    return out


def analyse(obs: list[Obs], labels: list[Label | None], similar: Callable[[int, int], bool | None]) -> dict[str, Any]:
    """Findings from decoded labels: see the module doc. Returns plain data (indices into ``obs``)."""
    entries = [(i, lab) for i, lab in enumerate(labels) if lab is not None]
    keys = [book_key(lab) for _, lab in entries]
    on = {entries[k][0] for k in _lis(keys)}
    first_on: dict[Label, int] = {}
    for i, lab in entries:
        if i in on and lab not in first_on:
            first_on[lab] = i
    duplicates, misordered = [], []
    for i, lab in entries:
        if first_on.get(lab) == i:
            continue
        if lab in first_on:
            j = first_on[lab]
            sim = similar(j, i)
            duplicates.append({"index": i, "original": j, "label": lab, "similar": sim})
            continue
        # belongs after the last backbone canvas with a smaller key
        k = book_key(lab)
        backbone = sorted((book_key(l2), i2) for l2, i2 in first_on.items())
        pos = bisect.bisect_left([b[0] for b in backbone], k)
        after = backbone[pos - 1][1] if pos > 0 else None
        before = backbone[pos][1] if pos < len(backbone) else None
        misordered.append({"index": i, "label": lab, "after": after, "before": before})
    # a misordered leaf read as the same label as another misordered one: the second is a duplicate
    seen_mis: dict[Label, int] = {}
    keep = []
    for m in misordered:
        if m["label"] in seen_mis:
            duplicates.append({"index": m["index"], "original": seen_mis[m["label"]], "label": m["label"],
                               "similar": similar(seen_mis[m["label"]], m["index"])})
        else:
            seen_mis[m["label"]] = m["index"]
            keep.append(m)
    misordered = keep
    # juan: which canvases (labelled ones by their label; others follow the previous leaf)
    eff: list[JuanLabel | None | str] = []
    last: Any = "?"
    for lab in labels:
        if lab is not None:
            last = lab[0]
        eff.append(last)
    first_juan = next((lab[0] for lab in labels if lab is not None), None)
    eff = [first_juan if e == "?" else e for e in eff]
    juan_order = sorted({lab[0] for lab in labels if lab is not None}, key=lambda j: (juan_key(j), str(j)))
    juans = []
    for j in juan_order:
        members = [i for i, e in enumerate(eff) if e == j]
        leaves = {}
        for i in members:
            lab = labels[i]
            if lab is not None and lab[0] == j:
                leaves.setdefault(lab[1].number, []).append(i)
        nums = sorted(leaves)
        gaps = []  # runs of leaf numbers absent between 1 and the highest read (from consecutive numbers,
        prev = 0   # never by enumerating the range: a misread number must not cost memory)
        for n in nums:
            if n > prev + 1:
                gaps.append({"from": prev + 1, "to": n - 1})
            prev = max(prev, n)
        for g in gaps:
            below = [x for x in nums if x < g["from"]]
            above = [x for x in nums if x > g["to"]]
            g["after"] = _canonical(leaves[below[-1]], first_on) if below else None
            g["before"] = _canonical(leaves[above[0]], first_on) if above else None
        backbone = [i for i in members if i in on]
        juans.append({"juan": j, "canvases": members, "start": backbone[0] if backbone else members[0],
                      "end": backbone[-1] if backbone else members[-1], "leaf_numbers": nums, "missing": gaps})
    return {"labels": labels, "backbone": sorted(on), "duplicates": duplicates, "misordered": misordered,
            "juans": juans}


def _canonical(idxs: list[int], first_on: dict) -> int:
    on = set(first_on.values())
    for i in idxs:
        if i in on:
            return i
    return idxs[0]
