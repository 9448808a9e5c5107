"""The executor interface takes a real dask.distributed cluster without touching the stages, and the
pages really run in the cluster's worker processes (every result says where it ran)."""

from __future__ import annotations

import json
import os

import pytest

from helpers import run_guji, small_batch, snapshot

distributed = pytest.importorskip("distributed", reason="dask.distributed not installed (pip install 'guji[cluster]')")


@pytest.mark.slow
def test_run_on_a_dask_cluster_equals_local_run_and_pages_ran_on_its_workers(tmp_path):
    batch = small_batch(tmp_path)
    local = run_guji("run", str(batch), "--work", str(tmp_path / "lw"), "--out", str(tmp_path / "lo"),
                     "--until", "clean", "--jobs", "2", "--json")
    assert local.returncode == 0, local.stderr[-2000:]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  host="127.0.0.1") as cluster:
        with distributed.Client(cluster.scheduler_address) as client:
            pids = client.run(os.getpid)  # worker address → process id, asked of the workers themselves
        r = run_guji("run", str(batch), "--work", str(tmp_path / "cw"), "--out", str(tmp_path / "co"),
                     "--until", "clean", "--cluster", cluster.scheduler_address, "--json")
        assert r.returncode == 0, r.stderr[-2000:]
    assert len(pids) == 2 and os.getpid() not in pids.values()
    doc = json.loads(r.stdout)
    clean = [st for st in doc["stages"] if st["stage"] == "clean"]
    assert clean, doc
    for st in clean:
        assert st["done"] > 0 and st["workers"], st
        for w in st["workers"]:
            # each task was run by a cluster worker process: its address and its pid, not this or guji's
            assert w["address"] in pids and w["pid"] == pids[w["address"]], (w, pids)
        assert sum(w["tasks"] for w in st["workers"]) == st["done"]
    # the local run's tasks ran in local worker processes, none of them a dask worker
    for st in [st for st in json.loads(local.stdout)["stages"] if st["stage"] == "clean"]:
        assert st["workers"] and not {w["pid"] for w in st["workers"]} & set(pids.values())
        assert all("address" not in w for w in st["workers"])
    assert snapshot(tmp_path / "cw") == snapshot(tmp_path / "lw")


@pytest.mark.slow
def test_dask_workers_keep_one_thread_and_glibc_malloc_thresholds_for_page_tasks():
    """Asked from inside the cluster's workers while running guji tasks: thread pools at one, and
    the malloc thresholds dask's MALLOC_TRIM_THRESHOLD_ switched to fixed values put back to
    guji's (without that every page cost ~30 % more CPU on dask than locally; guji/threads.py)."""
    from guji.executor import DaskExecutor
    from guji.threads import MMAP_THRESHOLD, TRIM_THRESHOLD, thread_report

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  host="127.0.0.1") as cluster:
        with distributed.Client(cluster.scheduler_address) as client:
            pids = set(client.run(os.getpid).values())
            assert set(client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_").values()) == {"65536"}  # dask's doing
        ex = DaskExecutor(cluster.scheduler_address)
        try:
            reps = [d.result for d in ex.map_tasks(thread_report, range(6))]
        finally:
            ex.close()
    assert {r["pid"] for r in reps} <= pids and len(reps) == 6
    for r in reps:
        assert r["malloc"] == {"mmap_threshold": MMAP_THRESHOLD, "trim_threshold": TRIM_THRESHOLD}, r
        assert r["opencv"] == 1 and all(n == 1 for _api, n in r.get("blas_openmp", [])), r
