"""Reads of the access log for the person whose data was read: "Who accessed my data".

A page is one range of the index ``access_subject_idx`` (subject, at desc, id desc), newest
first, keyset-paginated on ``(at, id)``: the cursor of the next page is the position of the last
row shown, so the hundredth page of a person with a hundred thousand records costs what the
first does, and the table's billion other rows are never touched. Records still hidden for an
investigation (``visible_at`` in the future) are left out of every page and every count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan
from django.utils import timezone

from salter.authorities.models import Authority
from salter.core import cursors
from salter.exchange import tracker
from salter.exchange.models import AccessRecord

PAGE_SIZE = 20
API_PAGE_MAX = 200

Position = tuple[datetime, int]

# What a row of the page shows: the record, the reading authority's names, the case's number
# and applicant (to link the case when it is the reader's own). Nothing else is loaded.
SHOWN = (
    "id",
    "at",
    "visible_at",
    "subject_id",
    "reader_label",
    "authority_id",
    "action",
    "purpose",
    "legal_basis",
    "items",
    "case_id",
    "authority__name",
    "authority__name_en",
    "case__registry_number",
    "case__applicant_id",
)


def encode_cursor(record: AccessRecord) -> str:
    """An opaque, URL-safe cursor: the position of ``record`` (clients pass it back)."""
    return cursors.BY_TIMESTAMP.encode((record.at, record.pk))


def decode_cursor(cursor: str | None) -> Position | None:
    """The position in a cursor made by :func:`encode_cursor`; ``None`` if it is not one."""
    return cursors.BY_TIMESTAMP.decode(cursor)


@dataclass(frozen=True)
class Page:
    rows: list[AccessRecord]
    next_cursor: str  # "" on the last page


def visible(person_id: int, *, now: datetime | None = None) -> QuerySet[AccessRecord]:
    """Every record of reads of the person's data that they may see by now."""
    return AccessRecord.objects.filter(subject_id=person_id, visible_at__lte=now or timezone.now())


def page(
    person_id: int | None,
    *,
    authority: int | None = None,
    before: Position | None = None,
    limit: int = PAGE_SIZE,
    now: datetime | None = None,
) -> Page:
    """The reads of the person's data, newest first: ``limit`` of them after the position
    ``before``, only those of ``authority`` if given. One query. A user without a person has
    no records (nobody read data of theirs that the platform could attribute)."""
    if person_id is None:
        return Page([], "")
    rows = visible(person_id, now=now)
    if authority is not None:
        rows = rows.filter(authority_id=authority)
    if before is not None:
        rows = rows.filter(TupleLessThan(Tuple(F("at"), F("id")), before))
    found = list(
        rows.select_related("authority", "case").only(*SHOWN).order_by("-at", "-id")[: limit + 1]
    )
    shown = found[:limit]
    return Page(shown, encode_cursor(shown[-1]) if len(found) > limit else "")


def authorities() -> list[Authority]:
    """The authorities to filter by, by name (the directory: a few hundred rows, one query)."""
    return list(Authority.objects.only("id", "name", "name_en").order_by("name"))


@dataclass(frozen=True)
class Entry:
    """One read as the person sees it, in the active language."""

    id: int
    at: datetime
    reader: str  # the official's name, the API client's or the system's
    authority_id: int | None
    authority: str
    action: str
    action_label: str
    purpose: str
    purpose_text: str
    legal_basis: str
    items: list[str]
    case_id: int | None
    case_number: str
    own_case: bool  # the reader's own case: its number links to it


def entry(record: AccessRecord, user_id: int) -> Entry:
    case = record.case if record.case_id is not None else None
    return Entry(
        id=record.pk,
        at=record.at,
        reader=record.reader_label,
        authority_id=record.authority_id,
        authority=record.authority.display_name if record.authority is not None else "",
        action=record.action,
        action_label=str(record.get_action_display()),
        purpose=record.purpose,
        purpose_text=tracker.purpose_text(record.purpose),
        legal_basis=record.legal_basis,
        items=[str(i) for i in record.items or []],
        case_id=record.case_id,
        case_number=case.registry_number if case is not None else "",
        own_case=case is not None and case.applicant_id == user_id,
    )
