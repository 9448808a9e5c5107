#!/usr/bin/env bash
# Install the Debian packages guji needs (Debian 12 "bookworm").
# Run as root (or with sudo available). Safe to re-run: apt skips what is installed.
set -euo pipefail
PKGS=(
  # OCR engine (project baseline) with traditional, vertical-traditional and simplified data
  tesseract-ocr tesseract-ocr-chi-tra tesseract-ocr-chi-tra-vert tesseract-ocr-chi-sim
  tesseract-ocr-chi-sim-vert
  # libvips: IIIF tiles (pyvips binds it) and `vips dzsave` for the tiling benchmark baseline
  libvips42 libvips-tools
  # CJK fonts: sample regeneration (AR PL UMing, a Ming/Song face) and viewer screenshots
  fonts-arphic-uming fonts-noto-cjk
  # headless browser for the IIIF viewer tests (Mirador from npm is driven in it)
  chromium
  # Python venv support, unshare (util-linux) for the no-network OCR test
  python3-venv util-linux
  # PostgreSQL server: a shared `guji workspace --db postgresql+psycopg://…` and its test
  # (tests/test_workspace_postgres.py starts a throw-away server with initdb + pg_ctl)
  postgresql
)
# Node.js + npm for the Mirador reading room and the browser tests (scripts/install-viewer.sh):
# Debian's packages unless a node/npm is already installed (e.g. a newer one from NodeSource).
if ! command -v npm >/dev/null 2>&1; then
  PKGS+=(nodejs npm)
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
