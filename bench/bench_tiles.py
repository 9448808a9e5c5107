"""Benchmark guji's level-0 IIIF tiling (issue #5) against a bare ``vips dzsave`` of the same image.

Makes N synthetic access images (default 3 pages of 2400×3600 px, paper-coloured noise with dark
text-like strokes, JPEG Q=90, like clean's access derivatives), then per page, interleaved and
repeated, times:

- guji: ``guji.iiif.tiles.make_tiles`` (dzsave IIIF3 pyramid + full/max + thumbnail sizes + the
  file-by-file merge into the build folder), what one ``guji iiif`` tile task does;
- baseline A: the ``vips dzsave`` command line (Debian libvips-tools) with the same layout, tile
  size and JPEG quality, into a fresh folder;
- baseline B: a bare ``pyvips`` ``dzsave`` call (the libvips that guji itself uses).

Prints median seconds per page and the ratio guji / baseline (aim ≤ 1.2× of ``vips dzsave``).

    .venv/bin/python bench/bench_tiles.py [--pages 3] [--size 2400x3600] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def make_page(path: Path, w: int, h: int, seed: int) -> None:
    import pyvips

    noise = pyvips.Image.gaussnoise(w, h, sigma=6, mean=0, seed=seed)
    # vertical "columns" of dark strokes, like a woodblock page
    strokes = (pyvips.Image.gaussnoise(w // 8, h // 8, sigma=60, mean=0, seed=seed + 1) > 70).resize(8, kernel="nearest")
    strokes = strokes.crop(0, 0, min(w, strokes.width), min(h, strokes.height)).embed(0, 0, w, h)
    paper = (noise + [225, 210, 180]).cast("uchar") if noise.bands == 3 else (
        noise.bandjoin([noise, noise]) + [225, 210, 180])
    page = (strokes > 0).ifthenelse([40, 35, 30], paper).cast("uchar")
    page.jpegsave(str(path), Q=90)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=3)
    ap.add_argument("--size", default="2400x3600")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tile-size", type=int, default=512)
    ap.add_argument("--quality", type=int, default=85)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()

    import pyvips

    from guji.iiif.tiles import jpeg_suffix, make_tiles, vips_version

    w, h = (int(x) for x in args.size.lower().split("x"))
    root = Path(args.dir or tempfile.mkdtemp(prefix="guji-bench-tiles-"))
    root.mkdir(parents=True, exist_ok=True)
    vips_cli = shutil.which("vips")
    cli_version = subprocess.run([vips_cli, "--version"], capture_output=True, text=True).stdout.strip() if vips_cli else None
    print(f"pages {args.pages} × {w}×{h} px, tile {args.tile_size}, Q={args.quality}, repeat {args.repeat}")
    print(f"pyvips libvips {vips_version()}; vips CLI: {cli_version or 'not installed'}")

    pages = []
    for i in range(args.pages):
        p = root / f"page{i}.jpg"
        make_page(p, w, h, seed=100 + i)
        pages.append(p)

    t_guji: list[float] = []
    t_cli: list[float] = []
    t_py: list[float] = []
    try:
        for r in range(args.repeat):
            for i, src in enumerate(pages):
                # guji (fresh destination each time: a first build, not the skip path)
                dest = root / "guji" / f"{r}-{i}"
                t = time.perf_counter()
                make_tiles(src, dest, tile_size=args.tile_size, quality=args.quality)
                t_guji.append(time.perf_counter() - t)
                if vips_cli:
                    out = root / "cli" / f"{r}-{i}"
                    out.parent.mkdir(parents=True, exist_ok=True)
                    t = time.perf_counter()
                    subprocess.run([vips_cli, "dzsave", str(src), str(out), "--layout", "iiif3", "--tile-size",
                                    str(args.tile_size), "--overlap", "0", "--suffix",
                                    f".jpg[Q={args.quality},strip]"], check=True)
                    t_cli.append(time.perf_counter() - t)
                out = root / "py" / f"{r}-{i}"
                out.parent.mkdir(parents=True, exist_ok=True)
                t = time.perf_counter()
                pyvips.Image.new_from_file(str(src), access="sequential").dzsave(
                    str(out), layout="iiif3", tile_size=args.tile_size, overlap=0, suffix=jpeg_suffix(args.quality))
                t_py.append(time.perf_counter() - t)
            for d in ("guji", "cli", "py"):
                shutil.rmtree(root / d, ignore_errors=True)
    finally:
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)

    g = statistics.median(t_guji)
    print(f"guji make_tiles        {g:7.3f} s/page  (median of {len(t_guji)})")
    if t_cli:
        c = statistics.median(t_cli)
        print(f"vips dzsave (CLI)      {c:7.3f} s/page  ratio guji/cli    {g / c:5.2f}×  (aim ≤ 1.2×)")
    p = statistics.median(t_py)
    print(f"pyvips dzsave (bare)   {p:7.3f} s/page  ratio guji/pyvips {g / p:5.2f}×")


if __name__ == "__main__":
    main()
