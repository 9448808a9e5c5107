"""The executor interface takes a real dask.distributed cluster without touching the stages."""

from __future__ import annotations

import pytest

from conftest import run_guji
from test_resume import small_batch, snapshot

distributed = pytest.importorskip("distributed", reason="dask.distributed not installed (pip install 'guji[cluster]')")


@pytest.mark.slow
def test_run_on_a_dask_cluster_equals_local_run(tmp_path):
    batch = small_batch(tmp_path)
    local = run_guji("run", str(batch), "--work", str(tmp_path / "lw"), "--out", str(tmp_path / "lo"),
                     "--until", "clean", "--jobs", "2", "-q")
    assert local.returncode == 0, local.stderr[-2000:]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as cluster:
        r = run_guji("run", str(batch), "--work", str(tmp_path / "cw"), "--out", str(tmp_path / "co"),
                     "--until", "clean", "--cluster", cluster.scheduler_address, "--json")
        assert r.returncode == 0, r.stderr[-2000:]
        with distributed.Client(cluster.scheduler_address) as client:
            # the pages really were processed by the cluster's workers
            assert sum(client.run(lambda: 1).values()) == 2
    assert snapshot(tmp_path / "cw") == snapshot(tmp_path / "lw")
