"""Command-line entry point of the `structure` stage: ``guji structure``."""

from __future__ import annotations

from guji.clikit import stage_command
from guji.structure.stage import SETTINGS

STRUCTURE_HELP = """\
Leaf order from the centre column (版心): reads title, juan (卷) and leaf number (葉碼) of
every canvas from the OCR page models, infers the most likely true sequence per book (all
volumes in capture order) and reports missing (闕葉), misordered (錯葉) and duplicated (重葉)
leaves with their files, juan ranges (also across volumes) and page labels (卷一 葉三).
Compares them with structure.csv and the census record (存卷, 卷數, 册数).

Writes WORK/structure/<item>.json (the iiif stage takes juan ranges and page labels from it
when there is no structure.csv), WORK/structure/report.html and report.json, and adds a
section to the QC report. Settings: batch.toml [structure].

\b
Example:
  guji structure --work work
"""

commands = [stage_command("structure", "guji.structure.stage:run", help=STRUCTURE_HELP, options=SETTINGS.click_options())]
