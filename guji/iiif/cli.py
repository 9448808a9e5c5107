"""Command-line entry points of the `iiif` stage."""

from __future__ import annotations

from guji.clikit import stage_command

commands = [
    stage_command("iiif", "guji.iiif.stage:run", help="Not built yet (issue #5): says so and produces nothing."),
]
