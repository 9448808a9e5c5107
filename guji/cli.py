"""The ``guji`` command: one subcommand per pipeline stage, plus run, status and verify."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import click

from guji import __version__
from guji.clikit import common_options, emit, guarded, make_context, out_option, work_option
from guji.errors import GujiError
from guji.exitcodes import ExitCode
from guji.pipeline import STAGES, load, stage_module
from guji.stage import StageResult

STAGE_PACKAGES = ["ingest", "clean", "ocr", "structure", "metadata", "iiif", "publish"]

MAIN_HELP = """\
guji: digitise and preserve Chinese ancient books (古籍) and local documents (地方文献).

A scan BATCH is a folder with batch.toml, a census sheet (records.csv or .xlsx) and one
folder of page images per book. guji checks it, cleans the images, reads the text,
parses the census records and publishes IIIF manifests with full-text search:

\b
  ingest    validate the batch, record every master's SHA-256 (fixity)
  clean     deskew, crop, split spreads, make derivatives, scan QC
  ocr       layout (columns right to left) and text recognition
  structure leaf order, missing/misordered/duplicated leaves, juan from the centre column
  metadata  parse and check the census records; DC, MODS, IIIF metadata
  iiif      image tiles and Presentation 3 manifests
  publish   copy to a folder or S3 storage, build the search index

\b
Everything at once, then look at the result:
  guji run samples/demo-batch --work work --out out
  guji serve out            # then open http://127.0.0.1:8000/

State lives in the --work folder: every stage skips what is already done, so
re-running after a crash or Ctrl-C resumes. Masters are only ever read.
Exit codes are listed in cli.md (0 = all done, 4 = some items blocked, ...).
"""


@click.group(help=MAIN_HELP, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="guji")
def main() -> None:
    pass


RUN_HELP = """\
Run the whole pipeline on BATCH: ingest, clean, ocr, structure, metadata, iiif, publish.

Stage parameters come from BATCH/batch.toml (one table per stage, see cli.md).
Each stage skips work that is already current, so running again after an
interruption resumes where it stopped. Items blocked by bad input are reported
and left out; the others go all the way through (exit code 4).

\b
Example:
  guji run samples/demo-batch --work work --out out
"""


@main.command("run", help=RUN_HELP)
@click.argument("batch", type=click.Path(exists=True, file_okay=False, path_type=Path))
@work_option
@out_option
@common_options
@click.option("--until", type=click.Choice([s[0] for s in STAGES]), default=None,
              help="Stop after this stage.")
@guarded
def run_cmd(batch: Path, work: Path, out: Path, jobs: int, cluster: str | None, force: bool, json_out: bool,
            verbose: int, quiet: bool, until: str | None) -> ExitCode:
    ctx = make_context(work, out=out, batch_dir=batch, jobs=jobs, force=force, json_out=json_out,
                       verbose=verbose, quiet=quiet, cluster=cluster)
    results: list[StageResult] = []
    run_id = ctx.store.start_run(f"run {batch}")
    code = ExitCode.INTERNAL_ERROR  # what the run history says if a stage raises
    try:
        for name, spec, _ in STAGES:
            fn = load(spec)
            res = fn(ctx)
            results.append(res)
            if name == "ingest":
                ctx._batch = None  # reload what ingest wrote
            if res.exit_code not in (ExitCode.OK, ExitCode.ITEMS_BLOCKED, ExitCode.VALIDATION_FAILED):
                break
            if until == name:
                break
        code = emit(results, json_out)
    except GujiError as e:
        code = e.exit_code
        raise
    except KeyboardInterrupt:
        code = ExitCode.INTERRUPTED
        raise
    finally:
        ctx.executor.close()
        ctx.store.finish_run(run_id, int(code))
        ctx.store.close()
    return code


STATUS_HELP = """\
Show where a batch stands: items and pages ingested or blocked, and for each stage
how many pages are done, failed or still to do, plus stage figures such as QC flags.
"""


@main.command("status", help=STATUS_HELP)
@work_option
@click.option("--json", "json_out", is_flag=True, help="Print JSON instead of a table.")
@guarded
def status_cmd(work: Path, json_out: bool) -> ExitCode:
    from guji.model import BATCH_JSON, load_batch
    from guji.state import StateStore

    if not (work / BATCH_JSON).exists():
        click.echo(f"guji: nothing ingested in {work} yet (run `guji ingest BATCH --work {work}`)", err=True)
        return ExitCode.NOT_READY
    batch = load_batch(work)
    store = StateStore(work)
    ctx = make_context(work, quiet=True)
    counts = store.counts()
    items_ok = sum(1 for i in batch.items if i.ok)
    pages_ok = sum(1 for _ in batch.pages())
    pages_all = sum(1 for _ in batch.pages(ok_only=False))
    doc: dict[str, Any] = {
        "batch": batch.id, "work": str(work),
        "items": {"total": len(batch.items), "ok": items_ok, "blocked": len(batch.items) - items_ok},
        "pages": {"total": pages_all, "ok": pages_ok, "blocked": pages_all - pages_ok},
        "stages": {},
    }
    for name, _spec, what in STAGES:
        entry: dict[str, Any] = {"what": what, **counts.get(name, {})}
        mod = stage_module(name)
        if hasattr(mod, "status"):
            try:
                entry.update(mod.status(ctx))
            except Exception as e:  # noqa: BLE001 - status must never crash
                entry["status_error"] = str(e)
        doc["stages"][name] = entry
    ctx.store.close()
    store.close()
    if json_out:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return ExitCode.OK
    click.echo(f"batch {batch.id}  ({work})")
    click.echo(f"  items: {items_ok} ok, {len(batch.items) - items_ok} blocked")
    click.echo(f"  pages: {pages_ok} ok, {pages_all - pages_ok} blocked")
    for name, entry in doc["stages"].items():
        extra = {k: v for k, v in entry.items() if k not in ("what",)}
        shown = ", ".join(f"{k} {v}" for k, v in extra.items()) or "nothing recorded"
        click.echo(f"  {name:<9} {shown}")
    return ExitCode.OK


VERIFY_HELP = """\
Fixity check: re-hash every master recorded at ingest and compare with the ledger.

Reports masters that changed, vanished or cannot be read; exit code 5 if any.
The batch folder is the one recorded at ingest unless --batch points elsewhere
(e.g. after the batch was moved to long-term storage).
"""


@main.command("verify", help=VERIFY_HELP)
@work_option
@click.option("--batch", "batch_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Where the batch folder is now (default: where it was ingested).")
@common_options
@guarded
def verify_cmd(work: Path, batch_dir: Path | None, jobs: int, cluster: str | None, force: bool, json_out: bool,
               verbose: int, quiet: bool) -> ExitCode:
    from guji.ingest.fixity import verify

    ctx = make_context(work, batch_dir=batch_dir, jobs=jobs, json_out=json_out, verbose=verbose, quiet=quiet,
                       cluster=cluster)
    try:
        res = verify(ctx)
    finally:
        ctx.executor.close()
        ctx.store.close()
    return emit([res], json_out)


def _register() -> None:
    for pkg in STAGE_PACKAGES:
        mod = importlib.import_module(f"guji.{pkg}.cli")
        for cmd in mod.commands:
            main.add_command(cmd)


_register()
