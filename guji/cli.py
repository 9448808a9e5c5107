"""The ``guji`` command: one subcommand per pipeline stage, plus run, status and verify."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import click

from guji import __version__
from guji.clikit import (GujiGroup, common_options, emit, guarded, make_context, out_option, partial_results,
                         print_json, work_option)
from guji.errors import GujiError, NotReady
from guji.exitcodes import ExitCode
from guji.pipeline import STAGES, load, stage_module
from guji.stage import StageResult

STAGE_PACKAGES = ["ingest", "clean", "ocr", "structure", "metadata", "iiif", "publish", "package"]

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


@click.group(cls=GujiGroup, help=MAIN_HELP, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
@click.argument("batch", type=click.Path(file_okay=False, path_type=Path))
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
    partial_results(results)  # an error document (--json, exit 1/3/6/9/130) lists the stages done
    run_id = ctx.store.start_run(f"run {batch}")
    code = ExitCode.INTERNAL_ERROR  # what the run history says if a stage raises
    try:
        for name, spec, _ in STAGES:
            fn = load(spec)
            res = fn(ctx)
            results.append(res)
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
        raise NotReady(f"nothing ingested in {work} yet (run `guji ingest BATCH --work {work}`)")
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
        print_json(doc)
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
Fixity check of everything guji keeps: masters, work folder, publication, bags.

\b
  masters      re-hash every master recorded at ingest (always, with a work folder)
  work folder  every derivative, OCR file, metadata file and tile against the hash
               its stage recorded; files no stage wrote in the derivative/OCR folders
  --out DIR    a publication folder against what `guji publish` recorded
  --target S3  a bucket: each object downloaded and hashed against its sha256 metadata
  BAG ...      BagIt bags from `guji package` (--fast: Payload-Oxum and file list only)

Every missing, changed or unexpected file is named; exit code 5 if any. Each check is
recorded in the work folder's state store as a fixity-check event (PREMIS in packages).
The batch folder is the one recorded at ingest unless --batch points elsewhere.

\b
Examples:
  guji verify --work work
  guji verify --work work --out out
  guji verify bags/350000-2001-0000101 --fast
"""


@main.command("verify", help=VERIFY_HELP)
@click.argument("bags", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--work", "-w", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Work folder (default $GUJI_WORK or ./guji-work; with BAG arguments only when given).")
@click.option("--batch", "batch_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Where the batch folder is now (default: where it was ingested).")
@click.option("--out", "-o", "out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Also check this publication folder against what publish recorded.")
@click.option("--target", default=None, help="Also check this publication target (s3://bucket/prefix).")
@click.option("--endpoint-url", default=None, help="S3 endpoint (MinIO, Ceph, OSS, COS ...).")
@click.option("--region", default=None, help="S3 region.")
@click.option("--addressing-style", type=click.Choice(["auto", "path", "virtual"]), default=None)
@click.option("--fast", is_flag=True, help="Bags: Payload-Oxum and completeness only, no checksums.")
@common_options
@guarded
def verify_cmd(bags: tuple[Path, ...], work: Path | None, batch_dir: Path | None, out_dir: Path | None,
               target: str | None, endpoint_url: str | None, region: str | None, addressing_style: str | None,
               fast: bool, jobs: int, cluster: str | None, force: bool, json_out: bool, verbose: int,
               quiet: bool) -> ExitCode:
    import os

    from guji.ingest import fixity
    from guji.model import BATCH_JSON
    from guji.progress import setup_logging

    results: list[StageResult] = []
    if work is None and not bags:
        work = Path(os.environ.get("GUJI_WORK", "guji-work"))
    ctx = None
    if work is not None:
        ctx = make_context(work, batch_dir=batch_dir, jobs=jobs, json_out=json_out, verbose=verbose, quiet=quiet,
                           cluster=cluster)
    else:
        setup_logging(verbose, quiet)
    try:
        items: list[str] = []
        if ctx is not None:
            ingested = (ctx.work / BATCH_JSON).exists()
            if ingested:
                items = [it.id for it in ctx.batch().items]
            if ctx.store.masters() or not (bags or out_dir or target):
                res = fixity.verify(ctx)
                fixity.record_check(ctx.store, "masters", res, items=items)
                results.append(res)
            if ingested:
                res = fixity.verify_work(ctx)
                fixity.record_check(ctx.store, "work", res, items=items)
                results.append(res)
            if out_dir is not None:
                res = fixity.verify_published_folder(out_dir)
                fixity.record_check(ctx.store, f"published {res.info['target']}", res, items=items)
                results.append(res)
        elif out_dir is not None:
            results.append(fixity.verify_published_folder(out_dir))
        if target:
            from guji.publish.storage import open_storage

            storage = open_storage(out=None, target=target, endpoint_url=endpoint_url, region=region,
                                   addressing_style=addressing_style)
            if target.startswith("s3://"):
                expected = fixity.expected_publication(ctx) if ctx is not None and items else None
                res = fixity.verify_published_s3(storage, expected)
            else:
                res = fixity.verify_published_folder(Path(target))
            if ctx is not None:
                fixity.record_check(ctx.store, f"published {res.info['target']}", res, items=items)
            results.append(res)
        for bag in bags:
            res = fixity.verify_bag(bag, fast=fast, processes=max(1, jobs or 1))
            if ctx is not None:
                item = res.info.get("item")
                fixity.record_check(ctx.store, f"bag {Path(bag).resolve()}", res, items=[item] if item else [],
                                    item_ids=[item] if item else [], params={"mode": res.info["mode"]})
            results.append(res)
    finally:
        if ctx is not None:
            ctx.executor.close()
            ctx.store.close()
    return emit(results, json_out)


def _register() -> None:
    for pkg in STAGE_PACKAGES:
        mod = importlib.import_module(f"guji.{pkg}.cli")
        for cmd in mod.commands:
            main.add_command(cmd)


_register()
main.add_command(importlib.import_module("guji.workspace.cli").workspace)  # staff workspace (issue 14)
