"""One small real pipeline run for the preservation-package and verify tests (built once per session).

A part of samples/demo-batch: book 350000-2001-0000101 with two volumes (v01: a single page and a
two-page spread; v02: one page) and two juan across them, plus the local document DF-0001. The
real `guji run` makes masters' ledger, derivatives, OCR, metadata, IIIF and a folder publication;
`guji package` then writes the bags.

The run itself (:func:`pipeline`, with a snapshot of its outputs taken before anything else touches
them) is also the uninterrupted reference of the crash-safety test (tests/test_resume.py): one
`guji run` of this batch per session serves both.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import pytest

from helpers import SAMPLES, run_guji, snapshot

BOOK = "350000-2001-0000101"
DOC = "DF-0001"
KEEP = {f"{BOOK}/v01/0001.jpg", f"{BOOK}/v01/0002.jpg", f"{BOOK}/v02/0001.jpg", f"{DOC}/0001.png"}
_cache: dict[str, dict[str, Any]] = {}


def make_batch(dest: Path) -> Path:
    src = SAMPLES / "demo-batch"
    b = dest / "batch"
    b.mkdir(parents=True)
    shutil.copy(src / "batch.toml", b / "batch.toml")
    text = (src / "records.csv").read_text("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    keep_rows = [rows[0]] + [r for r in rows[1:] if r[0] == BOOK or DOC in r]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(keep_rows)
    (b / "records.csv").write_text(buf.getvalue(), "utf-8")
    for rel in KEEP:
        (b / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, b / rel)
    (b / BOOK / "structure.csv").write_text("juan,volume,file\n卷一,v01,0001.jpg\n卷二,v02,0001.jpg\n", "utf-8")
    return b


def pipeline(tmp_path_factory) -> dict[str, Any]:
    """{batch, work, out, snapshot}: one `guji run` of the batch (-j 2), made once per session;
    ``snapshot`` = {"work": …, "out": …} content of its outputs right after the run (helpers.snapshot)."""
    if "run" not in _cache:
        if not (SAMPLES / "demo-batch").is_dir():
            pytest.skip("samples/demo-batch not generated yet")
        root = tmp_path_factory.mktemp("package-demo")
        batch = make_batch(root)
        work, out = root / "work", root / "out"
        r = run_guji("run", str(batch), "--work", str(work), "--out", str(out), "-j", "2", "-q")
        assert r.returncode == 0, r.stderr[-3000:]
        _cache["run"] = {"batch": batch, "work": work, "out": out, "root": root,
                         "snapshot": {"work": snapshot(work), "out": snapshot(out)}}
    return _cache["run"]


def demo(tmp_path_factory) -> dict[str, Path]:
    """{batch, work, out, bags}: the pipeline run and the bags (shared: copy before changing anything)."""
    if "demo" not in _cache:
        run = pipeline(tmp_path_factory)
        bags = run["root"] / "bags"
        r = run_guji("package", "--work", str(run["work"]), "--out", str(bags), "--published", str(run["out"]), "-q")
        assert r.returncode == 0, r.stderr[-3000:]
        _cache["demo"] = {"batch": run["batch"], "work": run["work"], "out": run["out"], "bags": bags}
    return _cache["demo"]


def copy_demo(tmp_path_factory, dest: Path) -> dict[str, Path]:
    """A private copy of the demo (work, out, bags) that a test may damage; the batch is shared."""
    d = demo(tmp_path_factory)
    out = {"batch": d["batch"]}
    for k in ("work", "out", "bags"):
        shutil.copytree(d[k], dest / k, symlinks=True)
        out[k] = dest / k
    return out
