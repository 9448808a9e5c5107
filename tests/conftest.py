"""Shared pytest fixtures. Paths and helpers live in tests/helpers.py (test files import from there)."""

from __future__ import annotations

import pytest

from helpers import shared_path


@pytest.fixture
def shared():
    return shared_path
