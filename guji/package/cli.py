"""``guji package``: BagIt preservation packages (one bag per item) with METS, MODS and PREMIS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from guji.clikit import common_options, guarded, run_stage, work_option
from guji.exitcodes import ExitCode
from guji.package.stage import SETTINGS

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


def _package(work: Path, jobs: int, cluster: str | None, force: bool, json_out: bool, verbose: int, quiet: bool,
             **opts: Any) -> ExitCode:
    from guji.package.stage import run

    opts["processes"] = jobs or None  # --jobs: bagit hashing processes (the stage itself runs in this process)
    return run_stage(run, "package", opts, work, jobs=1, force=force, json_out=json_out, verbose=verbose, quiet=quiet)


package_cmd: Any = guarded(_package)
for _o in reversed(SETTINGS.click_options()):
    package_cmd = _o(package_cmd)
package_cmd = click.command("package", help=PACKAGE_HELP)(work_option(common_options(package_cmd)))

commands = [package_cmd]
