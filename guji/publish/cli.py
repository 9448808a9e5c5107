"""Command-line entry points of the `publish` stage."""

from __future__ import annotations

from guji.clikit import stage_command

commands = [
    stage_command("publish", "guji.publish.stage:run", help="Not built yet (issue #6): says so and produces nothing."),
]
