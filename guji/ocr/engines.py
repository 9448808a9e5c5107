"""OCR engines behind one interface.

An engine recognises *line images* (a column or a horizontal line, cut by the layout step) and,
when it has a text detector, finds text boxes on a page. Two engines:

- ``rapidocr``: PP-OCRv6 small detector + recogniser (ONNX, run by onnxruntime). Only the model
  files shipped inside the ``rapidocr`` wheel are used, by explicit path, so nothing is ever
  downloaded. The recogniser's CTC output is decoded here (not by rapidocr) so that every
  character keeps its position in the line and its best alternative readings (used for
  language-model re-ranking and low-confidence flags).
- ``tesseract``: Tesseract 5 through pytesseract with ``chi_tra_vert`` / ``chi_tra`` /
  ``chi_sim`` (Debian packages ``tesseract-ocr-chi-tra`` / ``tesseract-ocr-chi-sim``).

Line images are given in *reading orientation*: vertical columns are rotated 90° counter-
clockwise by the caller for rapidocr (the recogniser reads left to right), and passed upright
for Tesseract's vertical language packs. Heavy imports live inside functions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guji.errors import MissingDependency

ENGINES = ("rapidocr", "tesseract")

# Pinned rapidocr models: the defaults shipped in the rapidocr 3.x wheel. Any other choice would
# make rapidocr download models on first use, which guji never allows.
RAPID_DET_MODEL = "PP-OCRv6_det_small.onnx"
RAPID_REC_MODEL = "PP-OCRv6_rec_small.onnx"

TESS_LANG_PACKAGES = {
    "chi_tra": "tesseract-ocr-chi-tra", "chi_tra_vert": "tesseract-ocr-chi-tra",
    "chi_sim": "tesseract-ocr-chi-sim", "chi_sim_vert": "tesseract-ocr-chi-sim",
}


@dataclass
class CharResult:
    text: str
    confidence: float
    span: tuple[float, float]  # start, end along the reading direction, in line-image pixels
    alternatives: list[tuple[str, float]] = field(default_factory=list)  # best first, incl. text


@dataclass
class LineResult:
    text: str
    confidence: float
    chars: list[CharResult] = field(default_factory=list)
    box: tuple[int, int, int, int] | None = None  # only for whole-page reading: [x, y, w, h]
    vertical: bool = False


class Engine:
    name = "engine"
    version = ""
    has_detector = False
    input_height: int | None = None  # the recogniser's line height, when it resizes to a fixed one

    def describe(self) -> dict[str, str]:
        """Name, version and model identities: goes into the stage fingerprint."""
        return {"engine": self.name, "engine_version": self.version}

    def detect(self, img: Any) -> list[tuple[int, int, int, int]]:  # pragma: no cover - interface
        raise NotImplementedError

    def recognize(self, crops: list[Any], vertical: bool) -> list[LineResult]:  # pragma: no cover
        raise NotImplementedError

    def read_page(self, img: Any, vertical: bool, boxes: list | None = None) -> list[LineResult]:  # pragma: no cover
        """Whole-page reading; ``boxes``: the detector's boxes on ``img`` when already known."""
        raise NotImplementedError


# -- rapidocr --------------------------------------------------------------------------------


def rapid_model_dir() -> Path:
    try:
        import rapidocr  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise MissingDependency("the rapidocr engine needs the PyPI packages `rapidocr` and `onnxruntime` "
                                "(pip install rapidocr onnxruntime)") from e
    try:
        import onnxruntime  # noqa: F401
    except ImportError as e:  # pragma: no cover
        raise MissingDependency("the rapidocr engine needs the PyPI package `onnxruntime` "
                                "(pip install onnxruntime)") from e
    d = Path(rapidocr.__file__).resolve().parent / "models"
    for f in (RAPID_DET_MODEL, RAPID_REC_MODEL):
        if not (d / f).is_file():
            raise MissingDependency(f"rapidocr's bundled model {f} is missing from {d}: reinstall the PyPI "
                                    "package `rapidocr` (3.x ships it in the wheel); guji never downloads models")
    return d


class RapidEngine(Engine):
    name = "rapidocr"
    has_detector = True

    def __init__(self, threads: int = 1):
        import importlib.metadata

        from guji.ocr.rapid_adapter import RapidModels

        d = rapid_model_dir()
        self.models = RapidModels(d / RAPID_DET_MODEL, d / RAPID_REC_MODEL, threads)
        self.version = self.models.version
        self.input_height = self.models.rec_height
        self.ort_version = importlib.metadata.version("onnxruntime")
        self._chars = self.models.characters
        self.model_files = {f: str((d / f).stat().st_size) for f in (RAPID_DET_MODEL, RAPID_REC_MODEL)}

    def describe(self) -> dict[str, str]:
        return {"engine": self.name, "engine_version": self.version, "onnxruntime": self.ort_version,
                **{f"model:{k}": v for k, v in self.model_files.items()}}

    def detect(self, img: Any, box_thresh: float | None = None) -> list[tuple[int, int, int, int]]:
        """Axis-aligned text boxes ``[x, y, w, h]`` in ``img`` pixels (BGR or grey array)."""
        import numpy as np

        img = self._bgr(img)
        out = []
        H, W = img.shape[:2]
        for quad in self.models.detect(img, box_thresh):
            quad = np.asarray(quad)
            xs, ys = quad[:, 0], quad[:, 1]
            x0, y0 = max(0, int(xs.min())), max(0, int(ys.min()))
            x1, y1 = min(W, int(round(xs.max()))), min(H, int(round(ys.max())))
            if x1 - x0 >= 2 and y1 - y0 >= 2:
                out.append((x0, y0, x1 - x0, y1 - y0))
        return out

    def detect_region(self, img: Any, box_thresh: float = 0.3, max_scale: float = 3.0
                      ) -> list[tuple[int, int, int, int]]:
        """:meth:`detect` on a crop with a lower box threshold (the second, recall-oriented pass;
        the detector scales a small crop up to 736 px on its shorter side)."""
        import cv2

        h, w = img.shape[:2]
        side = int(736 / max_scale)
        if min(h, w) < side:  # pad with the paper colour: the detector upscales at most max_scale×
            fill = [int(v) for v in cv2.mean(img)[:3]] if img.ndim == 3 else int(cv2.mean(img)[0])
            img = cv2.copyMakeBorder(img, 0, max(0, side - h), 0, max(0, side - w), cv2.BORDER_CONSTANT, value=fill)
        return [b for b in self.detect(img, box_thresh) if b[0] < w and b[1] < h]

    def normalise(self, img: Any, max_wh: float) -> Any:
        """The recogniser's input for one line image (BGR): resized *bilinearly* to its height
        (48 px) keeping the aspect ratio, at most ``max_wh`` × the height wide, scaled to [-1, 1],
        zero-padded on the right, channels first (the resizing rapidocr does; bilinear measured
        best on dzj-dev: cubic, Lanczos and area were worse)."""
        import math

        import cv2
        import numpy as np

        H = self.models.rec_height
        W = int(H * max_wh)
        h, w = img.shape[:2]
        rw = max(1, min(W, int(math.ceil(H * w / max(1, h)))))
        r = cv2.resize(img, (rw, H), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        out = np.zeros((3, H, W), dtype=np.float32)
        out[:, :, :rw] = r.transpose(2, 0, 1) / 127.5 - 1.0
        return out

    def recognize(self, crops: list[Any], vertical: bool) -> list[LineResult]:
        """Recognise line images already in left-to-right reading orientation (BGR arrays).

        ``vertical`` only marks the results; the caller has rotated vertical columns.
        """
        import numpy as np

        n = len(crops)
        results: list[LineResult | None] = [None] * n
        if not n:
            return []
        ratios = [c.shape[1] / max(1, c.shape[0]) for c in crops]
        order = np.argsort(np.array(ratios), kind="stable")
        imgH, imgW = self.models.rec_height, self.models.rec_width
        batch = 6
        for b in range(0, n, batch):
            idx = [int(i) for i in order[b:b + batch]]
            max_wh = max([imgW / imgH] + [ratios[i] for i in idx])
            norm = np.stack([self.normalise(self._bgr(crops[i]), max_wh) for i in idx])
            preds = self.models.recognise_batch(norm)
            for k, i in enumerate(idx):
                h, w = crops[i].shape[:2]
                resized_w = min(int(imgH * max_wh), int(np.ceil(imgH * w / max(1, h))))
                results[i] = self._decode(np.asarray(preds[k]), padded_w=int(imgH * max_wh),
                                          resized_w=resized_w, crop_w=w, vertical=vertical)
        return [r for r in results if r is not None]

    @staticmethod
    def _bgr(img: Any) -> Any:
        if img.ndim == 2:
            import cv2

            return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        return img

    def _decode(self, prob: Any, *, padded_w: int, resized_w: int, crop_w: int, vertical: bool) -> LineResult:
        """Greedy CTC decoding that keeps each character's time step span and top-5 alternatives."""
        import numpy as np

        T = prob.shape[0]
        best = prob.argmax(axis=1)
        step = padded_w / T  # pixels of the resized line per time step
        scale = crop_w / max(1, resized_w)
        chars: list[CharResult] = []
        groups: list[list[int]] = []
        prev = 0
        for t in range(T):
            c = int(best[t])
            if c != 0 and c != prev:
                groups.append([t])
            elif c != 0 and c == prev and groups:
                groups[-1].append(t)
            prev = c
        n_chars = len(self._chars)
        for g in groups:
            t_peak = max(g, key=lambda t: prob[t, best[t]])
            c = int(best[t_peak])
            if c >= n_chars:
                continue
            text = self._chars[c]
            if text in ("blank", " ") or not text.strip():
                continue
            row = prob[t_peak]
            top = np.argsort(-row)[:6]
            alts = [(self._chars[j], float(row[j])) for j in top if 0 < j < n_chars and self._chars[j].strip()][:5]
            centre = (np.mean(g) + 0.5) * step * scale
            chars.append(CharResult(text, float(np.mean([prob[t, c] for t in g])), (centre, centre), alts))
        # character extents: halfway between neighbouring centres
        for k, ch in enumerate(chars):
            c = ch.span[0]
            prev_c = chars[k - 1].span[0] if k else None
            next_c = chars[k + 1].span[0] if k + 1 < len(chars) else None
            half = ((next_c - c) if next_c is not None else (c - prev_c) if prev_c is not None else crop_w) / 2
            s = (c + prev_c) / 2 if prev_c is not None else c - half
            e = (c + next_c) / 2 if next_c is not None else c + half
            ch.span = (max(0.0, s), min(float(crop_w), e))
        text = "".join(c.text for c in chars)
        conf = float(np.mean([c.confidence for c in chars])) if chars else 0.0
        return LineResult(text, conf, chars, vertical=vertical)

    def read_page(self, img: Any, vertical: bool, boxes: list | None = None) -> list[LineResult]:
        """Whole-page reading without layout analysis: detect (unless ``boxes`` are given),
        recognise each box, one list."""
        import numpy as np

        img = self._bgr(img)
        boxes = self.detect(img) if boxes is None else list(boxes)
        crops, isvert = [], []
        for x, y, w, h in boxes:
            c = img[y:y + h, x:x + w]
            v = h >= 1.5 * w if not vertical else not w > 2.5 * h  # vertical page: all but wide boxes rotated
            crops.append(np.ascontiguousarray(np.rot90(c)) if v else c)
            isvert.append(v)
        res = self.recognize(crops, vertical)
        for r, b, v in zip(res, boxes, isvert):
            r.box = b
            r.vertical = v
        return res


# -- tesseract -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def tesseract_info() -> tuple[str, tuple[str, ...]]:
    """Tesseract's version and installed language packs (MissingDependency naming the Debian package when absent)."""
    try:
        import pytesseract
    except ImportError as e:  # pragma: no cover
        raise MissingDependency("the tesseract engine needs the PyPI package `pytesseract`") from e
    try:
        version = str(pytesseract.get_tesseract_version())
        langs = tuple(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, OSError) as e:
        raise MissingDependency("the tesseract engine needs the program tesseract "
                                "(Debian package `tesseract-ocr`)") from e
    return version, langs


class TesseractEngine(Engine):
    name = "tesseract"
    has_detector = False

    def __init__(self, lang_vertical: str = "chi_tra_vert", lang_horizontal: str = "chi_tra"):
        self.version, langs = tesseract_info()
        for lang in {lang_vertical, lang_horizontal}:
            if lang not in langs:
                pkg = TESS_LANG_PACKAGES.get(lang, f"tesseract-ocr-{lang.replace('_', '-')}")
                raise MissingDependency(f"Tesseract language pack {lang} is not installed "
                                        f"(Debian package `{pkg}`)")
        self.lang_v, self.lang_h = lang_vertical, lang_horizontal

    def describe(self) -> dict[str, str]:
        return {"engine": self.name, "engine_version": self.version, "lang_vertical": self.lang_v,
                "lang_horizontal": self.lang_h}

    def _data(self, img: Any, lang: str, psm: int) -> list[tuple[str, float, tuple[int, int, int, int], tuple]]:
        import pytesseract

        d = pytesseract.image_to_data(img, lang=lang, config=f"--psm {psm}",
                                      output_type=pytesseract.Output.DICT)
        out = []
        for i, txt in enumerate(d["text"]):
            txt = (txt or "").strip()
            if not txt or float(d["conf"][i]) < 0:
                continue
            key = (d["block_num"][i], d["par_num"][i], d["line_num"][i])
            out.append((txt, float(d["conf"][i]) / 100.0,
                        (d["left"][i], d["top"][i], d["width"][i], d["height"][i]), key))
        return out

    def recognize(self, crops: list[Any], vertical: bool) -> list[LineResult]:
        """Line images upright (vertical columns are *not* rotated for Tesseract)."""
        res = []
        for c in crops:
            words = self._data(c, self.lang_v if vertical else self.lang_h, 5 if vertical else 7)
            chars = []
            for txt, conf, (x, y, w, h), _ in words:
                n = len(txt)
                for k, ch in enumerate(txt):
                    if vertical:
                        s, e = y + h * k / n, y + h * (k + 1) / n
                    else:
                        s, e = x + w * k / n, x + w * (k + 1) / n
                    chars.append(CharResult(ch, conf, (s, e), [(ch, conf)]))
            text = "".join(c.text for c in chars)
            conf = sum(c.confidence for c in chars) / len(chars) if chars else 0.0
            res.append(LineResult(text, conf, chars, vertical=vertical))
        return res

    def read_page(self, img: Any, vertical: bool, boxes: list | None = None) -> list[LineResult]:
        lang = self.lang_v if vertical else self.lang_h
        words = self._data(img, lang, 5 if vertical else 3)
        lines: dict[tuple, list] = {}
        for w in words:
            lines.setdefault(w[3], []).append(w)
        res = []
        for ws in lines.values():
            xs = [b[2][0] for b in ws] + [b[2][0] + b[2][2] for b in ws]
            ys = [b[2][1] for b in ws] + [b[2][1] + b[2][3] for b in ws]
            box = (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
            chars = []
            for txt, conf, (x, y, w, h), _ in ws:
                n = len(txt)
                for k, ch in enumerate(txt):
                    s = (y - box[1] + h * k / n) if vertical else (x - box[0] + w * k / n)
                    e = (y - box[1] + h * (k + 1) / n) if vertical else (x - box[0] + w * (k + 1) / n)
                    chars.append(CharResult(ch, conf, (s, e), [(ch, conf)]))
            conf = sum(c.confidence for c in chars) / len(chars) if chars else 0.0
            res.append(LineResult("".join(c.text for c in chars), conf, chars, box=box, vertical=vertical))
        return res


@functools.lru_cache(maxsize=4)
def get_engine(name: str, lang_vertical: str = "chi_tra_vert", lang_horizontal: str = "chi_tra") -> Engine:
    """One engine instance per process (models load once). ``name`` may also be ``module:factory``,
    a function returning an :class:`Engine` (plugin hook; the tests' fake engines use it)."""
    if ":" in name:
        import importlib

        mod, _, attr = name.partition(":")
        return getattr(importlib.import_module(mod), attr)()
    if name == "rapidocr":
        return RapidEngine()
    if name == "tesseract":
        return TesseractEngine(lang_vertical, lang_horizontal)
    raise MissingDependency(f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINES)}")
