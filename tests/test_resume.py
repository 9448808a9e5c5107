"""Crash safety: SIGKILL `guji run` at several points; the re-run must equal an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from guji.fsutil import sha256_file
from helpers import GUJI, REPO, run_guji, small_batch, snapshot  # test_cluster imports the last two from here


def start(batch: Path, work: Path, out: Path) -> subprocess.Popen:
    env = dict(os.environ)
    return subprocess.Popen([*GUJI, "run", str(batch), "--work", str(work), "--out", str(out), "--jobs", "2", "-q"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_equals_uninterrupted(tmp_path):
    batch = small_batch(tmp_path)
    masters = {p: sha256_file(p) for p in batch.rglob("*") if p.is_file()}

    t0 = time.monotonic()
    ref = run_guji("run", str(batch), "--work", str(tmp_path / "ref-w"), "--out", str(tmp_path / "ref-o"),
                   "--jobs", "2", "-q")
    full = time.monotonic() - t0
    assert ref.returncode == 0, ref.stderr[-3000:]

    work, out = tmp_path / "k-w", tmp_path / "k-o"
    kills = 0
    for frac in (0.1, 0.3, 0.55, 0.8):
        proc = start(batch, work, out)
        time.sleep(max(0.3, frac * full))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
    assert kills >= 2, "the run finished before it could be killed: the test proves nothing"
    final = run_guji("run", str(batch), "--work", str(work), "--out", str(out), "--jobs", "2", "-q")
    assert final.returncode == ref.returncode, final.stderr[-3000:]

    assert snapshot(out) == snapshot(tmp_path / "ref-o")
    assert snapshot(work) == snapshot(tmp_path / "ref-w")
    assert {p: sha256_file(p) for p in masters} == masters
