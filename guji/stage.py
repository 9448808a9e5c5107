"""What every stage gets and returns, and the resumable page-task runner they share.

A stage is a plain function ``run(ctx: StageContext) -> StageResult`` in ``guji/<stage>/stage.py``
(OCRmyPDF style: functions over a context object). Its inputs are files under ``ctx.work``
(written by earlier stages) and its outputs are files under ``ctx.work`` (or ``ctx.out`` for
publishing), written atomically and recorded in ``ctx.store``.

Page-parallel work goes through :func:`run_tasks`, which gives every stage the same behaviour:
skip keys whose fingerprint and outputs are current, run the rest on ``ctx.executor``, record
each result as it arrives (so a kill loses at most the tasks in flight), collect failures as
problems and keep going.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from guji.errors import Problem
from guji.executor import DEFAULT_TIMEOUT, DEFAULT_TRIES, Executor, SerialExecutor, TaskFailure
from guji.exitcodes import ExitCode, worst
from guji.model import Batch, Canvas, load_batch, load_canvases
from guji.progress import Reporter
from guji.fsutil import canonical_json
from guji.state import StateStore, fingerprint

log = logging.getLogger("guji")


@dataclass
class StageContext:
    work: Path
    store: StateStore
    batch_dir: Path | None = None
    out: Path | None = None
    executor: Executor = field(default_factory=SerialExecutor)
    reporter: Reporter = field(default_factory=lambda: Reporter(interactive=False))
    force: bool = False
    config: dict[str, Any] = field(default_factory=dict)  # batch.toml as read at ingest
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  # CLI overrides per stage

    _batch: Batch | None = None
    _canvases: list[Canvas] | None = None

    def batch(self) -> Batch:
        if self._batch is None:
            self._batch = load_batch(self.work)
            if not self.config:
                self.config = self._batch.config
        return self._batch

    def reload(self) -> None:
        """Forget the loaded batch and canvases: the next :meth:`batch`/:meth:`canvases` reads what a stage
        has just written (ingest calls it after writing batch.json)."""
        self._batch = None
        self._canvases = None

    def canvases(self) -> list[Canvas]:
        if self._canvases is None:
            self._canvases = load_canvases(self.work)
        return self._canvases

    def params(self, stage: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
        """Stage parameters: ``defaults`` ← ``[stage]`` table of batch.toml ← command-line options.

        Unknown keys in batch.toml are kept (stages may warn); ``None`` CLI values mean "not given".
        """
        cfg = self.config or (self.batch().config if (self.work / "ingest" / "batch.json").exists() else {})
        merged = dict(defaults)
        merged.update(cfg.get(stage, {}) or {})
        merged.update({k: v for k, v in (self.options.get(stage) or {}).items() if v is not None})
        return merged


@dataclass
class StageResult:
    stage: str
    done: int = 0  # keys processed in this run
    skipped: int = 0  # keys already current
    failed: int = 0  # keys that failed (problems say why)
    problems: list[Problem] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK
    not_built: bool = False
    info: dict[str, Any] = field(default_factory=dict)  # stage-specific figures for reports / --json
    workers: list[dict[str, Any]] = field(default_factory=list)  # where the tasks ran: host, pid, address, tasks

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage, "done": self.done, "skipped": self.skipped, "failed": self.failed,
            "exit_code": int(self.exit_code), "exit_name": self.exit_code.name, "not_built": self.not_built,
            "problems": [p.to_dict() for p in self.problems], "info": self.info, "workers": self.workers,
        }

    def summary(self) -> str:
        if self.not_built:
            return f"{self.stage}: not built yet (nothing done)"
        s = f"{self.stage}: {self.done} done, {self.skipped} already current, {self.failed} failed"
        errs = sum(1 for p in self.problems if p.severity == "error")
        warns = sum(1 for p in self.problems if p.severity == "warning")
        if errs or warns:
            s += f"; {errs} errors, {warns} warnings"
        return s


def not_built(stage: str, issue: str) -> StageResult:
    """For a stage whose issue is not done: say so plainly, produce nothing."""
    log.warning("%s: not built yet (%s); nothing was produced", stage, issue)
    return StageResult(stage=stage, not_built=True)


# Worker settings a stage table of batch.toml may hold (``[ocr] page_timeout = 900``). They decide how
# long a page may run and how often it is tried, never what it produces: kept out of fingerprints.
WORKER_SETTINGS = {"page_timeout": DEFAULT_TIMEOUT, "page_tries": DEFAULT_TRIES}


def worker_settings(ctx: "StageContext", stage: str) -> tuple[float | None, int]:
    """``(timeout seconds or None, tries)`` for ``stage``: defaults ← ``[stage]`` of batch.toml."""
    cfg = ctx.params(stage, WORKER_SETTINGS)
    timeout = cfg["page_timeout"]
    timeout = float(timeout) if timeout not in (None, 0, "0", "none", "off") else None
    return timeout, max(1, int(cfg["page_tries"]))


@dataclass
class PageTask:
    """One unit of page-parallel work. Must pickle: plain data only.

    ``key`` identifies it in the state store; ``inputs`` maps names to SHA-256 of the input files
    (they go into the fingerprint); ``payload`` is whatever the worker needs (paths, sizes ...).
    """

    key: str
    inputs: dict[str, str]
    payload: dict[str, Any] = field(default_factory=dict)
    item_id: str | None = None


@dataclass
class TaskOutput:
    """What a worker returns: outputs written (path relative to WORK → SHA-256) and small info.

    ``problems`` are findings that do not fail the task (QC warnings, unreadable page → empty OCR).
    """

    outputs: dict[str, str]
    info: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def run_tasks(
    ctx: StageContext,
    stage: str,
    tasks: Iterable[PageTask],
    worker: Callable[[PageTask], TaskOutput],
    *,
    params: Mapping[str, Any],
    tools: Mapping[str, str],
    description: str | None = None,
    on_result: Callable[[PageTask, TaskOutput], None] | None = None,
) -> StageResult:
    """Run ``worker`` over ``tasks`` resumably. ``worker`` must be a module-level function.

    The worker receives the task with ``task.payload["_params"]`` and ``task.payload["_work"]`` set,
    writes its outputs atomically under WORK and returns a :class:`TaskOutput`.
    """
    result = StageResult(stage=stage)
    params = {k: v for k, v in params.items() if k not in WORKER_SETTINGS}
    timeout, tries = worker_settings(ctx, stage)
    todo: list[tuple[PageTask, str]] = []
    tasks = list(tasks)
    for t in tasks:
        fp = fingerprint(t.inputs, params, tools)
        if not ctx.force and ctx.store.is_current(stage, t.key, fp):
            result.skipped += 1
            if on_result is not None:
                rec = ctx.store.get(stage, t.key)
                assert rec is not None
                on_result(t, TaskOutput(outputs=rec.outputs, info=rec.info))
            continue
        if not ctx.force:
            rec = ctx.store.get(stage, t.key)
            if rec is not None and rec.status == "quarantined" and rec.fingerprint == fp:
                # set aside by an earlier run: not tried again until its input or settings change
                # (or --force), so one poison page does not kill workers on every run
                result.failed += 1
                result.problems.append(_quarantine_problem(stage, t, rec.message or "", earlier=True))
                continue
        t.payload["_params"] = params
        t.payload["_work"] = str(ctx.work)
        todo.append((t, fp))
    fps = {t.key: fp for t, fp in todo}
    where: dict[tuple, dict[str, Any]] = {}
    if todo:
        with ctx.reporter.progress(description or stage, len(todo)) as bar:
            for d in ctx.executor.map_tasks(worker, (t for t, _ in todo), timeout=timeout, tries=tries):
                t, res = d.task, d.result
                if d.worker:
                    w = where.setdefault(tuple(sorted(d.worker.items())), {**d.worker, "tasks": 0})
                    w["tasks"] += 1
                if isinstance(res, TaskFailure):
                    result.failed += 1
                    status = "quarantined" if res.quarantined else "failed"
                    ctx.store.record(stage, t.key, fingerprint=fps[t.key], status=status, inputs=t.inputs,
                                     params=params, tools=tools, message=res.error if res.quarantined else str(res))
                    if res.quarantined:
                        log.error("%s %s quarantined: %s", stage, t.key, res.error)
                        result.problems.append(_quarantine_problem(stage, t, res.error))
                        bar.advance(1, f"{t.key} QUARANTINED")
                        continue
                    log.debug("%s %s failed:\n%s", stage, t.key, res.traceback)
                    result.problems.append(Problem("error", f"{stage}-failed", str(res), item=t.item_id,
                                                   page=t.key, stage=stage))
                    bar.advance(1, f"{t.key} FAILED")
                    continue
                result.done += 1
                # what a later run reads back from the store: same key order and types either way
                res.info = json.loads(canonical_json(res.info))
                ctx.store.record(stage, t.key, fingerprint=fps[t.key], status="ok", inputs=t.inputs,
                                 params=params, tools=tools, outputs=res.outputs, info=res.info)
                for p in res.problems:
                    p.stage = p.stage or stage
                result.problems.extend(res.problems)
                if on_result is not None:
                    on_result(t, res)
                bar.advance(1, t.key)
    result.workers = sorted(where.values(), key=lambda w: (str(w.get("host")), str(w.get("address") or ""),
                                                           int(w.get("pid") or 0)))
    if result.failed:
        result.exit_code = worst(result.exit_code, ExitCode.ITEMS_BLOCKED)
    return result


def _quarantine_problem(stage: str, t: PageTask, reason: str, earlier: bool = False) -> Problem:
    msg = f"page quarantined: {reason}"
    if earlier:
        msg += " (in an earlier run; not tried again until its input or settings change, or --force)"
    return Problem("error", f"{stage}-quarantined", msg, item=t.item_id, page=t.key, stage=stage)
