"""Exit codes of the ``guji`` command (documented in cli.md).

Like OCRmyPDF's ``ExitCode``: one enum, used everywhere, so scripts can tell what happened.
When several things went wrong, the highest-priority code wins (see :func:`worst`).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  #: everything asked for was done
    INTERNAL_ERROR = 1  #: a bug in guji: please report it with the log
    USAGE = 2  #: bad command line (unknown option, missing argument)
    BAD_BATCH = 3  #: the batch cannot be read at all (missing folder, broken batch.toml, no sheet)
    ITEMS_BLOCKED = 4  #: finished, but some items/pages were blocked by bad input; the rest is done
    FIXITY_FAILED = 5  #: `guji verify`: a master changed, vanished or cannot be read
    MISSING_DEPENDENCY = 6  #: a required program, language pack or library is not installed
    PUBLISH_FAILED = 7  #: some objects could not be published or verified after retries
    VALIDATION_FAILED = 8  #: outputs failed validation (schema, XSD, IIIF checks)
    NOT_READY = 9  #: a stage's inputs are missing (run the earlier stage first)
    INTERRUPTED = 130  #: stopped by Ctrl-C / SIGTERM; re-run to resume


# Which code wins when a run has several outcomes (most serious first).
_PRIORITY = [
    ExitCode.INTERNAL_ERROR,
    ExitCode.INTERRUPTED,
    ExitCode.BAD_BATCH,
    ExitCode.MISSING_DEPENDENCY,
    ExitCode.FIXITY_FAILED,
    ExitCode.NOT_READY,
    ExitCode.PUBLISH_FAILED,
    ExitCode.VALIDATION_FAILED,
    ExitCode.ITEMS_BLOCKED,
    ExitCode.USAGE,
    ExitCode.OK,
]


def worst(*codes: ExitCode | int) -> ExitCode:
    """Return the most serious of ``codes`` (OK when empty)."""
    present = {ExitCode(c) for c in codes}
    for code in _PRIORITY:
        if code in present:
            return code
    return ExitCode.OK
