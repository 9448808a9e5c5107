"""Shared pytest fixtures. Paths and helpers live in tests/helpers.py (imported by test files);
the names below stay importable from here for files not yet moved over."""

from __future__ import annotations

import pytest

from helpers import GUJI, REPO, SAMPLES, SHARED, copy_batch, run_guji, shared_path  # noqa: F401


@pytest.fixture
def shared():
    return shared_path
