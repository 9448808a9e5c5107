"""Page layout: frame (版框), registers (栏), columns right to left, double-row notes, centre column.

Works on text boxes from a detector (``[x, y, w, h]`` in the OCR image) plus the image itself
(for the frame's ruled lines). Pure geometry, no recognition: :func:`analyse_vertical` and
:func:`analyse_horizontal` return :class:`Layout` objects listing *segments* (one box to
recognise each) grouped into printed columns / lines in reading order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Box = tuple[int, int, int, int]


@dataclass
class Segment:
    box: Box
    kind: str = "text"  # text | note (double-row small note sub-column)
    pitch: float | None = None  # column pitch, for note sub-columns found by ink (ink_column)
    # the same rows cut another way: a short run that may be a double-row note, as its two
    # sub-columns (right first); the reader keeps the more believable reading (ink_column)
    alt: list[Segment] | None = None


@dataclass
class Column:
    """One printed column (vertical) or line (horizontal): its segments in reading order."""

    segments: list[Segment]
    role: str = "body"  # body | centre-column | other

    @property
    def box(self) -> Box:
        return union([s.box for s in self.segments])


@dataclass
class Register:
    columns: list[Column] = field(default_factory=list)

    @property
    def box(self) -> Box:
        return union([c.box for c in self.columns])


@dataclass
class Layout:
    kind: str  # vertical-rtl | horizontal
    registers: list[Register] = field(default_factory=list)
    centre: Column | None = None
    other: list[Column] = field(default_factory=list)  # text outside the frame (margin labels)
    frame: Box | None = None
    half_leaves: int = 1


def union(boxes: list[Box]) -> Box:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def guess_direction(boxes: list[Box]) -> str:
    """``vertical-rtl`` when tall boxes outnumber wide ones, else ``horizontal``."""
    tall = sum(1 for _, _, w, h in boxes if h >= 1.5 * w)
    wide = sum(1 for _, _, w, h in boxes if w >= 1.5 * h)
    return "vertical-rtl" if tall > wide else "horizontal"


RULE_MIN = 0.3  # a frame rule's ruled pixels: at least this share of the page side
FRAME_MIN_HEIGHT = 0.6  # a frame spans at least this share of the page height (else rules further out)


def find_frame(gray: Any, text: list[Box] | None = None) -> Box | None:
    """The printed frame (版框): long ruled lines (≥ RULE_MIN of the page side) around the text.

    With text boxes, the innermost lines enclosing all text are taken, widened to an outer rule
    lying close outside (double-ruled frames are measured at the outer rule); paper and scanner-
    bed edges further out are ignored. None when no such lines are found."""
    import cv2
    import numpy as np

    H, W = gray.shape[:2]
    _, bw = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    # pieces of a rule count from a tenth of the page side: a rule broken (a leaf tab, worn block)
    # into pieces about a sixth long lost them all with a kernel of H/6 when the page grew by a few
    # pixels (dzj-dev YB_22_995: the left rule held 0.40 of the height, 0.23 three pixels further)
    hk = cv2.getStructuringElement(cv2.MORPH_RECT, (max(10, W // 10), 1))
    vk = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(10, H // 10)))
    hl = cv2.morphologyEx(bw, cv2.MORPH_OPEN, hk)
    vl = cv2.morphologyEx(bw, cv2.MORPH_OPEN, vk)
    rows = np.nonzero(np.count_nonzero(hl, axis=1) >= RULE_MIN * W)[0].tolist()
    cols = np.nonzero(np.count_nonzero(vl, axis=0) >= RULE_MIN * H)[0].tolist()
    if text:
        tx0 = min(b[0] for b in text) + 2
        ty0 = min(b[1] for b in text) + 2
        tx1 = max(b[0] + b[2] for b in text) - 2
        ty1 = max(b[1] + b[3] for b in text) - 2

        def side(lines: list[int], lo: float, hi: float, size: int, least: float = 0.0) -> tuple[int, int] | None:
            """The innermost rules enclosing the text; with ``least``, rules further out while the
            pair spans less than that share of the page (a register's dividing rule is no frame)."""
            before = [v for v in lines if v <= lo]
            after = [v for v in lines if v >= hi]
            if not before or not after:
                return None
            a, b = max(before), min(after)
            if b - a < least * size:  # the pair of rules nearest the text that spans enough
                pairs = [(a - a2 + b2 - b, a2, b2) for a2 in before for b2 in after if b2 - a2 >= least * size]
                if pairs:
                    _, a, b = min(pairs)
            while any(a - 0.025 * size <= v < a for v in before):  # outer rule of a double frame
                a = max(v for v in before if a - 0.025 * size <= v < a)
            while any(b < v <= b + 0.025 * size for v in after):
                b = min(v for v in after if b < v <= b + 0.025 * size)
            return a, b

        def most(lines: list[int], centres: list[float], size: int) -> tuple[int, int] | None:
            """Margin labels of a facsimile lie outside the frame: the pair of rules holding the
            most text centres (at least 60 %; ties: the narrowest pair)."""
            groups: list[list[int]] = []
            for v in lines:
                if groups and v - groups[-1][-1] <= 3:
                    groups[-1].append(v)
                else:
                    groups.append([v])
            best = None
            for i, ga in enumerate(groups):
                for gb in groups[i + 1:]:
                    a, b = ga[0], gb[-1]
                    if b - a < 0.3 * size:
                        continue
                    n = sum(1 for c in centres if a <= c <= b)
                    key = (n, -(b - a))
                    if best is None or key > best[0]:
                        best = (key, (a, b))
            if best is None or best[0][0] < 0.6 * len(centres):
                return None
            return best[1]

        xs = side(cols, tx0, tx1, W) or most(cols, [b[0] + b[2] / 2 for b in text], W)
        ys = side(rows, ty0, ty1, H, FRAME_MIN_HEIGHT) or most(rows, [b[1] + b[3] / 2 for b in text], H)
        if not xs or not ys:
            return None
        x0, x1 = xs
        y0, y1 = ys
    else:
        if len(rows) < 2 or len(cols) < 2:
            return None
        x0, x1, y0, y1 = min(cols), max(cols), min(rows), max(rows)
    if x1 - x0 < 0.3 * W or y1 - y0 < 0.3 * H:
        return None
    return (x0, y0, x1 - x0 + 1, y1 - y0 + 1)


def _clusters(items: list[Box], same: Any) -> list[list[Box]]:
    """Union-find of boxes under the pairwise predicate ``same``."""
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if same(items[i], items[j]):
                parent[find(i)] = find(j)
    groups: dict[int, list[Box]] = {}
    for i, b in enumerate(items):
        groups.setdefault(find(i), []).append(b)
    return list(groups.values())


def column_of(boxes: list[Box]) -> Column:
    """Order one printed column's boxes top to bottom; boxes side by side are double-row notes
    (read right sub-column first, then left)."""
    boxes = sorted(boxes, key=lambda b: (b[1], -b[0]))
    bands: list[list[Box]] = []
    for b in boxes:
        if bands:
            y0 = min(x[1] for x in bands[-1])
            y1 = max(x[1] + x[3] for x in bands[-1])
            if overlap(y0, y1, b[1], b[1] + b[3]) > 0.3 * min(b[3], y1 - y0):
                bands[-1].append(b)
                continue
        bands.append([b])
    segs: list[Segment] = []
    for band in bands:
        if len(band) == 1:
            segs.append(Segment(band[0]))
        else:
            for b in sorted(band, key=lambda b: -(b[0] + b[2] / 2)):
                segs.append(Segment(b, "note"))
    return Column(segs)


def split_registers(boxes: list[Box], page_h: int) -> list[list[Box]]:
    """Split boxes into registers (上下栏) at horizontal gaps that (almost) no box crosses.

    Coverage by row: a run of rows crossed by at most a fifth of the peak number of boxes (a
    margin label may cross), at least 1 % of the page high, with three or more boxes wholly
    above and below, separates two registers. Boxes go to the register holding their centre."""
    import numpy as np

    if len(boxes) < 6:
        return [boxes]
    y0 = min(b[1] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    cov = np.zeros(y1 - y0 + 1, dtype=np.int32)
    for b in boxes:
        cov[b[1] - y0:b[1] + b[3] - y0] += 1
    low = cov <= max(1, int(0.2 * cov.max()))
    cuts: list[float] = []
    run_start = None
    for i, v in enumerate(list(low) + [False]):
        if v and run_start is None:
            run_start = i
        elif not v and run_start is not None:
            if i - run_start >= max(3, 0.01 * page_h):
                cut = y0 + (run_start + i) / 2
                above = sum(1 for b in boxes if b[1] + b[3] <= cut and (not cuts or b[1] >= cuts[-1]))
                below = sum(1 for b in boxes if b[1] >= cut)
                if above >= 3 and below >= 3:
                    cuts.append(cut)
            run_start = None
    groups: list[list[Box]] = [[] for _ in range(len(cuts) + 1)]
    for b in boxes:
        cy = b[1] + b[3] / 2
        groups[sum(1 for c in cuts if cy > c)].append(b)
    return [g for g in groups if g]


def analyse_vertical(boxes: list[Box], gray: Any | None) -> Layout:
    H, W = (gray.shape[:2] if gray is not None else (max(b[1] + b[3] for b in boxes), max(b[0] + b[2] for b in boxes)))
    frame = find_frame(gray, boxes) if gray is not None else None
    lay = Layout("vertical-rtl", frame=frame)
    inside, outside = [], []
    for b in boxes:
        cx, cy = b[0] + b[2] / 2, b[1] + b[3] / 2
        if frame and not (frame[0] - 4 <= cx <= frame[0] + frame[2] + 4 and frame[1] - 4 <= cy <= frame[1] + frame[3] + 4):
            outside.append(b)
        else:
            inside.append(b)

    def same_col(a: Box, b: Box) -> bool:
        return overlap(a[0], a[0] + a[2], b[0], b[0] + b[2]) > 0.5 * min(a[2], b[2])

    regs = [[column_of(g) for g in _clusters(bs, same_col)] for bs in split_registers(inside, H)] if inside else []
    cols = [c for r in regs for c in r]
    # centre column (版心): on a full leaf (frame wider than tall) the column nearest the middle
    if frame and frame[2] > 1.1 * frame[3] and cols:
        mid = frame[0] + frame[2] / 2
        c = min(cols, key=lambda c: abs(c.box[0] + c.box[2] / 2 - mid))
        if abs(c.box[0] + c.box[2] / 2 - mid) < 0.06 * frame[2]:
            cols.remove(c)
            c.role = "centre-column"
            lay.centre = c
            lay.half_leaves = 2
    lay.registers = [Register(sorted([c for c in r if c.role == "body"], key=lambda c: -(c.box[0] + c.box[2] / 2)))
                     for r in regs]
    lay.registers = [r for r in lay.registers if r.columns]
    lay.other = [Column([Segment(b)], role="other") for b in sorted(outside, key=lambda b: (-b[0], b[1]))]
    return lay


def analyse_horizontal(boxes: list[Box], gray: Any | None) -> Layout:
    frame = find_frame(gray, boxes) if gray is not None and boxes else None
    lay = Layout("horizontal", frame=frame)

    def same_row(a: Box, b: Box) -> bool:
        return overlap(a[1], a[1] + a[3], b[1], b[1] + b[3]) > 0.5 * min(a[3], b[3])

    rows = _clusters(list(boxes), same_row)
    rows.sort(key=lambda r: min(b[1] + b[3] / 2 for b in r))
    lines = [Column([Segment(b) for b in sorted(r, key=lambda b: b[0])]) for r in rows]
    if lines:
        lay.registers = [Register(lines)]
    return lay


# -- centre column text ----------------------------------------------------------------------

_NUM = "〇零一二三四五六七八九十百千廿卅"


def chinese_number(s: str) -> int | None:
    """Parse 十二, 二十一, 一百五, 廿三, 一〇五 or ASCII digits; None when not a number."""
    if not s:
        return None
    if s.isdigit():
        return int(s)
    digits = {c: i for i, c in enumerate("〇一二三四五六七八九")}
    digits["零"] = 0
    if all(c in digits for c in s):
        return int("".join(str(digits[c]) for c in s))
    total, cur = 0, 0
    for c in s:
        if c in digits:
            cur = digits[c]
        elif c == "十":
            total += (cur or 1) * 10
            cur = 0
        elif c == "廿":
            total += 20
        elif c == "卅":
            total += 30
        elif c == "百":
            total += (cur or 1) * 100
            cur = 0
        elif c == "千":
            total += (cur or 1) * 1000
            cur = 0
        else:
            return None
    return total + cur


def parse_centre_column(parts: list[str]) -> dict[str, Any]:
    """Title / juan / leaf number from a centre column's text pieces (top to bottom), when readable.

    Typical pieces: ``["史記卷三", "十二"]`` → title 史記, juan 三, leaf 12. The leaf number is
    only taken from a separate last piece (a title such as 千字文 is not a number)."""
    parts = [re.sub(r"\s+", "", p) for p in parts if p and p.strip()]
    out: dict[str, Any] = {"text": " ".join(parts)}
    if not parts:
        return out
    head = parts[0]
    m = re.search(rf"卷([{_NUM}\d]+|之?[上中下])", head)
    if m:
        out["title"] = head[: m.start()] or None
        out["juan"] = m.group(1)
    elif len(parts) > 1 or not re.fullmatch(rf"[{_NUM}\d]+", head):
        out["title"] = head
    if len(parts) > 1:
        n = chinese_number(re.sub(rf"[^{_NUM}\d]", "", parts[-1]))
        if n is not None:
            out["leaf"] = n
    elif m:
        # one piece: a number right after the juan (OCR read them as one run), e.g. 卷一四 is
        # ambiguous, so only a separated digit group counts
        pass
    return {k: v for k, v in out.items() if v not in (None, "")}


# -- double-row small notes by ink (双行小注, glossaries 音釋) --------------------------------------


def text_ink(gray: Any, thick: float) -> Any:
    """Binary ink (255) of ``gray`` without long ruled lines (column rules, frame)."""
    import cv2

    _, bw = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    hl = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(10, int(2 * thick)), 1)))
    vl = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(10, int(3 * thick)))))
    return cv2.subtract(bw, cv2.bitwise_or(hl, vl))


def column_pitch(centres: list[float], weights: list[float], lo: float, hi: float,
                 profile: tuple[Any, Any] | None = None) -> tuple[float, float] | None:
    """Pitch and phase of a regular column grid from column-box centres (x): the period p in
    [lo, hi] whose weighted phasor sum is strongest (the peak of largest p within 90 % of the
    best, so a half period does not win); double-row note sub-columns lie at ±p/4 and cancel out at p.

    ``profile`` (x positions, ink per x): the page's ink profile across the columns; the period is
    then chosen on the product of both scores. A few box centres fit many periods almost equally
    (dzj-dev QL_25_416, a glossary page with 3–7 tall boxes: 58 px at one position of the page,
    77 px when it was moved by one pixel, and two printed columns were cut as one note run); the
    ink of every column rules the wrong ones out."""
    import numpy as np

    if len(centres) < 3 or hi <= lo:
        return None
    ps = np.arange(lo, hi, 0.25)

    def phasors(xs: Any, ws: Any) -> Any:  # per period: the weighted mean phasor of the positions
        x, w = np.asarray(xs, dtype=np.float64), np.asarray(ws, dtype=np.float64)
        return (w[None, :] * np.exp(2j * np.pi * x[None, :] / ps[:, None])).sum(axis=1) / w.sum()

    z = phasors(centres, weights)
    box_score = np.abs(z)
    score = box_score
    if profile is not None and np.sum(profile[1]) > 0:
        score = box_score * np.abs(phasors(*profile))
    peak = np.r_[False, (score[1:-1] >= score[:-2]) & (score[1:-1] >= score[2:]), False] | (score == score.max())
    ok = np.nonzero(peak & (score >= 0.9 * score.max()))[0]
    k = int(ok.max())
    if box_score[k] < 0.5:
        return None
    p = float(ps[k])
    phase = float((np.angle(z[k]) / (2 * np.pi) * p) % p)
    return p, phase


def _widest_low(mid: Any) -> Any:
    """For each row of ``mid`` (rows × x), the middle of the widest run at the row's minimum (ties:
    the run nearest the middle): the gap between two note sub-columns, not the first gap inside
    one sub-column's character (dzj-dev: the first minimum split a note's character and the
    ink-balance test then rejected the row, so note runs under glossary headwords were read as one
    big column). Vectorised over rows (columns are few)."""
    import numpy as np

    n, w = mid.shape
    eq = mid == mid.min(axis=1, keepdims=True)
    run = np.zeros((n, w), np.int32)  # length of the run of minima ending at each x
    run[:, 0] = eq[:, 0]
    for j in range(1, w):
        run[:, j] = (run[:, j - 1] + 1) * eq[:, j]
    j = np.arange(w)[None, :]
    centre = j - (run - 1) / 2.0
    key = np.where(eq, run * (4.0 * w) - np.abs(centre - (w - 1) / 2.0), -np.inf)
    end = key.argmax(axis=1)
    length = run[np.arange(n), end]
    return (2 * end - length + 1) // 2


NOTE_RUN = 1.2  # a sure note run holds at least this × the pitch of inked rows
NOTE_MAYBE = 0.7  # a note run this long (× the pitch, inked rows) but shorter than a sure one is read both ways
NOTE_SIDE = 0.2  # each side of a note split holds at least this share of the row's ink width


def note_split(prof: Any, m0: int, m1: int, side: float | None = None) -> tuple[Any, Any]:
    """For each row of ``prof`` (rows × x: ink per x over a window around the row), the x where
    two note sub-columns would be split, and whether that split is plausible (a row whose split
    is not is no note row).

    The split is the widest run of the row's minimum in ``[m0, m1)`` (:func:`_widest_low`; the
    first minimum was often a gap inside one sub-column's character on dzj-dev). It is plausible
    when the whole low run around it leaves each side at least ``side`` × the row's ink width
    (default :data:`NOTE_SIDE`); between two sub-columns each side is about half. At large sizes
    the widest run is often the gap between a narrow stroke or radical and the rest of a big
    character (亻|, 丨|, or the halves of a note character, 車 | 巠), wider there than between
    two sub-columns: those rows passed the ink-balance test and whole big-character columns
    were read as notes with a 10 px "sub-column" (archival set 0.063 → 0.075 with the widest run,
    0.056 with this test; see docs/ocr.md). Scale-free: widths are shares of the row's ink width."""
    import numpy as np

    side = NOTE_SIDE if side is None else side
    n, W = prof.shape
    xm = m0 + _widest_low(prof[:, m0:m1])
    rows = np.arange(n)
    low = prof <= prof[rows, xm][:, None]
    fw = np.zeros((n, W), np.int32)  # length of the low run ending at / starting at each x
    bw = np.zeros((n, W), np.int32)
    fw[:, 0], bw[:, -1] = low[:, 0], low[:, -1]
    for j in range(1, W):
        fw[:, j] = (fw[:, j - 1] + 1) * low[:, j]
        bw[:, W - 1 - j] = (bw[:, W - j] + 1) * low[:, W - 1 - j]
    g0, g1 = xm - fw[rows, xm] + 1, xm + bw[rows, xm]
    inked = prof > 0
    a = inked.argmax(axis=1)  # first and last inked x of each row
    b = W - inked[:, ::-1].argmax(axis=1)
    width = b - a
    plausible = (g0 - a >= side * width) & (b - g1 >= side * width)
    return xm, plausible


def ink_column(ink: Any, x0: int, x1: int, y0: int, y1: int, pitch: float) -> list[Segment]:
    """Segments of one printed column by its ink: runs of big characters (one segment across the
    column) alternating with runs of double-row small notes (two segments, right sub-column
    first). A row belongs to a note run when, over a window of about a character's height, the
    ink's horizontal profile has an empty valley in the middle half of the column with ink on
    both sides (two sub-columns side by side), otherwise to a big run. Blank rows join the run
    above; runs with fewer inked rows than half a pitch (note runs: 1.2 pitch, so that the gap inside a big
    character such as 人 or 川 does not count) join their longer neighbour, and neighbouring runs of
    one kind are one run (a note run interrupted by a few rows with one sub-column empty is read
    right, left, not right, left, right, left: docs/ocr.md, round 5).

    A note run shorter than a sure one (:data:`NOTE_RUN`) but at least :data:`NOTE_MAYBE` pitch
    long, with no note run beside it, is not merged away: a glossary's short notes (丁果切 under a headword)
    are that short, and so are two left-right big characters one above the other (持此). It
    becomes a big segment whose ``alt`` holds its two note sub-columns; the reader recognises both
    and keeps the more confident reading (:func:`guji.ocr.recognize.read_image`)."""
    import numpy as np

    strip = (ink[y0:y1, x0:x1] > 0).astype(np.int32)
    Hs, Ws = strip.shape
    if Hs < 4 or Ws < 4 or strip.sum() == 0:
        return []
    win = max(3, int(0.6 * pitch))
    cs = np.vstack([np.zeros((1, Ws), np.int32), np.cumsum(strip, axis=0)])
    a = np.clip(np.arange(Hs) - win // 2, 0, Hs)
    b = np.clip(np.arange(Hs) + win // 2 + 1, 0, Hs)
    prof = cs[b] - cs[a]  # (Hs, Ws): ink per x over the window around each row
    m0, m1 = int(0.25 * Ws), max(int(0.25 * Ws) + 1, int(0.75 * Ws))
    rowink = strip.sum(axis=1) > 0
    xm, plausible = note_split(prof, m0, m1)
    cols = np.arange(Ws)[None, :]
    before = cols < xm[:, None]
    left, right = np.where(before, prof, 0).max(axis=1), np.where(before, 0, prof).max(axis=1)
    low = 0.05 * np.maximum(1, np.minimum(left, right))
    thin = (prof[np.arange(Hs), xm] <= low) & (np.minimum(left, right) > 0)
    # each side of the split about a sub-column wide (not a gap inside one sub-column's character)
    thin &= plausible
    # both sub-columns carry comparable ink (not a column beside a rule or a page edge)
    sl, sr = np.where(before, prof, 0).sum(axis=1), np.where(before, 0, prof).sum(axis=1)
    thin &= np.minimum(sl, sr) >= 0.25 * np.maximum(sl, sr)
    # a valley wide enough to separate sub-columns (not a stroke gap inside a big character)
    thin &= (prof[:, m0:m1] <= low[:, None]).sum(axis=1) >= max(2, 0.06 * Ws)
    label = np.where(rowink, np.where(thin, 2, 1), 0).astype(np.int8)  # 0 blank, 1 big, 2 note
    split = np.where(rowink, xm, Ws // 2)
    runs: list[list[int]] = []  # [label, start, end)
    for y in range(Hs):
        lab = int(label[y]) or (runs[-1][0] if runs else 0)
        if runs and runs[-1][0] == lab:
            runs[-1][2] = y + 1
        else:
            runs.append([lab, y, y + 1])

    def inked(r: list[int]) -> int:  # rows with ink (trailing blank rows do not lengthen a run)
        return int(np.count_nonzero(label[r[1]:r[2]]))

    def coalesce() -> None:  # neighbours of one kind are one run (a short run between them was merged away)
        k = 1
        while k < len(runs):
            if runs[k][0] == runs[k - 1][0]:
                runs[k - 1][2] = runs[k][2]
                del runs[k]
            else:
                k += 1

    changed = True
    while changed and len(runs) > 1:
        changed = False
        coalesce()
        for i, r in enumerate(runs):
            if (r[0] == 2 and NOTE_MAYBE * pitch <= inked(r) < NOTE_RUN * pitch
                    and all(runs[j][0] != 2 for j in (i - 1, i + 1) if 0 <= j < len(runs))):
                r[0] = 3  # a maybe-note run: kept, read both ways
                changed = True
                break
            if r[0] == 0 or inked(r) < (NOTE_RUN if r[0] == 2 else 0.5) * pitch:
                j = i - 1 if i > 0 else i + 1
                if i > 0 and i + 1 < len(runs) and inked(runs[i + 1]) > inked(runs[i - 1]):
                    j = i + 1
                runs[j][1], runs[j][2] = min(runs[j][1], r[1]), max(runs[j][2], r[2])
                del runs[i]
                changed = True
                break
    segs: list[Segment] = []

    def tight(sx0: int, sx1: int, ry0: int, ry1: int) -> Box | None:
        sub = strip[ry0:ry1, sx0:sx1]
        ys, xs = np.nonzero(sub.sum(axis=1))[0], np.nonzero(sub.sum(axis=0))[0]
        if len(ys) == 0 or sub.sum() < 0.01 * pitch * pitch:
            return None
        pad = 2
        bx0, bx1 = max(0, sx0 + xs[0] - pad), min(Ws, sx0 + xs[-1] + 1 + pad)
        by0, by1 = max(0, ry0 + ys[0] - pad), min(Hs, ry0 + ys[-1] + 1 + pad)
        return (int(x0 + bx0), int(y0 + by0), int(bx1 - bx0), int(by1 - by0))

    for lab, s, e in runs:
        notes: list[Segment] = []  # the run's two sub-columns (note and maybe-note runs), right first
        if lab in (2, 3):
            xm = int(np.median(split[s:e][label[s:e] == 2])) if (label[s:e] == 2).any() else Ws // 2
            notes = [Segment(bx, "note", pitch) for bx in (tight(xm, Ws, s, e), tight(0, xm, s, e)) if bx]
        if lab == 2:
            segs += notes
            continue
        bx = tight(0, Ws, s, e)
        if bx:
            segs.append(Segment(bx, "text", alt=notes if len(notes) == 2 else None))
    return segs


def note_cells(ink: Any, box: Box, max_ratio: float = 1.6, min_ratio: float = 0.6) -> list[tuple[int, int]]:
    """Character cells of one double-row note sub-column, cut by its character pitch.

    ``ink``: binary ink image (255 = ink) in the same pixels as ``box``. Note characters are about
    as high as the sub-column is wide: for each possible character count n (cell height between
    ``min_ratio`` and ``max_ratio`` × the ink width) the n − 1 cuts at multiples of height/n are
    moved to the emptiest row within ±20 % of a cell, and the n whose cuts cross the least ink
    (plus a small penalty for cells far from square) wins. Returns ``(y0, y1)`` per cell, top to
    bottom, in ``ink`` pixels."""
    import numpy as np

    x, y, w, h = box
    sub = ink[y:y + h, x:x + w] > 0
    rows = np.nonzero(sub.any(axis=1))[0]
    cols = np.nonzero(sub.any(axis=0))[0]
    if len(rows) == 0:
        return [(y, y + h)]
    top, bot = int(rows[0]), int(rows[-1]) + 1
    cw = max(2, int(cols[-1]) - int(cols[0]) + 1)
    prof = sub[top:bot].sum(axis=1).astype(np.float64)
    span = bot - top
    peak = max(1.0, float(prof.max()))
    best: tuple[float, list[int]] | None = None
    n_lo = max(1, int(np.floor(span / (max_ratio * cw))))
    n_hi = max(n_lo, int(np.ceil(span / (min_ratio * cw))))
    for n in range(n_lo, n_hi + 1):
        cell = span / n
        cuts, cost = [], 0.0
        for k in range(1, n):
            c = k * cell
            a, b = int(max(1, c - 0.2 * cell)), int(min(span - 1, c + 0.2 * cell + 1))
            if b <= a:
                j = int(round(c))
            else:
                j = a + int(np.argmin(prof[a:b]))
            cuts.append(j)
            cost += prof[j] / peak
        cost = cost / max(1, n - 1) + 0.15 * abs(np.log(cell / cw))
        if best is None or cost < best[0]:
            best = (cost, cuts)
    assert best is not None
    edges = [0] + best[1] + [span]
    cells = [(a, b) for a, b in zip(edges, edges[1:]) if b > a]
    # specks and fragments of a neighbouring character are not characters
    mass = [float(prof[a:b].sum()) for a, b in cells]
    med = float(np.median(mass)) if mass else 0.0
    keep = [c for c, m in zip(cells, mass) if m >= 0.2 * med] or cells
    return [(y + top + a, y + top + b) for a, b in keep]


def fit_char_boxes(ink: Any, box: Box, spans: list[tuple[float, float]], vertical: bool = True) -> list[Box]:
    """Character boxes of one recognised segment fitted to its ink.

    ``spans`` are the recogniser's character extents along the segment (pixels from the box's
    start; their centres are what the recogniser's time steps say). Between two neighbouring
    characters the cut goes to the emptiest row (column, for horizontal lines) of the middle half
    between their centres; the outer ends and any character longer than 1.3 × the median pitch
    (a neighbour was not read) are limited to ± 0.6 pitch around its centre; each character's box
    is then shrunk to the ink inside it (kept as cut when it holds no ink). Boxes in ``ink`` pixels."""
    import numpy as np

    x, y, w, h = box
    n = len(spans)
    if n == 0:
        return []
    sub = ink[y:y + h, x:x + w] > 0
    if not vertical:
        sub = sub.T
    L_ = sub.shape[0]
    prof = sub.sum(axis=1)
    cen = [(a + b) / 2 for a, b in spans]
    gaps = [b - a for a, b in zip(cen, cen[1:])]
    pitch = float(np.median(gaps)) if gaps else float(min(L_, sub.shape[1] * 1.1))
    def emptiest(lo: float, hi: float, default: float) -> int:
        lo_, hi_ = max(0, min(L_ - 1, int(round(lo)))), max(0, min(L_, int(round(hi))))
        return lo_ + int(np.argmin(prof[lo_:hi_])) if hi_ > lo_ else int(round(default))

    ends: list[float] = []
    starts: list[float] = [cen[0] - 0.6 * pitch]
    for a, b in zip(cen, cen[1:]):
        if b - a <= 1.5 * pitch:  # neighbours: one cut at the emptiest row of the middle half
            c = emptiest(a + 0.25 * (b - a), b - 0.25 * (b - a), (a + b) / 2)
            ends.append(c)
            starts.append(c)
        else:  # something unread between them: each keeps about one pitch
            ends.append(emptiest(a + 0.35 * pitch, a + 0.8 * pitch, a + 0.5 * pitch))
            starts.append(emptiest(b - 0.8 * pitch, b - 0.35 * pitch, b - 0.5 * pitch))
    ends.append(cen[-1] + 0.6 * pitch)
    out = []
    for k, c in enumerate(cen):
        s, e = max(starts[k], c - 0.65 * pitch), min(ends[k], c + 0.65 * pitch)
        s, e = int(max(0, np.floor(s))), int(min(L_, np.ceil(e)))
        if e <= s:
            s, e = int(max(0, c - 1)), int(min(L_, c + 1))
        piece = sub[s:e]
        rows = np.nonzero(piece.any(axis=1))[0]
        cols = np.nonzero(piece.any(axis=0))[0]
        if len(rows):
            s, e = s + int(rows[0]), s + int(rows[-1]) + 1
            c0, c1 = int(cols[0]), int(cols[-1]) + 1
        else:
            c0, c1 = 0, sub.shape[1]
        out.append((x + c0, y + s, c1 - c0, e - s) if vertical else (x + s, y + c0, e - s, c1 - c0))
    return out
