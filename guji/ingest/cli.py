"""``guji ingest``."""

from __future__ import annotations

import click

from guji.clikit import stage_command

INGEST_HELP = """\
Check a scan BATCH and record it in the work folder (the first stage).

For every image: path, size, SHA-256, format, pixel size, bit depth, colour mode,
ICC profile, stored resolution. Finds unreadable, truncated, empty or oversized
(decompression-bomb) files, unsupported formats, duplicate images, gaps and
duplicates in page numbering, sheet rows without images and folders without a
record, and file names that differ only by Unicode normalisation.

Errors name the file and the reason. A bad item is blocked and the rest of the
batch goes on; the exit code is then 4. Reports: WORK/ingest/report.txt (people)
and WORK/ingest/report.json (machines). Masters are only read, never written.

\b
Example:
  guji ingest samples/bad-batch --work work-bad
"""

commands = [
    stage_command(
        "ingest", "guji.ingest.stage:run", help=INGEST_HELP, batch_argument=True,
        options=[
            click.option("--max-pixels", type=click.IntRange(1), default=None,
                         help="Refuse images above this many pixels (decompression-bomb guard; "
                              "default 600000000, or [ingest] max_pixels in batch.toml)."),
        ],
    ),
]
