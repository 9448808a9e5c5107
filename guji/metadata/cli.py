"""Command-line entry points of the `metadata` stage: `guji metadata`, `… review`, `… apply`."""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path

import click

from guji.clikit import guarded, stage_command, work_option
from guji.exitcodes import ExitCode

_base = stage_command(
    "metadata", "guji.metadata.stage:run",
    help="Parse and check the census records of the ingested batch; write normalised records, public JSON "
         "with IIIF metadata, MODS, DC and the review report under WORK/metadata/.")


def _group_callback(**kw):
    if click.get_current_context().invoked_subcommand:
        return None
    return _base.callback(**kw)


metadata_group = click.Group("metadata", callback=_group_callback, params=_base.params, help=_base.help,
                             invoke_without_command=True)


INSTITUTION_HEADERS = ("收藏单位", "收藏單位", "馆名", "館名", "收藏机构", "收藏機構", "institution")


def records_from_batch_folder(batch: Path):
    import tomllib

    from guji.errors import BadBatch
    from guji.metadata.record import normalise
    from guji.metadata.sheet import read_sheet

    toml = batch / "batch.toml"
    conf = {}
    if toml.exists():
        try:
            conf = tomllib.loads(toml.read_text("utf-8"))
        except (OSError, ValueError) as e:
            raise BadBatch(f"{toml}: {e}") from e
    b = conf.get("batch", {})
    sheet_name = b.get("sheet")
    path = batch / sheet_name if sheet_name else next(
        (batch / n for n in ("records.csv", "records.xlsx", "records.tsv") if (batch / n).exists()), None)
    if path is None:
        raise BadBatch(f"{batch}: no census sheet (records.csv / records.xlsx)")
    sheet = read_sheet(path)
    records, problems, seen = [], list(sheet.problems), {}
    for r in sheet.rows:
        item = r.fields.get("普查编号") or r.fields.get("本地编号") or f"row-{r.row}"
        fields = dict(r.fields)
        held = next((v for k, v in r.original.items() if v and k.strip() in INSTITUTION_HEADERS), None)
        if held:  # 收藏单位 column (import-catalogue writes one); the sheet reader keeps it only in original
            fields["收藏单位"] = held
        rec, probs = normalise(fields, item=item, row=r.row, institution_code=b.get("institution_code"),
                               default_access=b.get("access", "public"), default_profile=b.get("profile", "rare-book"),
                               institution=b.get("institution"))
        from guji.errors import Problem

        cn = (rec.get("census_no") or {}).get("value")
        if cn and cn in seen:
            probs.append(Problem("error", "census-no-duplicate", f"普查编号 {cn} 与第{seen[cn]}行重复", item=item,
                                 row=r.row, field="普查编号", stage="metadata",
                                 extra={"message_en": f"普查编号 {cn} also on row {seen[cn]}"}))
        if cn:
            seen.setdefault(cn, r.row)
        rec["original"] = {k: v for k, v in r.original.items() if v}
        records.append(rec)
        problems.extend(probs)
    return b.get("id") or batch.name, records, problems


@metadata_group.command("review", help="Review report of the census records: BATCH folder (reads its sheet directly) "
                                       "or --work (the ingested batch, after `guji metadata`). Writes review.html/csv/json.")
@click.argument("batch", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--work", "-w", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Use the ingested batch in this work folder (runs the metadata stage if needed).")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where review.{html,csv,json} go (default WORK/metadata, or ./metadata-review for a BATCH).")
@click.option("--json", "json_out", is_flag=True, help="Print the findings as JSON: one entry per record.")
@guarded
def review_cmd(batch: Path | None, work: Path | None, report_dir: Path | None, json_out: bool) -> ExitCode:
    from guji.fsutil import atomic_write_json
    from guji.metadata.review import review_entries, write_csv, write_html

    if batch is None and work is None:
        raise click.UsageError("give a BATCH folder or --work")
    if batch is not None:
        batch_id, records, problems = records_from_batch_folder(batch)
        entries = review_entries(records, problems)
        sheet_problems = [p.to_dict() for p in problems if not p.item]
        out = report_dir or Path("metadata-review")
        atomic_write_json(out / "review.json", {"batch": batch_id, "records": entries, "sheet": sheet_problems})
        write_csv(out / "review.csv", records, entries)
        write_html(out / "review.html", records, entries, batch_id)
    else:
        from guji.clikit import make_context
        from guji.metadata.stage import run

        ctx = make_context(work, json_out=json_out)
        try:
            res = run(ctx)
        finally:
            ctx.executor.close()
            ctx.store.close()
        doc = json.loads((work / "metadata" / "review.json").read_text("utf-8"))
        entries, out, batch_id = doc["records"], work / "metadata", doc["batch"]
        if report_dir:
            import shutil

            report_dir.mkdir(parents=True, exist_ok=True)
            for n in ("review.json", "review.csv", "review.html"):
                shutil.copyfile(out / n, report_dir / n)
            out = report_dir
        sheet_problems = []
        _ = res
    errs = sum(1 for e in entries if e["errors"])
    if json_out:
        click.echo(json.dumps({"batch": batch_id, "records": entries, "sheet": sheet_problems}, ensure_ascii=False, indent=2))
    else:
        warns = sum(1 for e in entries if e["warnings"])
        click.echo(f"{len(entries)} records, {errs} with errors, {warns} with warnings; report: {out / 'review.html'}",
                   err=True)
    return ExitCode.VALIDATION_FAILED if errs else ExitCode.OK


@metadata_group.command("apply", help="Apply corrections from a filled review.csv (columns item, field, "
                                      "corrected_value, reviewer) to the work folder; recorded in "
                                      "WORK/metadata/corrections.jsonl with who and when. Re-run `guji metadata` after.")
@click.argument("corrections", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@work_option
@click.option("--who", default=None, help="Reviewer name for rows whose reviewer column is empty (default: login name).")
@click.option("--json", "json_out", is_flag=True, help="Print the corrections recorded as JSON.")
@guarded
def apply_cmd(corrections: Path, work: Path, who: str | None, json_out: bool) -> ExitCode:
    from guji.metadata.review import apply_corrections

    if who is None:
        try:
            who = os.environ.get("GUJI_USER") or getpass.getuser()
        except Exception:  # noqa: BLE001
            who = "unknown"
    done, problems = apply_corrections(corrections, work, who=who)
    if json_out:
        click.echo(json.dumps({"applied": done, "problems": [p.to_dict() for p in problems]}, ensure_ascii=False, indent=2))
    else:
        for p in problems:
            click.echo(str(p), err=True)
        click.echo(f"{len(done)} corrections recorded in {work / 'metadata' / 'corrections.jsonl'}; "
                   f"run `guji metadata --work {work}` to rebuild the records", err=True)
    return ExitCode.ITEMS_BLOCKED if problems else ExitCode.OK


@metadata_group.command("import-catalogue",
                        help="Turn a printed catalogue (名录 / 普查登记目录 style: one entry per line, segments separated "
                             "by U+3000) into a census sheet: INPUT is a .txt file or a sheet (.csv/.tsv/.xlsx) with a "
                             "column of entries; OUTPUT is the census sheet (.csv, .tsv or .xlsx).")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--check/--no-check", default=True, show_default=True,
              help="Also run every parser and check over the entries and report the findings.")
@click.option("--json", "json_out", is_flag=True, help="Print entries and findings as JSON.")
@guarded
def import_catalogue_cmd(source: Path, output: Path, check: bool, json_out: bool) -> ExitCode:
    from collections import Counter

    from guji.metadata.catalogue import import_catalogue, write_census_sheet
    from guji.metadata.record import normalise

    entries, problems = import_catalogue(source)
    write_census_sheet(output, entries)
    findings = list(problems)
    if check:
        for e in entries:
            fields = {k: v for k, v in e.fields.items() if k != "收藏单位"}
            fields.setdefault("本地编号", f"line-{e.line}")
            _rec, probs = normalise(fields, item=fields["本地编号"], row=None)
            for p in probs:
                p.path, p.row = source.name, e.line
            findings.extend(probs)
    errs = sum(1 for p in findings if p.severity == "error")
    if json_out:
        click.echo(json.dumps({"entries": [{"line": e.line, "fields": e.fields} for e in entries],
                               "findings": [p.to_dict() for p in findings]}, ensure_ascii=False, indent=2))
    else:
        by_code = Counter((p.severity, p.code) for p in findings)
        for (sev, code), n in sorted(by_code.items()):
            click.echo(f"  {sev:7s} {code}: {n}", err=True)
        click.echo(f"{len(entries)} entries → {output}; {errs} errors, {len(findings) - errs} warnings", err=True)
    return ExitCode.VALIDATION_FAILED if errs else ExitCode.OK


commands = [metadata_group]
