"""Readings outside the script of ancient Chinese books (Latin letters, digits, kana) are replaced
by the best Han candidate or dropped on vertical pages; horizontal pages keep everything."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from guji.ocr.engines import CharResult, Engine, LineResult
from guji.ocr.recognize import han_script, keep_script, read_image

# what the recogniser "reads" in every column: (reading, its candidates best first)
READINGS = [("N", [("N", 0.6), ("天", 0.3)]),   # a Latin letter whose runner-up is a Han character
            ("地", [("地", 0.95)]),
            ("1", [("1", 0.9), ("l", 0.05)]),    # a digit with no Han candidate: dropped
            ("ア", [("ア", 0.5), ("7", 0.2), ("玄", 0.1)]),
            ("。", [("。", 0.8)])]


class ScriptEngine(Engine):
    name = "script-test"
    version = "1"
    has_detector = True

    def detect(self, img: Any) -> list[tuple[int, int, int, int]]:
        H, W = img.shape[:2]
        return [(int(W * f) - 15, 40, 30, H - 80) for f in (0.75, 0.5, 0.25)]

    def recognize(self, crops: list[Any], vertical: bool) -> list[LineResult]:
        out = []
        for c in crops:
            n, length = len(READINGS), c.shape[1]
            chars = [CharResult(t, alts[0][1], (length * k / n, length * (k + 1) / n), list(alts))
                     for k, (t, alts) in enumerate(READINGS)]
            out.append(LineResult("".join(t for t, _ in READINGS), 0.7, chars, vertical=vertical))
        return out


def _page() -> np.ndarray:
    img = np.full((400, 300, 3), 255, np.uint8)
    for x in (225, 150, 75):
        for y in range(50, 350, 60):
            img[y:y + 40, x - 12:x + 12] = 0
    return img


def _texts(direction: str, script: str) -> list[str]:
    regions, *_ = read_image(_page(), ScriptEngine(), direction=direction, script=script, lm="off",
                             recall=False, notes=False)
    return [ln.text for r in regions for ln in r.lines]


def test_han_script_keeps_han_characters_and_punctuation_only():
    assert all(han_script(c) for c in "天地玄黃卽衆〇○。、「」：")
    assert not any(han_script(c) for c in "Nl17アはㄱ&+*.ｱ")


def test_vertical_pages_keep_the_best_han_reading_or_drop_the_character():
    assert _texts("vertical-rtl", "auto") == ["天地玄。"] * 3
    assert _texts("vertical-rtl", "han") == ["天地玄。"] * 3
    assert _texts("vertical-rtl", "any") == ["N地1ア。"] * 3


@pytest.mark.parametrize("script, expected", [("auto", "N地1ア。"), ("han", "天地玄。")])
def test_horizontal_pages_keep_every_reading_unless_told(script, expected):
    assert set(_texts("horizontal", script)) == {expected}


def test_keep_script_moves_confidence_and_candidates_with_the_reading():
    res = LineResult("N地1", 0.8, [CharResult(t, a[0][1], (k, k + 1), list(a)) for k, (t, a) in enumerate(READINGS[:3])])
    keep_script(res, han_script)
    assert res.text == "天地"
    first = res.chars[0]
    assert (first.text, first.confidence, first.alternatives) == ("天", 0.3, [("天", 0.3)])
    assert res.confidence == pytest.approx((0.3 + 0.95) / 2)
