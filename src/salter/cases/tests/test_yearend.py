"""The end of a registry year: the book closes, open cases carry over under a new number with a
link to the old entry, closed cases stay; running again changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from salter.audit import services as audit
from salter.authorities.models import Authority, RegistryBook, RegistryCounter
from salter.cases import services
from salter.cases.models import Case, CaseEvent
from salter.catalog.models import ServiceVersion
from salter.core.context import Actor
from salter.documents import yearend
from salter.documents.models import Document
from salter.identity.models import User

from .conftest import OVERTIME_FORM, act, confirmed
from .test_official_views import signed_in

pytestmark = pytest.mark.django_db

# The year before the one the suite runs in: the acts are signed with test certificates made at
# the real time, so the clock cannot be pinned to a fixed year; the years follow it instead.
LAST_YEAR = timezone.localdate().year - 1


def last_years_case(overtime: ServiceVersion, employee: User, key: str) -> Case:
    """A case submitted now, moved back into last year's book (as if submitted then)."""
    case, _ = services.submit(act(employee), overtime, OVERTIME_FORM, idempotency_key=key)
    counter, _ = RegistryCounter.objects.get_or_create(book=case.book, year=LAST_YEAR)
    counter.last_number += 1
    counter.save()
    number = f"01-{counter.last_number}/{LAST_YEAR}"
    Case.objects.filter(pk=case.pk).update(
        year=LAST_YEAR, number=counter.last_number, registry_number=number
    )
    Document.objects.filter(case=case).update(
        year=LAST_YEAR, number=counter.last_number, registry_number=number
    )
    case.refresh_from_db()
    return case


def test_open_cases_carry_over_and_closed_ones_stay(
    authority: Authority,
    overtime: ServiceVersion,
    employee: User,
    head: User,
    accountant: User,
    system: Actor,
) -> None:
    open_case = last_years_case(overtime, employee, "a")
    done = last_years_case(overtime, employee, "b")
    services.take_transition(act(head), done, "reject", opinion="Није потребно.")
    book = RegistryBook.objects.get(authority=authority, is_default=True)

    ended = yearend.close_year(system, book, LAST_YEAR)

    assert ended.carried_over == 1
    assert RegistryCounter.objects.get(book=book, year=LAST_YEAR).closed_at is not None
    open_case.refresh_from_db()
    done.refresh_from_db()
    assert done.year == LAST_YEAR and done.registry_number == f"01-2/{LAST_YEAR}"
    assert open_case.year == LAST_YEAR + 1 and open_case.registry_number.endswith(
        f"/{LAST_YEAR + 1}"
    )
    entry = Document.objects.get(case=open_case, year=LAST_YEAR + 1)
    assert entry.registry_number == open_case.registry_number
    old = entry.carried_over_from
    assert old is not None and old.registry_number == f"01-1/{LAST_YEAR}" and old.year == LAST_YEAR
    event = open_case.events.get(kind=CaseEvent.Kind.CARRIED_OVER)
    assert event.payload == {"from": f"01-1/{LAST_YEAR}", "to": open_case.registry_number}

    # The case goes on under its new number: its next act is a sub-number of that one.
    services.take_transition(act(head), open_case, "approve", opinion="Да.")
    services.take_transition(
        act(employee),
        open_case,
        "report",
        inputs={"actual_hours": 2, "work_done": "Посао је завршен."},
    )
    services.take_transition(act(head), open_case, "confirm")
    services.take_transition(
        act(accountant),
        open_case,
        "issue_pay_slip",
        inputs={"hourly_base_pay": 900},
        confirmation=confirmed(accountant),
    )
    slip = Document.objects.get(case=open_case, act_code="pay_slip")
    assert slip.registry_number == f"{open_case.registry_number}-1"

    # Both timelines say it; running again changes nothing.
    page = signed_in(employee).get(reverse("cases:detail", args=[open_case.pk])).content.decode()
    assert f"01-1/{LAST_YEAR} → {open_case.registry_number}" in page
    assert yearend.close_year(system, book, LAST_YEAR).carried_over == 0
    assert Document.objects.filter(case=open_case).count() == 3  # old, carried, pay slip
    assert audit.verify().ok


def test_the_clock_closes_ended_years_and_the_command_too(
    authority: Authority, overtime: ServiceVersion, employee: User, system: Actor
) -> None:
    last_years_case(overtime, employee, "c")
    ended = yearend.close_past_years(system)
    assert [(e.year, e.carried_over) for e in ended] == [(LAST_YEAR, 1)]
    assert yearend.close_past_years(system) == []  # nothing left to close

    out = StringIO()
    call_command("close_year", "--year", str(LAST_YEAR), stdout=out)
    assert "0 open case(s) carried over" in out.getvalue()
    with pytest.raises(CommandError, match="31 December"):
        call_command("close_year", "--year", str(LAST_YEAR + 1), stdout=StringIO())
    with pytest.raises(CommandError, match="no authority"):
        call_command("close_year", "--authority", "nowhere", stdout=StringIO())


def test_only_administrators_close_a_year(
    authority: Authority, head: User, overtime: ServiceVersion, employee: User
) -> None:
    from django.core.exceptions import PermissionDenied

    book = RegistryBook.objects.get(authority=authority, is_default=True)
    with pytest.raises(PermissionDenied):
        yearend.close_year(act(head), book, LAST_YEAR)
