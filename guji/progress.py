"""Progress and log output: a rich progress bar on a terminal, plain log lines otherwise.

With ``--json`` nothing but the final JSON document goes to stdout; progress and logs go to
stderr so a pipe stays machine-readable.
"""

from __future__ import annotations

import logging
import sys
import time
from contextlib import contextmanager
from typing import Iterator

log = logging.getLogger("guji")


def setup_logging(verbose: int = 0, quiet: bool = False) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 0 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    root = logging.getLogger("guji")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


class Task:
    def __init__(self, advance_fn):
        self._advance = advance_fn

    def advance(self, n: int = 1, note: str | None = None) -> None:
        self._advance(n, note)


class Reporter:
    """Shows progress of long stages. ``interactive`` → rich bar on stderr; else log lines."""

    def __init__(self, *, interactive: bool | None = None, json_mode: bool = False, quiet: bool = False):
        if interactive is None:
            interactive = sys.stderr.isatty()
        self.interactive = interactive and not quiet
        self.json_mode = json_mode
        self.quiet = quiet

    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[Task]:
        if self.interactive and total > 0:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            with Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeRemainingColumn(), TextColumn("{task.fields[note]}"),
                console=Console(stderr=True), transient=False,
            ) as prog:
                tid = prog.add_task(description, total=total, note="")

                def adv(n: int, note: str | None) -> None:
                    prog.update(tid, advance=n, note=note or "")

                yield Task(adv)
            return
        done = [0]
        last = [0.0]
        start = time.monotonic()
        if not self.quiet and total:
            log.info("%s: %d to do", description, total)

        def adv_plain(n: int, note: str | None) -> None:
            done[0] += n
            now = time.monotonic()
            if self.quiet:
                return
            # one line per item for small runs, at most every 2 s for big ones
            if total <= 50 or now - last[0] >= 2 or done[0] == total:
                last[0] = now
                log.info("%s: %d/%d%s", description, done[0], total, f" {note}" if note else "")

        yield Task(adv_plain)
        if not self.quiet and total:
            log.info("%s: finished %d in %.1fs", description, done[0], time.monotonic() - start)
