"""Stage settings are declared once (each stage's DEFAULTS); batch.toml is checked against them."""

from __future__ import annotations

from helpers import run_guji
from batchmaker import make_batch

from guji.settings import STAGE_MODULES, unknown_settings, valid_keys


def test_every_stage_declares_its_settings():
    for stage in STAGE_MODULES:
        assert valid_keys(stage), stage


def test_known_settings_pass_and_typos_name_the_nearest_key():
    assert unknown_settings({"batch": {"id": "x"}, "ocr": {"engine": "rapidocr", "page_timeout": 60},
                             "clean": {"qc": {}}}) == []
    msgs = unknown_settings({"ocr": {"engin": "tesseract"}, "iiiff": {}})
    assert any("[ocr] engin" in m and "'engine'" in m for m in msgs), msgs
    assert any("[iiiff]" in m and "'iiif'" in m for m in msgs), msgs


def test_ingest_refuses_a_batch_with_an_unknown_setting(tmp_path):
    b = make_batch(tmp_path / "b", items={"DF-1": 1}, toml_extra='[ocr]\nengin = "tesseract"\n')
    r = run_guji("ingest", str(b), "--work", str(tmp_path / "w"))
    assert r.returncode == 3, r.stderr
    assert "engin" in r.stderr and "engine" in r.stderr
