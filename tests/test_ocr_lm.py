"""OCR character language model: loading, scoring, candidate re-ranking, absent-model fallback."""

from __future__ import annotations

import logging

import pytest

from guji.ocr import lm as LM

needs_lm = pytest.mark.skipif(not LM.DEFAULT_PATH.is_file(),
                              reason=f"{LM.DEFAULT_PATH} absent (build it with scripts/install-lm.sh)")


@pytest.fixture(scope="module")
def model():
    return LM.CharLM(LM.DEFAULT_PATH)


@needs_lm
def test_lm_loads_and_scores_classical_bigrams_above_random(model):
    assert model.meta["source"].startswith("npm chinese-poetry")
    assert len(model.chars) > 5000 and model.keys.size > 100_000
    # common classical bigrams beat the same characters in an unlikely order / a random pairing
    assert model.logprob("明", "月") > model.logprob("月", "明") + 1.0
    assert model.logprob("天", "下") > model.logprob("天", "鑿") + 3.0
    assert model.logprob("不", "知") > model.logprob("不", "鍋") + 3.0
    assert model.score("春風又綠江南岸") > model.score("岸南江綠又風春") + 5.0
    # folded classes: traditional, simplified and printed variants score alike
    assert model.folded
    assert model.logprob("於", "衆") == pytest.approx(model.logprob("於", "眾"))


@needs_lm
def test_rerank_fixes_an_ambiguous_reading(model):
    # 床前明月光 with the recogniser slightly preferring 朋 over 明 and 目 over 月
    alts = [[("床", 0.95), ("牀", 0.03)], [("前", 0.97)], [("朋", 0.52), ("明", 0.44), ("胴", 0.02)],
            [("目", 0.5), ("月", 0.45)], [("光", 0.99)]]
    assert "".join(t for t, _ in LM.rerank_text(alts, model, LM.DEFAULT_WEIGHT)) == "床前明月光"
    # weight 0: the recogniser alone
    assert "".join(t for t, _ in LM.rerank_text(alts, model, 0.0)) == "床前朋目光"
    # a confident reading is not overturned by the LM
    sure = [[("前", 0.97)], [("朋", 0.995), ("明", 0.004)], [("月", 0.99)]]
    assert "".join(t for t, _ in LM.rerank_text(sure, model, LM.DEFAULT_WEIGHT)) == "前朋月"


@needs_lm
def test_variant_aware_decoding_keeps_printed_forms(model):
    # the LM decides the class, the recogniser the printed form: 卽 and 衆 stay as read
    alts = [[("卽", 0.6), ("即", 0.35)], [("是", 0.99)]]
    assert "".join(t for t, _ in LM.rerank_text(alts, model)) == "卽是"
    alts = [[("一", 0.99)], [("切", 0.98)], [("衆", 0.7), ("眾", 0.2)], [("生", 0.99)]]
    assert "".join(t for t, _ in LM.rerank_text(alts, model)) == "一切衆生"
    # a simplified-only reading on a traditional page becomes traditional, not on a simplified one
    alts = [[("佛", 0.99)], [("说", 0.9), ("兑", 0.05)]]
    assert "".join(t for t, _ in LM.rerank_text(alts, model)) == "佛說"
    assert "".join(t for t, _ in LM.rerank_text(alts, model, traditional=False)) == "佛说"


@needs_lm
def test_rerank_lines_updates_text_and_flags(model):
    from guji.ocr.page import Char, Line

    chars = [Char(c, (0, i * 10, 10, 10), p, a) for i, (c, p, a) in enumerate([
        ("無", 0.99, [("無", 0.99)]), ("量", 0.98, [("量", 0.98)]), ("壽", 0.97, [("壽", 0.97)]),
        ("佛", 0.98, [("佛", 0.98)]), ("國", 0.99, [("國", 0.99)]), ("天", 0.95, [("天", 0.95)]),
        ("朋", 0.52, [("朋", 0.52), ("明", 0.44)]), ("月", 0.99, [("月", 0.99)])])]
    ln = Line("l1", (0, 0, 10, 80), "ttb", "無量壽佛國天朋月", 0.9, chars)
    assert LM.rerank_lines([ln], model) == 1
    assert ln.text == "無量壽佛國天明月"
    assert ln.chars[6].confidence == pytest.approx(0.44) and ln.chars[6].low


def test_absent_model_logs_and_ocr_runs_without_lm(tmp_path, caplog):
    import numpy as np

    from guji.ocr.recognize import lm_reranker

    missing = tmp_path / "none.npz"
    with caplog.at_level(logging.WARNING, logger="guji.ocr.lm"):
        assert LM.load_default(missing) is None
    assert any("not found" in r.getMessage() and "without LM re-ranking" in r.getMessage() for r in caplog.records)
    assert lm_reranker(str(missing)) is None
    assert lm_reranker("off") is None
    # recognition itself still works with the LM absent
    import cv2

    from guji.ocr.engines import get_engine
    from guji.ocr.recognize import read_image

    img = np.full((64, 240, 3), 255, np.uint8)
    cv2.putText(img, "OCR 2024", (8, 46), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (0, 0, 0), 3)
    regions, *_ = read_image(img, get_engine("rapidocr"), direction="horizontal", lm=str(missing))
    assert "2024" in "".join(ln.text for r in regions for ln in r.lines)
