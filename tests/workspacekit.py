"""Shared setup of the workspace tests (tests/test_workspace*.py): argon2id at OWASP's minimum cost,
and the environment of a `guji` process started by a test."""

from __future__ import annotations

import os

import pytest

from helpers import REPO

ARGON2 = {"GUJI_WORKSPACE_ARGON2": "t=2,m=19456,p=2"}


@pytest.fixture(scope="module", autouse=True)
def argon2_cost():
    old = os.environ.get("GUJI_WORKSPACE_ARGON2")
    os.environ.update(ARGON2)
    yield
    if old is None:
        os.environ.pop("GUJI_WORKSPACE_ARGON2", None)
    else:
        os.environ["GUJI_WORKSPACE_ARGON2"] = old


def guji_env() -> dict[str, str]:
    """The environment of a `guji` process: no GUJI_ settings of the caller's, this tree first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUJI_")}
    env.update(ARGON2)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env
