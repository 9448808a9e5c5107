"""The one place guji reaches into rapidocr's internals.

rapidocr (PyPI ``rapidocr``) runs PP-OCR's ONNX models with onnxruntime. Its public API
(``RapidOCR()(img)``) detects and recognises in one go and decodes the CTC output itself; guji
needs the two models separately (detection on a page or a crop with its own box threshold, raw
CTC probabilities for character positions and top-k alternatives), which rapidocr only offers
through private members. Every such access lives here, behind :class:`RapidModels`, and works
with the versions ``SUPPORTED`` names (pinned the same way in pyproject.toml). A rapidocr that
lacks one of these members raises :class:`~guji.errors.MissingDependency` naming the range,
instead of failing somewhere inside OCR.

Private members used (rapidocr 3.10): ``RapidOCR._load_det_model()`` / ``_load_rec_model()``,
``TextDetector.postprocess_op.box_thresh`` (a per-call box threshold), ``TextRecognizer.session``
(the onnxruntime session wrapper), ``TextRecognizer.rec_image_shape`` and
``TextRecognizer.postprocess_op.character`` (the CTC alphabet, index 0 = blank).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from guji.errors import MissingDependency

SUPPORTED = ">=3.10,<3.11"  # keep equal to pyproject.toml's rapidocr pin
_LO, _HI = (3, 10), (3, 11)


def _version_tuple(v: str) -> tuple[int, ...]:
    out = []
    for part in v.split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


def check_version(version: str) -> None:
    """Raise MissingDependency when ``version`` is outside :data:`SUPPORTED`."""
    if not (_LO <= _version_tuple(version)[:2] < _HI):
        raise MissingDependency(f"guji's OCR needs rapidocr {SUPPORTED} (found {version}): its models are "
                                f"driven through rapidocr internals; pip install 'rapidocr{SUPPORTED}'")


class RapidModels:
    """PP-OCR detector and recogniser loaded from explicit model files (never downloads)."""

    def __init__(self, det_model: Path, rec_model: Path, threads: int = 1):
        import importlib.metadata

        from rapidocr import RapidOCR

        self.version = importlib.metadata.version("rapidocr")
        check_version(self.version)
        ocr = RapidOCR(params={
            "Global.log_level": "error", "Global.use_cls": False,
            "Det.model_path": str(det_model), "Rec.model_path": str(rec_model),
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        })
        try:
            self._det = ocr._load_det_model()
            self._rec = ocr._load_rec_model()
            self._det_post = self._det.postprocess_op
            self._det_post.box_thresh  # noqa: B018 - fail here when the member is gone
            self._session = self._rec.session
            shape = self._rec.rec_image_shape
            self.characters: list[str] = list(self._rec.postprocess_op.character)
        except AttributeError as e:  # pragma: no cover - depends on the installed rapidocr
            raise MissingDependency(f"rapidocr {self.version} changed the internals guji uses ({e}); "
                                    f"install rapidocr{SUPPORTED}") from e
        self.rec_channels, self.rec_height, self.rec_width = (int(v) for v in shape[:3])
        self._lock = threading.Lock()

    def detect(self, img: Any, box_thresh: float | None = None) -> list[Any]:
        """Text quadrilaterals (4×2 arrays, ``img`` pixels) of a BGR image; ``box_thresh``
        overrides the detector's box score threshold (default 0.5) for this call."""
        with self._lock:
            old = self._det_post.box_thresh
            if box_thresh is not None:
                self._det_post.box_thresh = box_thresh
            try:
                res = self._det(img)
            finally:
                self._det_post.box_thresh = old
        if res.boxes is None or len(res.boxes) == 0:
            return []
        return list(res.boxes)

    def recognise_batch(self, batch: Any) -> Any:
        """CTC probabilities (N, T, len(characters)) of a normalised float32 batch (N, 3, H, W)."""
        return self._session(batch)
