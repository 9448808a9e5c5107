"""Command-line entry points of the `clean` stage."""

from __future__ import annotations

from guji.clikit import stage_command

commands = [
    stage_command("clean", "guji.clean.stage:run", help="Not built yet (issue #3): says so and produces nothing."),
]
