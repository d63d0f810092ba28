"""Reads of cases: the applicant's list, a case with its timeline, the officials' queue.

Each read takes a fixed number of queries whatever the number of cases, events or tasks, and
each is backed by an index (see ``models.py``). Definitions are large documents shared by many
cases, so lists load each distinct definition once rather than once per row.

Who reads a case as an official (see ``docs/confidentiality.md``): someone who holds a
membership — or stands in for someone who does — in the case's authority that *reaches* the
case (its unit, a unit above it as head of unit, or a role that serves the whole authority)
with a clearance at least the case's confidentiality level; or someone holding a grant to that
one case (:class:`~salter.cases.models.CaseGrant`), for reading only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import reduce
from operator import or_

from django.db.models import F, Q, QuerySet, Value
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from salter.authorities.models import OrgUnit
from salter.cases import access, workflow
from salter.cases.access import ROLE_BITS
from salter.cases.models import Case, CaseEvent, CaseGrant, Task
from salter.catalog.models import ServiceVersion
from salter.core import calendar, confidentiality, cursors
from salter.identity.models import Delegation, Role, User

NEAR_DEADLINE_WORKING_DAYS = 3
# The queue sorts a task without a deadline (one waiting for the applicant) after every dated
# one: its sort key is this date. An index on (authority, COALESCE(due_at, NO_DEADLINE), id)
# serves the order and the keyset condition of any page as one range scan.
NO_DEADLINE = date(9999, 12, 31)


def _with_definitions(cases: Iterable[Case]) -> None:
    """Attach each case's definition, loading every distinct version once (one query)."""
    cases = list(cases)
    ids = {c.service_version_id for c in cases}
    if not ids:
        return
    definitions = dict(ServiceVersion.objects.filter(pk__in=ids).values_list("pk", "definition"))
    for case in cases:
        case.service_version.definition = definitions[case.service_version_id]


def my_cases(user: User, *, limit: int = 50) -> list[Case]:
    """The applicant's cases, newest first, with service, authority and open task: two
    queries."""
    cases = list(
        Case.objects.filter(applicant=user)
        .select_related("service_version__service__authority", "task")
        .defer("service_version__definition")
        .order_by("-id")[:limit]
    )
    _with_definitions(cases)
    return cases


@dataclass(frozen=True)
class CaseView:
    case: Case
    events: list[CaseEvent]
    as_official: bool  # an official of the authority (sees internal events), not the applicant


def case_grants(case: Case) -> list[CaseGrant]:
    """Every grant of a case, newest first, with who holds and gave it: one query."""
    return list(
        CaseGrant.objects.filter(case=case)
        .select_related("user", "granted_by", "revoked_by")
        .order_by("-granted_at", "-id")
    )


def case_with_timeline(case_id: int, user: User) -> CaseView | None:
    """A case and its timeline in at most three queries: the case, the caller's roles (for a
    caller who is not the applicant), the events. The applicant does not see internal events."""
    found = access.visible_case(case_id, user)
    if found is None:
        return None
    case, as_official = found
    events: QuerySet[CaseEvent] = case.events.select_related("actor", "unit").order_by("id")
    if not as_official:
        events = events.filter(internal=False)
    return CaseView(case=case, events=list(events), as_official=as_official)


def applicants_view(case: Case) -> CaseView:
    """The applicant's view of a case already in hand (e.g. just submitted): one query for
    its public events, none for the case."""
    events = case.events.select_related("actor", "unit").filter(internal=False).order_by("id")
    return CaseView(case=case, events=list(events), as_official=False)


@dataclass(frozen=True)
class QueueItem:
    task: Task
    case: Case
    overdue: bool
    near_deadline: bool


QueuePosition = tuple[date | None, int]  # a task's place in the queue: (due_at, id)


def queue_position(item: QueueItem) -> QueuePosition:
    return item.task.due_at, item.task.pk


def encode_position(position: QueuePosition) -> str:
    """An opaque, URL-safe cursor for ``?after=``: clients pass it back, never build it."""
    return cursors.BY_DUE_DATE.encode(position)


def decode_position(cursor: str) -> QueuePosition | None:
    """The position in a cursor made by :func:`encode_position`; ``None`` if it is not one."""
    return cursors.BY_DUE_DATE.decode(cursor)


def _marks(due: date | None, today: date) -> tuple[bool, bool]:
    if due is None:
        return False, False
    if due < today:
        return True, False
    return False, calendar.working_days_between(today, due) <= NEAR_DEADLINE_WORKING_DAYS


def queue_scope(
    user: User, *, authority: int | None = None, day: date | None = None
) -> tuple[list[int], Q] | None:
    """The tasks ``user`` may act on, as the authorities to read and a condition on
    :class:`~salter.cases.models.Task` (one query, for the seats); None if they have no seat.

    Seats of one authority, unit and clearance share one role mask, so the condition has one
    term per such group: (authority, level within clearance, roles intersect, unit)."""
    groups: dict[tuple[int, int | None, int], int] = {}
    for seat in access.seats(user, authority=authority, day=day):
        unit = None if seat.role in access.AUTHORITY_WIDE else seat.unit_id
        key = (seat.authority_id, unit, confidentiality.clearance_rank(seat.clearance))
        groups[key] = groups.get(key, 0) | ROLE_BITS.get(seat.role, 0)
    terms = []
    for (authority_id, unit_id, rank), mask in groups.items():
        if not mask or rank < 0:
            continue
        term = Q(authority_id=authority_id, level__lte=rank) & Q(
            GreaterThan(F("role_mask").bitand(mask), 0)
        )
        if unit_id is not None:
            term &= Q(unit_id=unit_id) | Q(unit__isnull=True)
        terms.append(term)
    if not terms:
        return None
    return sorted({a for a, _u, _r in groups}), reduce(or_, terms)


def work_queue(
    user: User,
    *,
    authority: int | None = None,
    state: str | None = None,
    overdue: bool | None = None,
    assigned_to_me: bool | None = None,
    after: QueuePosition | None = None,
    limit: int = 50,
) -> list[QueueItem]:
    """Open tasks that ``user`` may act on — a task's roles intersect the roles of one of the
    user's seats in the task's authority, the task is in that seat's unit (or in none; any
    unit for a role that serves the whole authority) and its level is within the seat's
    clearance — earliest deadline first (none last, then by id), in three queries: the
    user's seats, the tasks, the distinct definitions.

    ``after`` is the position ``(due_at, id)`` of the last task of the previous page (see
    :func:`queue_position`): the tasks after it are returned, read by the same index range
    scan whatever the page's depth (keyset paging). The unit and level conditions filter the
    rows of that scan (see ``docs/confidentiality.md`` on the index)."""
    today = timezone.localdate()
    scope = queue_scope(user, authority=authority, day=today)
    if scope is None:
        return []
    authorities, where = scope
    tasks = (
        Task.objects.filter(authority_id__in=authorities)
        .filter(where)
        .select_related("case__service_version__service__authority", "assignee")
        .defer("case__data", "case__inputs", "case__service_version__definition")
    )
    if state is not None:
        tasks = tasks.filter(state=state)
    if overdue is True:
        tasks = tasks.filter(due_at__lt=today)
    elif overdue is False:
        tasks = tasks.filter(Q(due_at__gte=today) | Q(due_at__isnull=True))
    if assigned_to_me is True:
        tasks = tasks.filter(assignee=user)
    elif assigned_to_me is False:
        tasks = tasks.filter(assignee__isnull=True)
    key = Coalesce(F("due_at"), Value(NO_DEADLINE))
    if after is not None:
        due, task_id = after
        tasks = tasks.filter(TupleGreaterThan(Tuple(key, F("id")), (due or NO_DEADLINE, task_id)))
    rows = list(tasks.order_by(key.asc(), "id")[:limit])
    _with_definitions(t.case for t in rows)
    return [QueueItem(t, t.case, *_marks(t.due_at, today)) for t in rows]


def state_label(case: Case) -> str:
    return workflow.state_label(case.service_version.definition, case.state)


def stand_in_roles(user: User, authority_id: int) -> set[str]:
    """The roles ``user`` holds today in the authority as a deputy or by delegation."""
    return set(
        Delegation.objects.in_force()
        .filter(delegate=user, unit__authority_id=authority_id)
        .values_list("role", flat=True)
    )


def _escalation_scope(user: User) -> tuple[list[int], Q] | None:
    """Where ``user`` oversees flagged tasks: per seat as head of unit (their own or one they
    stand in for), the tasks of that unit and every unit below it — or of no unit — within
    the seat's clearance. Two queries: the seats, the units of those authorities."""
    heads = access.seats(user, roles=[Role.HEAD_OF_UNIT])
    if not heads:
        return None
    authorities = sorted({h.authority_id for h in heads})
    children: dict[int, list[int]] = {}
    for unit_id, parent_id in OrgUnit.objects.filter(authority_id__in=authorities).values_list(
        "id", "parent_id"
    ):
        if parent_id is not None:
            children.setdefault(parent_id, []).append(unit_id)
    terms = []
    for head in heads:
        rank = confidentiality.clearance_rank(head.clearance)
        if rank < 0:
            continue
        below, todo = {head.unit_id}, [head.unit_id]
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in below:
                    below.add(child)
                    todo.append(child)
        terms.append(
            Q(authority_id=head.authority_id, level__lte=rank)
            & (Q(unit__isnull=True) | Q(unit_id__in=sorted(below)))
        )
    if not terms:
        return None
    return authorities, reduce(or_, terms)


def escalated_count(user: User) -> int:
    """How many flagged overdue tasks wait for ``user`` as a head of unit (three queries)."""
    scope = _escalation_scope(user)
    if scope is None:
        return 0
    authorities, where = scope
    return (
        Task.objects.filter(authority_id__in=authorities, escalated_at__isnull=False)
        .filter(where)
        .count()
    )


def escalated_tasks(user: User, *, limit: int = 100) -> list[QueueItem]:
    """The overdue tasks the escalation job flagged in the units ``user`` heads (or stands in
    for a head of) and the units below them, up to the seat's clearance, longest overdue
    first. Four queries."""
    today = timezone.localdate()
    scope = _escalation_scope(user)
    if scope is None:
        return []
    authorities, where = scope
    rows = list(
        Task.objects.filter(authority_id__in=authorities, escalated_at__isnull=False)
        .filter(where)
        .select_related("case__service_version__service__authority", "assignee")
        .defer("case__data", "case__inputs", "case__service_version__definition")
        .order_by("due_at", "id")[:limit]
    )
    _with_definitions(t.case for t in rows)
    return [QueueItem(t, t.case, *_marks(t.due_at, today)) for t in rows]
