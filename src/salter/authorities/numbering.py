"""Registry numbers (delovodni broj): the counter row, its lock, and the shape of a number.

A registry number is unique per registry book and per year and numbers follow each other
without gaps: 1, 2, 3, … in the order of registration. The rule is kept by one
:class:`~salter.authorities.models.RegistryCounter` row per book and year, locked with
``SELECT … FOR UPDATE`` for the rest of the caller's transaction and incremented there —
never by ``MAX()+1`` over the registered entries, which two transactions can compute alike.
Because the increment lives in the caller's transaction, a submission that fails after taking
a number rolls the number back with it, and the next submission takes the same number.
On SQLite, where ``FOR UPDATE`` does not exist, every transaction starts as ``BEGIN IMMEDIATE``
(``transaction_mode`` in the settings), so writers are serialised by the database lock.

Acts within a case (a supplement request, a decision) carry a sub-number after the case's
registry number, ``{number}-{sub}`` as in ``01-7-2/2026``. Sub-numbers need no counter of their
own here: the cases app will keep the last sub-number on the case row and increment it under
that row's lock, the same way as this module does for a book and year.

The use cases that allocate a number or close a year are in ``salter.authorities.services``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from salter.authorities.models import RegistryBook, RegistryCounter


class NumberingError(Exception):
    """A registry number cannot be allocated, or a year cannot be closed."""


class YearClosed(NumberingError):
    def __init__(self, book: RegistryBook, year: int) -> None:
        super().__init__(
            _(
                "Registry book %(book)s is closed for %(year)s: no more numbers can be "
                "allocated in that year."
            )
            % {"book": book.code, "year": year}
        )
        self.book_code = book.code
        self.year = year


@dataclass(frozen=True)
class Allocation:
    """One registry number given out: ``formatted`` is the number as written on documents."""

    book: RegistryBook
    year: int
    number: int
    formatted: str


def current_year(at: datetime | None = None) -> int:
    """The calendar year in the platform's time zone (Europe/Belgrade), at ``at`` or now.

    Not the time zone a request may have activated for display: registry years follow the
    authority's calendar, so a submission at 00:30 on 1 January in Belgrade is in the new year
    even though it is still 31 December in UTC.
    """
    return timezone.localtime(at, timezone.get_default_timezone()).year


def template_fields(template: str) -> set[str]:
    """The placeholders a number template uses, e.g. ``{"book", "number", "year"}``."""
    return {field for _text, field, _spec, _conv in string.Formatter().parse(template) if field}


def lock_counter(book: RegistryBook, year: int) -> RegistryCounter:
    """The counter of ``book`` in ``year``, locked until the end of the current transaction.

    Created on the first use of a year without a race: ``INSERT … ON CONFLICT DO NOTHING``
    lets two first users of a year both go on, and the lock that follows orders them.
    """
    locked = RegistryCounter.objects.select_for_update()
    counter = locked.filter(book=book, year=year).first()
    if counter is None:
        RegistryCounter.objects.bulk_create(
            [RegistryCounter(book=book, year=year)], ignore_conflicts=True
        )
        counter = locked.get(book=book, year=year)
    return counter
