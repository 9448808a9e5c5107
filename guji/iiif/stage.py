"""The `iiif` stage (placeholder until issue #5 is built)."""

from __future__ import annotations

from guji.stage import StageContext, StageResult, not_built


def run(ctx: StageContext) -> StageResult:
    return not_built("iiif", "issue #5")
