"""The errors of the case engine's use cases, for every app that takes part in a step.

A handler of another app that must refuse a step (an act that cannot be sealed, fees that
cannot be computed) raises :class:`CaseError` with a message for the person who tried; the
step's transaction rolls back with it.
"""

from __future__ import annotations

from datetime import datetime


class CaseError(Exception):
    """A use case of a case cannot go on; the message is for the person who tried."""


class AlreadyDone(CaseError):  # noqa: N818 — reads as "raise AlreadyDone(...)"
    """Someone else moved the case first (or it is no longer where the caller thought)."""

    def __init__(self, message: str, *, by: str = "", at: datetime | None = None) -> None:
        super().__init__(message)
        self.by = by
        self.at = at


class AlreadyClaimed(AlreadyDone):
    """Another official has claimed the task."""
