"""The officials' daily digest of their work queue, by e-mail.

:func:`enqueue_digests` runs from the clock (``salter clock`` every few minutes, through the
task :func:`salter.mailbox.tasks.send_digests`). From ``SALTER_DIGEST_HOUR`` (local time) on,
each official with open work gets one digest a day — the dedupe key
``digest:<user>:<date>`` makes every later run of the day add nothing — counting:

* **queue**: open tasks they may act on (a task's roles meet the roles they hold in its
  authority, as in :func:`salter.cases.queries.work_queue`) that nobody has claimed;
* **assigned**: tasks in their own work;
* **due soon** and **overdue**, among those two: the legal deadline within three working days
  (the queue's "deadline near" mark), or passed.

Officials who turned the digest off, and those who already have today's, cost nothing but one
query for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Case as Choose
from django.db.models import Count, F, IntegerField, Q, Value, When
from django.db.models.expressions import Combinable, CombinedExpression
from django.urls import reverse
from django.utils import timezone

from salter.cases.access import ROLE_BITS
from salter.cases.models import Task
from salter.cases.queries import NEAR_DEADLINE_WORKING_DAYS
from salter.core import calendar
from salter.identity.models import Membership, User
from salter.mailbox import outbox
from salter.mailbox.models import Notification, NotificationPreference

log = structlog.get_logger(__name__)

TEMPLATE = "mailbox/notifications/digest.txt"


@dataclass(frozen=True)
class Counts:
    queue: int
    assigned: int
    due_soon: int
    overdue: int

    @property
    def open_work(self) -> bool:
        return bool(self.queue or self.assigned)


def dedupe_key(user_id: int, day: date) -> str:
    return f"digest:{user_id}:{day.isoformat()}"


def counts(user_id: int, masks: dict[int, int], day: date) -> Counts:
    """The digest's figures for one official whose roles per authority are ``masks`` (role
    bits, see ``salter.cases.access.ROLE_BITS``). One aggregate query."""
    mine = Choose(
        *(When(authority_id=a, then=Value(m)) for a, m in masks.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    # The last day that is still "near": before the (n+1)-th working day after today.
    near = calendar.add_working_days(day, NEAR_DEADLINE_WORKING_DAYS + 1) - timedelta(days=1)
    queue = Q(assignee__isnull=True, hit__gt=0)
    assigned = Q(assignee_id=user_id)
    figures = (
        Task.objects.filter(authority_id__in=list(masks))
        .filter(Q(assignee__isnull=True) | Q(assignee_id=user_id))
        .annotate(hit=CombinedExpression(F("role_mask"), Combinable.BITAND, mine))
        .aggregate(
            queue=Count("id", filter=queue),
            assigned=Count("id", filter=assigned),
            due_soon=Count("id", filter=(queue | assigned) & Q(due_at__gte=day, due_at__lte=near)),
            overdue=Count("id", filter=(queue | assigned) & Q(due_at__lt=day)),
        )
    )
    return Counts(**figures)


def _officials(day: date) -> dict[int, dict[int, int]]:
    """user id → authority id → role bits, for every membership in force ``day``."""
    found: dict[int, dict[int, int]] = {}
    rows = (
        Membership.objects.in_force(day)
        .filter(user__is_active=True)
        .values_list("user_id", "unit__authority_id", "role")
    )
    for user_id, authority_id, role in rows:
        masks = found.setdefault(user_id, {})
        masks[authority_id] = masks.get(authority_id, 0) | ROLE_BITS.get(role, 0)
    return found


def _skipped(user_ids: list[int], day: date) -> set[int]:
    """Officials who turned the digest off or already have the day's digest."""
    off = set(
        NotificationPreference.objects.filter(
            user_id__in=user_ids,
            kind=outbox.DIGEST,
            channel=Notification.Channel.EMAIL,
            enabled=False,
        ).values_list("user_id", flat=True)
    )
    keys = {
        f"{dedupe_key(u, day)}:{Notification.Channel.EMAIL}": u for u in user_ids if u not in off
    }
    done = Notification.objects.filter(dedupe_key__in=list(keys)).values_list(
        "dedupe_key", flat=True
    )
    return off | {keys[k] for k in done if k is not None}


def enqueue_digests(today: date | None = None, *, now: datetime | None = None) -> int:
    """Queue the day's digest for every official with open work; how many were queued.
    Nothing before ``SALTER_DIGEST_HOUR`` local time on the day itself."""
    local = timezone.localtime(now)
    day = today or local.date()
    if day > local.date() or (day == local.date() and local.hour < settings.SALTER_DIGEST_HOUR):
        return 0
    officials = _officials(day)
    skipped = _skipped(list(officials), day)
    todo = [u for u in officials if u not in skipped]
    users = User.objects.in_bulk(todo)
    path = reverse("official:case_queue")
    queued = 0
    for user_id in sorted(todo):
        user = users.get(user_id)
        if user is None:
            continue
        figures = counts(user_id, officials[user_id], day)
        if not figures.open_work:
            continue
        with transaction.atomic():
            written = outbox.notify(
                user,
                outbox.DIGEST,
                TEMPLATE,
                {"counts": figures, "day": day, "path": path},
                dedupe_key=dedupe_key(user_id, day),
            )
        queued += bool(written)
    log.info("digest.enqueued", day=day.isoformat(), officials=len(officials), queued=queued)
    return queued
