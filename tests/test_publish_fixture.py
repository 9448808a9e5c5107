"""The hand-made publish work folder (tests/publishwork.py) loads through the real model loaders."""

from __future__ import annotations

from publishwork import make_work


def test_fixture_loads(tmp_path):
    from guji.model import load_batch, load_canvases

    work = make_work(tmp_path)
    b = load_batch(work)
    assert [i.access for i in b.items] == ["public", "public", "restricted"]
    assert len(load_canvases(work)) == 4
