"""Shared pieces of the command line: common options, context set-up, result output, exit codes.

Every stage package has a ``cli.py`` with a module-level ``commands`` list of click commands;
``guji.cli`` adds them to the ``guji`` group. Stage commands are declared with
:func:`stage_command`, which adds the common options and turns the stage function's
:class:`~guji.stage.StageResult` into output (human summary or ``--json``) and an exit code.
Keep heavy imports (cv2, onnxruntime, pyvips ...) inside functions so ``guji --help`` is fast.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

import click

from guji.errors import GujiError
from guji.executor import make_executor
from guji.exitcodes import ExitCode, worst
from guji.progress import Reporter, setup_logging
from guji.stage import StageContext, StageResult
from guji.state import StateStore

log = logging.getLogger("guji")

WORK_HELP = "Work folder: state store and intermediate files (default $GUJI_WORK or ./guji-work)."
OUT_HELP = "Publication folder that `publish` fills (default $GUJI_OUT or ./guji-out)."


def work_option(f: Callable) -> Callable:
    return click.option("--work", "-w", type=click.Path(file_okay=False, path_type=Path),
                        default=lambda: os.environ.get("GUJI_WORK", "guji-work"), show_default="./guji-work",
                        help=WORK_HELP)(f)


def out_option(f: Callable) -> Callable:
    return click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
                        default=lambda: os.environ.get("GUJI_OUT", "guji-out"), show_default="./guji-out",
                        help=OUT_HELP)(f)


def common_options(f: Callable) -> Callable:
    """--jobs --cluster --force --json -v -q (plus --work/--out added separately)."""
    opts = [
        click.option("--jobs", "-j", type=click.IntRange(0, 256), default=0,
                     help="Pages processed in parallel (0 = one single-thread worker per core, as memory allows; "
                          "1 = no worker processes)."),
        click.option("--cluster", metavar="ADDRESS", default=lambda: os.environ.get("GUJI_CLUSTER") or None,
                     help="Run page tasks on a dask.distributed cluster (tcp://scheduler:8786; default "
                          "$GUJI_CLUSTER). Workers need guji installed and the same paths."),
        click.option("--force", is_flag=True, help="Redo work even where outputs are already current."),
        click.option("--json", "json_out", is_flag=True,
                     help="Print one JSON document with the result on stdout (logs go to stderr)."),
        click.option("--verbose", "-v", count=True, help="More log detail (-v: debug)."),
        click.option("--quiet", "-q", is_flag=True, help="Only warnings and errors."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def make_context(work: Path, *, out: Path | None = None, batch_dir: Path | None = None, jobs: int = 0,
                 force: bool = False, json_out: bool = False, verbose: int = 0, quiet: bool = False,
                 options: dict[str, dict[str, Any]] | None = None, cluster: str | None = None) -> StageContext:
    setup_logging(verbose, quiet)
    store = StateStore(work)
    return StageContext(
        work=Path(work), store=store, batch_dir=batch_dir, out=out, executor=make_executor(jobs, cluster),
        reporter=Reporter(json_mode=json_out, quiet=quiet), force=force, options=options or {},
    )


# What this process has printed or may still print with --json: `emit` and `error_document` print
# at most one document per process ("--json always prints exactly one JSON document on stdout").
_JSON_STATE: dict[str, Any] = {"emitted": False, "results": None}


def reset_json_state() -> None:
    _JSON_STATE.update(emitted=False, results=None)


def partial_results(results: list[StageResult]) -> None:
    """Register the results a multi-stage command has so far: an error document then lists them."""
    _JSON_STATE["results"] = results


def print_json(doc: dict[str, Any]) -> None:
    """Print ``doc`` as the process's one JSON document (a second call prints nothing)."""
    if _JSON_STATE["emitted"]:
        return
    _JSON_STATE["emitted"] = True
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2))


def error_document(code: ExitCode | int, message: str, **extra: Any) -> dict[str, Any]:
    """The JSON document of a command that ended in an error (exit 1, 2, 3, 6, 9, 130 …)."""
    code = ExitCode(code)
    results = _JSON_STATE.get("results") or []
    return {"exit_code": int(code), "exit_name": code.name, "error": message,
            "stages": [r.to_dict() for r in results], **extra}


def emit(results: list[StageResult], json_out: bool, extra: dict[str, Any] | None = None) -> ExitCode:
    code = worst(*(r.exit_code for r in results))
    if json_out:
        doc = {"exit_code": int(code), "exit_name": code.name, "stages": [r.to_dict() for r in results]}
        if extra:
            doc.update(extra)
        print_json(doc)
    else:
        for r in results:
            errs = [p for p in r.problems if p.severity == "error"]
            for p in errs[:50]:
                click.echo(str(p), err=True)
            if len(errs) > 50:
                click.echo(f"... and {len(errs) - 50} more errors (see the stage report)", err=True)
            click.echo(r.summary(), err=True)
        if code != ExitCode.OK:
            click.echo(f"exit code {int(code)} ({code.name})", err=True)
    return code


def _install_signal_handlers() -> None:
    def handler(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def guarded(fn: Callable[..., ExitCode | int | None]) -> Callable[..., None]:
    """Run a command body; map GujiError / Ctrl-C / bugs to exit codes with a clear message."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        _install_signal_handlers()
        reset_json_state()  # one document per command (tests run several in one process)
        json_out = bool(kwargs.get("json_out"))
        try:
            code = fn(*args, **kwargs)
        except GujiError as e:
            click.echo(f"guji: error: {e}", err=True)
            if json_out:
                print_json(error_document(e.exit_code, str(e)))
            sys.exit(int(e.exit_code))
        except KeyboardInterrupt:
            msg = "interrupted; finished work is kept, re-run the same command to resume"
            click.echo(f"guji: {msg}", err=True)
            if json_out:
                print_json(error_document(ExitCode.INTERRUPTED, msg))
            sys.exit(int(ExitCode.INTERRUPTED))
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise  # usage errors: answered by GujiGroup.main (with --json: one document too)
        except Exception as e:  # noqa: BLE001 - a bug: say so, with the traceback, and exit 1
            click.echo(traceback.format_exc(), err=True)
            msg = f"internal error (a bug in guji; please report it with the log above): {type(e).__name__}: {e}"
            click.echo(f"guji: {msg}", err=True)
            if json_out:
                print_json(error_document(ExitCode.INTERNAL_ERROR, msg))
            sys.exit(int(ExitCode.INTERNAL_ERROR))
        sys.exit(int(code or 0))

    return wrapper


def run_stage(fn: Callable[[StageContext], StageResult], name: str, options: dict[str, Any], work: Path, *,
              json_out: bool = False, **context: Any) -> ExitCode:
    """Run one stage function with ``options`` as its command-line settings (``ctx.options[name]``),
    close the executor and the state store, print the result and return the exit code."""
    ctx = make_context(work, json_out=json_out, options={name: options}, **context)
    try:
        result = fn(ctx)
    finally:
        ctx.executor.close()
        ctx.store.close()
    return emit([result], json_out)


def stage_command(name: str, run: Callable[[StageContext], StageResult] | str, *, help: str,
                  options: list[Callable] | None = None, batch_argument: bool = False) -> click.Command:
    """Build ``guji NAME`` for a stage function.

    ``run`` is the stage function or its dotted path ``"module:function"`` (imported on use).
    ``options`` are extra click options; their values reach the stage as ``ctx.options[name]``
    (merged over batch.toml's ``[name]`` table by :meth:`StageContext.params`).
    """

    def body(work: Path, out: Path, jobs: int, cluster: str | None, force: bool, json_out: bool, verbose: int,
             quiet: bool, batch: Path | None = None, **stage_opts: Any) -> ExitCode:
        fn = run
        if isinstance(fn, str):
            import importlib

            mod, _, attr = fn.partition(":")
            fn = getattr(importlib.import_module(mod), attr)
        return run_stage(fn, name, stage_opts, work, out=out, batch_dir=batch, jobs=jobs, force=force,
                         json_out=json_out, verbose=verbose, quiet=quiet, cluster=cluster)

    cmd_fn: Callable = guarded(body)
    for o in reversed(options or []):
        cmd_fn = o(cmd_fn)
    cmd_fn = common_options(cmd_fn)
    cmd_fn = out_option(cmd_fn)
    cmd_fn = work_option(cmd_fn)
    if batch_argument:
        cmd_fn = click.argument("batch", type=click.Path(file_okay=False, path_type=Path))(cmd_fn)
    return click.command(name, help=help)(cmd_fn)


class GujiGroup(click.Group):
    """The ``guji`` group: usage errors (unknown option, missing argument, bad value) exit 2 as
    always, and with ``--json`` anywhere on the command line they also print the one JSON document
    (``exit_code`` 2, ``exit_name`` USAGE, ``error``)."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        reset_json_state()
        if not standalone_mode:
            return super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as e:
            e.show()
            if "--json" in argv:
                code = e.exit_code if e.exit_code in {int(c) for c in ExitCode} else int(ExitCode.USAGE)
                print_json(error_document(code, e.format_message()))
            sys.exit(e.exit_code)
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            if "--json" in argv:
                print_json(error_document(ExitCode.INTERRUPTED, "aborted"))
            sys.exit(int(ExitCode.INTERRUPTED))
        sys.exit(rv if isinstance(rv, int) else 0)
