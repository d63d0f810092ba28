"""Opaque cursors for keyset pagination.

A list ordered by ``(value, id)`` — a timestamp, or a due date, and the row's id — is read a
page at a time: the next page starts after the position of the last row shown. That position
travels to the client as a cursor: URL-safe base64, without padding, of the value in ISO 8601,
a separator and the id. Clients pass a cursor back and never build one; anything that is not
a cursor of the format — too long, not base64, not ASCII, a value or an id that does not read,
an id below 1 or above the largest a table holds, a timestamp that cannot be moved to UTC —
decodes to ``None``, never to an exception.

A :class:`Format` fixes how the value is read back, the separator and the longest cursor
accepted. The formats keep the wire form the lists have always used, so a cursor handed out
before a deploy still reads after it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Generic, TypeVar

from salter.core.params import MAX_ID

__all__ = ["BY_DUE_DATE", "BY_TIMESTAMP", "Format", "aware_datetime", "optional_date"]

V = TypeVar("V", bound="date | None")  # a datetime is a date too


@dataclass(frozen=True)
class Format(Generic[V]):
    """How the positions ``(value, id)`` of one kind of list are written in a cursor."""

    read: Callable[[str], V]  # the value from its ISO form; ValueError if it is not one
    separator: str = "|"
    max_length: int = 80

    def encode(self, position: tuple[V, int]) -> str:
        """The cursor of ``position``."""
        value, pk = position
        raw = f"{value.isoformat() if value is not None else ''}{self.separator}{pk}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode(self, cursor: str | None) -> tuple[V, int] | None:
        """The position in a cursor made by :meth:`encode`; ``None`` if it is not one."""
        if not cursor or len(cursor) > self.max_length:
            return None
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
            value, _separator, pk = raw.partition(self.separator)
            position = (self.read(value), int(pk))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return position if 0 < position[1] <= MAX_ID else None


def aware_datetime(text: str) -> datetime:
    """A timestamp with its offset from UTC; one without is refused (ValueError)."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("a cursor's timestamp carries its offset from UTC")
    try:
        value.astimezone(UTC)  # the database compares it in UTC: year 1 at +01:00 has none
    except OverflowError:
        raise ValueError("a cursor's timestamp is out of range") from None
    return value


def optional_date(text: str) -> date | None:
    """A date, or None written as nothing."""
    return date.fromisoformat(text) if text else None


# (created_at, id) and the like. An ISO timestamp may hold "." (its fraction of a second).
BY_TIMESTAMP: Format[datetime] = Format(aware_datetime)
# (due date or none, id): the officials' work queue.
BY_DUE_DATE: Format[date | None] = Format(optional_date, separator=".", max_length=40)
