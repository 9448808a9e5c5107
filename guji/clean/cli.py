"""Command-line entry points of the `clean` stage."""

from __future__ import annotations

from guji.clean.stage import SETTINGS
from guji.clikit import stage_command

HELP = """Deskew, crop, split spreads, upright pages; write access/OCR/thumbnail images and the scan QC report.

Reads WORK/ingest/batch.json and the masters (never writes them). Writes
WORK/clean/<item>/<volume>/<canvas>.{access.jpg,ocr.png,thumb.jpg}, WORK/clean/canvases.json and
WORK/clean/qc/{report.html,qc.json,reshoot.csv}. Settings: batch.toml [clean] and [clean.qc].

Example: guji clean --work guji-work --ocr-mode binary --access-quality 85
"""

commands = [
    stage_command("clean", "guji.clean.stage:run", help=HELP, options=SETTINGS.click_options()),
]
