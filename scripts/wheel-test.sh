#!/usr/bin/env bash
# The wheel as a user gets it: build guji's wheel, install it (with its dependencies, from the pip
# cache or PyPI) into a fresh virtual environment OUTSIDE the checkout, and run `guji run` on a
# copy of samples/demo-batch from a folder outside the checkout. Fails when the run does not exit
# 0, when the publication or the OCR text is missing, or when OCR ran without its language model
# (package data missing from the wheel). Run by `make wheel-test` (part of `make test`, so CI).
#
#   scripts/wheel-test.sh            BUILD_PYTHON=.venv/bin/python by default (needs pip)
#   KEEP=1 scripts/wheel-test.sh     keep the temp folder for a look afterwards
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
BUILD_PYTHON=${BUILD_PYTHON:-$repo/.venv/bin/python}
[ -x "$BUILD_PYTHON" ] || BUILD_PYTHON=$(command -v python3)
# the base interpreter of the build venv (a venv of a venv would inherit nothing, but be explicit)
BASE_PYTHON=${BASE_PYTHON:-$("$BUILD_PYTHON" -c 'import sys; print(sys._base_executable)')}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/guji-wheel-test.XXXXXX")
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$tmp"' EXIT; else echo "wheel-test: keeping $tmp"; fi
unset PYTHONPATH GUJI_WORK GUJI_OUT GUJI_CLUSTER GUJI_MIRADOR_DIR
t0=$(date +%s)

# 1. build from a copy of the sources, so the checkout's build/ or *.egg-info never leak in
mkdir -p "$tmp/src" "$tmp/dist"
tar -C "$repo" --exclude=__pycache__ -cf - pyproject.toml README.md guji | tar -C "$tmp/src" -xf -
"$BUILD_PYTHON" -m pip wheel -q --no-deps -w "$tmp/dist" "$tmp/src"
wheel=$(ls "$tmp/dist"/guji-*.whl)
echo "wheel-test: built $(basename "$wheel") ($(du -h "$wheel" | cut -f1)) at $(( $(date +%s) - t0 )) s"

# 2. a clean venv (no --system-site-packages: a missing dependency must show), the wheel installed
"$BASE_PYTHON" -m venv "$tmp/venv"
# --no-compile: byte-compiling every dependency (botocore alone is thousands of files) costs more
# than the run; Python compiles what it imports
"$tmp/venv/bin/python" -m pip install -q --no-compile "$wheel"
where=$(cd "$tmp" && "$tmp/venv/bin/python" -c 'import guji; print(guji.__file__)')
case "$where" in
  "$tmp/venv/"*) echo "wheel-test: installed with its dependencies at $(( $(date +%s) - t0 )) s: guji imported from $where" ;;
  *) echo "wheel-test: FAIL: guji imported from $where, not from the new venv" >&2; exit 1 ;;
esac

# 3. the demo batch, run from a folder outside the checkout
mkdir -p "$tmp/run"
cp -r "$repo/samples/demo-batch" "$tmp/run/batch"
cd "$tmp/run"
set +e
"$tmp/venv/bin/guji" run batch --work work --out out --json >result.json 2>log.txt
rc=$?
set -e
fail() { echo "wheel-test: FAIL: $*" >&2; tail -n 30 log.txt >&2; exit 1; }
[ "$rc" -eq 0 ] || fail "guji run exited $rc (expected 0)"
"$tmp/venv/bin/python" - <<'EOF' || fail "outputs missing (see above)"
import json, sqlite3, sys
from pathlib import Path

doc = json.loads(Path("result.json").read_text("utf-8"))  # exactly one JSON document on stdout
assert doc["exit_code"] == 0, doc["exit_name"]
manifests = sorted(Path("out/iiif").glob("*/manifest.json"))
texts = [p for p in Path("work/ocr").rglob("*.txt") if p.read_text("utf-8").strip()]
assert manifests, "no manifest published"
assert texts, "no OCR text"
assert Path("out/search/index.sqlite").is_file() and Path("out/index.html").is_file(), "no index/catalogue"
db = sqlite3.connect("work/state.sqlite")
lms = {json.loads(t).get("lm") for (t,) in db.execute("select tools from records where stage='ocr'")}
assert lms and all(lm and lm.startswith("charlm.npz") for lm in lms), f"OCR ran without its LM: {lms}"
assert "language model" not in Path("log.txt").read_text("utf-8"), "LM warning in the log"
print(f"wheel-test: {len(manifests)} manifests, {len(texts)} OCR text files, LM {sorted(lms)[0]}")
EOF
echo "wheel-test: OK in $(( $(date +%s) - t0 )) s"
