"""Command-line entry points of the `iiif` stage."""

from __future__ import annotations

from guji.clikit import stage_command
from guji.iiif.stage import SETTINGS

IIIF_HELP = """\
Build the static IIIF publication in WORK/build/: level-0 Image API 3 tiles per page,
a Presentation 3 manifest per item (right to left and paged for rare books), OCR text as
annotation pages, one collection per batch and per institution, then validate it.

\b
Settings come from batch.toml [iiif] (base_url, tile_size, quality, thumb_widths,
multi_part, homepage, schema); options below override them. Re-running with nothing
changed rewrites nothing. Exit code 8 when the built tree fails validation.

\b
Example:
  guji iiif --work work --base-url https://books.example.org/
"""

commands = [
    stage_command("iiif", "guji.iiif.stage:run", help=IIIF_HELP, options=SETTINGS.click_options()),
]
