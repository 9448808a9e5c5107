"""The one shared test helper module: paths (repo, samples, ../shared) and the small helpers every
test file uses. Test files import from here (``from helpers import ...``), never from each other.

``SHARED`` is the read-only reference data beside the repository (``../shared``); tests that need
it call :func:`shared_path`, which skips with the reason when it is absent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
