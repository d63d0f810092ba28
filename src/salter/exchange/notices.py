"""Telling people that their data was read (the Korean Government24 practice): the clock runs
:func:`announce`, which queues one notice per person summarising the reads that became visible
to them since the last run, with a link to "Who accessed my data".

The window of a run is ``(cursor, now]`` on ``visible_at``, read through ``access_visible_idx``:
a read hidden for an investigation becomes visible on its date and is announced then, not
before. The notices and the cursor's advance are written in one transaction, and each notice
carries a dedupe key naming the person and the window's end: a run that fails queues nothing
and moves nothing, two runs racing queue each notice once, and a repeated run finds nothing
new. A person without a user account (named in someone's application, never registered) has
nobody to tell; their reads stay on the log for when they register.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from salter.exchange.models import AccessRecord, NoticeCursor
from salter.exchange.tracker import PURPOSES
from salter.identity.models import User
from salter.mailbox import outbox

TEMPLATE = "exchange/notifications/data_accessed.txt"
KIND = outbox.CASE  # "Progress of my cases": most reads are of a case, by its authority
SHOWN = 5  # reads named in one notice; the rest are counted and are on the page
# A run takes at most this many records; a longer backlog (a peak, a stopped clock) is taken
# by the following runs, oldest first, so no run holds its transaction for long.
BATCH = 50_000
_BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Announced:
    notices: int  # notifications queued (one per person and channel)
    persons: int  # persons told
    reads: int  # records in the window
    visible_until: datetime


def _window_end(start: datetime, now: datetime) -> datetime:
    """``now``, or earlier when more than :data:`BATCH` records wait: the ``visible_at`` of
    the last record of the batch (records of the same instant are taken together)."""
    waiting = AccessRecord.objects.filter(visible_at__gt=start, visible_at__lte=now)
    last = list(
        waiting.order_by("visible_at").values_list("visible_at", flat=True)[BATCH - 1 : BATCH]
    )
    return last[0] if last else now


def _latest_reads(window: QuerySet[AccessRecord], told: QuerySet[User]) -> dict[int, list]:
    """The newest :data:`SHOWN` reads in the window of each person who is told, in one query
    (a window function numbers each person's reads; the persons are a subquery, however many
    there are)."""
    rows = (
        window.filter(subject_id__in=told.values("person_id"))
        .select_related("authority")
        .only(
            "id",
            "at",
            "subject_id",
            "reader_label",
            "authority_id",
            "authority__name",
            "authority__name_en",
            "action",
            "purpose",
        )
        .annotate(
            place=Window(
                RowNumber(),
                partition_by=[F("subject_id")],
                order_by=[F("at").desc(), F("id").desc()],
            )
        )
        .filter(place__lte=SHOWN)
        .order_by("subject_id", "-at", "-id")
    )
    found: dict[int, list] = defaultdict(list)
    for record in rows:
        found[record.subject_id].append(record)
    return found


def _read(record: AccessRecord) -> dict[str, object]:
    """One read for the template; labels stay lazy so they render in the reader's language."""
    return {
        "at": record.at,
        "reader": record.reader_label,
        "authority": record.authority,
        "action": AccessRecord.Action(record.action).label
        if record.action in AccessRecord.Action.values
        else record.action,
        "purpose": PURPOSES.get(record.purpose, record.purpose),
    }


def announce(now: datetime | None = None) -> Announced:
    """Queue the notices of the reads that became visible since the last run; idempotent."""
    now = now or timezone.now()
    NoticeCursor.objects.get_or_create(pk=1, defaults={"visible_until": _BEGINNING})
    with transaction.atomic():
        # One run at a time: the cursor's row is the lock (SQLite locks the whole database).
        cursor = NoticeCursor.objects.select_for_update().get(pk=1)
        start = cursor.visible_until
        if start >= now:
            return Announced(0, 0, 0, start)
        end = _window_end(start, now)
        window = AccessRecord.objects.filter(visible_at__gt=start, visible_at__lte=end)
        counts = {
            row["subject_id"]: row["n"]
            for row in window.values("subject_id").annotate(n=Count("id")).order_by()
        }
        told = User.objects.filter(is_active=True, person_id__in=window.values("subject_id"))
        users: dict[int, User] = {
            u.person_id: u for u in told.order_by() if u.person_id is not None
        }
        latest = _latest_reads(window, told) if users else {}
        path = reverse("exchange:access_log")
        stamp = end.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")
        notices = 0
        for person_id, user in users.items():
            total = counts[person_id]
            reads = [_read(r) for r in latest.get(person_id, [])]
            notices += len(
                outbox.notify(
                    user,
                    KIND,
                    TEMPLATE,
                    {
                        "reads": reads,
                        "total": total,
                        "more": max(total - len(reads), 0),
                        "path": path,
                    },
                    dedupe_key=f"access:{person_id}:{stamp}",
                )
            )
        cursor.visible_until = end
        cursor.save(update_fields=["visible_until"])
    return Announced(notices, len(users), sum(counts.values()), end)
