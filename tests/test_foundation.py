"""State store, executor, atomic writes, exit codes and the help texts."""

from __future__ import annotations

import json
import os

import pytest

from helpers import run_guji
from guji.executor import LocalExecutor, SerialExecutor, TaskFailure
from guji.exitcodes import ExitCode, worst
from guji.fsutil import AtomicPath, atomic_write_bytes, remove_stale_temps, sha256_bytes
from guji.model import IDENTITY, apply_affine, box_to_master, invert_affine
from guji.state import StateStore, fingerprint


def _square(x):
    if x == 3:
        raise ValueError("three is bad")
    return x * x


def _pid(_):
    return os.getpid()


def test_state_store_current_only_when_fingerprint_and_outputs_match(tmp_path):
    store = StateStore(tmp_path)
    fp = fingerprint({"img": "abc"}, {"q": 90}, {"pillow": "1"})
    assert fp != fingerprint({"img": "abc"}, {"q": 91}, {"pillow": "1"})
    assert fp != fingerprint({"img": "abc"}, {"q": 90}, {"pillow": "2"})
    digest = atomic_write_bytes(tmp_path / "out" / "a.bin", b"hello")
    store.record("s", "k", fingerprint=fp, outputs={"out/a.bin": digest})
    assert store.is_current("s", "k", fp)
    assert not store.is_current("s", "k", fingerprint({"img": "abd"}, {"q": 90}, {"pillow": "1"}))
    (tmp_path / "out" / "a.bin").write_bytes(b"HELLO")  # damaged output
    assert not store.is_current("s", "k", fp)
    (tmp_path / "out" / "a.bin").unlink()
    assert not store.is_current("s", "k", fp)
    store.record("s", "k", fingerprint=fp, status="failed")
    assert not store.is_current("s", "k", fp)
    store.close()


def test_fixity_ledger_keeps_first_hash(tmp_path):
    with StateStore(tmp_path) as store:
        store.record_masters([("p1", "a.tif", "h1", 10)])
        store.record_masters([("p1", "a.tif", "h2", 11)])
        assert store.masters() == [("p1", "a.tif", "h1", 10)]


@pytest.mark.parametrize("executor", [SerialExecutor(), LocalExecutor(2)], ids=["serial", "processes"])
def test_executor_returns_failures_and_continues(executor):
    try:
        out = dict(executor.map_unordered(_square, range(6)))
    finally:
        executor.close()
    assert {k: v for k, v in out.items() if k != 3} == {0: 0, 1: 1, 2: 4, 4: 16, 5: 25}
    assert isinstance(out[3], TaskFailure) and "three is bad" in str(out[3])


def test_local_executor_uses_other_processes_and_bounds_in_flight():
    ex = LocalExecutor(2, max_in_flight=3)
    consumed = []

    def tasks():
        for i in range(10):
            consumed.append(i)
            yield i

    try:
        it = ex.map_unordered(_pid, tasks())
        first = next(it)
        assert len(consumed) <= 4  # lazily pulled: at most max_in_flight (+1 look-ahead)
        pids = {first[1]} | {pid for _, pid in it}
    finally:
        ex.close()
    assert os.getpid() not in pids and len(consumed) == 10


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "x.txt"
    with pytest.raises(RuntimeError):
        with AtomicPath(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError
    assert not target.exists() and list(tmp_path.iterdir()) == []
    with AtomicPath(target) as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole"
    (tmp_path / ".y.abc.tmp.jpg").write_text("left by a killed run")
    assert remove_stale_temps(tmp_path) == 1
    assert sha256_bytes(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_affine_round_trip():
    m = (0.5, 0.0, 100.0, 0.0, 0.5, 40.0)
    inv = invert_affine(m)
    x, y = apply_affine(m, 10, 20)
    assert (x, y) == (105.0, 50.0)
    assert apply_affine(inv, x, y) == pytest.approx((10, 20))
    assert box_to_master(m, (0, 0, 200, 100)) == (100, 40, 100, 50)
    assert invert_affine(IDENTITY) == IDENTITY


def test_worst_exit_code():
    assert worst() == ExitCode.OK
    assert worst(ExitCode.ITEMS_BLOCKED, ExitCode.OK) == ExitCode.ITEMS_BLOCKED
    assert worst(ExitCode.ITEMS_BLOCKED, ExitCode.FIXITY_FAILED) == ExitCode.FIXITY_FAILED


def test_every_command_has_useful_help():
    r = run_guji("--help")
    assert r.returncode == 0
    commands = []
    in_cmds = False
    for line in r.stdout.splitlines():
        if line.startswith("Commands:"):
            in_cmds = True
            continue
        if in_cmds and line.startswith("  ") and line.strip():
            commands.append(line.split()[0])
    for required in ["ingest", "clean", "ocr", "metadata", "iiif", "publish", "run", "status", "verify"]:
        assert required in commands
    for cmd in commands:
        h = run_guji(cmd, "--help")
        assert h.returncode == 0, cmd
        assert len(h.stdout.split()) > 30, f"`guji {cmd} --help` is too thin"


def test_unknown_option_is_usage_error():
    r = run_guji("ingest", "--no-such-option")
    assert r.returncode == ExitCode.USAGE


@pytest.mark.parametrize("stage,needs", [("clean", "guji ingest"), ("ocr", "guji clean"), ("metadata", "guji ingest"),
                                         ("iiif", "guji ingest"), ("publish", "guji iiif")])
def test_stage_before_its_inputs_exist_is_not_ready(tmp_path, stage, needs):
    r = run_guji(stage, "--work", str(tmp_path / "w"), "--out", str(tmp_path / "o"))
    assert r.returncode == ExitCode.NOT_READY, r.stderr
    assert needs in r.stderr


def test_atomic_writes_are_readable_by_others(tmp_path):
    old = os.umask(0o022)
    try:
        import importlib

        import guji.fsutil as fsutil

        importlib.reload(fsutil)
        fsutil.atomic_write_bytes(tmp_path / "a", b"x")
        with fsutil.AtomicPath(tmp_path / "b.jpg") as t:
            t.write_bytes(b"y")
    finally:
        os.umask(old)
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.jpg").stat().st_mode & 0o777 == 0o644


def test_book_with_a_page_failing_in_clean_gets_no_manifest(tmp_path):
    from PIL import Image

    from batchmaker import make_batch

    b = make_batch(tmp_path / "b", items={"DF-1": 2, "DF-2": 2})
    Image.new("RGB", (5, 5), "white").save(b / "DF-1" / "0003.jpg")  # decodes fine, too small to clean
    r = run_guji("run", str(b), "--work", str(tmp_path / "w"), "--out", str(tmp_path / "o"), "--until", "iiif",
                 "--jobs", "1", "--json")
    doc = json.loads(r.stdout)
    assert r.returncode == ExitCode.ITEMS_BLOCKED, r.stderr[-2000:]
    iiif = next(s for s in doc["stages"] if s["stage"] == "iiif")
    assert any(p["code"] == "iiif-item-incomplete" and p["item"] == "DF-1" for p in iiif["problems"])
    assert not (tmp_path / "w" / "build" / "iiif" / "DF-1" / "manifest.json").exists()
    assert (tmp_path / "w" / "build" / "iiif" / "DF-2" / "manifest.json").exists()


def test_run_history_records_the_real_exit_code(tmp_path):
    import sqlite3

    from batchmaker import make_batch

    b = make_batch(tmp_path / "b", items={"DF-1": 1})
    (b / "batch.toml").write_text("[batch\n", "utf-8")
    r = run_guji("run", str(b), "--work", str(tmp_path / "w"))
    assert r.returncode == ExitCode.BAD_BATCH
    con = sqlite3.connect(tmp_path / "w" / "state.sqlite")
    assert con.execute("SELECT exit_code FROM runs").fetchall() == [(int(ExitCode.BAD_BATCH),)]
