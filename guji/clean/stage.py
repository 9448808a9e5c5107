"""The `clean` stage (placeholder until issue #3 is built)."""

from __future__ import annotations

from guji.stage import StageContext, StageResult, not_built


def run(ctx: StageContext) -> StageResult:
    return not_built("clean", "issue #3")
