"""The one shared test helper module: paths (repo, samples, ../shared) and the small helpers every
test file uses. Test files import from here (``from helpers import ...``), never from each other.

``SHARED`` is the read-only reference data beside the repository (``../shared``); tests that need
it call :func:`shared_path`, which skips with the reason when it is absent.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from guji.fsutil import sha256_bytes, sha256_file

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
SHARED = REPO.parent / "shared"
GUJI = [sys.executable, "-m", "guji"]


def shared_path(*parts: str) -> Path:
    """Path inside ../shared, or skip the test with a clear reason when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"../shared/{'/'.join(parts)} not present (reference data lives beside the repo, "
                    f"not in it); this test needs it")
    return p


def shared_missing(*parts: str) -> str | None:
    """The skip reason when ../shared/<parts> is absent (for ``skipif`` marks), else None."""
    if SHARED.joinpath(*parts).exists():
        return None
    return f"../shared/{'/'.join(parts)} not present (reference data lives beside the repo, not in it)"


def run_guji(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
             timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real `guji` command line in a subprocess (as users do)."""
    e = dict(os.environ)
    e.pop("GUJI_WORK", None)
    e.pop("GUJI_OUT", None)
    if env:
        e.update(env)
    return subprocess.run([*GUJI, *args], cwd=cwd or REPO, env=e, capture_output=True, text=True,
                          timeout=timeout)


def copy_batch(name: str, dest: Path) -> Path:
    """A copy of ``samples/<name>`` under ``dest`` (tests may change it; the samples stay as they are)."""
    src = SAMPLES / name
    if not src.is_dir():
        pytest.skip(f"samples/{name} not generated yet")
    out = dest / name
    shutil.copytree(src, out)
    return out


# -- a small real batch and the content of a run's outputs (resume and cluster tests) -----------------

KEEP = {"350000-2001-0000102", "DF-0001"}  # a small subset of the demo batch keeps this test fast


def small_batch(dest: Path) -> Path:
    """Two items of samples/demo-batch (a book and a local document) as a batch folder under ``dest``."""
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


# -- samples/demo-batch through ingest and clean, once per session ---------------------------------

_DEMO_CLEAN: dict[str, Path] = {}


def demo_cleaned(tmp_path_factory) -> Path:
    """A work folder with samples/demo-batch ingested and cleaned (two worker processes), made once per
    session and shared: read it, or copy it (``shutil.copytree``) before running later stages in it."""
    if "work" not in _DEMO_CLEAN:
        from guji.clean.stage import run as clean
        from guji.executor import make_executor
        from guji.exitcodes import ExitCode
        from guji.ingest.stage import run as ingest
        from guji.stage import StageContext
        from guji.state import StateStore

        demo = SAMPLES / "demo-batch"
        if not (demo / "batch.toml").is_file():
            pytest.skip("samples/demo-batch not generated yet")
        work = tmp_path_factory.mktemp("demo-cleaned") / "work"
        store = StateStore(work)
        ctx = StageContext(work=work, store=store, batch_dir=demo, executor=make_executor(2, None))
        try:
            assert ingest(ctx).exit_code == ExitCode.OK
            res = clean(ctx)
            assert res.exit_code == ExitCode.OK and res.failed == 0, [str(p) for p in res.problems]
        finally:
            ctx.executor.close()
            store.close()
        _DEMO_CLEAN["work"] = work
    return _DEMO_CLEAN["work"]


@contextlib.contextmanager
def moto_s3(monkeypatch, bucket: str):
    """A real S3 server (moto's, on 127.0.0.1) emptied of earlier tests' state, with ``bucket`` made and
    test credentials in the environment (none of the caller's AWS settings leak in).
    Yields ``(endpoint, boto3 client)``; the server stops on exit."""
    moto_server = pytest.importorskip("moto.server", reason="moto[server] (test extra) not installed")
    import http.client
    import socket

    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDGUJITEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "guji-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(k, raising=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    srv.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # moto keeps state per process
        conn.request("POST", "/moto-api/reset")
        assert conn.getresponse().status == 200
        conn.close()
        endpoint = f"http://127.0.0.1:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        client.create_bucket(Bucket=bucket)
        yield endpoint, client
    finally:
        srv.stop()
