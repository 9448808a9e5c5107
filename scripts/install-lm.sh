#!/usr/bin/env bash
# Install the classical-Chinese text used to build the OCR character language model, then build it.
#
# Source: the npm package chinese-poetry@2.0.1 (MIT licence; Tang/Song poetry, 楚辭, 論語, 四書五經,
# 蒙學 texts, ~85 MB packed, 362 MB unpacked), pinned by version and integrity hash. It goes into a
# git-ignored folder inside the venv (.venv/share/guji-lm/), never into the repository, and nothing
# is downloaded at run time: scripts/build_lm.py turns it into one compact model file
# (guji/ocr/data/charlm.npz) that guji.ocr.lm loads. Idempotent: does nothing when the model exists.
# Without npm the OCR still works, only without LM re-ranking (it logs that the model is absent).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PY:-$ROOT/.venv/bin/python}
DEST=${GUJI_LM_DEST:-$ROOT/.venv/share/guji-lm}
PKG=chinese-poetry@2.0.1
INTEGRITY='sha512-KtYARvV7CWNtax0na9+Jn6PlhGgSoid7PWyDzXI4KsCEm2odZcqEQyval5koaLygZnM/EQ3lfJ//25K8p3uHNg=='
MODEL=${GUJI_LM_MODEL:-$ROOT/guji/ocr/data/charlm.npz}

if [ -f "$MODEL" ] && [ "${1:-}" != "--force" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install-lm: npm not found; OCR will run without the character language model" >&2
  exit 0
fi
mkdir -p "$DEST"
if [ ! -d "$DEST/package/dist" ]; then
  ( cd "$DEST" && rm -f chinese-poetry-*.tgz \
    && npm pack "$PKG" --silent --loglevel=error >/dev/null )
  got=$("$PY" -c 'import base64, hashlib, sys; print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$DEST/chinese-poetry-2.0.1.tgz")
  if [ "$got" != "$INTEGRITY" ]; then
    echo "install-lm: integrity mismatch for $PKG" >&2
    exit 1
  fi
  tar -xzf "$DEST/chinese-poetry-2.0.1.tgz" -C "$DEST"
  rm -f "$DEST/chinese-poetry-2.0.1.tgz"
fi
"$PY" scripts/build_lm.py --folded --src "$DEST/package/dist" --out "$MODEL"
