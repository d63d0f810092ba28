"""A case's registry number (*delovodni broj*) and the sub-numbers of its acts. Only these use
cases change them.

* :func:`next_sub_number` — an act or letter of a case takes the next sub-number of the case's
  number, under the case row's lock: ``01-7/2026-1``, ``01-7/2026-2``…
* :func:`carry_over` — an open case of a closed registry year is registered again in the new
  year's book under a new number; the apps hear of it (:class:`listeners.CarriedOver`), so the
  registry of documents enters the case again, linked to its old entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from salter.audit import services as audit
from salter.authorities.services import allocate_number
from salter.cases import listeners, timeline
from salter.cases.models import Case, CaseEvent
from salter.core.context import Actor


@dataclass(frozen=True)
class SubNumber:
    """The number an act of ``case`` takes: the case's book, year and number, and its sub."""

    case: Case  # the case row, locked until the end of the transaction
    sub: int

    @property
    def formatted(self) -> str:
        return f"{self.case.registry_number}-{self.sub}"


def next_sub_number(case: Case | int) -> SubNumber:
    """Take the next sub-number of the case's registry number. Runs inside the caller's
    transaction (the act's registration), which it must be part of."""
    pk = case if isinstance(case, int) else case.pk
    locked = Case.objects.select_for_update(of=("self",)).get(pk=pk)
    locked.last_sub_number += 1
    locked.save(update_fields=["last_sub_number"])
    return SubNumber(locked, locked.last_sub_number)


@transaction.atomic
def carry_over(actor: Actor, case_id: int, year: int) -> bool:
    """Carry one open case of ``year`` into the next year's book. ``False`` if it is no longer
    an open case of that year (closed meanwhile, or carried by an earlier run)."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("book", "service_version__service")
        .get(pk=case_id)
    )
    if case.year != year or case.closed_at is not None:
        return False
    before = listeners.Renumbered(
        actor, case, registry_number=case.registry_number, year=case.year, number=case.number
    )
    allocation = allocate_number(actor, case.book, year=year + 1)
    now = timezone.now()
    case.registry_number = allocation.formatted
    case.year = allocation.year
    case.number = allocation.number
    case.last_sub_number = 0
    case.version += 1
    case.save(update_fields=["registry_number", "year", "number", "last_sub_number", "version"])
    listeners.announce(before)
    timeline.record(
        case,
        CaseEvent.Kind.CARRIED_OVER,
        actor,
        at=now,
        payload={"from": before.registry_number, "to": allocation.formatted},
    )
    audit.record(
        actor,
        "case.carried_over",
        case,
        authority_id=case.authority_id,
        payload={"from": before.registry_number, "to": allocation.formatted},
    )
    return True
