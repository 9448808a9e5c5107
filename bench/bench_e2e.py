#!/usr/bin/env python3
"""End-to-end benchmark: a synthetic batch of realistic woodblock leaves through every stage.

    python bench/bench_e2e.py                       # 200 pages (+ 20 for the memory ratio)
    python bench/bench_e2e.py --pages 40 --small 10 --rounds 1   # smaller, quicker
    python bench/bench_e2e.py --skip-pipeline       # only the 2-vs-1 worker speed-ups

Prints, for the big batch: per-stage seconds per page, pages per hour and the peak memory of the
whole process tree (this process and every worker, sampled with psutil every 0.1 s — GNU time
sees only the parent); the same at ``--small`` pages and the ratio of the two peaks (aim ≤ 1.2).
Then the OCR stage on the small batch with 1 and 2 single-thread workers, locally (pebble pool)
and on a dask LocalCluster (1 and 2 workers, ``nthreads=1``), runs alternated over ``--rounds``:
seconds, speed-up 2 vs 1 (aim ≥ 1.8 on 2 free cores), CPU seconds per page of the whole tree,
the CPU share and thread count of each worker process (checks that each worker keeps to one
core). Machine load (``uptime``) is printed with the figures: on a shared machine they are noisy.

Pages are drawn here (PIL + AR PL UMing from fonts-arphic-uming): a full leaf per page, 2 × 8
columns of 16 characters, frame, centre column, paper tone, noise, a small skew — like the demo
batch's leaves (scripts/make_samples.py), but generated in any number.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FONT = Path("/usr/share/fonts/truetype/arphic/uming.ttc")
TEXT = ("天地玄黃宇宙洪荒日月盈昃辰宿列張寒來暑往秋收冬藏閏餘成歲律呂調陽雲騰致雨露結為霜金生麗水玉出崑岡"
        "劍號巨闕珠稱夜光果珍李柰菜重芥薑海鹹河淡鱗潛羽翔龍師火帝鳥官人皇始制文字乃服衣裳推位讓國有虞陶唐"
        "弔民伐罪周發殷湯坐朝問道垂拱平章愛育黎首臣伏戎羌遐邇壹體率賓歸王鳴鳳在竹白駒食場化被草木賴及萬方"
        "蓋此身髮四大五常恭惟鞠養豈敢毀傷女慕貞絜男效才良知過必改得能莫忘罔談彼短靡恃己長信使可覆器欲難量")
STAGES = ["ingest", "clean", "ocr", "metadata", "iiif", "publish"]


# -- synthetic batch --------------------------------------------------------------------------------


def draw_leaf(seed: int) -> np.ndarray:
    """One full leaf (two half-leaves and the centre column), about 1330 × 1180 px, RGB."""
    import cv2
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    fs, pitch, colw, ncol, nchr, centre = 48, 54, 64, 8, 16, 80
    fw, fh = 2 * ncol * colw + centre, 2 * 18 + nchr * pitch
    mx, my = 110, 140
    W, H = fw + 2 * mx, fh + my + 120
    ink = Image.new("L", (W, H), 0)
    d = ImageDraw.Draw(ink)
    font = ImageFont.truetype(str(FONT), fs, index=2)
    d.rectangle([mx - 12, my - 12, mx + fw + 12, my + fh + 12], outline=255, width=4)
    d.rectangle([mx, my, mx + fw, my + fh], outline=255, width=2)
    cx = mx + ncol * colw
    d.line([cx, my, cx, my + fh], fill=255, width=2)
    d.line([cx + centre, my, cx + centre, my + fh], fill=255, width=2)
    for k in range(2 * ncol):  # right half first: columns right to left
        x = (mx + fw - (k + 1) * colw) if k < ncol else (cx - (k - ncol + 1) * colw)
        n = nchr if rng.random() > 0.15 else int(rng.integers(3, nchr))
        for j in range(n):
            ch = TEXT[int(rng.integers(0, len(TEXT)))]
            d.text((x + (colw - fs) // 2, my + 18 + j * pitch), ch, font=font, fill=255)
    paper = np.array([226, 210, 172], np.float32) + rng.normal(0, 4, 3)
    a = np.asarray(ink, np.float32)[..., None] / 255.0
    img = paper * (1 - a) + np.array([40, 35, 30], np.float32) * a
    img += rng.normal(0, 3.0, img.shape)
    angle = float(rng.uniform(-0.8, 0.8))
    m = cv2.getRotationMatrix2D((W / 2, H / 2), angle, 1.0)
    img = cv2.warpAffine(np.clip(img, 0, 255).astype(np.uint8), m, (W, H), borderValue=tuple(int(v) for v in paper))
    return img


def make_batch(root: Path, pages: int, per_item: int = 10) -> Path:
    from PIL import Image

    root.mkdir(parents=True, exist_ok=True)
    (root / "batch.toml").write_text(
        '[batch]\nid = "bench"\ninstitution = "基準測試圖書館"\ninstitution_code = "350000-2001"\n'
        'rights = "http://creativecommons.org/licenses/by/4.0/"\naccess = "public"\nprofile = "rare-book"\n'
        '\n[iiif]\nbase_url = "http://127.0.0.1:8000/"\n', "utf-8")
    rows = ["普查编号,本地编号,题名卷数,文献类型,访问级别"]
    for i in range(pages):
        item = f"BENCH-{i // per_item + 1:04d}"
        if i % per_item == 0:
            rows.append(f",{item},千字文{i // per_item + 1}卷,古籍,公开")
        p = root / item / f"{i % per_item + 1:04d}.jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(draw_leaf(i)).save(p, quality=90, dpi=(600, 600))
    (root / "records.csv").write_text("\n".join(rows) + "\n", "utf-8")
    return root


# -- measuring the whole process tree -----------------------------------------------------------------


class TreeSampler:
    """Samples RSS of this process and all its descendants every ``interval`` s, and keeps each
    process's last CPU times and thread count (for per-worker CPU share and thread caps)."""

    def __init__(self, interval: float = 0.1):
        import psutil

        self.psutil = psutil
        self.me = psutil.Process()
        self.interval = interval
        self.peak = 0
        self.procs: dict[int, dict] = {}
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        ps = self.psutil
        while not self._stop.is_set():
            total = 0
            try:
                procs = [self.me] + self.me.children(recursive=True)
            except ps.Error:
                procs = [self.me]
            for p in procs:
                try:
                    with p.oneshot():
                        rss = p.memory_info().rss
                        ct = p.cpu_times()
                        nt = p.num_threads()
                        name = " ".join(p.cmdline()[:3])[-60:]
                except ps.Error:
                    continue
                total += rss
                r = self.procs.setdefault(p.pid, {"start": time.monotonic(), "cpu0": ct.user + ct.system,
                                                  "threads": 0, "rss": 0, "name": name})
                r.update(cpu=ct.user + ct.system, last=time.monotonic())
                r["threads"] = max(r["threads"], nt)
                try:
                    ts = {t.id: t.user_time + t.system_time for t in p.threads()}
                except ps.Error:
                    ts = {}
                r.setdefault("tcpu0", ts)
                r["tcpu"] = ts
                r["rss"] = max(r["rss"], rss)
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> "TreeSampler":
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()


def load() -> str:
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def mb(b: float) -> str:
    return f"{b / 2**20:.0f} MB"


# -- runs ----------------------------------------------------------------------------------------


def context(work: Path, out: Path, batch: Path, executor):
    from guji.clikit import make_context

    ctx = make_context(work, out=out, batch_dir=batch, jobs=1, quiet=True)
    ctx.executor = executor
    return ctx


def pipeline(batch: Path, root: Path, jobs: int) -> dict:
    """Every stage in order with a local pool of ``jobs`` workers: seconds and peak memory per stage."""
    from guji.executor import LocalExecutor
    from guji.pipeline import STAGES as SPECS, load as load_stage

    work, out = root / "work", root / "out"
    ex = LocalExecutor(jobs)
    ctx = context(work, out, batch, ex)
    res = {}
    try:
        for name, spec, _ in SPECS:
            fn = load_stage(spec)
            with TreeSampler() as s:
                t0 = time.monotonic()
                r = fn(ctx)
                dt = time.monotonic() - t0
            res[name] = {"seconds": dt, "peak": s.peak, "exit": r.exit_code.name, "done": r.done,
                         "failed": r.failed}
    finally:
        ex.close()
        ctx.store.close()
    return res


def print_pipeline(n: int, res: dict) -> None:
    total = sum(r["seconds"] for r in res.values())
    print(f"\npipeline, {n} pages, local pool of 2 single-thread workers ({load()}):")
    print(f"  {'stage':9} {'s total':>8} {'s/page':>7} {'peak tree RSS':>14}  result")
    for name, r in res.items():
        print(f"  {name:9} {r['seconds']:8.1f} {r['seconds'] / n:7.3f} {mb(r['peak']):>14}  "
              f"{r['exit']} ({r['done']} done, {r['failed']} failed)")
    print(f"  {'total':9} {total:8.1f} {total / n:7.3f} {mb(max(r['peak'] for r in res.values())):>14}"
          f"  → {3600 * n / total:.0f} pages/hour")


def ocr_run(work: Path, batch: Path, arrangement: str, address: str | None = None, probe: bool = False) -> dict:
    """The OCR stage (``force``) once with the given executor; time, CPU and per-worker figures."""
    from guji.executor import DaskExecutor, LocalExecutor, SerialExecutor
    from guji.ocr import stage as ocr

    if arrangement.startswith("dask"):
        ex = DaskExecutor(address)
    elif arrangement == "in-process":
        ex = SerialExecutor()
    elif arrangement == "local-1x2":  # one worker allowed 2 threads (OpenCV, BLAS, libvips)
        ex = LocalExecutor(1, threads=2)
    elif arrangement == "local-2-nocap":  # 2 workers, the libraries' default thread pools (before #17)
        ex = LocalExecutor(2, threads=0)
    else:
        ex = LocalExecutor(int(arrangement.split("-")[1]))
    ctx = context(work, work.parent / "out", batch, ex)
    ctx.force = True
    import psutil

    me = psutil.Process()
    with TreeSampler(interval=0.5) as s:  # sampling costs CPU in this process: not 10× a second here
        before = {p.pid: sum(p.cpu_times()[:2]) for p in [me] + me.children(recursive=True)}
        t0 = time.monotonic()
        r = ocr.run(ctx)
        dt = time.monotonic() - t0
    seen = {}
    if probe:  # the workers' thread pools, asked from inside each (same processes as the stage's)
        from guji.threads import thread_report

        for d in ex.map_tasks(thread_report, range(4 * ex.jobs)):
            rep = d.result
            seen[rep["pid"]] = {k: rep.get(k) for k in ("opencv", "blas_openmp", "onnxruntime", "os_threads")}
    ex.close()
    ctx.store.close()
    assert r.failed == 0, r.problems[:3]
    workers = {w["pid"] for w in r.workers}
    cpu = sum(rec["cpu"] - before.get(pid, 0.0) for pid, rec in s.procs.items())
    main_cpu = s.procs[me.pid]["cpu"] - before.get(me.pid, 0.0) if me.pid in s.procs else 0.0
    per_worker = [(rec["cpu"] - before.get(pid, 0.0)) / max(1e-9, rec["last"] - rec["start"])
                  for pid, rec in s.procs.items() if pid in workers]
    threads = [rec["threads"] for pid, rec in s.procs.items() if pid in workers]
    busy = []  # per worker: threads that did ≥ 10 % of its CPU work while sampled
    for pid, rec in s.procs.items():
        if pid in workers:
            d = {t: c - rec["tcpu0"].get(t, 0.0) for t, c in rec["tcpu"].items()}
            tot = sum(d.values()) or 1.0
            busy.append(sum(1 for v in d.values() if v >= 0.1 * tot))
    return {"seconds": dt, "cpu": cpu, "pages": r.done, "worker_cpu_share": per_worker, "threads": threads,
            "workers": len(workers), "peak": s.peak, "busy": busy,
            "probe": list(seen.values()), "main_cpu": main_cpu}


def speedups(work: Path, batch: Path, rounds: int, with_dask: bool, dask_profile: bool) -> dict[str, float]:
    arrangements = ["local-1", "local-2", "local-1x2", "local-2-nocap"]
    print(f"\nOCR stage, {work.parent.name}: 1 vs 2 single-thread workers, {rounds} alternated rounds "
          f"({load()})")
    results: dict[str, list[dict]] = {a: [] for a in arrangements}
    clusters = {}
    try:
        if with_dask:
            import dask
            from distributed import LocalCluster

            cfg = {"distributed.worker.profile.enabled": dask_profile}
            for n in (1, 2):
                with dask.config.set(cfg):
                    clusters[n] = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                               dashboard_address=":0", host="127.0.0.1")
                results[f"dask-{n}"] = []
        for k in range(rounds):
            order = list(results) if k % 2 == 0 else list(reversed(results))
            for a in order:
                addr = clusters[int(a.split("-")[1])].scheduler_address if a.startswith("dask") else None
                r = ocr_run(work, batch, a, addr)
                results[a].append(r)
                share = ", ".join(f"{x:.2f}" for x in r["worker_cpu_share"])
                print(f"  round {k + 1} {a:8} {r['seconds']:7.1f} s  {r['cpu'] / r['pages']:5.2f} CPU-s/page  "
                      f"workers {r['workers']} (CPU share each: {share}; threads {max(r['threads'] or [0])}, busy {r['busy']})"
                      f"  peak {mb(r['peak'])}  [{load()}]", flush=True)
    finally:
        for c in clusters.values():
            c.close()
    med = {a: statistics.median(r["seconds"] for r in rs) for a, rs in results.items() if rs}
    print("  median seconds: " + ", ".join(f"{a} {t:.1f}" for a, t in med.items()))
    print(f"  speed-up local 2 vs 1 workers: {med['local-1'] / med['local-2']:.2f}× (aim ≥ 1.8)")
    print(f"  1 worker with 2 threads vs 2 single-thread workers: {med['local-1x2'] / med['local-2']:.2f}× the time "
          "(> 1: the default, one single-thread worker per core, is the faster arrangement)")
    print(f"  2 workers without thread caps vs with: {med['local-2-nocap'] / med['local-2']:.2f}× the time")
    if "dask-1" in med:
        print(f"  speed-up dask  2 vs 1 workers: {med['dask-1'] / med['dask-2']:.2f}× (aim ≥ 1.8)")
        print(f"  dask 2 workers vs local 2 workers: {med['dask-2'] / med['local-2']:.2f}× the time, "
              f"{statistics.median(r['cpu'] for r in results['dask-2']) / statistics.median(r['cpu'] for r in results['local-2']):.2f}× the CPU")
    return med


def print_table(a: argparse.Namespace, res_small: dict, res_big: dict, med: dict[str, float], load_start: str) -> None:
    """The figures as a small markdown table, ready for the README (date, machine and load in its caption)."""
    import psutil

    big = res_big or res_small
    n = a.pages if res_big else a.small
    total = sum(r["seconds"] for r in big.values())
    print(f"\n{time.strftime('%Y-%m-%d', time.gmtime())}, {platform.node()}: {os.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 2**30:.1f} GiB; {load_start} at the start, {load()} at the end; "
          f"pipeline with a local pool of {a.jobs} single-thread workers.\n")
    print("| figure | value |\n|---|---|")
    print(f"| pages through every stage | {n} |")
    for name, r in big.items():
        print(f"| {name}: s/page | {r['seconds'] / n:.3f} |")
    print(f"| all stages: s/page | {total / n:.2f} |")
    print(f"| pages/hour | {3600 * n / total:.0f} |")
    pb = max(r["peak"] for r in big.values())
    print(f"| peak RSS, whole process tree ({n} pages) | {mb(pb)} |")
    if res_big:
        ps = max(r["peak"] for r in res_small.values())
        print(f"| peak RSS {a.pages} vs {a.small} pages (aim ≤ 1.2) | {pb / ps:.2f}× |")
    if "local-1" in med and "local-2" in med:
        print(f"| OCR stage, {a.small} pages: local 2 vs 1 workers (aim ≥ 1.8) | {med['local-1'] / med['local-2']:.2f}× |")
    if "dask-1" in med and "dask-2" in med:
        print(f"| OCR stage, {a.small} pages: dask LocalCluster 2 vs 1 workers (aim ≥ 1.8) | "
              f"{med['dask-1'] / med['dask-2']:.2f}× |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=200, help="pages of the big batch (default 200)")
    ap.add_argument("--small", type=int, default=20, help="pages of the small batch (memory ratio, speed-ups)")
    ap.add_argument("--rounds", type=int, default=2, help="alternated rounds of the speed-up runs")
    ap.add_argument("--jobs", type=int, default=2, help="workers for the pipeline runs (default 2)")
    ap.add_argument("--skip-pipeline", action="store_true", help="only the OCR speed-ups")
    ap.add_argument("--skip-speedup", action="store_true", help="only the pipeline runs")
    ap.add_argument("--no-dask", action="store_true", help="no dask LocalCluster runs")
    ap.add_argument("--dask-profile", action="store_true",
                    help="leave dask's statistical profiler on in the workers (default: off, as recommended)")
    ap.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    a = ap.parse_args(argv)
    if not FONT.is_file():
        print(f"needs {FONT} (Debian package fonts-arphic-uming)", file=sys.stderr)
        return 2
    import psutil  # noqa: F401 - fail early when missing

    print(f"guji e2e benchmark — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
          f"{os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), "
          f"{psutil.virtual_memory().total / 2**30:.1f} GiB, Python {platform.python_version()}; {load()}")
    tmp = a.keep or Path(tempfile.mkdtemp(prefix="guji-bench-e2e-"))
    load_start = load()
    res_big: dict = {}
    med: dict[str, float] = {}
    try:
        t0 = time.monotonic()
        small = make_batch(tmp / f"small-{a.small}" / "batch", a.small)
        print(f"generated {a.small} pages in {time.monotonic() - t0:.1f} s", flush=True)
        res_small = pipeline(small, small.parent, a.jobs)
        print_pipeline(a.small, res_small)
        if not a.skip_speedup:
            med = speedups(small.parent / "work", small, a.rounds, not a.no_dask, a.dask_profile)
        if not a.skip_pipeline:
            t0 = time.monotonic()
            big = make_batch(tmp / f"big-{a.pages}" / "batch", a.pages)
            print(f"\ngenerated {a.pages} pages in {time.monotonic() - t0:.1f} s", flush=True)
            res_big = pipeline(big, big.parent, a.jobs)
            print_pipeline(a.pages, res_big)
            pb = max(r["peak"] for r in res_big.values())
            ps = max(r["peak"] for r in res_small.values())
            print(f"\npeak tree memory {a.pages} vs {a.small} pages: {mb(pb)} / {mb(ps)} = {pb / ps:.2f}× "
                  f"(aim ≤ 1.2)")
        print(f"\n{load()}")
        print_table(a, res_small, res_big, med, load_start)
    finally:
        if a.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
