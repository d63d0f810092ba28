"""The end of a registry year: the book closes on 31 December and the open cases carry over.

An open case of the closing year is registered again in the new year's book under a new number
(the Uredba o kancelarijskom poslovanju: unresolved cases are carried into the next year's
book); the new entry links to the old one (``Document.carried_over_from``), the old entry stays
in its year as it was, and the case goes on under its new number — its next acts take
sub-numbers of that one. The applicant's timeline says so.

Runs from ``salter close_year`` and from the clock (``salter clock``) on the first run after
the year has ended. Idempotent: a carried-over case belongs to the new year, so running again
finds nothing more to do; each case is carried in a transaction of its own, so an interrupted
run resumes where it stopped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import structlog
from django.utils import timezone

from salter.authorities import services as authority_services
from salter.authorities.models import RegistryBook, RegistryCounter
from salter.cases import listeners
from salter.cases import services as cases
from salter.cases.models import Case
from salter.core.context import Actor
from salter.documents.models import Document
from salter.documents.services import new_verification_code, search_text

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class YearEnd:
    book: str
    year: int
    carried_over: int


def close_year(actor: Actor, book: RegistryBook, year: int) -> YearEnd:
    """Close ``book`` for ``year`` (not before 31 December) and carry its open cases over."""
    authority_services.close_year(actor, book, year)
    carried = 0
    open_cases = (
        Case.objects.filter(book=book, year=year, closed_at__isnull=True)
        .order_by("number")
        .values_list("pk", flat=True)
    )
    for case_id in list(open_cases):
        if cases.carry_over(actor, case_id, year):
            carried += 1
    log.info("registry.year_ended", book=book.code, year=year, carried_over=carried)
    return YearEnd(book.code, year, carried)


def enter_carried_over(renumbered: listeners.Renumbered) -> Document:
    """The case, carried into the new year (:func:`salter.cases.services.carry_over`), is
    entered again in the new year's book under its new number, linked to its old entry."""
    case, old_number = renumbered.case, renumbered.registry_number
    previous = Document.objects.filter(
        case=case,
        book_id=case.book_id,
        year=renumbered.year,
        number=renumbered.number,
        sub_number=0,
    ).first()
    subject = previous.subject if previous is not None else case.service_version.service.name
    sender = previous.sender if previous is not None else case.applicant.full_name
    return Document.objects.create(
        authority_id=case.authority_id,
        book_id=case.book_id,
        year=case.year,
        number=case.number,
        sub_number=0,
        registry_number=case.registry_number,
        case=case,
        direction=Document.Direction.INCOMING,
        registered_at=timezone.now(),
        sender=sender,
        subject=subject,
        category=previous.category if previous is not None else None,
        verification_code=new_verification_code(),
        search_text=search_text(case.registry_number, old_number, subject, sender),
        carried_over_from=previous,
        created_by=renumbered.actor.user,
        confidentiality=case.confidentiality,
    )


def close_past_years(actor: Actor, today: dt.date | None = None) -> list[YearEnd]:
    """Every book's years that have ended and are not closed yet (the clock's job)."""
    current = (today or timezone.localdate()).year
    pending = (
        RegistryCounter.objects.filter(year__lt=current, closed_at__isnull=True)
        .select_related("book__authority")
        .order_by("year", "book_id")
    )
    return [close_year(actor, counter.book, counter.year) for counter in pending]
