"""Benchmark of `guji clean`: seconds per megapixel for cleanup + derivatives, against a raw
baseline (decode the master + encode one JPEG at the access quality, standard settings) of the same
images, in the same run, in one process. Baseline and clean runs alternate (B C B C …) so that load
from other processes hits both alike; medians are reported, with the machine load.

    .venv/bin/python bench/bench_clean.py            # samples/demo-batch + 3 large synthetic masters
    .venv/bin/python bench/bench_clean.py --large 0  # only the sample images
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # the synthetic-page generator (tests/synthpages.py)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--large", type=int, default=3, help="synthetic large RGB TIFF masters (about 20 MP) to add")
    ap.add_argument("--repeat", type=int, default=5, help="alternating runs per method; the median is kept")
    ap.add_argument("--large-side", type=int, default=4600, help="height of the synthetic masters, px")
    args = ap.parse_args()

    import cv2
    from PIL import Image

    from guji.clean.derivatives import load_master
    from guji.clean.stage import DEFAULTS, worker
    from synthpages import make_page
    from guji.stage import PageTask

    images = sorted(p for p in (REPO / "samples" / "demo-batch").rglob("*") if p.suffix.lower() in (".jpg", ".tif", ".png"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-clean-"))
    for i in range(args.large):
        spread = i == 2
        hh = args.large_side
        img, _ = make_page(seed=100 + i, width=round(hh * (2000 if spread else 3400) / 4600), height=hh,
                           bed_px=round(hh * 200 / 4600),
                           skew_deg=1.5 - i, spread=spread)
        p = tmp / f"large{i}.tif"
        Image.fromarray(img).save(p, "TIFF", dpi=(600, 600))
        images.append(p)
    quality = int(DEFAULTS["access_quality"])
    cv2.setNumThreads(1)

    def megapixels(imgs: list[Path]) -> float:
        mp = 0.0
        for p in imgs:
            with Image.open(p) as im:
                mp += im.width * im.height / 1e6
        return mp

    def baseline(imgs: list[Path]) -> None:
        # fixed raw work, independent of guji's encoder choices: decode, one plain JPEG encode
        for p in imgs:
            arr, _, _ = load_master(p)
            bgr = arr if arr.ndim == 2 else cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
            cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])

    def clean(imgs: list[Path]) -> None:
        for i, p in enumerate(imgs):
            t = PageTask(key=f"b/{i}", inputs={}, payload={
                "master_path": str(p), "master": p.name, "page_id": f"B/v1/{i:04d}", "item_id": "B",
                "volume_id": "B/v1", "volume_label": "v1", "profile": "rare-book", "ppi": [600, 600],
                "bit_depth": 8, "mode": "RGB", "format": "TIFF", "compression": None,
                "_params": dict(DEFAULTS), "_work": str(tmp / "work")})
            worker(t)

    def timed(fn, imgs) -> float:
        t0 = time.perf_counter()
        fn(imgs)
        return time.perf_counter() - t0

    def medians(imgs) -> tuple[float, float, list[float]]:
        tb, tc = [], []
        timed(baseline, imgs[:1]), timed(clean, imgs[:1])  # warm-up (imports, caches)
        for _ in range(args.repeat):
            tb.append(timed(baseline, imgs))
            tc.append(timed(clean, imgs))
        return float(np.median(tb)), float(np.median(tc)), [c / b for b, c in zip(tb, tc)]

    import os
    print(f"opencv {cv2.__version__}, 1 thread, median of {args.repeat} alternating runs; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    groups = [("samples/demo-batch", [p for p in images if not p.name.startswith("large")]),
              ("large synthetic masters", [p for p in images if p.name.startswith("large")])]
    for name, imgs in groups:
        if not imgs:
            continue
        mp = megapixels(imgs)
        tb, tc, ratios = medians(imgs)
        print(f"{name}: {len(imgs)} images, {mp:.1f} MP")
        print(f"  raw baseline (decode + access JPEG encode): {tb / mp:.3f} s/MP ({tb:.2f} s)")
        print(f"  clean (decode, analysis, deskew/crop/split, access + OCR + thumbnail): {tc / mp:.3f} s/MP ({tc:.2f} s)")
        print(f"  ratio clean / baseline: {tc / tb:.2f}x (per run: {min(ratios):.2f}-{max(ratios):.2f}x)")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
