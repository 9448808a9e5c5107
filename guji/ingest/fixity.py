"""``guji verify``: re-hash masters against the fixity ledger recorded at ingest."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from guji.errors import NotReady, Problem
from guji.exitcodes import ExitCode
from guji.stage import StageContext, StageResult


def _hash_task(task: dict[str, Any]) -> dict[str, Any]:
    path = Path(task["path"])
    if not path.exists():
        return {"state": "missing"}
    try:
        h = hashlib.sha256()
        size = 0
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
                size += len(chunk)
    except OSError as e:
        return {"state": "unreadable", "error": str(e)}
    return {"state": "ok", "sha256": h.hexdigest(), "size": size}


def verify(ctx: StageContext) -> StageResult:
    rows = ctx.store.masters()
    if not rows:
        raise NotReady(f"no masters recorded in {ctx.work}: run `guji ingest BATCH --work {ctx.work}` first")
    root = Path(ctx.batch_dir).resolve() if ctx.batch_dir else Path(ctx.batch().root)
    res = StageResult(stage="verify")
    tasks = [{"page_id": pid, "rel": path, "path": str(root / path), "sha256": digest, "size": size}
             for pid, path, digest, size in rows]
    with ctx.reporter.progress("verify: re-hashing masters", len(tasks)) as bar:
        for task, out in ctx.executor.map_unordered(_hash_task, tasks):
            bar.advance(1)
            if not isinstance(out, dict):
                out = {"state": "unreadable", "error": str(out)}
            if out["state"] == "missing":
                res.problems.append(Problem("error", "master-missing", "master file is gone", path=task["rel"],
                                            page=task["page_id"]))
            elif out["state"] == "unreadable":
                res.problems.append(Problem("error", "master-unreadable", out.get("error", ""), path=task["rel"],
                                            page=task["page_id"]))
            elif out["sha256"] != task["sha256"]:
                res.problems.append(Problem(
                    "error", "master-changed",
                    f"SHA-256 {out['sha256'][:12]}… ({out['size']} bytes) differs from ledger "
                    f"{task['sha256'][:12]}… ({task['size']} bytes)", path=task["rel"], page=task["page_id"]))
            else:
                res.done += 1
    res.failed = len(res.problems)
    res.info = {"masters": len(tasks), "intact": res.done, "root": str(root)}
    if res.problems:
        res.exit_code = ExitCode.FIXITY_FAILED
    return res
