"""Benchmark: CER and seconds per page for each engine × {whole page, layout-aware}.

Usage: .venv/bin/python bench/bench_ocr.py [--data ../shared/eval/dzj-dev | --archival] [--engines rapidocr,tesseract]
       [--modes page,layout] [--pages A|B|name,name] [--opt key=value ...] [--per-page] [--boxes]
       [--char-px 40] [--shift N[,N…]]
Prints one Markdown table (the one in README.md's OCR section) with missed / wrong / extra
character counts (punctuation removed). ``--pages A`` / ``B`` take the first / second half of
the pages in name order, a comma list names pages; ``--opt`` passes options to ``read_image``
(e.g. ``--opt lm=off``, ``--opt lm_weight=0.5``, values parsed as JSON when possible).
``--archival`` evaluates on the generated archival-resolution set instead (characters 44–96 px,
degraded; scripts/make_archival_eval.py, generated into the git-ignored build/archival-eval/).
``--boxes`` also scores character boxes against ``DATA/json/<page>.json`` (mean IoU).
``--char-px N`` measures what the pipeline reads: each page is first scaled the way the clean
stage scales its OCR image (``ocr_char_px``: character size estimated by clean's page analysis,
scale clamped to clean's limits, the same halving/area resizing, tone normalisation), into
``DATA-<N>px/`` beside the data (rebuilt when missing); truth boxes follow the page's size. Crop,
skew and rotation are not applied (the generated pages are upright and uncropped).
``--shift 0,1,2,3`` reads every page moved by each number of pixels (a replicated border: no
character changes) and pools the counts: on dzj-dev a 1–2 px move changes CER by up to ±0.015
(note cutting and detection react to it), so a step is compared on the pooled figure.
Timing includes image loading, upscaling and layout; machine load changes it, CER does not.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from guji.ocr.evaluate import evaluate, find_pairs, overall


def _pages(data: Path, spec: str | None) -> list[str] | None:
    if not spec:
        return None
    names = [i.stem for i, _ in find_pairs(data / "images", data / "gt_txt")]
    half = (len(names) + 1) // 2
    if spec == "A":
        return names[:half]
    if spec == "B":
        return names[half:]
    return spec.split(",")


def _opts(items: list[str]) -> dict:
    out = {}
    for it in items:
        k, _, v = it.partition("=")
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def pipeline_scaled(data: Path, char_px: float) -> Path:
    """A copy of ``data`` whose images are scaled as the clean stage scales its OCR image (see the
    module doc); ``gt_txt`` and ``json`` are copied (``dzj_truth_chars`` scales the truth boxes to
    the image's width, so the box IoU is measured in the scaled page's pixels)."""
    import shutil

    import cv2

    from guji.clean import derivatives as D
    from guji.clean import geometry as G
    from guji.clean.stage import DEFAULTS

    out = data.parent / f"{data.name}-{char_px:g}px"
    done = out / "scales.json"
    if done.is_file():
        return out
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "images").mkdir(parents=True)
    for sub in ("gt_txt", "json"):
        if (data / sub).is_dir():
            shutil.copytree(data / sub, tmp / sub)
    scales = {}
    for img_path, _ in find_pairs(data / "images", data / "gt_txt"):
        img = cv2.imread(str(img_path), cv2.IMREAD_COLOR)
        an = G.analyse(img, max_skew=float(DEFAULTS["max_skew"]), expected_direction="vertical",
                       margin=float(DEFAULTS["crop_margin"]))
        so = char_px / an.char_px if an.char_px else 1.0
        so = min(max(so, float(DEFAULTS["ocr_min_scale"])), float(DEFAULTS["ocr_max_scale"]))
        H, W = img.shape[:2]
        ow, oh = max(1, round(W * so)), max(1, round(H * so))
        if so <= 1.0:  # as clean: exact halvings in colour, then one area resize of the grey
            og = D.resize(D.to_gray(D.halve_to(img, (ow, oh))), (ow, oh))
        else:
            og = cv2.resize(D.to_gray(img), (ow, oh), interpolation=cv2.INTER_CUBIC)
        norm = D.normalise_tone(og, an.char_px * so if an.char_px else None)
        cv2.imwrite(str(tmp / "images" / (img_path.stem + ".png")), norm)
        scales[img_path.stem] = {"char_px": an.char_px, "scale": round(so, 4), "size": [ow, oh]}
    (tmp / "scales.json").write_text(json.dumps(scales, indent=1), "utf-8")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/eval/dzj-dev")
    ap.add_argument("--archival", action="store_true",
                    help="evaluate on the generated archival-resolution set (scripts/make_archival_eval.py, written "
                         "into build/archival-eval/ when missing) instead of --data")
    ap.add_argument("--engines", default="rapidocr,tesseract")
    ap.add_argument("--modes", default="page,layout")
    ap.add_argument("--pages", default=None, help="A, B (halves in name order) or a comma list of page names")
    ap.add_argument("--opt", action="append", default=[], help="key=value passed to read_image")
    ap.add_argument("--upscale", default="auto", help="auto (default) or a factor")
    ap.add_argument("--enhance", choices=["auto", "on", "off"], default="auto",
                    help="enhance upscaled pages before detection (auto: rapidocr only)")
    ap.add_argument("--per-page", action="store_true", help="also print CER per page")
    ap.add_argument("--boxes", action="store_true",
                    help="also score character boxes against DATA/json/<page>.json (mean IoU of characters read right)")
    ap.add_argument("--char-px", type=float, default=0,
                    help="first scale each page as the clean stage scales its OCR image to characters of about "
                         "this height (40 = the pipeline's default ocr_char_px); 0 = read the images as they are")
    ap.add_argument("--shift", default="0",
                    help="move every page N px right and down (replicated border; no character changes); a comma "
                         "list (0,1,2,3) reads each page at every shift and pools the counts (the mean CER), "
                         "printing each shift's CER too: on dzj-dev one shift moves CER by up to ±0.015, so "
                         "compare steps over several shifts, not at one")
    args = ap.parse_args()
    if args.archival:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
        import make_archival_eval

        args.data = make_archival_eval.DEFAULT_OUT
        if not (args.data / "images").is_dir():
            make_archival_eval.generate(args.data)
    if not (args.data / "images").is_dir():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    if args.char_px > 0:
        args.data = pipeline_scaled(args.data, args.char_px)
        sc = json.loads((args.data / "scales.json").read_text("utf-8"))
        print("# pipeline scale: " + ", ".join(f"{k} {v['char_px']} px × {v['scale']}" for k, v in sc.items()),
              file=sys.stderr)
    pages = _pages(args.data, args.pages)
    opts = _opts(args.opt)
    shifts = [int(v) for v in str(args.shift).split(",")]
    names = pages or [i.stem for i, _ in find_pairs(args.data / "images", args.data / "gt_txt")]
    modes = args.modes.split(",")
    load0 = os.getloadavg()
    rows = []
    for eng in args.engines.split(","):
        # the modes alternate page by page (and which goes first alternates too), so that the
        # machine's load falls on both alike: the s/page ratio is fair on a shared machine
        per_mode: dict[str, list] = {m: [] for m in modes}
        for k, name in enumerate(names):
            for shift in shifts:
                for mode in (modes if k % 2 == 0 else modes[::-1]):
                    r = evaluate(args.data / "images", args.data / "gt_txt", engine=eng, mode=mode,
                                 direction="vertical-rtl", pages=[name], ops=True,
                                 upscale=args.upscale, boxes=args.data / "json" if args.boxes else None,
                                 enhance=None if args.enhance == "auto" else args.enhance == "on",
                                 shift=shift, **opts)
                    per_mode[mode] += [{**p, "shift": shift} for p in r["pages"]]
        for mode in modes:
            ok = [p for p in per_mode[mode] if "error" not in p]
            o = overall(ok)
            if not pages and len(ok) >= 4:  # the halves used for tuning (A) and confirming (B)
                half = (len(names) + 1) // 2
                o["half_A"] = overall([p for p in ok if p["page"] in names[:half]])["cer"]
                o["half_B"] = overall([p for p in ok if p["page"] in names[half:]])["cer"]
            if len(shifts) > 1:
                o["per_shift"] = {sh: overall([p for p in ok if p["shift"] == sh])["cer"] for sh in shifts}
                o["pages"] = len(names)
            rows.append((eng, mode, o))
            print(f"# {eng} {mode}: {o}", file=sys.stderr, flush=True)
            if args.per_page:
                for p in per_mode[mode]:
                    print(f"#   {p['page']} (shift {p.get('shift', 0)}): cer {p.get('cer')} folded {p.get('cer_folded')} missed {p.get('missed')} "
                          f"wrong {p.get('wrong')} extra {p.get('extra')} {p.get('seconds')} s"
                          f"{' boxes ' + str(p['boxes']) if p.get('boxes') else ''}", file=sys.stderr)
    load1 = os.getloadavg()
    print(f"\nData: {args.data} ({rows[0][2]['pages']} pages{', ' + args.pages if args.pages else ''})"
          f"{' options ' + json.dumps(opts, ensure_ascii=False) if opts else ''}; "
          f"load average {load0[0]:.1f} → {load1[0]:.1f} (2 cores shared: seconds are noisy, ratios fairer)\n")
    print("| engine | input | CER | half A / half B | CER folded (t/s + variants) | missed / wrong / extra | s/page | × whole page |")
    print("|---|---|---|---|---|---|---|---|")
    base = {eng: o["seconds_per_page"] for eng, mode, o in rows if mode == "page"}
    for eng, mode, o in rows:
        name = "whole page" if mode == "page" else "layout-aware"
        ratio = f"{o['seconds_per_page'] / base[eng]:.2f}" if base.get(eng) else "—"
        halves = f"{o['half_A']:.3f} / {o['half_B']:.3f}" if "half_A" in o else "—"
        print(f"| {eng} | {name} | {o['cer']:.3f} | {halves} | {o['cer_folded']:.3f} "
              f"| {o.get('missed')} / {o.get('wrong')} / {o.get('extra')} | {o['seconds_per_page']:.2f} | {ratio} |")
        if o.get("per_shift"):
            print("|  | CER per shift (px) | " + ", ".join(f"{k}: {v:.3f}" for k, v in o["per_shift"].items())
                  + " | | | | | |")
        if o.get("boxes"):
            b = o["boxes"]
            print(f"|  | character boxes ({mode}) | mean IoU {b['iou']:.3f} | IoU > 0.5: {b['iou50']:.0%} "
                  f"| centre shift {b['shift']:+.3f} | {b['matched']} chars | | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
