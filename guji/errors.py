"""Exceptions that carry an exit code, and the Problem record used for accumulated findings."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any

from guji.exitcodes import ExitCode


class GujiError(Exception):
    """An expected failure with a clear message for the user and an exit code."""

    exit_code: ExitCode = ExitCode.INTERNAL_ERROR

    def __init__(self, message: str, exit_code: ExitCode | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class BadBatch(GujiError):
    exit_code = ExitCode.BAD_BATCH


class MissingDependency(GujiError):
    """A program, language pack or library is missing; the message names the package to install."""

    exit_code = ExitCode.MISSING_DEPENDENCY


class NotReady(GujiError):
    exit_code = ExitCode.NOT_READY


@dataclass
class Problem:
    """One finding about the input (bagit-style: problems are collected, never first-fail).

    ``severity`` is ``error`` (the item/page is blocked) or ``warning`` (goes on, shown in reports).
    ``code`` is a stable machine name (e.g. ``unreadable-image``); ``message`` is for people.
    Location fields name what is wrong: ``path`` (relative to the batch), ``item``, ``page``,
    ``row`` (1-based sheet row, header = row 1) and ``field`` (sheet column).
    """

    severity: str
    code: str
    message: str
    path: str | None = None
    item: str | None = None
    page: str | None = None
    row: int | None = None
    field: str | None = None
    stage: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: v for k, v in d.items() if v not in (None, {}, [])}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Problem":
        return cls(**d)

    def where(self) -> str:
        parts = []
        if self.path:
            parts.append(self.path)
        elif self.item:
            parts.append(self.item)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"field {self.field}")
        return ", ".join(parts) if parts else "batch"

    def __str__(self) -> str:
        return f"{self.severity.upper()} [{self.code}] {self.where()}: {self.message}"
