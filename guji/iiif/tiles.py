"""Level-0 IIIF Image API 3 static tiles of one access image, with libvips ``dzsave``.

``dzsave(layout="iiif3")`` writes the tile pyramid (``x,y,w,h/w,h/0/default.jpg``) and the
whole-image levels that fit in one tile. We add what viewers request that dzsave does not write:

- ``full/max/0/default.jpg``: a byte copy of the access JPEG (it *is* the full image; no re-encode),
- ``full/W,H/0/default.jpg`` and ``full/W,/0/default.jpg`` for each thumbnail width (Universal
  Viewer asks ``full/90,/0/default.jpg``; Mirador picks one of the ``sizes`` listed in info.json).

``info.json`` is *not* written here: it holds the published id (base URL), so the stage writes it
from :func:`info_json` after tiling, and a new base URL never re-tiles.

Tiles are written into a hidden temporary folder beside the destination (``.<slug>.XXXX.tmp``; a
tiling killed half-way leaves one, which the next tiling of that canvas removes first). A first build renames
that folder into place (one rename: the IIIF layout has three folders per tile, and folder churn
costs more than libvips on some file systems). A re-tile (changed parameter, ``--force``) merges
file by file: files whose bytes did not change are left alone (mtime kept), changed ones are
replaced atomically (``os.replace``), stale ones removed.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from guji.fsutil import atomic_write_bytes, sha256_file

INFO_JSON = "info.json"
JPEG_MAGIC = b"\xff\xd8\xff"


def vips_version() -> str:
    import pyvips

    return ".".join(str(pyvips.version(i)) for i in range(3))


def jpeg_suffix(quality: int) -> str:
    import pyvips

    keep = "keep=none" if (pyvips.version(0), pyvips.version(1)) >= (8, 15) else "strip"
    return f".jpg[Q={int(quality)},{keep}]"


def _no_metadata() -> dict[str, Any]:
    import pyvips

    return {"keep": 0} if (pyvips.version(0), pyvips.version(1)) >= (8, 15) else {"strip": True}


def thumb_size(width: int, height: int, w: int) -> tuple[int, int]:
    return w, max(1, round(height * w / width))


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def merge_tree(new: Path, dest: Path, *, keep: tuple[str, ...] = (INFO_JSON,)) -> None:
    """Move ``new``'s files into ``dest``; identical files stay untouched; stale files go."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted: set[Path] = set()
    for src in _files(new):
        rel = src.relative_to(new)
        wanted.add(rel)
        target = dest / rel
        if target.is_file() and target.stat().st_size == src.stat().st_size and sha256_file(target) == sha256_file(src):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, target)
    for old in _files(dest):
        rel = old.relative_to(dest)
        if rel not in wanted and rel.as_posix() not in keep and not rel.name.startswith("."):
            old.unlink()
    # drop folders emptied by the clean-up (deepest first)
    for d in sorted((p for p in dest.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        try:
            d.rmdir()
        except OSError:
            pass


def remove_stale_temp_dirs(dest: Path) -> int:
    """Remove the temporary folders a killed tiling of ``dest`` left beside it (``.<name>.*.tmp``).

    Only this canvas's own leftovers: no other task tiles the same canvas at the same time, so
    this is safe while other canvases are being tiled in parallel. Returns how many were removed."""
    n = 0
    # exactly what mkdtemp(prefix=".<name>.", suffix=".tmp") makes: 8 random [a-z0-9_] between
    mine = re.compile(rf"\.{re.escape(Path(dest).name)}\.[a-z0-9_]{{8}}\.tmp")
    for p in Path(dest).parent.glob(f".{glob.escape(Path(dest).name)}.*.tmp"):  # ids may hold [ * ?
        if p.is_dir() and mine.fullmatch(p.name):
            shutil.rmtree(p, ignore_errors=True)
            n += 1
    return n


def make_tiles(src: Path, dest: Path, *, tile_size: int = 512, quality: int = 85,
               thumb_widths: tuple[int, ...] = (90, 200, 400)) -> dict[str, Any]:
    """Tile ``src`` into the image-service folder ``dest``. Returns facts for info.json.

    ``{"width", "height", "tiles": [{"width", "scaleFactors"}], "sizes": [{"width", "height"}]}``
    """
    import pyvips

    src = Path(src)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_dirs(dest)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        image = pyvips.Image.new_from_file(str(src), access="sequential")
        width, height = image.width, image.height
        if image.bands == 4:
            image = image.flatten(background=[255, 255, 255])
        out = tmp / "t"
        image.dzsave(str(out), layout="iiif3", tile_size=tile_size, overlap=0,
                     id="http://localhost/", suffix=jpeg_suffix(quality))
        import json

        dz_info = json.loads((out / INFO_JSON).read_text("utf-8"))
        (out / INFO_JSON).unlink()
        tiles = [{"width": int(t["width"]), "height": int(t.get("height", t["width"])),
                  "scaleFactors": [int(s) for s in t["scaleFactors"]]} for t in dz_info["tiles"]]

        sizes: set[tuple[int, int]] = set()
        full = out / "full"
        if full.is_dir():  # whole-image levels dzsave wrote as full/w,h
            for d in full.iterdir():
                w, _, h = d.name.partition(",")
                if w.isdigit() and h.isdigit():
                    sizes.add((int(w), int(h)))

        # full/max: the access JPEG itself (no second encode); other formats are encoded once
        maxfile = full / "max" / "0" / "default.jpg"
        maxfile.parent.mkdir(parents=True, exist_ok=True)
        with open(src, "rb") as f:
            head = f.read(3)
        if head == JPEG_MAGIC:
            shutil.copyfile(src, maxfile)
        else:
            image2 = pyvips.Image.new_from_file(str(src))
            if image2.bands == 4:
                image2 = image2.flatten(background=[255, 255, 255])
            image2.jpegsave(str(maxfile), Q=int(quality), **_no_metadata())

        widths = sorted({int(x) for x in thumb_widths if int(x) < width}, reverse=True)
        largest = None
        for w in widths:
            tw, th = thumb_size(width, height, w)
            if largest is None:
                # one shrink-on-load decode for the largest size; smaller ones are made from it
                thumb = pyvips.Image.thumbnail(str(src), tw, height=th, size="force", no_rotate=True)
                if thumb.bands == 4:
                    thumb = thumb.flatten(background=[255, 255, 255])
                largest = thumb = thumb.copy_memory()
            else:
                thumb = largest.thumbnail_image(tw, height=th, size="force")
            data = thumb.jpegsave_buffer(Q=int(quality), **_no_metadata())
            for name in (f"{tw},{th}", f"{tw},"):
                atomic_write_bytes(full / name / "0" / "default.jpg", data)
            sizes.add((tw, th))
        if dest.exists():
            merge_tree(out, dest)  # re-tiling: keep identical files (and their mtimes) in place
        else:
            os.rename(out, dest)  # first build: the whole tree in one rename
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "width": width, "height": height, "tiles": tiles,
        "sizes": [{"width": w, "height": h} for w, h in sorted(sizes)],
    }


def info_json(service_id: str, facts: dict[str, Any]) -> dict[str, Any]:
    """The level-0 Image API 3 ``info.json`` document for a tiled image."""
    return {
        "@context": "http://iiif.io/api/image/3/context.json",
        "id": service_id,
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level0",
        "width": facts["width"],
        "height": facts["height"],
        "sizes": facts["sizes"],
        "tiles": facts["tiles"],
    }


def tile_files(dest: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of a tiled folder, without info.json."""
    return {p.relative_to(dest).as_posix(): sha256_file(p) for p in _files(dest) if p.name != INFO_JSON
            and not p.name.startswith(".")}
