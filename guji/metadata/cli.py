"""Command-line entry points of the `metadata` stage."""

from __future__ import annotations

from guji.clikit import stage_command

commands = [
    stage_command("metadata", "guji.metadata.stage:run", help="Not built yet (issue #4): says so and produces nothing."),
]
