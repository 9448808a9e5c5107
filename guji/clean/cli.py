"""Command-line entry points of the `clean` stage."""

from __future__ import annotations

import click

from guji.clikit import stage_command

HELP = """Deskew, crop, split spreads, upright pages; write access/OCR/thumbnail images and the scan QC report.

Reads WORK/ingest/batch.json and the masters (never writes them). Writes
WORK/clean/<item>/<volume>/<canvas>.{access.jpg,ocr.png,thumb.jpg}, WORK/clean/canvases.json and
WORK/clean/qc/{report.html,qc.json,reshoot.csv}. Settings: batch.toml [clean] and [clean.qc].

Example: guji clean --work guji-work --ocr-mode binary --access-quality 85
"""

commands = [
    stage_command("clean", "guji.clean.stage:run", help=HELP, options=[
        click.option("--access-quality", type=click.IntRange(1, 100), default=None,
                     help="JPEG quality of the access image (default 90)."),
        click.option("--ocr-mode", type=click.Choice(["grey", "binary"]), default=None,
                     help="OCR image: normalised greyscale (default) or binarised."),
        click.option("--ocr-char-px", type=float, default=None,
                     help="Scale the OCR image so characters are about this many px high (default 40)."),
        click.option("--crop-margin", type=float, default=None,
                     help="Margin kept around the detected page, fraction of its long side (default 0.01)."),
        click.option("--rotation", type=click.Choice(["auto", "auto180", "none", "0", "90", "180", "270"]), default=None,
                     help="auto: turn pages whose text lines run the wrong way by 90°, and full leaves whose fishtail (魚尾) is in the lower part by 180°; flag other suspected 180° (default); auto180: also turn those; or a fixed angle for all."),
        click.option("--no-split", "split_spreads", flag_value=False, default=None,
                     help="Do not split two-page spreads."),
    ]),
]
