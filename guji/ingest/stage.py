"""The ingest stage (being written)."""

from guji.stage import StageContext, StageResult, not_built


def run(ctx: StageContext) -> StageResult:
    return not_built("ingest", "issue #2")
