"""Benchmark the guji search index (issues #6, #16): build speed and query latency at scale.

Generates N synthetic pages (default 100 000) of classical-Chinese-like text: characters drawn
from a Zipf-distributed vocabulary of 4 000 CJK characters (so 之/也/者-like characters are in most
pages, as in real books), 300–600 characters per page, 10 columns per half-leaf, every character
with a box and a recogniser probability; by default 28 % of the positions carry 1–4 other
candidates with probability ≥ 0.02 (these are indexed too). ``--min-p P`` copies the candidates of
dzj-dev's real OCR instead (``bench/bench_recall.py``'s cached page models, candidates below ``P``
dropped as the index drops them): at the default ``ALT_MIN_P`` 0.02 that is 0.62 per position (26 %
of the positions have any), at 0.05 0.36; the 3.7 per position once quoted here is the recogniser's
whole top-5 (``--min-p 0``), which the index never keeps. Pages are grouped into books of 100 pages
with generated metadata.

The fair baseline, built and queried in the same run: a plain per-character FTS5 index
(``unicode61``, one token per character: the same technique without folding, boxes, candidates,
metadata or page rows) of the same pages. Prints build pages/s of both and their ratio, and
p50/p95 latency of ``SearchIndex.search`` (positional postings + page lattices; the full API answer: filters, item grouping, facets,
snippets, boxes, uncertain matches over the candidates) for 1-, 2- and 4-character queries taken
from the generated text, against the baseline answering the same phrase (``SELECT rowid … MATCH``,
all matching rows fetched); the two are alternated query by query, the same queries for both. The index is opened once and
``--warmup`` queries run untimed first, as a server sees it; the first (cold) query is reported
on its own. ``--verify-cap 200,100,100s`` times each cap (``VERIFY_CAP``; ``s``:
``SKIP_UNCERTAIN_WHEN_FULL``) on every query in turn; ``--builds N`` alternates N build pairs.

    .venv/bin/python bench/bench_search.py [--pages 100000] [--queries 200] [--min-p 0.02] [--builds 2]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path


def zipf_vocab(n: int, rng: random.Random) -> tuple[list[str], list[float]]:
    base = [chr(c) for c in range(0x4E00, 0x9FA5)]
    rng.shuffle(base)
    vocab = base[:n]
    # a few traditional forms so folding has real work to do
    vocab[:6] = list("之也者萬曆於")
    weights = [1.0 / (r + 1) ** 1.05 for r in range(n)]
    return vocab, weights


def gen_pages(n_pages: int, seed: int = 7):
    rng = random.Random(seed)
    vocab, weights = zipf_vocab(4000, rng)
    cum = []
    t = 0.0
    for w in weights:
        t += w
        cum.append(t)
    for i in range(n_pages):
        length = rng.randint(300, 600)
        text = "".join(rng.choices(vocab, cum_weights=cum, k=length))
        yield i, text


def candidate_pool(n: int, seed: int = 5, share: float = 0.28,
                   counts: tuple[int, int] = (1, 4)) -> list[tuple[list[float], dict[int, list[tuple[str, float]]]]]:
    """``n`` patterns of (probabilities, candidates) for pages of up to 600 characters: 28 % of the
    positions have 1–4 other candidates (p 0.02–0.4; the top-1 reading then 0.3–0.9), the rest a
    top-1 probability of 0.95–1 (reused cyclically so generating them costs nothing at build time)."""
    rng = random.Random(seed)
    vocab, weights = zipf_vocab(4000, random.Random(7))
    out = []
    for _ in range(n):
        probs = [round(rng.uniform(0.95, 1.0), 3) for _ in range(600)]
        alts: dict[int, list[tuple[str, float]]] = {}
        for k in range(600):
            if rng.random() < share:
                probs[k] = round(rng.uniform(0.3, 0.9), 3)
                alts[k] = [(c, round(rng.uniform(0.02, 0.4), 3)) for c in rng.choices(vocab, weights[:4000], k=rng.randint(*counts))]
        out.append(packed(probs, alts))
    return out


def ocr_positions(min_p: float, cache: Path) -> list[tuple[float, list[float]]]:
    """Every character position of dzj-dev as this OCR reads it (``bench/bench_recall.py``'s cached
    page models): (top-1 probability, probabilities of the candidates ≥ ``min_p``)."""
    import json

    from guji.publish.index import page_content_from_ocr

    files = sorted((cache / "work" / "ocr" / "DZJ-DEV").glob("*.json"))
    if not files:
        raise SystemExit(f"--min-p: no OCR page models in {cache}/work/ocr/DZJ-DEV: run bench/bench_recall.py first")
    out: list[tuple[float, list[float]]] = []
    for f in files:
        pc = page_content_from_ocr(json.loads(f.read_text("utf-8")), min_p=min_p)
        alts: dict[int, list[float]] = {}
        if pc.alternatives:
            for k, p in zip(pc.alternatives.positions, pc.alternatives.probs):
                alts.setdefault(k, []).append(p / 255)
        conf = pc.confidences or b""
        for k in range(len(pc.text)):
            out.append((conf[k] / 255 if k < len(conf) else 1.0, alts.get(k, [])))
    return out


def ocr_pool(n: int, positions: list[tuple[float, list[float]]], seed: int = 5):
    """Like :func:`candidate_pool`, but each position copies a real one of ``positions`` (its top-1
    probability and its candidates' probabilities; the candidate characters drawn from the vocabulary)."""
    rng = random.Random(seed)
    vocab, weights = zipf_vocab(4000, random.Random(7))
    out = []
    for _ in range(n):
        probs = [0.0] * 600
        alts: dict[int, list[tuple[str, float]]] = {}
        for k in range(600):
            p1, ps = positions[rng.randrange(len(positions))]
            probs[k] = p1
            if ps:
                alts[k] = [(c, p) for c, p in zip(rng.choices(vocab, weights, k=len(ps)), ps)]
        out.append(packed(probs, alts))
    return out


def packed(probs: list[float], alts: dict[int, list[tuple[str, float]]]):
    """The pool entry as ``guji.publish.index.page_content_from_ocr`` hands it over (packed arrays);
    ``cut(n)`` gives a page of ``n`` characters its share."""
    import bisect
    from array import array

    from guji.publish.index import PackedAlternatives

    pb = bytes(int(p * 255 + 0.5) for p in probs)
    flat = [(k, c, p) for k, cands in sorted(alts.items()) for c, p in cands]
    pos = [k for k, _, _ in flat]
    chars = "".join(c for _, c, _ in flat)
    ap = bytes(int(p * 255 + 0.5) for _, _, p in flat)

    posa = array("H", pos)

    def cut(n: int):
        m = bisect.bisect_left(pos, n)
        return pb[:n], PackedAlternatives(chars[:m], posa[:m], ap[:m])
    return cut


_GRID: dict = {}


def grid_boxes(n: int):
    # 20 characters per column, columns right to left, 60 px cells on a 2000 x 1600 canvas; packed
    # (uint16 x, y, w, h, line) as page_content_from_ocr gives them
    from array import array

    if n not in _GRID:
        _GRID[n] = array("H", [v for k in range(n) for v in (1900 - (k // 20) * 62, 80 + (k % 20) * 70, 58, 64, k // 20)])
    return _GRID[n]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def build_guji(path: Path, pages, per_book: int, pool) -> float:
    from guji.publish.index import IndexWriter, PageText
    from guji.publish.meta import ItemInfo

    t = time.perf_counter()
    w = IndexWriter(path)
    dyn = ["明", "清", "元", "宋"]
    for b in range(0, len(pages), per_book):
        chunk = pages[b:b + per_book]
        book = b // per_book
        info = ItemInfo(item_id=f"B{book:05d}", title=f"書{book}", dynasty=dyn[book % 4],
                        year_from=1400 + book % 500, year_to=1400 + book % 500, institution=f"館{book % 7}",
                        classification="经史子集丛"[book % 5], edition_type="刻本")

        def gen(chunk=chunk, book=book):
            for j, (i, text) in enumerate(chunk):
                probs, alts = pool[i % len(pool)](len(text))
                yield PageText(f"B{book:05d}/v1/{j:04d}", f"http://127.0.0.1:8000/c/{book}/{j}", j + 1, text,
                               grid_boxes(len(text)), confidences=probs, alternatives=alts)
        w.add_item(info, gen())
    w.close()
    return time.perf_counter() - t


def build_baseline(path: Path, pages) -> float:
    t = time.perf_counter()
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA journal_mode=OFF")
    raw.execute("PRAGMA synchronous=OFF")
    raw.execute("CREATE VIRTUAL TABLE base USING fts5(body, content='', columnsize=0, "
                "tokenize='unicode61 remove_diacritics 0')")
    raw.execute("BEGIN")
    raw.executemany("INSERT INTO base(rowid, body) VALUES (?, ?)", ((i, " ".join(text)) for i, text in pages))
    raw.execute("COMMIT")
    raw.close()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=100_000)
    ap.add_argument("--per-book", type=int, default=100)
    ap.add_argument("--queries", type=int, default=200, help="queries per length")
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--alt-share", type=float, default=0.28, help="share of positions with candidates")
    ap.add_argument("--alt-min", type=int, default=1, help="fewest candidates at such a position")
    ap.add_argument("--alt-max", type=int, default=4, help="most candidates at such a position "
                    "(the recogniser's whole top-5, which the index never keeps: --alt-share 1 --alt-min 3 --alt-max 4)")
    ap.add_argument("--min-p", type=float, default=None,
                    help="take the candidate density from dzj-dev's real OCR (bench/bench_recall.py's cache) "
                    "with candidates below this probability dropped, as the index does (overrides --alt-*)")
    ap.add_argument("--ocr-cache", type=Path, default=Path(__file__).resolve().parent / ".cache/recall")
    ap.add_argument("--verify-cap", default=None, help="uncertain pages verified per query "
                    "(guji.publish.index.VERIFY_CAP), with s (e.g. 100s): none when exact hits fill the result page "
                    "(SKIP_UNCERTAIN_WHEN_FULL); several, comma-separated, query the same index with each in turn")
    ap.add_argument("--builds", type=int, default=1, help="build pairs (baseline, guji), alternated; the median ratio")
    ap.add_argument("--evict", action="store_true", help="drop the index files (guji's and the baseline's) "
                    "from the OS page cache before opening them (posix_fadvise DONTNEED): a truly cold first query")
    ap.add_argument("--warmup", type=int, default=5, help="queries run (untimed) after opening the index")
    args = ap.parse_args()

    import guji.publish.index as ix
    from guji.publish.index import SearchIndex

    # a cap with "s" (e.g. 100s): uncertain pages skipped when exact hits fill the result page
    caps = args.verify_cap.split(",") if args.verify_cap else [f"{ix.VERIFY_CAP}{'s' if ix.SKIP_UNCERTAIN_WHEN_FULL else ''}"]

    import os

    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {os.getloadavg()[0]:.1f}", flush=True)
    work = args.dir or Path(tempfile.mkdtemp(prefix="guji-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"generating {args.pages} pages ...", flush=True)
    t = time.perf_counter()
    pages = list(gen_pages(args.pages))
    if args.min_p is not None:
        real = ocr_positions(args.min_p, args.ocr_cache)
        pool = ocr_pool(200, real)
        n_alt = sum(len(ps) for _, ps in real)
        print(f"  candidates as dzj-dev's OCR at min_p {args.min_p}: {n_alt / len(real):.2f} per position, "
              f"{sum(1 for _, ps in real if ps) / len(real):.0%} of the positions have any")
    else:
        pool = candidate_pool(200, share=args.alt_share, counts=(args.alt_min, args.alt_max))
    n_chars = sum(len(p) for _, p in pages)
    print(f"  {n_chars} characters ({n_chars / len(pages):.0f} per page) in {time.perf_counter() - t:.1f} s")

    # -- builds, baseline first then guji ----------------------------------------------------------
    t_raws, t_builds = [], []
    for _ in range(args.builds):  # alternated: baseline, guji, baseline, guji, …
        for p in (work / "index.sqlite", work / "index.postings", work / "base.sqlite"):
            if p.exists():
                p.unlink()
        t_raws.append(build_baseline(work / "base.sqlite", pages))
        t_builds.append(build_guji(work / "index.sqlite", pages, args.per_book, pool))
        print(f"  build pair: baseline {t_raws[-1]:.1f} s, guji {t_builds[-1]:.1f} s: {t_raws[-1] / t_builds[-1]:.2f}x", flush=True)
    t_raw, t_build = statistics.median(t_raws), statistics.median(t_builds)
    ratio = statistics.median(r / b for r, b in zip(t_raws, t_builds))
    size = (work / "index.sqlite").stat().st_size
    psize = (work / "index.postings").stat().st_size
    print(f"\nbuild (median of {args.builds}): guji index {len(pages) / t_build:,.0f} pages/s ({t_build:.1f} s, {size / 1e6:.0f} MB + "
          f"postings {psize / 1e6:.0f} MB); "
          f"baseline per-character FTS5 {len(pages) / t_raw:,.0f} pages/s ({t_raw:.1f} s, "
          f"{(work / 'base.sqlite').stat().st_size / 1e6:.0f} MB); guji speed = {ratio:.2f}x the baseline's")

    # -- queries, alternated -----------------------------------------------------------------------
    rng = random.Random(11)
    # opened once, as a server does; the first query (cold: nothing of the index read yet in this
    # process) timed on its own, then ``--warmup`` untimed queries
    def one(q, caps):
        """guji's answers and times with each verify cap in ``caps`` (in turn), then the baseline's time."""
        out = []
        for cap in caps:
            ix.VERIFY_CAP, ix.SKIP_UNCERTAIN_WHEN_FULL = int(cap.rstrip("s")), cap.endswith("s")
            t = time.perf_counter()
            r = idx.search(q)
            out.append((r, (time.perf_counter() - t) * 1000))
        t1 = time.perf_counter()
        raw.execute("SELECT rowid FROM base WHERE base MATCH ?", ('"' + " ".join(q) + '"',)).fetchall()
        return out, (time.perf_counter() - t1) * 1000

    if args.evict:
        for f in ("index.sqlite", "index.postings", "base.sqlite"):
            fd = os.open(work / f, os.O_RDONLY)
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
    idx = SearchIndex(work / "index.sqlite")
    raw = sqlite3.connect(f"file:{work / 'base.sqlite'}?mode=ro", uri=True)
    wrng = random.Random(3)
    warm = []
    for _ in range(1 + args.warmup):
        _, text = pages[wrng.randrange(len(pages))]
        i = wrng.randrange(len(text) - 2)
        warm.append(one(text[i:i + 2], caps[:1]))
    print(f"\ncold first query (2-char, index just opened{', files evicted from the page cache' if args.evict else ''}): guji {warm[0][0][0][1]:.1f} ms, baseline {warm[0][1]:.1f} ms; "
          f"then {args.warmup} warm-up queries, untimed")
    print(f"verify caps {caps} (uncertain pages verified per query), taken in turn for each query; "
          "the baseline once per query")
    latencies(one, pages, args.queries, caps)
    idx.close()
    raw.close()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {os.getloadavg()[0]:.1f}")
    if not args.keep and args.dir is None:
        shutil.rmtree(work)


def latencies(one, pages, n_queries: int, caps: list[str]) -> None:
    """p50/p95 of guji (with each verify cap) and the baseline, alternated query by query, for 1-,
    2- and 4-character queries."""
    rng = random.Random(11)
    print("query latency (ms)                                   guji p50 / p95 | baseline p50 / p95 | p95 ratio")
    for n in (1, 2, 4):
        qs = []
        for _ in range(n_queries):
            _, text = pages[rng.randrange(len(pages))]
            i = rng.randrange(len(text) - n)
            qs.append(text[i:i + n])
        lat: list[list[float]] = [[] for _ in caps]
        hits: list[list[int]] = [[] for _ in caps]
        unc: list[list[int]] = [[] for _ in caps]
        base = []
        for j, q in enumerate(qs):
            order = [(j + k) % len(caps) for k in range(len(caps))]  # which cap goes first rotates
            got, tb = one(q, [caps[k] for k in order])
            base.append(tb)
            for k, (r, tg) in zip(order, got):
                assert r["total_items"] > 0, q
                lat[k].append(tg)
                hits[k].append(r["total_page_hits"])
                unc[k].append(r["total_uncertain_page_hits"])
        for k, cap in enumerate(caps):
            print(f"  {n}-char cap {cap:4} ({len(qs)} queries; median page hits {statistics.median(hits[k]):.0f}, "
                  f"uncertain {statistics.median(unc[k]):.0f})  {pct(lat[k], 50):6.1f} / {pct(lat[k], 95):6.1f} "
                  f"| {pct(base, 50):6.1f} / {pct(base, 95):6.1f} | {pct(lat[k], 95) / max(1e-9, pct(base, 95)):.2f}x")

if __name__ == "__main__":
    main()
