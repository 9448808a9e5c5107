"""Benchmark what users feel (issue #16): is a phrase printed on a page found on that page?

Takes the proofread transcriptions of dzj-dev (``../shared/eval/dzj-dev/gt_txt``, one line per
printed column), cuts every 2-, 4- and 8-character phrase from each column (punctuation removed),
and searches for each through the same code the server's IIIF Content Search uses
(:meth:`guji.publish.index.SearchIndex.search_item`) in an index built by
:func:`guji.publish.site.build_index` from the **real OCR page models** of the 11 pages: the pages
go through ``guji ingest``, ``guji clean`` and ``guji ocr`` as one book (``[ocr] alternatives =
true``). Those outputs are cached in ``bench/.cache/recall/`` (git-ignored), so a rerun takes seconds;
``--refresh`` redoes the OCR.

Reports, per phrase length, for exact top-1 search and for search over the recogniser's
alternatives: **recall** (share of (page, phrase) pairs whose page is among the hits) and the
**false-hit rate** (share of the pages returned whose truth text lacks the phrase), for all pages
and for both halves (A = the first 6 pages by name, B = the last 5).

    .venv/bin/python bench/bench_recall.py [--data ../shared/eval/dzj-dev] [--min-p 0.02]

``--pad N`` moves every page by N px and ``--scale F`` resizes it first (pages scanned or reduced
at another resolution): how much the figures move under changes that alter no character.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ITEM = "DZJ-DEV"
LENGTHS = (2, 4, 8)
RULES = ("FUZZY_MIN_LEN", "FUZZY_DELETIONS", "FUZZY_INSERTIONS", "FUZZY_TWO_LEN", "FUZZY_CANDIDATES", "FUZZY_EDGE_DELETIONS")


def strip(s: str) -> str:
    return "".join(c for c in s if not c.isspace() and unicodedata.category(c)[0] not in "PS")


def make_batch(data: Path, cache: Path, pad: int = 0, settings: list[str] = (), scale: float = 1.0
               ) -> tuple[Path, dict[str, str]]:
    """A one-book batch whose pages link to the dzj-dev images in name order: (batch, page no → name).
    ``pad`` > 0: each page shifted by that many pixels (a border of replicated edge pixels at the
    top and left, written losslessly as PNG), to see how much the figures move under a shift that
    changes no character; ``scale`` ≠ 1: each page resized by that factor first (area averaging to
    shrink, bicubic to enlarge; lossless PNG), as pages scanned or reduced at another resolution;
    ``settings``: ``section.key=value`` lines added to batch.toml."""
    batch = cache / "batch"
    names = sorted(p.stem for p in (data / "images").glob("*.jpg"))
    marker = batch / ITEM / ".pad"
    shape = str(pad) if scale == 1.0 else f"{pad} ×{scale:g}"
    if marker.is_file() and marker.read_text() != shape or not marker.is_file() and (batch / ITEM).is_dir():
        # pages of another shift or scale: start the book and its OCR afresh
        shutil.rmtree(batch / ITEM)
        shutil.rmtree(cache / "work", ignore_errors=True)
    (batch / ITEM).mkdir(parents=True, exist_ok=True)
    marker.write_text(shape)
    order = {}
    for i, name in enumerate(names, 1):
        src = (data / "images" / f"{name}.jpg").resolve()
        if pad or scale != 1.0:
            out = batch / ITEM / f"{i:04d}.png"
            if not out.exists():
                import cv2

                img = cv2.imread(str(src), cv2.IMREAD_UNCHANGED)
                if scale != 1.0:
                    img = cv2.resize(img, None, fx=scale, fy=scale,
                                     interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
                cv2.imwrite(str(out), cv2.copyMakeBorder(img, pad, 0, pad, 0, cv2.BORDER_REPLICATE))
        else:
            link = batch / ITEM / f"{i:04d}.jpg"
            if not link.exists():
                os.symlink(src, link)
        order[f"{i:04d}"] = name
    sections: dict[str, list[str]] = {"ocr": ["alternatives = true"]}
    for kv in settings:
        key, _, value = kv.partition("=")
        sec, _, name = key.partition(".")
        try:
            tomllib.loads(f"v = {value}")
        except tomllib.TOMLDecodeError:
            value = json.dumps(value)  # a bare word: a string
        sections.setdefault(sec, []).append(f"{name} = {value}")
    (batch / "batch.toml").write_text(
        '[batch]\nid = "dzj-dev-recall"\ninstitution = "評測"\ninstitution_code = "350000-2001"\n'
        'rights = "http://creativecommons.org/licenses/by/4.0/"\naccess = "public"\nprofile = "rare-book"\n\n'
        + "".join(f"[{sec}]\n" + "".join(f"{line}\n" for line in lines) + "\n" for sec, lines in sections.items()),
        "utf-8")
    (batch / "records.csv").write_text("普查编号,本地编号,题名卷数,文献类型,访问级别\n"
                                       f",{ITEM},大藏經樣葉,古籍,公开\n", "utf-8")
    return batch, order


def page_name(order: dict[str, str], canvas_id: str) -> str:
    """The dzj-dev page a canvas of the batch shows (canvas ids end in the page number)."""
    return order[canvas_id.split("/")[-1].split("-")[0]]


def run_ocr(batch: Path, work: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["ingest", str(batch)], ["clean"], ["ocr"]):
        r = subprocess.run([sys.executable, "-m", "guji", *args, "--work", str(work), "-q"], env=env)
        if r.returncode not in (0, 4):
            raise SystemExit(f"guji {args[0]} failed ({r.returncode})")


def align(t: str, o: str) -> list[int | None]:
    """Levenshtein alignment of truth ``t`` to OCR ``o``: for each truth character the OCR position
    read for it (same or substituted character), None where the OCR has no character for it."""
    import numpy as np

    n, m = len(t), len(o)
    d = np.zeros((n + 1, m + 1), np.int32)
    d[:, 0] = np.arange(n + 1)
    d[0, :] = np.arange(m + 1)
    oa = np.array([ord(c) for c in o], np.int64)
    for i in range(1, n + 1):
        sub = d[i - 1, :-1] + (oa != ord(t[i - 1]))
        row = np.minimum(sub, d[i - 1, 1:] + 1)
        # insertions along the row: d[i, j] = min(row[j-1], d[i, j-1] + 1)
        cur = np.empty(m + 1, np.int32)
        cur[0] = i
        cur[1:] = row
        cur = np.minimum.accumulate(cur - np.arange(m + 1)) + np.arange(m + 1)
        d[i] = cur
    out: list[int | None] = [None] * n
    i, j = n, m
    while i > 0 and j > 0:
        if d[i, j] == d[i - 1, j - 1] + (o[j - 1] != t[i - 1]):
            out[i - 1] = j - 1
            i, j = i - 1, j - 1
        elif d[i, j] == d[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
    return out


WHY = ("text not read (≥ 4 chars in a row)", "missed char", "extra char", "truth not in top-5", "truth in top-5, p < min_p", "crosses OCR line", "other")


def why_missed(work: Path, order: dict[str, str], truth_lines: dict[str, list[str]], half: dict[str, str],
               missed: dict[int, set[tuple[str, str]]], min_p: float) -> None:
    """What keeps each missed (page, phrase) from being found: OCR and truth aligned per page."""

    from guji.publish.index import page_content_from_ocr
    from guji.textfold import fold

    ocr = {}
    for f in sorted((work / "ocr" / ITEM).glob("*.json")):
        doc = json.loads(f.read_text("utf-8"))
        name = page_name(order, doc["canvas"])
        pc = page_content_from_ocr(doc, min_p=0.0)  # the recogniser's whole top-5
        cands: dict[int, dict[str, float]] = {}
        if pc.alternatives:
            for c, k, p in zip(pc.alternatives.chars, pc.alternatives.positions, pc.alternatives.probs):
                cands.setdefault(k, {})[fold(c)] = p / 255
        text = fold(pc.text)
        t = fold("".join(truth_lines[name]))
        amap = align(t, text)
        run = [0] * len(t)  # length of the run of unread truth characters each one is in
        k = 0
        while k < len(t):
            e = k
            while e < len(t) and amap[e] is None:
                e += 1
            for x in range(k, e):
                run[x] = e - k
            k = max(e, k + 1)
        ocr[name] = (text, pc.boxes[4::5], cands, t, amap, run)
    for n in LENGTHS:
        stat = {h: {"phrases": 0, "missed": 0, **{w: 0 for w in WHY}, "oracle": 0} for h in ("all", "A", "B")}
        for name, lines in truth_lines.items():
            text, line_no, cands, t, amap, run = ocr[name]
            g0 = 0
            for line in lines:
                for i in range(len(line) - n + 1):
                    g = g0 + i
                    span = amap[g:g + n]
                    got = [k for k in span if k is not None]
                    dels = n - len(got)
                    ins = (max(got) - min(got) + 1 - len(got)) if got else 0
                    subs = [(t[g + k], o) for k, o in enumerate(span) if o is not None and text[o] != t[g + k]]
                    absent = sum(1 for c, o in subs if c not in cands.get(o, {}))
                    low = sum(1 for c, o in subs if 0 < cands.get(o, {}).get(c, 0) < min_p)
                    cross = bool(got) and line_no[min(got)] != line_no[max(got)]
                    is_missed = (name, line[i:i + n]) in missed[n]
                    if max(run[g:g + n]) >= 4:
                        w = WHY[0]
                    elif dels:
                        w = "missed char"
                    elif ins:
                        w = "extra char"
                    elif absent:
                        w = "truth not in top-5"
                    elif low:
                        w = "truth in top-5, p < min_p"
                    elif cross:
                        w = "crosses OCR line"
                    else:
                        w = "other"
                    for h in ("all", half[name]):
                        s = stat[h]
                        s["phrases"] += 1
                        s["oracle"] += not (dels or ins or absent)
                        if is_missed:
                            s["missed"] += 1
                            s[w] += 1
                g0 += len(line)
        print(f"\n{n}-character phrases (each occurrence): why the search over the alternatives misses")
        print("| half | phrases | missed | " + " | ".join(WHY) + " | all chars top-1 or in top-5, no missed/extra |")
        print("|---|---|---|" + "---|" * len(WHY) + "---|")
        for h, s in stat.items():
            print(f"| {h} | {s['phrases']} | {s['missed']} ({s['missed'] / max(1, s['phrases']):.3f}) | "
                  + " | ".join(str(s[w]) for w in WHY) + f" | {s['oracle'] / max(1, s['phrases']):.3f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/eval/dzj-dev")
    ap.add_argument("--cache", type=Path, default=ROOT / "bench/.cache/recall")
    ap.add_argument("--refresh", action="store_true", help="redo the OCR")
    ap.add_argument("--min-p", type=float, default=None, help="lowest candidate probability indexed")
    ap.add_argument("--fuzzy", type=int, default=None, help="phrases this long match with one character misread")
    ap.add_argument("--deletions", action="store_true", help="… or with one inner character not read")
    ap.add_argument("--two", type=int, default=None, help="phrases this long match with two characters misread")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a matching rule of guji.publish.lattice (e.g. FUZZY_CANDIDATES=1, MIN_MATCH_P=0.001)")
    ap.add_argument("--why", action="store_true", help="classify the misses (OCR aligned with the truth)")
    ap.add_argument("--pad", type=int, default=0,
                    help="shift every page by N px (replicated border, lossless PNG): how much the figures move")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="resize every page by this factor first (pages scanned or reduced at another resolution)")
    ap.add_argument("--stage-setting", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help='a batch.toml setting for the OCR run, e.g. clean.ocr_max_scale=3.0, ocr.rec_pixels="ocr-image"')
    args = ap.parse_args()
    if not (args.data / "gt_txt").is_dir():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    import guji.publish.index as ix
    from guji.publish.site import build_index
    from guji.textfold import fold

    import guji.publish.lattice as lat

    if args.min_p is not None:
        lat.ALT_MIN_P = args.min_p
        ix.page_content_from_ocr.__kwdefaults__["min_p"] = args.min_p
    for kv in args.set:
        k, v = kv.split("=", 1)
        if not hasattr(lat, k):
            raise SystemExit(f"--set {kv}: guji.publish.lattice has no {k}")
        setattr(lat, k, type(getattr(lat, k))(float(v)) if not isinstance(getattr(lat, k), bool) else v not in ("0", "false"))
    if args.fuzzy is not None:
        lat.FUZZY_MIN_LEN = args.fuzzy
    if args.deletions:
        lat.FUZZY_DELETIONS = True
    if args.two is not None:
        lat.FUZZY_TWO_LEN = args.two
    cache = args.cache
    work = cache / "work"
    batch, order = make_batch(args.data, cache, args.pad, args.stage_setting, args.scale)
    if args.refresh or not (work / "ocr" / ITEM).is_dir():
        t = time.perf_counter()
        run_ocr(batch, work)
        print(f"OCR of {len(order)} pages through guji: {time.perf_counter() - t:.0f} s", file=sys.stderr)
    dest = cache / "index.sqlite"
    build_index(work, work / "build", dest, "http://127.0.0.1:8000/")

    names = list(order.values())
    half = {n: ("A" if i < (len(names) + 1) // 2 else "B") for i, n in enumerate(names)}
    truth_lines = {n: [strip(x) for x in (args.data / "gt_txt" / f"{n}.txt").read_text("utf-8").splitlines()]
                   for n in names}
    truth_text = {n: fold("".join(ls)) for n, ls in truth_lines.items()}

    rows = []
    missed: dict[int, set[tuple[str, str]]] = {n: set() for n in LENGTHS}
    with ix.SearchIndex(dest) as idx:
        for n in LENGTHS:
            queries: set[tuple[str, str]] = set()
            for name in names:
                for line in truth_lines[name]:
                    for i in range(len(line) - n + 1):
                        queries.add((name, line[i:i + n]))
            for mode, alternatives in (("exact top-1", False), ("alternatives", True)):
                stat = {h: [0, 0, 0, 0] for h in ("all", "A", "B")}  # found, phrases, false hits, hits
                t = time.perf_counter()
                for name, phrase in sorted(queries):
                    hits, _ = idx.search_item(ITEM, f'"{phrase}"', max_hits=10_000, alternatives=alternatives)
                    pages = {page_name(order, h["canvas_id"]) for h in hits}
                    if alternatives and name not in pages:
                        missed.setdefault(n, set()).add((name, phrase))
                    for h in ("all", half[name]):
                        s = stat[h]
                        s[0] += name in pages
                        s[1] += 1
                        s[2] += sum(1 for p in pages if fold(phrase) not in truth_text[p])
                        s[3] += len(pages)
                ms = (time.perf_counter() - t) * 1000 / max(1, len(queries))
                rows.append((n, mode, stat, ms))
    print(f"\nRecall on {args.data.name} ({len(names)} pages through guji ocr; min_p {lat.ALT_MIN_P}, rules {dict(zip(RULES, lat.rules()))}, MIN_MATCH_P {lat.MIN_MATCH_P}): "
          "found on the right page / false hits among pages returned")
    print("| phrase | search | recall (all) | false hits (all) | recall A / B | false hits A / B | phrases | ms/query |")
    print("|---|---|---|---|---|---|---|---|")
    for n, mode, stat, ms in rows:
        def r(h):
            return stat[h][0] / max(1, stat[h][1])

        def f(h):
            return stat[h][2] / max(1, stat[h][3])
        print(f"| {n} | {mode} | {r('all'):.3f} | {f('all'):.3f} | {r('A'):.3f} / {r('B'):.3f} "
              f"| {f('A'):.3f} / {f('B'):.3f} | {stat['all'][1]} | {ms:.1f} |")
    pipeline_cer(work, order, args.data, half)
    if args.why:
        why_missed(work, order, truth_lines, half, missed, lat.ALT_MIN_P)
    return 0


def pipeline_cer(work: Path, order: dict[str, str], data: Path, half: dict[str, str]) -> None:
    """CER of the pipeline's page models (what `guji run` gives), scored as bench_ocr.py scores
    its direct reading of the original images (guji.ocr.evaluate)."""
    from guji.ocr.evaluate import overall, page_scores
    from guji.ocr.page import PageModel

    rows: dict[str, list] = {"A": [], "B": []}
    for f in sorted((work / "ocr" / ITEM).glob("*.json")):
        doc = json.loads(f.read_text("utf-8"))
        name = page_name(order, doc["canvas"])
        sc = page_scores(PageModel.from_dict(doc).text, (data / "gt_txt" / f"{name}.txt").read_text("utf-8"), ops=True)
        rows[half[name]].append(sc)
    tot = overall(rows["A"] + rows["B"])
    print(f"\nCER of the pipeline's OCR: {tot['cer']:.4f} (half A {overall(rows['A'])['cer']:.4f}, "
          f"half B {overall(rows['B'])['cer']:.4f}); missed / wrong / extra {tot['missed']} / {tot['wrong']} / {tot['extra']}")


if __name__ == "__main__":
    raise SystemExit(main())
