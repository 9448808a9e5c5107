"""Stage settings are declared once (guji/settings.py: each stage's SETTINGS); batch.toml is checked
against them, the click options and the cli.md tables come from them."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from batchmaker import make_batch
from guji.settings import STAGE_MODULES, Setting, StageSettings, check_config, declared, valid_keys
from helpers import REPO, run_guji

CONVERTED = [s for s in STAGE_MODULES if declared(s) is not None]


def test_every_stage_declares_its_settings():
    for stage in STAGE_MODULES:
        assert valid_keys(stage), stage
    assert "clean" in CONVERTED


def test_known_settings_pass_and_typos_name_the_nearest_key():
    assert check_config({"batch": {"id": "x"}, "ocr": {"engine": "rapidocr", "page_timeout": 60},
                         "clean": {"qc": {}, "access_quality": 80, "split_spreads": False}}) == []
    msgs = check_config({"ocr": {"engin": "tesseract"}, "iiiff": {}, "clean": {"acces_quality": 80}})
    assert any("[ocr] engin" in m and "'engine'" in m for m in msgs), msgs
    assert any("[iiiff]" in m and "'iiif'" in m for m in msgs), msgs
    assert any("[clean] acces_quality" in m and "'access_quality'" in m for m in msgs), msgs


def test_wrong_types_and_values_are_named():
    msgs = check_config({"clean": {"access_quality": "high", "ocr_mode": "colour", "split_spreads": "no",
                                   "crop_margin": 0.9, "ocr_char_px": 32}})
    assert len(msgs) == 4, msgs  # ocr_char_px 32 (an int for a number) is fine
    text = "\n".join(msgs)
    assert "[clean] access_quality: 'high' is not an integer 1–100" in text
    assert "[clean] ocr_mode: 'colour' is not one of grey | binary" in text
    assert "[clean] split_spreads: 'no' is not true | false" in text
    assert "[clean] crop_margin: 0.9 is out of range" in text


def test_a_declaration_refuses_a_bad_default_or_a_key_twice():
    with pytest.raises(ValueError, match="default"):
        StageSettings("x", (Setting("q", 200, "品質", "quality", min=1, max=100),))
    with pytest.raises(ValueError, match="twice"):
        StageSettings("x", (Setting("q", 1, "甲", "a"), Setting("q", 2, "乙", "b")))


@pytest.mark.parametrize("stage", CONVERTED)
def test_cli_options_come_from_the_declaration(stage):
    from guji.cli import main

    d = declared(stage)
    cmd = main.get_command(None, stage)
    params = {p.name: p for p in cmd.params}
    for s in d.settings:
        if s.option:
            assert s.key in params, (stage, s.key)
            assert set(s.option.replace("/", " ").split()) == set(params[s.key].opts + params[s.key].secondary_opts)
            assert params[s.key].default is None  # not given: batch.toml's value stays in force
    out = CliRunner().invoke(main, [stage, "--help"]).output
    for s in d.settings:
        if s.option:
            assert s.option.split()[0].split("/")[0] in out


def test_cli_md_settings_tables_are_current():
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "gen_cli_docs.py"), "--check"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    text = (REPO / "cli.md").read_text("utf-8")
    for stage in CONVERTED:
        assert f"<!-- settings:{stage} -->" in text, stage
        for s in declared(stage).settings:
            assert f"`{s.key}`" in text, (stage, s.key)


def test_ingest_refuses_a_batch_with_an_unknown_setting(tmp_path):
    b = make_batch(tmp_path / "b", items={"DF-1": 1}, toml_extra='[ocr]\nengin = "tesseract"\n[clean]\nocr_mode = "colour"\n')
    r = run_guji("ingest", str(b), "--work", str(tmp_path / "w"))
    assert r.returncode == 3, r.stderr
    assert "engin" in r.stderr and "engine" in r.stderr
    assert "[clean] ocr_mode: 'colour' is not one of grey | binary" in r.stderr
