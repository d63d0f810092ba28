"""Reads of cases: the applicant's list, a case with its timeline, the officials' queue.

Each read takes a fixed number of queries whatever the number of cases, events or tasks, and
each is backed by an index (see ``models.py``). Definitions are large documents shared by many
cases, so lists load each distinct definition once rather than once per row.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Case as Choose
from django.db.models import F, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import Combinable, CombinedExpression
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
from django.db.models.functions import Coalesce
from django.utils import timezone

from salter.cases import workflow
from salter.cases.models import Case, CaseEvent, Task
from salter.cases.services import ROLE_BITS
from salter.catalog.models import ServiceVersion
from salter.core import calendar
from salter.identity.models import Delegation, Membership, Role, User

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


def official_roles(user: User, authority_id: int) -> set[str]:
    return set(
        Membership.objects.in_force()
        .filter(user=user, unit__authority_id=authority_id)
        .values_list("role", flat=True)
    )


def visible_case(case_id: int, user: User) -> tuple[Case, bool] | None:
    """The case if ``user`` may see it — as its applicant (``False``) or as an official of
    its authority (``True``) — else ``None``, so callers answer 404 and never reveal that
    someone else's case exists."""
    case = (
        Case.objects.select_related("service_version__service__authority", "task__assignee")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        return None
    if case.applicant_id == user.pk:
        return case, False  # the applicant's view, even if they work at the authority
    if official_roles(user, case.authority_id):
        return case, True
    return None


def case_with_timeline(case_id: int, user: User) -> CaseView | None:
    """A case and its timeline in at most three queries: the case, the caller's roles (for a
    caller who is not the applicant), the events. The applicant does not see internal events."""
    found = visible_case(case_id, user)
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
    due, task_id = position
    raw = f"{due.isoformat() if due else ''}.{task_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_position(cursor: str) -> QueuePosition | None:
    """The position in a cursor made by :func:`encode_position`; ``None`` if it is not one."""
    if not cursor or len(cursor) > 40:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        due, _dot, task_id = raw.partition(".")
        position = (date.fromisoformat(due) if due else None, int(task_id))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return position if position[1] > 0 else None


def _marks(due: date | None, today: date) -> tuple[bool, bool]:
    if due is None:
        return False, False
    if due < today:
        return True, False
    return False, calendar.working_days_between(today, due) <= NEAR_DEADLINE_WORKING_DAYS


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
    """Open tasks that ``user`` may act on — a task's roles intersect the roles the user holds
    in the task's authority — earliest deadline first (none last, then by id), in three
    queries: the user's roles, the tasks, the distinct definitions.

    ``after`` is the position ``(due_at, id)`` of the last task of the previous page (see
    :func:`queue_position`): the tasks after it are returned, read by the same index range
    scan whatever the page's depth (keyset paging)."""
    today = timezone.localdate()
    masks: dict[int, int] = {}
    memberships = Membership.objects.in_force(today).filter(user=user)
    if authority is not None:
        memberships = memberships.filter(unit__authority_id=authority)
    for authority_id, role in memberships.values_list("unit__authority_id", "role"):
        masks[authority_id] = masks.get(authority_id, 0) | ROLE_BITS.get(role, 0)
    if not masks:
        return []
    mine = Choose(
        *(When(authority_id=a, then=Value(m)) for a, m in masks.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    tasks = (
        Task.objects.filter(authority_id__in=list(masks))
        .annotate(hit=CombinedExpression(F("role_mask"), Combinable.BITAND, mine))
        .filter(hit__gt=0)
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


def _headed_authorities(user: User) -> set[int]:
    """The authorities where ``user`` is a head of unit today, or stands in for one."""
    heads = {"role": Role.HEAD_OF_UNIT}
    return set(
        Membership.objects.in_force()
        .filter(user=user, **heads)
        .values_list("unit__authority_id", flat=True)
    ) | set(
        Delegation.objects.in_force()
        .filter(delegate=user, **heads)
        .values_list("unit__authority_id", flat=True)
    )


def escalated_count(user: User) -> int:
    """How many flagged overdue tasks wait for ``user`` as a head of unit (three queries)."""
    authorities = _headed_authorities(user)
    if not authorities:
        return 0
    return Task.objects.filter(authority_id__in=authorities, escalated_at__isnull=False).count()


def escalated_tasks(user: User, *, limit: int = 100) -> list[QueueItem]:
    """The overdue tasks the escalation job flagged, in the authorities where ``user`` is a
    head of unit (or stands in for one), longest overdue first. Four queries."""
    today = timezone.localdate()
    authorities = _headed_authorities(user)
    if not authorities:
        return []
    rows = list(
        Task.objects.filter(authority_id__in=authorities, escalated_at__isnull=False)
        .select_related("case__service_version__service__authority", "assignee")
        .defer("case__data", "case__inputs", "case__service_version__definition")
        .order_by("due_at", "id")[:limit]
    )
    _with_definitions(t.case for t in rows)
    return [QueueItem(t, t.case, *_marks(t.due_at, today)) for t in rows]
