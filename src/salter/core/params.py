"""Reading request parameters."""

from __future__ import annotations


def int_or_none(value: object) -> int | None:
    """A whole number from a query string or form field, or ``None`` for anything else."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
