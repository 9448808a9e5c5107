"""The publication's reading room: a Mirador page (``viewer/index.html?manifest=URL``).

``guji publish`` copies Mirador's UMD build (``mirador.min.js``, with its LICENSE beside it) from the
npm package that ``scripts/install-viewer.sh`` installs into ``tests/viewer/node_modules/mirador``
(or from ``$GUJI_MIRADOR_DIR``, a folder holding ``dist/mirador.min.js`` and ``LICENSE``) into
``WORK/publish/site/viewer/``, next to the page template ``viewer.html``. The catalogue then opens
each book there. Without the npm package publishing still works: the catalogue links to the
manifests and the log says how to install the viewer.

Files are only rewritten when their bytes change, so a second publish uploads nothing.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from guji.fsutil import atomic_write_bytes

log = logging.getLogger("guji.publish")

VIEWER_DIR = "viewer"
VIEWER_PAGE = f"{VIEWER_DIR}/index.html"
TEMPLATE = Path(__file__).with_name("viewer.html")
INSTALL_HINT = "run scripts/install-viewer.sh (needs npm) and publish again"


def mirador_package() -> Path | None:
    """The installed Mirador npm package folder (with dist/mirador.min.js), or None."""
    cands = []
    if os.environ.get("GUJI_MIRADOR_DIR"):
        cands.append(Path(os.environ["GUJI_MIRADOR_DIR"]))
    cands.append(Path(__file__).resolve().parents[2] / "tests" / "viewer" / "node_modules" / "mirador")
    for c in cands:
        if (c / "dist" / "mirador.min.js").is_file():
            return c
    return None


def _write_if_changed(dest: Path, data: bytes) -> bool:
    try:
        if dest.stat().st_size == len(data) and dest.read_bytes() == data:
            return False
    except OSError:
        pass
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(dest, data)
    return True


def install_viewer(site: Path, package: Path | None = None) -> str | None:
    """Write the viewer into ``site/viewer/``; the page's path in the publication, or None without Mirador."""
    pkg = package or mirador_package()
    vdir = site / VIEWER_DIR
    if pkg is None:
        if vdir.exists():  # a viewer from an earlier publish would be stale: leave it out
            for p in sorted(vdir.rglob("*"), reverse=True):
                p.unlink() if p.is_file() else p.rmdir()
            vdir.rmdir()
        log.warning("Mirador not found (tests/viewer/node_modules/mirador): the catalogue links to the IIIF "
                    "manifests only; to publish the reading room %s", INSTALL_HINT)
        return None
    _write_if_changed(vdir / "mirador.min.js", (pkg / "dist" / "mirador.min.js").read_bytes())
    lic = next((pkg / n for n in ("LICENSE", "LICENSE.md", "LICENSE.txt") if (pkg / n).is_file()), None)
    if lic is not None:
        _write_if_changed(vdir / "mirador.LICENSE.txt", lic.read_bytes())
    _write_if_changed(site / VIEWER_PAGE, TEMPLATE.read_bytes())
    log.info("viewer: Mirador from %s in %s", pkg, vdir)
    return VIEWER_PAGE
