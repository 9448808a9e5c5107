#!/usr/bin/env bash
# Install OpenSeadragon (which `guji publish` copies into the publication's reading room viewer/),
# the IIIF viewers the browser tests open the build in (Mirador: tests/test_iiif_viewer.py, Universal
# Viewer: tests/test_iiif_uv.py) and the browser-test driver (playwright-core) into tests/viewer/node_modules
# with `npm ci` from the committed package-lock.json. Idempotent: does nothing (fast) when the
# installed tree matches the lock file. Chromium itself comes from Debian (scripts/install-system.sh).
set -euo pipefail
cd "$(dirname "$0")/../tests/viewer"

if ! command -v npm >/dev/null 2>&1; then
  echo "install-viewer: npm not found; publications get no reading room (OpenSeadragon) and browser tests are skipped (install nodejs + npm)" >&2
  exit 0
fi

stamp=node_modules/.guji-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
   && [ -f node_modules/mirador/dist/mirador.min.js ] && [ -f node_modules/universalviewer/dist/umd/UV.js ] \
   && [ -f node_modules/openseadragon/build/openseadragon/openseadragon.min.js ] \
   && [ -d node_modules/playwright-core ]; then
  exit 0
fi

# --ignore-scripts: nothing needs a post-install step (playwright-core drives Debian's chromium,
# it downloads no browser)
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
echo "$want" > "$stamp"
echo "install-viewer: OpenSeadragon, Mirador, Universal Viewer and playwright-core installed in tests/viewer/node_modules"
