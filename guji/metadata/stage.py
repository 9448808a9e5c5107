"""The `metadata` stage (placeholder until issue #4 is built)."""

from __future__ import annotations

from guji.stage import StageContext, StageResult, not_built


def run(ctx: StageContext) -> StageResult:
    return not_built("metadata", "issue #4")
