"""Benchmark: CER and seconds per page for each engine × {whole page, layout-aware}.

Usage: .venv/bin/python bench/bench_ocr.py [--data ../shared/eval/dzj-dev] [--engines rapidocr,tesseract]
Prints one Markdown table (the one in README.md's OCR section). Timing includes image loading,
upscaling and layout; machine load changes it, CER does not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from guji.ocr.evaluate import evaluate


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/eval/dzj-dev")
    ap.add_argument("--engines", default="rapidocr,tesseract")
    ap.add_argument("--modes", default="page,layout")
    args = ap.parse_args()
    if not (args.data / "images").is_dir():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    rows = []
    for eng in args.engines.split(","):
        for mode in args.modes.split(","):
            r = evaluate(args.data / "images", args.data / "gt_txt", engine=eng, mode=mode, direction="vertical-rtl")
            o = r["overall"]
            rows.append((eng, mode, o))
            print(f"# {eng} {mode}: {o}", file=sys.stderr, flush=True)
    print(f"\nData: {args.data} ({rows[0][2]['pages']} pages)\n")
    print("| engine | input | CER | CER no punct. | CER folded (t/s + variants) | s/page |")
    print("|---|---|---|---|---|---|")
    for eng, mode, o in rows:
        name = "whole page" if mode == "page" else "layout-aware"
        print(f"| {eng} | {name} | {o['cer']:.3f} | {o['cer_nopunct']:.3f} | {o['cer_folded']:.3f} "
              f"| {o['seconds_per_page']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
