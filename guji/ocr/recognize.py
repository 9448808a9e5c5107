"""Read one image into a :class:`~guji.ocr.page.PageModel`: layout, recognition, layout facts.

``read_image`` works in the OCR image's pixel space; the stage maps the result to master pixels
with :func:`map_page`. Two modes: ``layout`` (frame, registers, columns right to left, notes,
centre column: the default) and ``page`` (the engine on the whole page, lines only sorted into
reading order: the baseline the benchmark compares with).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, Callable

from guji.ocr import layout as L
from guji.ocr.engines import Engine, LineResult, get_engine
from guji.ocr.page import Char, Line, Region

LOW_CONFIDENCE = 0.5


# segment crops reach this × the segment's thickness beyond both ends (dzj-dev half A, 0 / 0.1 /
# 0.15 / 0.2 / 0.3: 0.200 / 0.198 / 0.196 / 0.200 / 0.211; paper-coloured margins instead: 0.205)
CROP_ALONG = 0.15

SMALL_TEXT_PX = 40  # text lines/columns thinner than this are upscaled before recognition


def han_script(c: str) -> bool:
    """Whether ``c`` belongs to the script of ancient Chinese books: a Han character (CJK unified
    or compatibility ideograph, 〇 and the other ideographic signs), a circle mark (○), the middle
    dot or CJK and full-width punctuation. Not: Latin, Greek or Cyrillic letters, kana, hangul,
    digits, ASCII punctuation (& * …), other symbols."""
    import unicodedata

    if c in "○◯·":
        return True
    name = unicodedata.name(c, "")
    return "CJK" in name or "IDEOGRAPH" in name or (ord(c) >= 0x2000 and unicodedata.category(c).startswith("P"))


def keep_script(res: LineResult, allowed: Callable[[str], bool]) -> LineResult:
    """``res`` with only ``allowed`` readings, in place: each character's candidates are filtered, a
    character read outside the script takes its best candidate inside it, and is dropped when it
    has none. On dzj-dev the recogniser reads page edges, specks and note characters as Latin
    letters, digits and kana (soeyts, NFH, マ大者, 東1月…: 35 characters on 11 pages), none of which
    an ancient Chinese book prints; CER through the pipeline see docs/ocr.md (round 5)."""
    kept = []
    for ch in res.chars:
        alts = [(t, p) for t, p in ch.alternatives if allowed(t)]
        if not allowed(ch.text):
            if not alts:
                continue
            ch.text, ch.confidence = alts[0]
        ch.alternatives = alts
        kept.append(ch)
    if len(kept) != len(res.chars):
        res.chars = kept
        res.confidence = sum(c.confidence for c in kept) / len(kept) if kept else 0.0
    res.text = "".join(c.text for c in kept)
    return res


def _in_script(results: list[LineResult], script: str, vertical: bool) -> list[LineResult]:
    """``read_image``'s ``script`` rule, for both reading modes: "han" (or "auto" on vertical
    text) keeps the Han script only (:func:`keep_script`), "any" (or "auto" on horizontal text) all."""
    if script == "han" or (script == "auto" and vertical):
        return [keep_script(r, han_script) for r in results]
    return results


@dataclass
class Prepared:
    """A page ready to read: ``image`` (what the detector and the layout see: upscaled by ``scale``
    and enhanced when the text is small), ``original`` (the pixels as given, what the recogniser
    reads) and ``boxes`` (the detector's boxes on ``image`` when :func:`prepare` already has them)."""

    image: Any
    scale: float = 1.0
    original: Any = None
    boxes: list[L.Box] | None = None
    original_boxes: list[L.Box] | None = None  # the detector's boxes on ``original`` (measuring the factor)
    source: CropSource | None = None  # where the recogniser's crops come from instead of ``original``


def upscale_factor(img: Any, setting: Any, detector: Engine | None = None) -> tuple[float, list[L.Box] | None]:
    """The factor and the detector's boxes on ``img`` (None when it did not run).

    ``auto``: measure the text size with the detector (median thickness of the text boxes:
    column width or line height); below 40 px (characters of ~10–25 px, e.g. reduced
    reproductions) upscale 2×, else leave as is. A number is used as given."""
    if setting not in (None, "auto"):
        return float(setting), None
    if detector is None or not detector.has_detector:
        return (2.0 if max(img.shape[:2]) < 1600 else 1.0), None
    boxes = detector.detect(_to_bgr(img))
    if not boxes:
        return 1.0, boxes
    thick = statistics.median(min(w, h) for _, _, w, h in boxes)
    return (2.0 if thick < SMALL_TEXT_PX else 1.0), boxes


def prepare(img: Any, setting: Any, engine: Engine, enhance: bool | None = None) -> Prepared:
    """The page to read: the detection image (upscaled when the text is small), the factor, the
    original pixels and, when the image was not changed, the boxes already detected on it (the
    factor is measured with a full-page detection: it is not run twice).

    An upscaled image is also ``enhance``d (default: for rapidocr only): grey levels stretched
    between the 1st and 99th percentile, then an unsharp mask (σ 2 px, amount 0.6) against the
    interpolation's blur. On dzj-dev this took rapidocr's CER 0.296 → 0.284 (stretch alone 0.288,
    unsharp alone 0.288); Tesseract layout-aware got worse (0.798 → 0.856), so not for it.
    The recogniser reads the original pixels (see :func:`read_image`)."""
    if enhance is None:
        enhance = engine.name == "rapidocr"
    import cv2

    img = _to_bgr(img)
    det = engine if engine.has_detector else _default_detector()
    s, boxes = upscale_factor(img, setting, det)
    if s == 1.0:
        return Prepared(img, 1.0, img, boxes, boxes)
    up = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
    if enhance:
        up = enhance_image(up)
    return Prepared(up, s, img, None, boxes)


def enhance_image(img: Any) -> Any:
    """Grey, contrast-stretched (1st–99th percentile) and unsharp-masked copy of a BGR image."""
    import cv2
    import numpy as np

    g = cv2.cvtColor(_to_bgr(img), cv2.COLOR_BGR2GRAY)
    lo, hi = np.percentile(g, 1), np.percentile(g, 99)
    g = np.clip((g.astype(np.float32) - lo) * 255.0 / max(1.0, hi - lo), 0, 255).astype(np.uint8)
    g = cv2.addWeighted(g, 1.6, cv2.GaussianBlur(g, (0, 0), 2.0), -0.6, 0)
    return cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)


def _to_bgr(img: Any) -> Any:
    import cv2

    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img


class CropSource:
    """Where the recogniser's crops come from: the detection image itself, the original pixels
    (boxes found on the detection image, which is ``scale`` × larger, are mapped back), or any
    image reached through an affine map (``to_source``: detection-image pixels → ``image``
    pixels, pixel-corner convention, e.g. the master through a canvas's ``to_master``).

    Through an affine, a crop is a plain slice when the map is an axis-aligned scale and shift
    (the recogniser then resizes it bilinearly, as for the original pixels); a rotated or flipped
    map (a deskewed or turned page) is resampled once, bilinearly, straight to ``out_height``
    pixels across the reading direction (the recogniser's input height), since every extra
    resampling blurs small characters (dzj-dev: a half-pixel bilinear shift of the page alone
    took CER 0.232 → 0.278)."""

    def __init__(self, image: Any, scale: float = 1.0, to_source: Any = None, out_height: int | None = None):
        self.image = image
        # a scale is the affine map (1/s, 0, 0, 0, 1/s, 0): one way of cutting for both
        self.to_source = (tuple(float(v) for v in to_source) if to_source is not None
                          else (1.0 / scale, 0.0, 0.0, 0.0, 1.0 / scale, 0.0))
        self.out_height = out_height
        self._border: Any = None

    def crop(self, box: L.Box, vertical: bool, engine: Engine, pad: float = 0.0, along: float = 0.0
             ) -> tuple[Any, float, float]:
        """The segment's pixels (widened across the reading direction by ``pad`` × its thickness
        and lengthened at both ends by ``along`` × its thickness, within the page) in reading
        orientation, and ``(a, k)``: a position ``u`` along the crop (crop pixels) lies at
        ``a + k·u`` detection-image pixels from the box's start."""
        import numpy as np

        x, y, w, h = box
        m = self.to_source
        t = w if vertical else h  # the segment's thickness, detection pixels
        across, length = pad * t, along * t
        if vertical:
            x0, x1, y0, y1 = x - across, x + w + across, y - length, y + h + length
        else:
            x0, x1, y0, y1 = x - length, x + w + length, y - across, y + h + across
        a_, b_, c_, d_, e_, f_ = m
        H, W = self.image.shape[:2]
        if abs(b_) * (y1 - y0) < 0.25 and abs(d_) * (x1 - x0) < 0.25 and a_ > 0 and e_ > 0:
            # an axis-aligned scale and shift (a residual rotation moving no pixel by ¼ of itself
            # across the crop): slice the source's own pixels
            sx0, sx1, sy0, sy1 = a_ * x0 + c_, a_ * x1 + c_, e_ * y0 + f_, e_ * y1 + f_
            ix0, iy0 = min(W - 1, max(0, int(round(sx0)))), min(H - 1, max(0, int(round(sy0))))
            ix1, iy1 = max(ix0 + 1, min(W, int(round(sx1)))), max(iy0 + 1, min(H, int(round(sy1))))
            c = self.image[iy0:iy1, ix0:ix1]
            if vertical and engine.name == "rapidocr":
                c = np.ascontiguousarray(np.rot90(c))  # column top → left: the recogniser reads left to right
            if vertical:
                return c, (iy0 - f_) / e_ - y, 1.0 / e_
            return c, (ix0 - c_) / a_ - x, 1.0 / a_
        return self._warp(m, (x0, y0, x1, y1), vertical, engine, (x, y))

    def _warp(self, m: tuple[float, ...], rect: tuple[float, float, float, float], vertical: bool,
              engine: Engine, start: tuple[float, float]) -> tuple[Any, float, float]:
        """One bilinear resampling of ``rect`` (detection pixels) through ``m`` into the crop."""
        import math

        import cv2
        import numpy as np

        from guji.affine import apply_affine, compose_affine, invert_affine

        a_, b_, _, d_, e_, _ = m
        x0, y0, x1, y1 = rect
        H, W = self.image.shape[:2]
        # stay within the page, as a slice does: clip the rectangle to the source's extent
        inv = invert_affine(m)  # type: ignore[arg-type]
        xs, ys = zip(*(apply_affine(inv, px, py) for px, py in ((0, 0), (W, 0), (0, H), (W, H))))
        x0, x1 = max(x0, min(xs)), min(x1, max(xs))
        y0, y1 = max(y0, min(ys)), min(y1, max(ys))
        sx, sy = math.hypot(a_, d_), math.hypot(b_, e_)  # source pixels per detection pixel
        thick, long_ = (x1 - x0, y1 - y0) if vertical else (y1 - y0, x1 - x0)
        k_thick = sx if vertical else sy
        out_t = self.out_height or max(1, int(round(thick * k_thick)))
        f = out_t / max(1e-6, thick)  # crop pixels per detection pixel
        out_l = max(1, int(round(long_ * f)))
        rot = vertical and engine.name == "rapidocr"
        # crop pixel (u, v) (centre at +0.5) → detection point
        if not vertical:
            q = (1 / f, 0.0, x0, 0.0, 1 / f, y0)          # u along x, v along y
            size = (out_l, out_t)
        elif rot:
            q = (0.0, -1 / f, x1, 1 / f, 0.0, y0)          # u along y (down), v across from the right
            size = (out_l, out_t)
        else:
            q = (1 / f, 0.0, x0, 0.0, 1 / f, y0)
            size = (out_t, out_l)
        full = compose_affine(m, q)  # type: ignore[arg-type]
        # cv2 maps pixel centres: shift by ½ on both sides of the corner convention
        A = np.array([[full[0], full[1], full[2] + 0.5 * (full[0] + full[1]) - 0.5],
                      [full[3], full[4], full[5] + 0.5 * (full[3] + full[4]) - 0.5]], np.float64)
        if self._border is None:  # the page's mean colour, once per page (not per segment)
            mean = cv2.mean(self.image)
            self._border = [int(v) for v in mean[:3]] if self.image.ndim == 3 else int(mean[0])
        c = cv2.warpAffine(self.image, A, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=self._border)
        along0 = (y0 - start[1]) if vertical else (x0 - start[0])
        return c, along0, 1 / f


def _cells_line(src: CropSource, box: L.Box, cells: list[tuple[int, int]], engine: Engine
                ) -> tuple[Any, list[tuple[float, float]]]:
    """One horizontal line image of a note sub-column's character cells, each upright, left to
    right on the paper colour with a gap between them; and each cell's x range in that image."""
    import numpy as np

    x, _, w, _ = box
    pieces = [src.crop((x, y0, w, y1 - y0), False, engine)[0] for y0, y1 in cells]
    hmax = max(p.shape[0] for p in pieces)
    wmax = max(p.shape[1] for p in pieces)
    H = max(hmax, wmax)
    gap = max(1, int(round(0.25 * H)))
    allpx = np.concatenate([p.reshape(-1, p.shape[2]) for p in pieces])
    paper = np.percentile(allpx, 90, axis=0).astype(np.uint8)
    W = sum(p.shape[1] for p in pieces) + gap * (len(pieces) + 1)
    line = np.empty((H, W, 3), np.uint8)
    line[:] = paper
    xr, cx = [], gap
    for p in pieces:
        ph, pw = p.shape[:2]
        oy = (H - ph) // 2
        line[oy:oy + ph, cx:cx + pw] = p
        xr.append((cx, cx + pw))
        cx += pw + gap
    return line, xr


def _cells_spans(res: LineResult, xr: list[tuple[float, float]], cells: list[tuple[int, int]], box: L.Box
                 ) -> LineResult:
    """Map characters read from a cells line back to the sub-column: each character's span is the
    cell (or cells) its line position falls in, in detection-image pixels from the box's top."""
    y = box[1]
    for c in res.chars:
        mid = (c.span[0] + c.span[1]) / 2
        k = min(range(len(xr)), key=lambda j: 0 if xr[j][0] <= mid < xr[j][1] else min(abs(mid - xr[j][0]), abs(mid - xr[j][1])))
        c.span = (float(cells[k][0] - y), float(cells[k][1] - y))
    res.vertical = True
    return res


def _map_spans(res: LineResult, a: float, k: float) -> LineResult:
    """Character spans from crop pixels to detection-image pixels relative to the box start."""
    if a or k != 1.0:
        for c in res.chars:
            c.span = (a + k * c.span[0], a + k * c.span[1])
    return res


def _line(lid: str, box: L.Box, res: LineResult, vertical: bool, kind: str, column: int) -> Line:
    x, y, w, h = box
    chars = []
    for c in res.chars:
        s, e = c.span
        cb = (x, round(y + s), w, max(1, round(e - s))) if vertical else (round(x + s), y, max(1, round(e - s)), h)
        chars.append(Char(c.text, cb, c.confidence, c.alternatives, low=c.confidence < LOW_CONFIDENCE))
    return Line(lid, box, "ttb" if vertical else "ltr", res.text, res.confidence, chars, kind, column)


def read_image(img: Any, engine: Engine, *, mode: str = "layout", direction: str = "auto",
               detector: Engine | None = None, rerank: Callable[[list[Line]], None] | None = None,
               square: str | float = 0.0, lm: Any = "auto", lm_weight: float | None = None,
               recall: bool = True, split: bool = False, crop_pad: float = 0.0,
               notes: bool = True, rec_source: str = "auto", note_upright: bool = False, fit_boxes: bool = True,
               detect_on: str = "image", crop_along: float | None = None, script: str = "auto",
               ) -> tuple[list[Region], dict[str, Any], dict[str, Any], str, Any]:
    """Recognise ``img`` (a :class:`Prepared` page, or a BGR or grey array). Returns regions,
    centre-column fields, layout facts (frame in detection-image pixels), the layout name and the
    frame box.

    Detection and layout run on the prepared (upscaled, enhanced) image; ``rec_source``
    "original" (the default for rapidocr: "auto") cuts the recogniser's crops from the original
    pixels, which the recogniser resizes bilinearly to its 48 px input (dzj-dev CER 0.269 → see
    docs/ocr.md), "image" from the detection image.

    ``lm``: "auto" re-ranks each line's candidates with the installed character LM when present
    (:mod:`guji.ocr.lm`), "off" never, or a model path / :class:`~guji.ocr.lm.CharLM`;
    ``lm_weight`` its weight (default :data:`guji.ocr.lm.DEFAULT_WEIGHT`).

    ``crop_along``: each segment's crop reaches this × its thickness beyond both ends (page
    pixels: the recogniser drops fewer first and last characters); default
    :data:`CROP_ALONG` for rapidocr (dzj-dev 0.237 → see docs/ocr.md), 0 for other engines.

    ``script``: "han" keeps only the readings of ancient Chinese books (:func:`han_script`,
    :func:`keep_script`), "any" every reading; "auto" is "han" for vertical text read right to left
    (given or detected) and "any" for horizontal text (modern local documents print digits and
    Latin letters)."""
    prep = img if isinstance(img, Prepared) else Prepared(_to_bgr(img))
    img = _to_bgr(prep.image)
    if rec_source == "auto":
        rec_source = "original" if engine.name == "rapidocr" else "image"
    if rec_source == "original" and prep.source is not None:
        src = prep.source
    elif rec_source == "original" and prep.original is not None:
        src = CropSource(_to_bgr(prep.original), prep.scale)
    else:
        src = CropSource(img, 1.0)
    if rerank is None:
        rerank = lm_reranker(lm, lm_weight)
    det = detector if detector is not None else (engine if engine.has_detector else _default_detector())
    if mode == "page" or det is None:
        return _read_whole(img, engine, direction, rerank, boxes=prep.boxes if detector is None else None,
                           script=script)
    import cv2

    if prep.boxes is not None and detector is None:
        boxes = list(prep.boxes)
    elif detect_on == "original" and prep.original_boxes is not None and detector is None:
        k = prep.scale
        boxes = [(int(round(x * k)), int(round(y * k)), int(round(w * k)), int(round(h * k)))
                 for x, y, w, h in prep.original_boxes]
    else:
        boxes = det.detect(img)
    if recall:
        boxes = recall_pass(img, boxes, det, split=split)
    if direction == "auto":
        direction = L.guess_direction(boxes) if boxes else "vertical-rtl"
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    # the page's ink without ruled lines: note cutting and character boxes share it
    page_ink = L.text_ink(gray, statistics.median(min(b[2], b[3]) for b in boxes)) if boxes else None
    vertical = direction == "vertical-rtl"
    lay = L.analyse_vertical(boxes, gray) if vertical and boxes else L.analyse_horizontal(boxes, gray)
    if notes and vertical and boxes:
        note_layout(lay, boxes, gray, ink=page_ink)
    # recognise all segments in one batch
    jobs: list[tuple[str, L.Box, str, int, str]] = []  # region id, box, kind, column, region type
    job_pitch: list[float | None] = []  # the column pitch of note sub-columns found by ink
    either: list[tuple[int, list[int]]] = []  # a short run: its job, and the jobs of its note sub-columns
    regions: list[Region] = []
    col_no = 0
    for k, reg in enumerate(lay.registers, 1):
        regions.append(Region(f"r{k}", "body", reg.box))
        for col in reg.columns:
            col_no += 1
            for seg in col.segments:
                jobs.append((f"r{k}", seg.box, seg.kind, col_no, "body"))
                job_pitch.append(seg.pitch)
                if seg.alt:  # read it both ways (layout.ink_column's maybe-note runs)
                    either.append((len(jobs) - 1, list(range(len(jobs), len(jobs) + len(seg.alt)))))
                    for a in seg.alt:
                        jobs.append((f"r{k}", a.box, a.kind, col_no, "body"))
                        job_pitch.append(a.pitch)
    if lay.centre is not None:
        regions.append(Region("rc", "centre-column", lay.centre.box))
        for seg in lay.centre.segments:
            jobs.append(("rc", seg.box, "text", 0, "centre-column"))
            job_pitch.append(None)
    if lay.other:
        regions.append(Region("ro", "other", L.union([c.box for c in lay.other])))
        for col in lay.other:
            jobs.append(("ro", col.segments[0].box, "text", 0, "other"))
            job_pitch.append(None)
    # a column is read rotated. A squarish box (one or two characters) is ambiguous: one upright
    # character or a short column. ``square`` = r reads boxes with h < r·w upright; "both" reads
    # them both ways and keeps the more confident reading. Measured on dzj-dev (CER): r = 0 (all
    # rotated, default) 0.302, r = 1.0 0.303, "both" 0.305, r = 1.5 (the previous rule) 0.306.
    both: list[int] = []
    if engine.name != "rapidocr":
        seg_vertical = [vertical and not b[2] > 2.5 * b[3] for _, b, _, _, _ in jobs]
    elif square == "both":
        seg_vertical = [vertical and b[3] >= 1.0 * b[2] for _, b, _, _, _ in jobs]
        both = [i for i, (_, b, _, _, _) in enumerate(jobs) if vertical and 0.6 * b[2] <= b[3] < 2.0 * b[2]]
    else:
        r = float(square)
        seg_vertical = [vertical and b[3] >= r * b[2] and not b[2] > 2.5 * b[3] for _, b, _, _, _ in jobs]
    # note sub-columns read as upright characters cut by their pitch, side by side in one line
    upright: dict[int, list[tuple[int, int]]] = {}
    if note_upright and vertical and engine.name == "rapidocr":
        ink = page_ink
        for i, (_, b, kind, _, _) in enumerate(jobs):
            pitch = job_pitch[i]
            if kind == "note" and seg_vertical[i] and pitch and b[2] <= 0.6 * pitch:
                upright[i] = L.note_cells(ink, b)
    if crop_along is None:
        crop_along = CROP_ALONG if engine.name == "rapidocr" else 0.0
    cut = [src.crop(b, v, engine, crop_pad, crop_along) if i not in upright else (None, 0.0, 1.0)
           for i, ((_, b, _, _, _), v) in enumerate(zip(jobs, seg_vertical))]
    crops = [c for c, _, _ in cut]
    results: list[LineResult] = []
    results_map: dict[int, LineResult] = {}
    if upright:
        idx = sorted(upright)
        lines_ = [_cells_line(src, jobs[i][1], upright[i], engine) for i in idx]
        for i, (line_img, xr), r in zip(idx, lines_, engine.recognize([li for li, _ in lines_], False)):
            results_map[i] = _cells_spans(r, xr, upright[i], jobs[i][1])
    # recognise vertical and horizontal segments separately (Tesseract uses different packs)
    by_v: dict[bool, list[int]] = {}
    for i, v in enumerate(seg_vertical):
        if i not in upright:
            by_v.setdefault(v, []).append(i)
    for v, idx in by_v.items():
        for i, r in zip(idx, engine.recognize([crops[i] for i in idx], v)):
            results_map[i] = _map_spans(r, cut[i][1], cut[i][2])
    results = [results_map[i] for i in range(len(jobs))]
    if both:
        cut2 = [src.crop(jobs[i][1], not seg_vertical[i], engine) for i in both]
        alt = engine.recognize([c for c, _, _ in cut2], False)
        for i, r, (_, a, k) in zip(both, alt, cut2):
            r = _map_spans(r, a, k)
            if _score(r) > _score(results[i]):
                results[i] = r
                seg_vertical[i] = not seg_vertical[i]
    if either:
        drop = unread_ways(results, either)
        keep = [i for i in range(len(jobs)) if i not in drop]
        jobs, results, seg_vertical = [jobs[i] for i in keep], [results[i] for i in keep], [seg_vertical[i] for i in keep]
    results = _in_script(results, script, vertical)
    reg_by_id = {r.id: r for r in regions}
    counters: dict[str, int] = {}
    made: list[Line] = []
    for (rid, box, kind, col, _), res, v in zip(jobs, results, seg_vertical):
        counters[rid] = counters.get(rid, 0) + 1
        made.append(_line(f"{rid}l{counters[rid]}", box, res, v, kind, col))
        reg_by_id[rid].lines.append(made[-1])
    if fit_boxes:
        ink_all = page_ink
        for (_, box, _, _, _), res, v, ln in zip(jobs, results, seg_vertical, made):
            if ink_all is not None and ln.chars:
                for ch, cb in zip(ln.chars, L.fit_char_boxes(ink_all, box, [c.span for c in res.chars], v)):
                    ch.box = cb
    if rerank is not None:
        rerank([ln for r in regions for ln in r.lines])
    centre = {}
    if lay.centre is not None:
        centre = L.parse_centre_column([ln.text for ln in reg_by_id["rc"].lines])
    facts = _layout_facts(lay, regions)
    return regions, centre, facts, lay.kind, lay.frame


def unread_ways(results: list[LineResult], either: list[tuple[int, list[int]]]) -> set[int]:
    """For runs read two ways (``(one, parts)``: the run as one segment, and as its note
    sub-columns), the indices of the readings not kept: the one with the lower mean character
    confidence loses (the parts' confidence weighted by their characters; nothing read scores 0;
    a tie keeps the run whole). dzj-dev: see docs/ocr.md, round 6."""
    drop: set[int] = set()
    for one, parts in either:
        whole = results[one].confidence if results[one].chars else 0.0
        n = sum(len(results[i].chars) for i in parts)
        split = sum(results[i].confidence * len(results[i].chars) for i in parts) / n if n else 0.0
        drop |= set(parts) if whole >= split else {one}
    return drop


def note_layout(lay: L.Layout, boxes: list[L.Box], gray: Any, ink: Any | None = None) -> None:
    """Re-cut the registers holding double-row small notes by ink, in place.

    The detector merges note sub-columns, splits them unevenly or misses tiny ones, and boxes of
    neighbouring columns chain into one cluster. Every register is cut by ink: the page's column
    grid (pitch and phase from the column boxes' centres) gives one strip per printed column
    (borders moved to the emptiest x nearby), and each strip is cut by
    :func:`guji.ocr.layout.ink_column` into big-character runs and note runs (two sub-columns);
    a strip without note runs keeps the detector's boxes. (Until round 3 only registers with
    side-by-side boxes or ≥ 30 % of their ink outside every box were cut: notes inside one merged
    box were missed; dzj-dev half A 0.219 → 0.218, half B 0.272 → 0.268.)"""
    import numpy as np

    thick = statistics.median(min(b[2], b[3]) for b in boxes)
    # big-character boxes only (note sub-columns would blur the grid)
    body = [s.box for r in lay.registers for c in r.columns for s in c.segments if s.kind == "text"]
    tall = [b for b in body if b[3] >= 0.8 * b[2]]
    ink = L.text_ink(gray, thick) if ink is None else ink.copy()  # the page's ink (text_ink), not changed
    if lay.centre is not None:
        cx, cy, cw, ch = lay.centre.box
        ink[:, cx:cx + cw] = 0
    profile = None  # the registers' ink across x: the column grid's period also from it (docs/ocr.md, round 4)
    if lay.registers:
        rx, ry, rw, rh = L.union([r.box for r in lay.registers])
        prof = (ink[max(0, ry):ry + rh, max(0, rx):rx + rw] > 0).sum(axis=0)
        profile = (np.arange(max(0, rx), max(0, rx) + len(prof)) + 0.5, prof)
    grid = L.column_pitch([b[0] + b[2] / 2 for b in tall], [float(b[3]) for b in tall], 0.8 * thick, 2.5 * thick,
                          profile=profile)
    if grid is None:
        return
    pitch, phase = grid
    H, W = ink.shape[:2]
    for reg in lay.registers:
        rb = reg.box
        x0, x1 = max(0, rb[0]), min(W, rb[0] + rb[2])
        y0, y1 = max(0, rb[1]), min(H, rb[1] + rb[3])
        old = [s for c in reg.columns for s in c.segments]
        proj = (ink[y0:y1] > 0).sum(axis=0)
        k0 = int(np.floor((x0 - phase) / pitch))
        k1 = int(np.ceil((x1 - phase) / pitch))
        borders = []
        for k in range(k0, k1 + 1):
            mid = phase + (k + 0.5) * pitch
            a, b = int(max(0, mid - 0.25 * pitch)), int(min(W, mid + 0.25 * pitch + 1))
            if b <= a:
                continue
            borders.append(a + int(np.argmin(proj[a:b])))
        borders = sorted(set(bd for bd in borders if x0 - pitch <= bd <= x1 + pitch))
        cols: list[L.Column] = []
        for a, b in zip(borders, borders[1:]):
            a, b = max(a, x0 - int(0.2 * pitch), 0), min(b, x1 + int(0.2 * pitch), W)
            if b - a < 0.4 * pitch:
                continue
            segs = L.ink_column(ink, a, b, y0, y1, pitch)
            if not any(s.kind == "note" for s in segs):  # no notes: the detector's boxes stay
                segs = [s for s in old if a <= s.box[0] + s.box[2] / 2 < b]
                segs = L.column_of([s.box for s in segs]).segments if segs else []
            if segs:
                cols.append(L.Column(segs))
        if cols:
            reg.columns = sorted(cols, key=lambda c: -(c.box[0] + c.box[2] / 2))


def _score(r: LineResult) -> float:
    """How believable a reading is: mean character confidence, nothing read scores 0."""
    return r.confidence if r.chars else 0.0


def recall_pass(img: Any, boxes: list[L.Box], det: Engine, gray: Any | None = None, split: bool = False
                ) -> list[L.Box]:
    """A second detection pass for text the first one missed (isolated characters, tiny
    double-row notes of glossaries): ink inside the text area not covered by any box is found, the
    detector runs again on the crop around it (the detector scales a small crop up, so small
    characters get more pixels) with a lower box threshold, and new boxes not overlapping the
    first pass's are added."""
    import cv2
    import numpy as np

    if len(boxes) < 3 or not hasattr(det, "detect_region"):
        return boxes
    if gray is None:
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    H, W = gray.shape[:2]
    area = L.union(boxes)
    thick = statistics.median(min(b[2], b[3]) for b in boxes)
    if split and L.guess_direction(boxes) == "vertical-rtl":
        # a box much wider than a column holds several (sub-)columns merged (glossaries of big
        # headwords with tiny double-row notes): detect again inside it, keep the pieces if several
        pieces: list[L.Box] = []
        for b in boxes:
            x, y, w, h = b
            if w > 1.6 * thick and h > w:
                parts = [(px + x, py + y, pw, ph) for px, py, pw, ph in det.detect_region(img[y:y + h, x:x + w])]
                if len(parts) >= 2:
                    pieces += parts
                    continue
            pieces.append(b)
        boxes = pieces
    _, bw = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    # ruled lines are not text
    hl = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(10, int(2 * thick)), 1)))
    vl = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(10, int(3 * thick)))))
    ink = cv2.subtract(bw, cv2.bitwise_or(hl, vl))
    cover = np.zeros_like(ink)
    pad = max(2, int(0.15 * thick))
    for x, y, w, h in boxes:
        cover[max(0, y - pad):y + h + pad, max(0, x - pad):x + w + pad] = 255
    ax, ay, aw, ah = area
    mask = np.zeros_like(ink)
    mask[ay:ay + ah, ax:ax + aw] = 255
    left = cv2.bitwise_and(cv2.bitwise_and(ink, cv2.bitwise_not(cover)), mask)
    # uncovered ink blobs of character size (a stroke or more), not specks
    blobs = cv2.dilate(left, cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(thick / 4)),) * 2))
    n, _, stats, _ = cv2.connectedComponentsWithStats(blobs)
    keep = [stats[i] for i in range(1, n) if stats[i][2] * stats[i][3] >= (thick / 3) ** 2]
    if len(keep) < 2:
        return boxes
    x0 = max(0, min(int(s_[0]) for s_ in keep) - int(thick))
    y0 = max(0, min(int(s_[1]) for s_ in keep) - int(thick))
    x1 = min(W, max(int(s_[0] + s_[2]) for s_ in keep) + int(thick))
    y1 = min(H, max(int(s_[1] + s_[3]) for s_ in keep) + int(thick))
    new = det.detect_region(img[y0:y1, x0:x1])
    out = list(boxes)
    for bx, by, bw_, bh in new:
        b = (bx + x0, by + y0, bw_, bh)
        a = bw_ * bh
        if any(L.overlap(b[0], b[0] + b[2], o[0], o[0] + o[2]) * L.overlap(b[1], b[1] + b[3], o[1], o[1] + o[3])
               > 0.3 * min(a, o[2] * o[3]) for o in out):
            continue
        if cv2.countNonZero(left[b[1]:b[1] + b[3], b[0]:b[0] + b[2]]) < 0.02 * a:
            continue
        out.append(b)
    return out


def _default_detector() -> Engine | None:
    try:
        return get_engine("rapidocr")
    except Exception:  # noqa: BLE001 - no detector: fall back to whole-page reading
        return None


def lm_reranker(lm: Any, weight: float | None = None) -> Callable[[list[Line]], None] | None:
    """A ``rerank`` hook from an ``lm`` setting ("auto", "off", a path or a CharLM), or None."""
    from guji.ocr import lm as LM

    if lm in (None, "off", False):
        return None
    model = lm if isinstance(lm, LM.CharLM) else LM.load_default(None if lm in ("auto", True) else lm)
    if model is None:
        return None
    w = LM.DEFAULT_WEIGHT if weight is None else float(weight)
    return lambda lines: LM.rerank_lines(lines, model, w, LOW_CONFIDENCE)


def _read_whole(img: Any, engine: Engine, direction: str, rerank: Callable[[list[Line]], None] | None = None,
                boxes: list[L.Box] | None = None, script: str = "auto"):
    vertical = direction != "horizontal"
    res = engine.read_page(img, vertical, boxes)
    if direction == "auto":
        boxes = [r.box for r in res if r.box]
        vertical = L.guess_direction(boxes) == "vertical-rtl" if boxes else True
    if vertical:
        # registers (上下栏) first, top to bottom, then the engine's lines right to left in each: the
        # fair baseline (sorting all lines by x alone interleaves the two registers' columns)
        groups = L.split_registers([r.box for r in res], img.shape[0]) if res else []
        reg_of = {b: k for k, g in enumerate(groups) for b in g}
        res.sort(key=lambda r: (reg_of.get(r.box, 0), -(r.box[0] + r.box[2] / 2), r.box[1]))
    else:
        res.sort(key=lambda r: (r.box[1] + r.box[3] / 2, r.box[0]))
    res = _in_script(res, script, vertical)
    lines = [_line(f"r1l{i}", r.box, r, r.vertical, "text", i) for i, r in enumerate(res, 1) if r.text]
    if rerank is not None:
        rerank(lines)
    regions = [Region("r1", "body", L.union([ln.box for ln in lines]), lines)] if lines else []
    return regions, {}, {}, "vertical-rtl" if vertical else "horizontal", None


def _layout_facts(lay: L.Layout, regions: list[Region]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    cols = [c for r in lay.registers for c in r.columns]
    if lay.kind != "vertical-rtl" or not cols:
        return facts
    # column pitch from neighbouring column centres (blank columns are not detected, pitch is)
    gaps = []
    for reg in lay.registers:
        centres = sorted(c.box[0] + c.box[2] / 2 for c in reg.columns)
        gaps += [b - a for a, b in zip(centres, centres[1:])]
    pitch = statistics.median(gaps) if gaps else None
    if lay.frame and pitch:
        width = (lay.frame[2] - (lay.centre.box[2] if lay.centre else 0)) / lay.half_leaves
        facts["columns_per_half_leaf"] = max(1, round(width / pitch))
    else:
        facts["columns_per_half_leaf"] = len(cols) // max(1, len(lay.registers))
    lines_by_col: dict[int, list[Line]] = {}
    for r in regions:
        if r.type == "body":
            for ln in r.lines:
                lines_by_col.setdefault(ln.column, []).append(ln)
    full_h = {r.id: max((ln.box[3] for ln in r.lines), default=0) for r in regions if r.type == "body"}
    col_region = {ln.column: r.id for r in regions if r.type == "body" for ln in r.lines}
    counts = [sum(len(ln.text) for ln in lns) for col, lns in lines_by_col.items()
              if all(ln.kind == "text" for ln in lns)
              and L.union([ln.box for ln in lns])[3] >= 0.9 * full_h[col_region[col]]]
    if counts:
        facts["chars_per_column"] = round(statistics.median(counts))
    if len(lay.registers) > 1:
        facts["registers"] = len(lay.registers)
    return facts
