"""The publication's reading room (``viewer/index.html?item=ID&canvas=SLUG&q=``), on OpenSeadragon.

Why not Mirador: configured as far as it goes, Mirador shows OCR lines only as a list of
annotations in a side panel (no text laid out as columns beside the page, no characters to click,
no copy or download of a page, juan or book, no vertical right-to-left text), lists each Content
Search hit twice (4.0.0) and its page labels and contents come from its own English strings. The
reading room a scholar gets here is built on OpenSeadragon (the deep-zoom engine Mirador itself
uses) plus ``assets/reader.js``: the page image beside its text column by column (vertical
right-to-left for rare books, horizontal for local documents), low-confidence characters marked,
click a character or column → its box on the image, hover a box → its text, search hits drawn from
the server's boxes, a permalink per page and citations. Any IIIF viewer can still open the
manifests (record pages carry the IIIF drag-and-drop link).

``guji publish`` copies OpenSeadragon's build (``openseadragon.min.js``, with its LICENSE beside
it) from the npm package that ``scripts/install-viewer.sh`` installs into
``tests/viewer/node_modules/openseadragon`` (or from ``$GUJI_OSD_DIR``, a folder holding
``build/openseadragon/openseadragon.min.js``) into ``WORK/publish/site/viewer/``, and renders the
page from ``templates/reader.html``. Without the npm package publishing still works: the
catalogue and record pages link to the manifests and the log says how to install the viewer.
Files are only rewritten when their bytes change, so a second publish uploads nothing.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from guji.fsutil import atomic_write_bytes

log = logging.getLogger("guji.publish")

VIEWER_DIR = "viewer"
VIEWER_PAGE = f"{VIEWER_DIR}/index.html"
OSD_JS = "build/openseadragon/openseadragon.min.js"
INSTALL_HINT = "run scripts/install-viewer.sh (needs npm) and publish again"


def osd_package() -> Path | None:
    """The installed OpenSeadragon npm package folder, or None."""
    cands = []
    if os.environ.get("GUJI_OSD_DIR"):
        cands.append(Path(os.environ["GUJI_OSD_DIR"]))
    cands.append(Path(__file__).resolve().parents[2] / "tests" / "viewer" / "node_modules" / "openseadragon")
    for c in cands:
        if (c / OSD_JS).is_file():
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


def install_viewer(site: Path, env: Any, title: str, package: Path | None = None) -> set[str]:
    """Write the reading room into ``site/viewer/``; the paths written (empty without OpenSeadragon)."""
    pkg = package or osd_package()
    vdir = site / VIEWER_DIR
    if pkg is None:
        if vdir.exists():  # a viewer from an earlier publish would be stale: leave it out
            for p in sorted(vdir.rglob("*"), reverse=True):
                p.unlink() if p.is_file() else p.rmdir()
            vdir.rmdir()
        log.warning("OpenSeadragon not found (tests/viewer/node_modules/openseadragon): the catalogue links to the "
                    "IIIF manifests only; to publish the reading room %s", INSTALL_HINT)
        return set()
    written = {f"{VIEWER_DIR}/openseadragon.min.js", VIEWER_PAGE}
    _write_if_changed(vdir / "openseadragon.min.js", (pkg / OSD_JS).read_bytes())
    lic = next((pkg / n for n in ("LICENSE.txt", "LICENSE", "LICENSE.md") if (pkg / n).is_file()), None)
    if lic is not None:
        _write_if_changed(vdir / "openseadragon.LICENSE.txt", lic.read_bytes())
        written.add(f"{VIEWER_DIR}/openseadragon.LICENSE.txt")
    html = env.get_template("reader.html").render(root="../", site_title=title,
                                                  config_json=json.dumps({"root": "../"}))
    _write_if_changed(site / VIEWER_PAGE, html.encode("utf-8"))
    # Mirador files of earlier publishes are no longer part of the reading room
    for old in ("mirador.min.js", "mirador.LICENSE.txt"):
        if (vdir / old).exists():
            (vdir / old).unlink()
    log.info("viewer: OpenSeadragon from %s in %s", pkg, vdir)
    return written
