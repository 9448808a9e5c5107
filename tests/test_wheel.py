"""The wheel carries every file guji reads at run time (package data through guji.resources).

Builds the wheel from a copy of the sources (no build isolation: fast, offline) and compares its
file list with the package's own non-Python files. The full check — install into a clean venv
outside the checkout and run the demo batch — is ``scripts/wheel-test.sh`` (``make test`` runs it).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from guji import resources

REPO = Path(__file__).resolve().parents[1]

# what must be in any wheel, whatever else gets added later
REQUIRED = [
    "guji/schemas/batch.schema.json",
    "guji/schemas/record.schema.json",
    "guji/ocr/data/charlm.npz",
    "guji/metadata/data/reign_eras.tsv",
    "guji/clean/report.html",
    "guji/publish/templates/catalogue.html",
    "guji/publish/templates/reader.html",
    "guji/structure/templates/report.html",
    "guji/metadata/review.html",
]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> list[str]:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "guji", src / "guji", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path_factory.mktemp("dist")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                        "-w", str(dist), str(src)], capture_output=True, text=True, timeout=300)
    if r.returncode != 0 and "bdist_wheel" in r.stderr + r.stdout:
        pytest.skip("the build tools are too old for --no-build-isolation: pip install 'setuptools>=68' wheel")
    assert r.returncode == 0, r.stderr[-2000:]
    (whl,) = dist.glob("guji-*.whl")
    with zipfile.ZipFile(whl) as z:
        return z.namelist()


def test_wheel_has_the_package_data(wheel_names):
    names = set(wheel_names)
    missing = [n for n in REQUIRED if n not in names]
    assert not missing, f"not in the wheel: {missing}"
    # every data file in the package source (not only the ones listed above) is shipped
    pkg = REPO / "guji"
    data = sorted(p.relative_to(REPO).as_posix() for p in pkg.rglob("*")
                  if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts)
    assert [n for n in data if n not in names] == []
    # nothing from outside the package (tests, samples, the checkout's schemas/)
    assert not [n for n in names if not n.startswith(("guji/", "guji-"))]


def test_resources_reads_what_the_stages_read():
    assert resources.read_json("schemas/batch.schema.json")["type"] == "object"
    assert resources.read_json("schemas/record.schema.json")
    assert resources.path("ocr/data/charlm.npz").stat().st_size > 1000
    assert "\t" in resources.read_text("metadata/data/reign_eras.tsv")
    assert not (REPO / "schemas").exists(), "schemas/ moved into the package (guji/schemas/)"
