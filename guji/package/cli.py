"""``guji package``: BagIt preservation packages (one bag per item) with METS, MODS and PREMIS."""

from __future__ import annotations

from pathlib import Path

import click

from guji.clikit import common_options, emit, guarded, make_context, work_option
from guji.exitcodes import ExitCode

PACKAGE_HELP = """\
Write one BagIt bag per item for long-term preservation: the masters (byte-identical),
derivatives, OCR (page JSON, ALTO, hOCR, text), the normalised census record with MODS and
DC, the item's QC report, its IIIF manifest, and a METS file with MODS, technical metadata
per image and PREMIS provenance (every ingest, checksum, cleanup, OCR, metadata, review,
fixity check and publication guji recorded). Manifests: SHA-256 and SHA-512.

Every file is checked against the hash recorded when it was made; a changed file is not
packaged (the item fails, the others go on). Items whose bag is current are skipped.
Check bags later with `guji verify BAG`.

\b
Examples:
  guji package --work work --out bags
  guji package --work work --target s3://archive/bags --endpoint-url http://127.0.0.1:9000
"""


@click.command("package", help=PACKAGE_HELP)
@work_option
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the bags (one sub-folder per item).")
@click.option("--target", default=None, help="s3://bucket/prefix (or a folder) instead of --out, through the "
                                               "same storage layer as `guji publish`.")
@click.option("--endpoint-url", default=None, help="S3 endpoint of MinIO, Ceph, OSS, COS ... (default AWS).")
@click.option("--region", default=None, help="S3 region.")
@click.option("--addressing-style", type=click.Choice(["auto", "path", "virtual"]), default=None,
              help="S3 addressing style.")
@click.option("--item", "items", multiple=True, help="Only this item (repeat for several).")
@click.option("--published", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="A publication folder of `guji publish`: its record becomes a PREMIS publication event.")
@common_options
@guarded
def package_cmd(work: Path, out_dir: Path | None, target: str | None, endpoint_url: str | None, region: str | None,
                addressing_style: str | None, items: tuple[str, ...], published: Path | None, jobs: int,
                cluster: str | None, force: bool, json_out: bool, verbose: int, quiet: bool) -> ExitCode:
    from guji.package.stage import run

    opts = {"out": str(out_dir) if out_dir else None, "target": target, "endpoint_url": endpoint_url,
            "region": region, "addressing_style": addressing_style, "items": list(items) or None,
            "published": str(published) if published else None, "processes": jobs or None}
    ctx = make_context(work, force=force, json_out=json_out, verbose=verbose, quiet=quiet, jobs=1,
                       options={"package": opts})
    try:
        res = run(ctx)
    finally:
        ctx.executor.close()
        ctx.store.close()
    return emit([res], json_out)


commands = [package_cmd]
