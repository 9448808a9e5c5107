"""Command-line entry points of the `ocr` stage."""

from __future__ import annotations

from guji.clikit import stage_command

commands = [
    stage_command("ocr", "guji.ocr.stage:run", help="Not built yet (issue #7): says so and produces nothing."),
]
