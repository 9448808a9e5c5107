#!/usr/bin/env python3
"""Where the OCR stage's 2-vs-1 worker speed-up goes: the machine's own ceiling next to guji's.

    python bench/bench_parallel.py                  # 20 leaves (40 canvases), 2 alternated rounds
    python bench/bench_parallel.py --leaves 10 --rounds 1 --no-dask

Same run, same inputs (the ``clean`` stage's OCR images of a synthetic batch, bench/bench_e2e.py):

* **raw ceiling** — plain processes, no guji orchestration, every thread pool capped at one
  (``OMP_NUM_THREADS=1`` …, onnxruntime intra/inter-op 1): one process doing all N canvases vs two
  independent processes doing N/2 each, started together. Two kinds of work: ``rapidocr`` (the
  library's own det + rec, ``RapidOCR()(img)``) and ``guji-read`` (guji's ``prepare`` +
  ``read_image``, the exact work of one OCR task, called directly). Wall time from start to the
  last process's exit, and the work time after the models are loaded.
* **guji** — the OCR stage (``force``) with a local pool of 1 and 2 workers, in-process
  (``--jobs 1``) and on a dask LocalCluster of 1 and 2 single-thread workers.

All arrangements alternate over ``--rounds`` (order reversed every other round); medians are
compared. A probe task run in each worker afterwards prints its thread pools as seen from inside
(:func:`guji.threads.thread_report`). The speed-up of guji's stage is printed next to the raw
ceiling: if two independent processes only reach e.g. 1.6× on this machine, that is the bound.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

# dask's worker and nanny housekeeping (an event-loop tick every 20 ms, memory and system monitors
# every 0.1–0.5 s, the profiler) costs 2.6 CPU-s per 30 s for an idle 2-worker LocalCluster on a
# 2-core machine; these settings bring it to 0.4 (cli.md, "Workers", gives them as environment variables)
DASK_WORKER_QUIET = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s",
                     "distributed.worker.memory.monitor-interval": "1s",
                     "distributed.admin.system-monitor.interval": "2s"}

CAPS = {k: "1" for k in ("OMP_NUM_THREADS", "OMP_THREAD_LIMIT", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                         "NUMEXPR_NUM_THREADS", "VIPS_CONCURRENCY")}


# -- raw worker (runs as its own process) -----------------------------------------------------------


def raw_worker(kind: str, images: list[str]) -> dict:
    t0 = time.monotonic()
    import cv2

    cv2.setNumThreads(1)
    if kind == "rapidocr":
        from rapidocr import RapidOCR

        from guji.ocr.engines import RAPID_DET_MODEL, RAPID_REC_MODEL, rapid_model_dir

        d = rapid_model_dir()
        eng = RapidOCR(params={"Global.log_level": "error", "Global.use_cls": False,
                               "Det.model_path": str(d / RAPID_DET_MODEL), "Rec.model_path": str(d / RAPID_REC_MODEL),
                               "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                               "EngineConfig.onnxruntime.inter_op_num_threads": 1})

        def one(img):
            return eng(img)
    else:
        from guji.ocr.engines import get_engine
        from guji.ocr.recognize import prepare, read_image
        from guji.ocr.lm import load_default

        engine = get_engine("rapidocr", "chi_tra_vert", "chi_tra")
        load_default(None)

        def one(img):
            prep = prepare(img, "auto", engine)
            return read_image(prep, engine, mode="layout", direction="vertical-rtl", lm="auto", lm_weight=0.1)
    t1 = time.monotonic()
    for p in images:
        one(cv2.imread(p, cv2.IMREAD_COLOR))
    t2 = time.monotonic()
    from guji.threads import thread_report

    return {"load": t1 - t0, "work": t2 - t1, "cpu": time.process_time(), "threads": thread_report()}


def raw_run(kind: str, images: list[str], procs: int) -> dict:
    """``procs`` independent processes sharing ``images`` (split in contiguous halves), started together."""
    env = {**os.environ, **CAPS, "PYTHONPATH": str(REPO)}
    k = len(images) // procs
    parts = [images[i * k:(i + 1) * k] if i < procs - 1 else images[i * k:] for i in range(procs)]
    t0 = time.monotonic()
    ps = [subprocess.Popen([sys.executable, __file__, "--raw-worker", kind, *part], env=env,
                           stdout=subprocess.PIPE, text=True) for part in parts]
    outs = [json.loads(p.communicate()[0]) for p in ps]
    wall = time.monotonic() - t0
    assert all(p.returncode == 0 for p in ps)
    return {"seconds": wall, "work": max(o["work"] for o in outs), "load": max(o["load"] for o in outs),
            "cpu": sum(o["cpu"] for o in outs), "pages": len(images), "threads": outs[0]["threads"]}


# -- guji runs ----------------------------------------------------------------------------------------


def prepare_batch(root: Path, leaves: int) -> tuple[Path, Path, list[str]]:
    from bench_e2e import context, make_batch

    from guji.executor import LocalExecutor
    from guji.pipeline import STAGES, load

    batch = make_batch(root / "batch", leaves)
    work = root / "work"
    ex = LocalExecutor(2)
    ctx = context(work, root / "out", batch, ex)
    try:
        for name, spec, _ in STAGES:
            if name == "ocr":
                break
            r = load(spec)(ctx)
            assert r.failed == 0, r.problems[:3]
            if name == "ingest":
                ctx._batch = None
        images = [str(work / c.ocr.path) for c in ctx.canvases() if c.ocr is not None]
    finally:
        ex.close()
        ctx.store.close()
    return batch, work, images


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 2 and sys.argv[1] == "--raw-worker":
        print(json.dumps(raw_worker(sys.argv[2], sys.argv[3:])))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--leaves", type=int, default=20, help="synthetic leaves (2 canvases each; default 20)")
    ap.add_argument("--rounds", type=int, default=2, help="alternated rounds (default 2)")
    ap.add_argument("--no-dask", action="store_true", help="no dask LocalCluster runs")
    ap.add_argument("--no-raw", action="store_true", help="no raw ceiling runs")
    ap.add_argument("--raw-rapidocr", action="store_true",
                    help="also the library's own RapidOCR()(img) (4× slower per page than guji's read)")
    ap.add_argument("--only", default="", help="comma-separated arrangements to run (default: all)")
    a = ap.parse_args(argv)
    import psutil

    from bench_e2e import load, ocr_run

    print(f"guji parallel benchmark — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
          f"{os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), "
          f"{psutil.virtual_memory().total / 2**30:.1f} GiB; {load()}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="guji-bench-par-"))
    clusters: dict[int, object] = {}
    try:
        t0 = time.monotonic()
        batch, work, images = prepare_batch(tmp, a.leaves)
        n = len(images)
        print(f"{a.leaves} leaves → {n} canvases ingested and cleaned in {time.monotonic() - t0:.1f} s", flush=True)
        arr = []
        if not a.no_raw:
            arr += (["raw-rapidocr-1", "raw-rapidocr-2"] if a.raw_rapidocr else []) + ["raw-guji-read-1", "raw-guji-read-2"]
        arr += ["in-process", "local-1", "local-2"]
        if not a.no_dask:
            arr += ["dask-1", "dask-2", "daskq-1", "daskq-2"]
            import dask
            from distributed import LocalCluster

            for x in arr:
                if x.startswith("dask") and (not a.only or x in a.only.split(",")):
                    # dask-N: dask's defaults but the profiler (off, as recommended); daskq-N: also the
                    # quieter monitors cli.md recommends for guji's workers (DASK_WORKER_QUIET)
                    cfg = {"distributed.worker.profile.enabled": False}
                    if x.startswith("daskq"):
                        cfg.update(DASK_WORKER_QUIET)
                    with dask.config.set(cfg):
                        clusters[x] = LocalCluster(n_workers=int(x[-1]), threads_per_worker=1, processes=True,
                                                   dashboard_address=":0", host="127.0.0.1")
        if a.only:
            arr = [x for x in arr if x in a.only.split(",")]
        res: dict[str, list[dict]] = {x: [] for x in arr}
        for rnd in range(a.rounds):
            for x in (arr if rnd % 2 == 0 else arr[::-1]):
                if x.startswith("raw-"):
                    kind, procs = x[4:].rsplit("-", 1)
                    r = raw_run(kind, images, int(procs))
                    extra = (f"{r['cpu'] / r['pages']:.2f} CPU-s/canvas; work {r['work']:6.1f} s, model load {r['load']:.1f} s;"
                             f" threads {r['threads']}")
                else:
                    addr = clusters[x].scheduler_address if x.startswith("dask") else None  # type: ignore[attr-defined]
                    r = ocr_run(work, batch, x, addr, probe=True)
                    extra = (f"{r['cpu'] / r['pages']:.2f} CPU-s/canvas (this process {r['main_cpu']:.1f} CPU-s), worker CPU share "
                             f"{', '.join(f'{s:.2f}' for s in r['worker_cpu_share'])}, busy threads {r['busy']}; "
                             f"inside the workers: {r['probe']}")
                res[x].append(r)
                print(f"  round {rnd + 1} {x:16} {r['seconds']:7.1f} s  {extra}  [{load()}]", flush=True)
        med = {x: statistics.median(r["seconds"] for r in rs) for x, rs in res.items() if rs}
        print(f"\nmedians over {a.rounds} rounds, {n} canvases ({load()}):")
        print("| arrangement | 1 | 2 | speed-up 2 vs 1 | CPU-s/canvas 1 | CPU-s/canvas 2 |\n|---|---|---|---|---|---|")
        pairs = [("raw rapidocr, independent processes", "raw-rapidocr-1", "raw-rapidocr-2"),
                 ("raw guji read_image, independent processes", "raw-guji-read-1", "raw-guji-read-2"),
                 ("guji OCR stage, local pool (--jobs 1 in-process → 2)", "in-process", "local-2"),
                 ("guji OCR stage, local pool 1 → 2 workers", "local-1", "local-2"),
                 ("guji OCR stage, dask LocalCluster 1 → 2 workers", "dask-1", "dask-2"),
                 ("guji OCR stage, dask LocalCluster with quiet monitors 1 → 2 workers", "daskq-1", "daskq-2")]
        for label, one, two in pairs:
            if one in med and two in med:
                c1, c2 = (statistics.median(r["cpu"] / r["pages"] for r in res[x]) for x in (one, two))
                print(f"| {label} | {med[one]:.1f} s | {med[two]:.1f} s | {med[one] / med[two]:.2f}× | {c1:.2f} | {c2:.2f} |")
        for kind in ("rapidocr", "guji-read"):
            w1, w2 = (f"raw-{kind}-1", f"raw-{kind}-2")
            if res.get(w1) and res.get(w2):
                r1 = statistics.median(r["work"] for r in res[w1])
                r2 = statistics.median(r["work"] for r in res[w2])
                print(f"raw {kind}: work only (after model load) {r1:.1f} s vs {r2:.1f} s = {r1 / r2:.2f}×")
    finally:
        for c in clusters.values():
            c.close()  # type: ignore[attr-defined]
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
