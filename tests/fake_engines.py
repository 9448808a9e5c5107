"""Fake OCR engines and task functions that misbehave on purpose (as OCRmyPDF's tests do).

Selected through the engine plugin hook: ``[ocr] engine = "fake_engines:engine"`` in batch.toml
(``guji.ocr.engines.get_engine`` accepts ``module:factory``; this folder must be importable, e.g.
``PYTHONPATH=tests``). What the engine does is read from ``WORK/fake-engine.json``, written by the
test, so one prepared work folder serves every scenario::

    {"mode": "raise" | "hang" | "kill" | "kill-once" | "ok", "page": "substring of a canvas id" | null,
     "delay": seconds per page (to make a batch last long enough to kill a worker mid-way)}

``kill`` sends SIGKILL to its own process — what the kernel's OOM killer does; ``kill-once`` does
so only the first time it reads a page (a marker file remembers), so the retry succeeds.
On pages the settings do not name, and with ``"ok"``, the engine reads deterministic fake text:
fast, no models. The current page comes from :func:`guji.executor.current_task`.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from guji.executor import current_task
from guji.ocr.engines import CharResult, Engine, LineResult

TEXT = "天地玄黃宇宙洪荒日月盈昃辰宿列張寒來暑往秋收冬藏"


def misbehave(mode: str | None, marker: Path | None = None) -> None:
    """Do what ``mode`` says: raise, hang, kill this process (always or once per marker)."""
    if mode == "raise":
        raise RuntimeError("fake engine: recogniser crashed on this page")
    if mode == "hang":
        while True:  # a native call that never returns: only stopping the process ends it
            time.sleep(3600)
    if mode == "kill" or (mode == "kill-once" and marker is not None and not marker.exists()):
        if marker is not None:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)


def _settings() -> tuple[dict[str, Any], Any]:
    task = current_task()
    if task is None:
        return {}, None
    f = Path(task.payload["_work"]) / "fake-engine.json"
    return (json.loads(f.read_text()) if f.exists() else {}), task


def _act() -> None:
    cfg, task = _settings()
    if not cfg:
        return
    if cfg.get("delay"):
        time.sleep(float(cfg["delay"]))
    page = cfg.get("page")
    if page and page not in task.key:
        return
    marker = Path(task.payload["_work"]) / "fake-engine-killed" / task.key.replace("/", "_")
    misbehave(cfg.get("mode"), marker)


class FakeEngine(Engine):
    name = "fake"
    version = "1"
    has_detector = True

    def __init__(self) -> None:
        self._acted: Any = None

    def _once_per_page(self) -> None:
        task = current_task()
        if task is not None and task is not self._acted:
            self._acted = task
            _act()

    def detect(self, img: Any) -> list[tuple[int, int, int, int]]:
        """Three upright columns in the middle of the image, right to left."""
        self._once_per_page()
        H, W = img.shape[:2]
        cw = max(4, W // 12)
        return [(int(W * f) - cw // 2, H // 8, cw, H * 3 // 4) for f in (0.7, 0.5, 0.3)]

    def recognize(self, crops: list[Any], vertical: bool) -> list[LineResult]:
        self._once_per_page()
        out = []
        for c in crops:
            n = 5
            length = c.shape[0] if vertical else c.shape[1]
            start = int(c.mean()) % (len(TEXT) - n)
            chars = [CharResult(TEXT[start + k], 0.9, (length * k / n, length * (k + 1) / n),
                                [(TEXT[start + k], 0.9)]) for k in range(n)]
            out.append(LineResult("".join(ch.text for ch in chars), 0.9, chars, vertical=vertical))
        return out

    def read_page(self, img: Any, vertical: bool) -> list[LineResult]:
        boxes = self.detect(img)
        res = self.recognize([img[y:y + h, x:x + w] for x, y, w, h in boxes], vertical)
        for r, b in zip(res, boxes):
            r.box = b
        return res


def engine() -> Engine:
    """The plugin factory: ``engine = "fake_engines:engine"``."""
    return FakeEngine()


# -- plain task functions for the executor tests ---------------------------------------------------


def page_task(task: dict[str, Any]) -> dict[str, Any]:
    """``{"n": 3, "mode": None | "raise" | "hang" | "kill" | "kill-once", "marker": path}`` → result."""
    if task.get("delay"):
        time.sleep(float(task["delay"]))
    misbehave(task.get("mode"), Path(task["marker"]) if task.get("marker") else None)
    return {"n": task["n"], "square": task["n"] ** 2, "pid": os.getpid()}
