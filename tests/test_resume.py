"""Crash safety: SIGKILL `guji run` inside clean, OCR, tiling and publication (kill points by progress);
the re-run must equal an uninterrupted run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from guji.fsutil import sha256_file
from helpers import GUJI, REPO, run_guji, snapshot
from package_fixture import pipeline


def start(batch: Path, work: Path, out: Path) -> subprocess.Popen:
    env = dict(os.environ)
    return subprocess.Popen([*GUJI, "run", str(batch), "--work", str(work), "--out", str(out), "--jobs", "2", "-q"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def records(work: Path, stage: str) -> int:
    """Records of ``stage`` in the state store so far (read-only; 0 while it does not exist yet)."""
    db = work / "state.sqlite"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
        try:
            return con.execute("SELECT count(*) FROM records WHERE stage = ?", (stage,)).fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:  # not created yet, or busy for a moment
        return 0


# Kill points by progress, not by clock: each lands inside a different part of the run (pages of
# clean done, OCR half-way, tiling started, publication half-written), whatever the machine's speed.
KILL_POINTS = {
    "clean": lambda w, o: records(w, "clean") >= 1,
    "ocr": lambda w, o: records(w, "ocr") >= 1,
    "iiif": lambda w, o: records(w, "iiif") >= 1,
    "publish": lambda w, o: o.is_dir() and any(p.is_file() for p in o.rglob("*")),
}


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_equals_uninterrupted(tmp_path, tmp_path_factory):
    # the uninterrupted reference: the session's one `guji run --jobs 2` of the package batch (a book
    # with a spread and two volumes, a local document), its outputs snapshotted right after the run
    ref = pipeline(tmp_path_factory)
    batch = ref["batch"]
    masters = {p: sha256_file(p) for p in batch.rglob("*") if p.is_file()}

    work, out = tmp_path / "k-w", tmp_path / "k-o"
    killed = []
    for name, reached in KILL_POINTS.items():
        proc = start(batch, work, out)
        while proc.poll() is None:
            if reached(work, out):
                os.killpg(proc.pid, signal.SIGKILL)
                killed.append(name)
                break
            time.sleep(0.05)
        proc.wait(timeout=60)
    print(f"killed inside: {killed}")
    # every point but at most one must have been hit while the run was still going
    assert len(killed) >= 3, f"killed at {killed} only: the run finished first, the test proves little"
    final = run_guji("run", str(batch), "--work", str(work), "--out", str(out), "--jobs", "2", "-q")
    assert final.returncode == 0, final.stderr[-3000:]

    assert snapshot(out) == ref["snapshot"]["out"]
    assert snapshot(work) == ref["snapshot"]["work"]
    assert {p: sha256_file(p) for p in masters} == masters
