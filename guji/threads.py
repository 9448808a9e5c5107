"""Thread limits for page workers: each worker process uses its share of the cores, no more.

N worker processes on N cores only give close to N× when each one keeps to one core: OpenCV,
OpenMP/BLAS (numpy), libvips and onnxruntime all start a thread per core by default, so two
workers on two cores would run four or more busy threads and lose time to switching. Workers
call :func:`limit_threads` once, first thing (the local pool's initialiser; on dask the first
task in each worker process). onnxruntime's own pools are sized by the engine
(``guji.ocr.engines.RapidEngine(threads=1)``): one intra-op and one inter-op thread, which also
keeps its results independent of the machine.

Environment variables are set before the libraries are imported where possible (the worker
initialiser runs before any task imports numpy or cv2); for libraries already loaded,
threadpoolctl (BLAS/OpenMP), ``cv2.setNumThreads`` and ``pyvips.concurrency_set`` apply the same
limit at run time.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# Read by OpenMP runtimes, OpenBLAS, MKL, Apple Accelerate, numexpr, Tesseract (OMP_THREAD_LIMIT)
# and libvips (VIPS_CONCURRENCY) when they start.
ENV_VARS = ("OMP_NUM_THREADS", "OMP_THREAD_LIMIT", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
            "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "VIPS_CONCURRENCY")

_applied: int | None = None


def available_cores() -> int:
    """Cores this process may run on (CPU affinity / cgroup cpuset aware where the OS says)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


WORKER_MEMORY = 1 << 30  # bytes a page worker may need at its peak (OCR worker: ~0.5–0.9 GB measured)


def available_memory() -> int | None:
    """MemAvailable from /proc/meminfo (bytes), or None where there is none."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def default_jobs() -> int:
    """Workers for ``--jobs 0``: one single-thread worker per usable core (bench/bench_e2e.py compares
    the alternatives), but no more than the available memory holds at ~1 GB each, so a big machine
    with little RAM does not swap or meet the OOM killer."""
    cores = available_cores()
    mem = available_memory()
    if mem is None:
        return cores
    return max(1, min(cores, mem // WORKER_MEMORY))


def limit_threads(n: int = 1) -> dict[str, Any]:
    """Cap every thread pool of this process at ``n`` threads; returns what was set (for checks).

    Safe to call more than once: later calls with the same ``n`` do nothing. ``n = 0`` changes
    nothing (the libraries' own defaults; bench/bench_e2e.py measures what the caps gain).
    """
    global _applied
    n = int(n)
    if n <= 0:  # 0: leave the libraries' defaults (one thread per core each); for comparisons only
        return {}
    if _applied == n:
        return {"threads": n}
    for k in ENV_VARS:
        os.environ[k] = str(n)
    done: dict[str, Any] = {"threads": n}
    if "cv2" in sys.modules or _importable("cv2"):
        import cv2

        cv2.setNumThreads(n)
        done["opencv"] = cv2.getNumThreads()
    if "pyvips" in sys.modules:  # when not loaded yet, VIPS_CONCURRENCY above applies at its start
        import pyvips

        pyvips.concurrency_set(n)
        done["vips"] = pyvips.concurrency_get()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency; env vars still apply
        pass
    else:
        threadpool_limits(limits=n)
        done["blas_openmp"] = n
    _applied = n
    return done


# glibc malloc: what dask does to its workers and what guji's page tasks need. dask's nanny starts
# every worker with MALLOC_TRIM_THRESHOLD_=65536 (to hand freed memory back to the OS quickly).
# Setting any threshold turns off glibc's dynamic mmap threshold, so every image buffer over 128 KB
# is a fresh mmap, zero-filled page by page and unmapped again: measured on the OCR stage, each
# page took ~30 % more CPU in a dask worker than in a local one (0.97–1.0 vs 0.72–0.75 CPU-s on the
# same leaf; the first page twice as much), and the same env var in a local worker did the same.
# Fixed thresholds like glibc's own dynamic ones (up to 32 MB) bring it back.
MMAP_THRESHOLD = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
TRIM_THRESHOLD = 64 << 20  # at most this much freed heap is kept per worker before trimming

_malloc: dict[str, int] | None = None


def tune_malloc() -> dict[str, int]:
    """When ``MALLOC_TRIM_THRESHOLD_`` or ``MALLOC_MMAP_THRESHOLD_`` is set in this process's
    environment (a dask worker), set glibc's thresholds to :data:`MMAP_THRESHOLD` /
    :data:`TRIM_THRESHOLD` with ``mallopt``; returns what was set ({} when nothing was: no such
    variable, or not glibc). Once per process."""
    global _malloc
    if _malloc is not None:
        return _malloc
    _malloc = {}
    if not (os.environ.get("MALLOC_TRIM_THRESHOLD_") or os.environ.get("MALLOC_MMAP_THRESHOLD_")):
        return _malloc
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to undo
        return _malloc
    if mallopt(-3, MMAP_THRESHOLD) == 1 and mallopt(-1, TRIM_THRESHOLD) == 1:  # M_MMAP_, M_TRIM_THRESHOLD
        _malloc = {"mmap_threshold": MMAP_THRESHOLD, "trim_threshold": TRIM_THRESHOLD}
    return _malloc


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def init_worker(n: int = 1) -> None:
    """Initialiser of local worker processes (runs before any task)."""
    limit_threads(n)


def thread_report(_task: Any = None) -> dict[str, Any]:
    """What this process's thread pools are really set to, asked from inside it (run it as a task
    through an executor to see a worker's): the environment caps, OpenCV's and BLAS/OpenMP's pool
    sizes (threadpoolctl), every onnxruntime session's intra/inter-op threads and the OS threads."""
    rep: dict[str, Any] = {"pid": os.getpid(), "env": {k: os.environ.get(k) for k in ENV_VARS},
                           "malloc": dict(_malloc or {})}
    try:
        rep["os_threads"] = len(os.listdir("/proc/self/task"))
    except OSError:  # pragma: no cover - not Linux
        rep["os_threads"] = None
    if "cv2" in sys.modules:
        rep["opencv"] = sys.modules["cv2"].getNumThreads()
    try:
        from threadpoolctl import threadpool_info

        rep["blas_openmp"] = sorted({(i.get("internal_api"), i.get("num_threads")) for i in threadpool_info()})
    except ImportError:  # pragma: no cover
        pass
    if "onnxruntime" in sys.modules:
        import gc

        ort = sys.modules["onnxruntime"]
        sessions = []
        for o in gc.get_objects():
            if isinstance(o, ort.InferenceSession):
                so = o.get_session_options()
                sessions.append((so.intra_op_num_threads, so.inter_op_num_threads))
        rep["onnxruntime"] = sessions
    return rep
