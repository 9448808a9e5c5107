"""The executor interface takes a real dask.distributed cluster without touching the stages, and the
pages really run in the cluster's worker processes (every result says where it ran)."""

from __future__ import annotations

import json
import os

import pytest

from conftest import run_guji
from test_resume import small_batch, snapshot

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
