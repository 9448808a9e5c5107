"""Crash safety: SIGKILL `guji run` at several points; the re-run must equal an uninterrupted run."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from helpers import GUJI, REPO, SAMPLES, run_guji
from guji.fsutil import sha256_bytes, sha256_file

KEEP = {"350000-2001-0000102", "DF-0001"}  # a small subset of the demo batch keeps this test fast


def small_batch(dest: Path) -> Path:
    src = SAMPLES / "demo-batch"
    if not src.is_dir():
        pytest.skip("samples/demo-batch not generated yet")
    b = dest / "batch"
    b.mkdir(parents=True)
    shutil.copy2(src / "batch.toml", b / "batch.toml")
    for item in KEEP:
        shutil.copytree(src / item, b / item)
    with open(src / "records.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    keys = [i for i, h in enumerate(header) if h.strip() in ("普查编号", "普查編號", "本地编号", "本地編號")]
    with open(b / "records.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows[1:]:
            if any(r[k].strip() in KEEP for k in keys if k < len(r)):
                w.writerow(r)
    return b


def snapshot(root: Path) -> dict[str, str]:
    """Content of every output file; SQLite files by their logical dump; the state store left out."""
    out = {}
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(root).as_posix()
        if rel.startswith("state.sqlite") or p.suffix in (".log",) or rel.endswith(("-wal", "-shm")):
            continue
        if rel in ("publish/hashes.json", ".guji/stat-cache.json"):  # caches keyed by mtime
            continue
        if p.suffix == ".sqlite":
            out[rel] = sqlite_content(p)
        else:
            out[rel] = sha256_file(p)
    return out


def sqlite_content(path: Path) -> str:
    """Logical content of every table that can be read (FTS shadow tables included), order-free."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        parts = []
        for t in tables:
            try:
                rows = con.execute(f'SELECT * FROM "{t}"').fetchall()
            except sqlite3.OperationalError:  # e.g. a contentless FTS5 table cannot be scanned
                continue
            parts.append(f"{t}:{sorted(map(repr, rows))}")
        return "sqlite:" + sha256_bytes("\n".join(parts).encode())
    finally:
        con.close()


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
