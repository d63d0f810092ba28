"""The clock of the case engine: timed transitions and escalation of overdue tasks.

Both are idempotent and safe to run often and from several workers at once: each case is
handled in its own transaction under the case row's lock, and a case that moved meanwhile is
left alone. They run as background tasks (``salter.cases.tasks``) that ``salter clock``
enqueues every few minutes and ``salter db_worker`` executes.

* :func:`fire_timers` takes every transition with a ``timer`` whose time has come — e.g. the
  newborn-aid case is closed 15 days after the decision was delivered — as the platform
  (``Actor.system("timer")``).
* :func:`escalate_overdue` flags each task whose legal deadline has passed to the heads of
  unit of its authority: ``Task.escalated_at`` is set once, an internal ``escalated`` event is
  added to the timeline and the audit log records it. The heads see these tasks on their
  dashboard and on the "Overdue, flagged to you" page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import structlog
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from salter.audit import services as audit
from salter.cases import services, timeline, workflow
from salter.cases.errors import AlreadyDone, CaseError
from salter.cases.models import Case, CaseEvent, Task
from salter.cases.services.common import TIMER
from salter.catalog.models import ServiceVersion
from salter.core.context import Actor

log = structlog.get_logger(__name__)

ESCALATION = "escalation"  # Actor.via of the escalation job


@dataclass(frozen=True)
class Due:
    case_id: int
    transition_id: str
    state: str


def due_timers(now: datetime | None = None) -> list[Due]:
    """The timed transitions whose day has come, oldest first. One query for the versions
    that have open cases, then one per (version, timed transition, from-state)."""
    today = timezone.localdate(now)
    versions = ServiceVersion.objects.filter(
        pk__in=Case.objects.filter(closed_at__isnull=True).values("service_version_id")
    ).only("id", "definition")
    found: list[tuple[datetime, Due]] = []
    for version in versions:
        for transition in version.definition["workflow"]["transitions"]:
            timer = transition.get("timer")
            if not timer:
                continue
            # A working-day timer is never shorter than the same number of calendar days.
            latest = today - timedelta(days=int(timer["after_days"]))
            for state in workflow.sources(transition):
                rows = Case.objects.filter(
                    service_version=version,
                    state=state,
                    closed_at__isnull=True,
                    state_entered_at__date__lte=latest,
                ).values_list("pk", "state_entered_at")
                for pk, entered in rows:
                    if entered is None:  # pragma: no cover — excluded by the filter
                        continue
                    when = workflow.timer_due(transition, timezone.localdate(entered))
                    if when is not None and when <= today:
                        found.append((entered, Due(pk, transition["id"], state)))
    return [due for _entered, due in sorted(found, key=lambda item: (item[0], item[1].case_id))]


def fire_timers(now: datetime | None = None) -> int:
    """Take every timed transition that is due; the number taken."""
    actor = Actor.system(TIMER)
    taken = 0
    for due in due_timers(now):
        try:
            services.take_transition(
                actor, due.case_id, due.transition_id, expected_state=due.state
            )
        except AlreadyDone:
            continue  # moved meanwhile (a person, or another worker)
        except (ValidationError, CaseError, PermissionDenied) as exc:
            # e.g. a guard that does not hold: the case stays for a person to decide
            log.warning(
                "timer.refused", case=due.case_id, transition=due.transition_id, error=str(exc)
            )
            continue
        taken += 1
    if taken:
        log.info("timer.fired", count=taken)
    return taken


def escalate_overdue(today: date | None = None) -> int:
    """Flag every open task past its deadline, once; the number flagged."""
    today = today or timezone.localdate()
    candidates = list(
        Task.objects.filter(due_at__lt=today, escalated_at__isnull=True)
        .order_by("due_at", "id")
        .values_list("case_id", flat=True)
    )
    flagged = 0
    for case_id in candidates:
        if _escalate(case_id, today):
            flagged += 1
    if flagged:
        log.info("tasks.escalated", count=flagged)
    return flagged


@transaction.atomic
def _escalate(case_id: int, today: date) -> bool:
    case = Case.objects.select_for_update(of=("self",)).get(pk=case_id)
    task = Task.objects.filter(case=case).first()
    if task is None or task.escalated_at is not None or task.due_at is None or task.due_at >= today:
        return False  # closed, already flagged, paused or moved on meanwhile
    now = timezone.now()
    task.escalated_at = now
    task.save(update_fields=["escalated_at"])
    actor = Actor.system(ESCALATION)
    timeline.record(
        case,
        CaseEvent.Kind.ESCALATED,
        at=now,
        internal=True,
        payload={"due_at": task.due_at.isoformat(), "state": task.state},
    )
    audit.record(
        actor,
        "case.escalated",
        case,
        authority_id=case.authority_id,
        payload={"due_at": task.due_at.isoformat(), "state": task.state},
    )
    return True
