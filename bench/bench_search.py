"""Benchmark the guji search index (issue #6): build speed and query latency at scale.

Generates N synthetic pages (default 100 000) of classical-Chinese-like text: characters drawn
from a Zipf-distributed vocabulary of 4 000 CJK characters (so 之/也/者-like characters are in most
pages, as in real books), 300–600 characters per page, 10 columns per half-leaf, every character
with a box. Pages are grouped into books of 100 pages with generated metadata.

Prints: build pages/s (guji's index: folded per-character FTS5 + boxes) against a raw baseline in
the same run (plain FTS5 trigram insert of the same text, no folding, no boxes), and query p50/p95
latency of ``SearchIndex.search`` (the full API answer: filters, item grouping, facets, snippets,
boxes) for 1-, 2- and 4-character queries taken from the generated text, against a raw
``LIKE '%q%'`` scan of the same text (the baseline the index must beat).

    .venv/bin/python bench/bench_search.py [--pages 100000] [--dir /tmp/guji-bench]
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
    s = 0.0
    for w in weights:
        s += w
        cum.append(s)
    for i in range(n_pages):
        length = rng.randint(300, 600)
        text = "".join(rng.choices(vocab, cum_weights=cum, k=length))
        yield i, text


def grid_boxes(n: int):
    # 20 characters per column, columns right to left, 60 px cells on a 1400 x 1600 canvas
    out = []
    for k in range(n):
        col, row = divmod(k, 20)
        out.append((1300 - col * 62, 80 + row * 70, 58, 64, col))
    return out


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=100_000)
    ap.add_argument("--per-book", type=int, default=100)
    ap.add_argument("--queries", type=int, default=200, help="queries per length")
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    from guji.publish.index import IndexWriter, PageText, SearchIndex
    from guji.publish.meta import ItemInfo

    work = args.dir or Path(tempfile.mkdtemp(prefix="guji-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"generating {args.pages} pages ...", flush=True)
    t = time.perf_counter()
    pages = list(gen_pages(args.pages))
    n_chars = sum(len(p) for _, p in pages)
    print(f"  {n_chars} characters ({n_chars / len(pages):.0f} per page) in {time.perf_counter() - t:.1f} s")

    # -- guji index build ----------------------------------------------------------------------
    t = time.perf_counter()
    w = IndexWriter(work / "index.sqlite")
    dyn = ["明", "清", "元", "宋"]
    for b in range(0, len(pages), args.per_book):
        chunk = pages[b:b + args.per_book]
        book = b // args.per_book
        info = ItemInfo(item_id=f"B{book:05d}", title=f"書{book}", dynasty=dyn[book % 4],
                        year_from=1400 + book % 500, year_to=1400 + book % 500, institution=f"館{book % 7}",
                        classification="经史子集丛"[book % 5], edition_type="刻本")
        w.add_item(info, (PageText(f"B{book:05d}/v1/{j:04d}", f"http://127.0.0.1:8000/c/{book}/{j}", j + 1, text,
                                   grid_boxes(len(text))) for j, (_, text) in enumerate(chunk)))
    w.close()
    t_build = time.perf_counter() - t
    size = (work / "index.sqlite").stat().st_size

    # -- raw baseline build: plain FTS5 trigram insert and a plain table ----------------------
    t = time.perf_counter()
    raw = sqlite3.connect(work / "raw.sqlite", isolation_level=None)
    raw.execute("PRAGMA journal_mode=OFF")
    raw.execute("PRAGMA synchronous=OFF")
    raw.execute("CREATE VIRTUAL TABLE tri USING fts5(body, tokenize='trigram')")
    raw.execute("BEGIN")
    raw.executemany("INSERT INTO tri(rowid, body) VALUES (?, ?)", pages)
    raw.execute("COMMIT")
    t_raw = time.perf_counter() - t
    raw.execute("CREATE TABLE plain(id INTEGER PRIMARY KEY, body TEXT)")
    raw.execute("BEGIN")
    raw.executemany("INSERT INTO plain VALUES (?, ?)", pages)
    raw.execute("COMMIT")

    print(f"\nbuild: guji index {len(pages) / t_build:,.0f} pages/s ({t_build:.1f} s, {size / 1e6:.0f} MB, "
          f"{len(pages)} pages); raw FTS5 trigram insert {len(pages) / t_raw:,.0f} pages/s ({t_raw:.1f} s); "
          f"ratio {t_build / t_raw:.1f}x the raw time")

    # -- queries --------------------------------------------------------------------------------
    rng = random.Random(11)
    idx = SearchIndex(work / "index.sqlite")
    print("\nquery latency of SearchIndex.search (ms)        guji p50 / p95   | raw LIKE scan p50 / p95 (n)")
    for n in (1, 2, 4):
        qs = []
        for _ in range(args.queries):
            _, text = pages[rng.randrange(len(pages))]
            i = rng.randrange(len(text) - n)
            qs.append(text[i:i + n])
        lat = []
        hits = []
        for q in qs:
            t = time.perf_counter()
            r = idx.search(q)
            lat.append((time.perf_counter() - t) * 1000)
            hits.append(r["total_page_hits"])
            assert r["total_items"] > 0, q
        base = []
        for q in qs[:5]:
            t = time.perf_counter()
            raw.execute("SELECT count(*) FROM plain WHERE body LIKE ?", (f"%{q}%",)).fetchone()
            base.append((time.perf_counter() - t) * 1000)
        print(f"  {n}-char queries ({len(qs)}; median page hits {statistics.median(hits):.0f})"
              f"   {pct(lat, 50):7.1f} / {pct(lat, 95):7.1f}   | {pct(base, 50):7.1f} / {pct(base, 95):7.1f} ({len(base)})")
    idx.close()
    raw.close()
    if not args.keep and args.dir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
