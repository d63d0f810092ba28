"""Notices of reads: one per person per run, summarising the newest reads and linking to the
page; persons without an account get none; hidden reads are announced when they become
visible; a repeated run queues nothing; the clock runs it.

Every test runs at 05:00 of the day, whatever the hour the suite runs at: the clock also sends
the officials' daily digest from ``SALTER_DIGEST_HOUR`` (07:00) on, and an official of these
cases has open work, so later in the day the worker would send one more message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from time_machine import TimeMachineFixture

from salter.authorities.models import Authority, OrgUnit
from salter.core.context import Actor
from salter.exchange import notices, tracker
from salter.exchange.models import AccessRecord, NoticeCursor
from salter.identity.models import Person, User
from salter.mailbox import outbox
from salter.mailbox.models import Notification, NotificationPreference
from salter.mailbox.worker import Worker

from .tracker_helpers import World, signed_in, world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _before_the_digest(time_machine: TimeMachineFixture, settings: Any) -> None:
    """The clock at 05:00 today (local time), ticking on; autouse, so before any fixture makes
    data. Today's, not a fixed date: on PostgreSQL the access log is partitioned by month, and
    the partitions are made for the months from the day the test database was made."""
    settings.SALTER_DIGEST_HOUR = 7
    time_machine.move_to(timezone.localtime().replace(hour=5, minute=0, second=0, microsecond=0))


@pytest.fixture
def w(system: Actor, authority: Authority, unit: OrgUnit, citizen: User) -> World:
    return world(system, authority, unit, citizen)


def told() -> Any:
    """The notices of reads (the submission's own notice is not one)."""
    return Notification.objects.filter(dedupe_key__startswith="access:")


def _read(person: int, label: str, *, at: Any = None, hidden_until: Any = None) -> None:
    tracker.record(
        [person],
        reader=tracker.Reader(user=None, label=label, authority_id=None),
        action=AccessRecord.Action.API_READ,
        purpose="ex_officio_evidence",
        at=at,
        hidden_until=hidden_until,
    )


def test_a_person_is_told_once_of_the_reads_of_a_run(w: World) -> None:
    signed_in(w.clerk).get(reverse("official:case", args=[w.case.pk]))
    done = notices.announce()
    # three persons were read (applicant, parent, child), only the applicant has an account
    assert (done.persons, done.reads) == (1, 3)
    (notice,) = told()
    assert notice.recipient_id == w.citizen.pk and notice.kind == outbox.CASE
    assert notice.channel == Notification.Channel.EMAIL
    assert notice.dedupe_key is not None
    assert notice.dedupe_key.startswith(f"access:{w.person}:")
    assert notice.subject  # rendered in the citizen's language (sr by default)
    assert "Драган Референтовић" in notice.body
    assert w.authority.name in notice.body  # Serbian: the user's language
    assert reverse("exchange:access_log") in notice.body
    assert NoticeCursor.objects.get().visible_until == done.visible_until

    assert notices.announce().notices == 0  # nothing new, nothing twice
    assert told().count() == 1


def test_persons_without_an_account_are_not_told(w: World) -> None:
    child = w.child.pk
    _read(child, "Матична служба")
    assert notices.announce().notices == 0
    assert not told().exists()
    # the child registers later: the next reads are told, the old ones are on the page
    User.objects.create_user("dete@example.rs", "x" * 20, full_name="Лука", person_id=child)
    _read(child, "Пореска управа")
    notices.announce()
    (notice,) = told()
    assert "Пореска управа" in notice.body and "Матична служба" not in notice.body


def test_a_hidden_read_is_announced_when_it_becomes_visible(w: World) -> None:
    until = timezone.now() + timedelta(days=10)
    _read(w.person, "Истражитељ", hidden_until=until)
    assert notices.announce().notices == 0
    assert notices.announce(now=until - timedelta(seconds=1)).notices == 0
    done = notices.announce(now=until + timedelta(seconds=1))
    assert done.notices == 1 and done.reads == 1
    assert "Истражитељ" in told().get().body


def test_the_notice_names_five_reads_and_counts_the_rest(w: World) -> None:
    now = timezone.now()
    for minute in range(8):
        _read(w.person, f"Читалац {minute}", at=now - timedelta(minutes=minute))
    User.objects.filter(pk=w.citizen.pk).update(language="en")
    notices.announce()
    body = told().get().body
    for minute in range(5):
        assert f"Читалац {minute}" in body
    assert "Читалац 5" not in body
    assert "and 3 more reads" in body
    assert "Your data was read 8 times" in told().get().subject


def test_one_notice_per_person(w: World) -> None:
    kid = User.objects.create_user("dete@example.rs", "x" * 20, full_name="Лука", person=w.child)
    signed_in(w.clerk).get(reverse("official:case", args=[w.case.pk]))
    signed_in(w.clerk).get(reverse("official:case", args=[w.case.pk]))
    assert notices.announce().notices == 2
    assert set(told().values_list("recipient_id", flat=True)) == {
        w.citizen.pk,
        kid.pk,
    }


def test_a_person_who_turned_case_notices_off_is_not_told(w: World) -> None:
    NotificationPreference.objects.create(
        user=w.citizen, kind=outbox.CASE, channel=Notification.Channel.EMAIL, enabled=False
    )
    _read(w.person, "Службеник")
    done = notices.announce()
    assert done.notices == 0 and done.persons == 1
    assert not told().exists()


def test_a_large_backlog_is_taken_in_batches_oldest_first(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notices, "BATCH", 3)
    now = timezone.now()
    kid = User.objects.create_user("dete@example.rs", "x" * 20, full_name="Лука", person=w.child)
    for minute in range(5, 0, -1):
        _read(w.person, f"Читалац {minute}", at=now - timedelta(minutes=minute))
    _read(kid.person_id or 0, "Последњи", at=now)
    first = notices.announce(now=now + timedelta(seconds=1))
    assert first.reads == 3 and first.persons == 1  # the three oldest: all the applicant's
    second = notices.announce(now=now + timedelta(seconds=1))
    assert second.reads == 3 and second.persons == 2
    assert notices.announce(now=now + timedelta(seconds=1)).reads == 0
    assert told().filter(recipient=w.citizen).count() == 2
    assert told().filter(recipient=kid).count() == 1


def test_the_clock_announces_and_the_worker_sends_it(w: World, mailbox: Any) -> None:
    _read(w.person, "Службеник")
    call_command("clock", "--once", "--run", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert told().filter(recipient=w.citizen).count() == 1
    assert Worker().run(once=True) == {"sent": 2}  # and the submission's notice
    sent = [m for m in mailbox.to(w.citizen.email) if "Службеник" in mailbox.body(m)]
    assert len(sent) == 1
    assert Person.objects.filter(pk=w.person).exists()
