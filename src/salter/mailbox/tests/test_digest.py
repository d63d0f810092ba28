"""The officials' daily digest: once a day from SALTER_DIGEST_HOUR, only with open work, as
the official chose; the clock runs it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models.signals import pre_save
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from salter.cases import services as cases
from salter.cases.models import Task
from salter.catalog.models import ServiceVersion
from salter.identity.models import Role, User
from salter.mailbox import digest, preferences
from salter.mailbox.models import Notification
from salter.mailbox.tests.conftest import NEWBORN_FORM, act

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_readers() -> Iterator[None]:
    """The notices are asserted in English (the source language): every user made in these
    tests reads English (a user's language decides the language of their notifications)."""

    def english(sender: Any, instance: User, **kwargs: Any) -> None:
        if instance._state.adding:
            instance.language = "en"

    pre_save.connect(english, sender=User, dispatch_uid="english-readers")
    yield
    pre_save.disconnect(sender=User, dispatch_uid="english-readers")


def at(hour: int, day: int = 0) -> datetime:
    local = timezone.localtime().replace(hour=hour, minute=5, second=0, microsecond=0)
    return local + timedelta(days=day)


def submitted(version: ServiceVersion, citizen: User, n: int) -> list[int]:
    return [cases.submit(act(citizen), version, NEWBORN_FORM)[0].pk for _ in range(n)]


def test_one_digest_a_day_from_the_hour_on(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User, settings: Any
) -> None:
    settings.SALTER_DIGEST_HOUR = 7
    ids = submitted(newborn_aid, citizen, 4)
    Notification.objects.all().delete()  # the receipts
    today = timezone.localdate()
    Task.objects.filter(case_id=ids[0]).update(assignee=clerk, due_at=today - timedelta(days=1))
    Task.objects.filter(case_id=ids[1]).update(due_at=today + timedelta(days=1))
    Task.objects.filter(case_id=ids[2]).update(assignee=head)  # someone else's work
    assert digest.enqueue_digests(now=at(6)) == 0  # too early
    assert digest.enqueue_digests(now=at(7)) == 2  # the clerk, and the head for their own task
    assert digest.enqueue_digests(now=at(9)) == 0  # once a day
    row = Notification.objects.get(recipient=clerk)
    assert (row.recipient, row.kind, row.channel) == (clerk, "digest", "email")
    assert row.dedupe_key == f"digest:{clerk.pk}:{today.isoformat()}:email"
    assert digest.counts(clerk.pk, {clerk_authority(clerk): 1}, today) == digest.Counts(
        queue=2, assigned=1, due_soon=1, overdue=1
    )
    assert "/official/cases/queue/" in row.body
    assert "2 cases wait in your queue" in row.body and "1 case is in your own work" in row.body
    assert "1 of them is overdue" in row.body
    assert "0 cases wait in your queue" in Notification.objects.get(recipient=head).body
    assert digest.enqueue_digests(now=at(8, day=1)) == 2  # the next day
    assert digest.enqueue_digests(today + timedelta(days=5), now=at(8)) == 0  # not yet


def clerk_authority(user: User) -> int:
    return int(user.memberships.values_list("unit__authority_id", flat=True).get())


def test_nothing_without_open_work_or_when_turned_off(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, make_official: Any
) -> None:
    other = make_official("druga@surdulica.demo", "Друга Службеница", Role.CLERK)
    assert digest.enqueue_digests(now=at(10)) == 0  # no case yet
    submitted(newborn_aid, citizen, 1)
    preferences.set(act(other), other, {("digest", "email"): False})
    assert digest.enqueue_digests(now=at(10)) == 1
    assert Notification.objects.filter(kind="digest").get().recipient == clerk


def test_the_clock_queues_and_runs_the_digest(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, settings: Any
) -> None:
    settings.SALTER_DIGEST_HOUR = 0
    submitted(newborn_aid, citizen, 1)
    call_command("clock", "--once", stdout=io.StringIO())
    names = {r.task_path for r in DBTaskResult.objects.all()}
    assert "salter.mailbox.tasks.send_digests" in names
    out = io.StringIO()
    call_command("clock", "--once", "--run", stdout=out)
    assert "digests queued: 1" in out.getvalue()
    assert Notification.objects.filter(kind="digest", recipient=clerk).count() == 1
