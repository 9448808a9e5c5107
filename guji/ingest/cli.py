"""``guji ingest``."""

from __future__ import annotations

from guji.clikit import stage_command
from guji.ingest.stage import SETTINGS

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
        options=SETTINGS.click_options(),
    ),
]
