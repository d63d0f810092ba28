"""The outbox worker in this process, against a real SMTP server on 127.0.0.1: what it sends,
how it retries, when it gives up, how a dead worker's rows are taken over."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.header import decode_header, make_header
from typing import Any

import pytest
from conftest import free_port
from django.core.management import call_command
from django.utils import timezone

from salter.identity.models import User
from salter.mailbox import outbox, preferences
from salter.mailbox.channels import StoringAdapter
from salter.mailbox.models import Notification, StoredMessage
from salter.mailbox.tests.conftest import act
from salter.mailbox.tests.smtp import Server, smtp_server
from salter.mailbox.worker import MAX_BACKOFF, Worker, backoff

pytestmark = pytest.mark.django_db

TEMPLATE = "mailbox/notifications/digest.txt"
State = Notification.State


@pytest.fixture
def smtp(settings: Any) -> Iterator[Server]:
    with smtp_server() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        yield server


def person(email: str, **extra: Any) -> User:
    return User.objects.create_user(email, "x", full_name="Ана Анић", **extra)


def queue(user: User, kind: str = outbox.CASE, **extra: Any) -> list[Notification]:
    counts = {"queue": 2, "assigned": 1, "due_soon": 1, "overdue": 0}
    context = {"counts": counts, "day": timezone.localdate(), "path": "/official/cases/queue/"}
    return outbox.notify(user, kind, TEMPLATE, context, **extra)


def travel_to_next_attempt() -> None:
    Notification.objects.filter(state=State.PENDING).update(next_attempt_at=timezone.now())


def subject(message: Any) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_sends_each_email_once_with_its_message_id_and_language(smtp: Server) -> None:
    users = [person(f"{lang}@example.rs", language=lang) for lang in ("sr", "sr-latn", "en")]
    rows = [queue(u)[0] for u in users]
    counts = Worker(batch=2).run(once=True)  # two batches
    assert counts == {"sent": 3}
    arrived = {a.message_id: a for a in smtp.received()}
    assert set(arrived) == {r.message_id for r in rows}
    for row in rows:
        message = arrived[row.message_id].message
        assert message["To"] == row.address and subject(message) == row.subject
        assert message["Auto-Submitted"] == "auto-generated"
        assert arrived[row.message_id].body.replace("\r\n", "\n").strip() == row.body.strip()
    languages = {arrived[r.message_id].message["Content-Language"] for r in rows}
    assert languages == {"sr-Cyrl", "sr-Latn", "en"}
    for row in Notification.objects.all():
        assert (row.state, row.attempts, row.claim, row.lease_until) == (State.SENT, 1, "", None)
        assert row.sent_at is not None
    assert Worker().run(once=True) == {}  # nothing twice


def test_server_down_retries_with_growing_backoff_then_sends(settings: Any, smtp: Server) -> None:
    settings.EMAIL_PORT = free_port()  # nothing listens there
    settings.SALTER_OUTBOX_BACKOFF = 30
    (row,) = queue(person("ana@example.rs"))
    waits = []
    for attempt in (1, 2):
        before = timezone.now()
        assert Worker().run(once=True) == {"retried": 1}
        row.refresh_from_db()
        assert (row.state, row.attempts, row.claim) == (State.PENDING, attempt, "")
        assert "cannot connect" in row.last_error
        waits.append((row.next_attempt_at - before).total_seconds())
        assert Worker().run(once=True) == {}  # not due yet
        travel_to_next_attempt()
    assert 15 <= waits[0] <= 31 and 30 <= waits[1] <= 61  # 30 s × 2^(n−1) × 0.5–1
    settings.EMAIL_PORT = smtp.port  # the server is back
    assert Worker().run(once=True) == {"sent": 1}
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == (State.SENT, 3, "")
    assert smtp.message_ids() == {row.message_id: 1}


def test_backoff_is_exponential_capped_and_jittered() -> None:
    for attempts in range(1, 8):
        wait = backoff(attempts, base=10).total_seconds()
        assert 10 * 2 ** (attempts - 1) / 2 <= wait <= 10 * 2 ** (attempts - 1)
    assert backoff(40, base=10) <= MAX_BACKOFF
    assert len({backoff(3, base=10) for _ in range(20)}) > 1


def test_gives_up_after_the_last_attempt(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.SALTER_OUTBOX_MAX_ATTEMPTS = 3
    (row,) = queue(person("ana@example.rs"))
    outcomes = []
    for _attempt in range(4):
        outcomes.append(Worker().run(once=True))
        travel_to_next_attempt()
    assert outcomes == [{"retried": 1}, {"retried": 1}, {"failed": 1}, {}]
    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.FAILED, 3)
    assert row.last_error.startswith("gave up after 3 attempts: cannot connect")


def test_a_5xx_answer_fails_at_once_and_the_batch_goes_on(smtp: Server) -> None:
    smtp.refuse["nobody@example.rs"] = "550 5.1.1 No such user here"
    smtp.refuse["full@example.rs"] = "452 4.2.2 Mailbox full, try later"
    nobody, full, fine = (person(f"{n}@example.rs") for n in ("nobody", "full", "fine"))
    rows = {u.email: queue(u)[0] for u in (nobody, full, fine)}
    assert Worker().run(once=True) == {"failed": 1, "retried": 1, "sent": 1}
    states = {n.address: (n.state, n.attempts) for n in Notification.objects.all()}
    assert states == {
        "nobody@example.rs": (State.FAILED, 1),
        "full@example.rs": (State.PENDING, 1),
        "fine@example.rs": (State.SENT, 1),
    }
    failed = Notification.objects.get(address="nobody@example.rs")
    assert failed.last_error.startswith("550")
    assert smtp.message_ids() == {rows["fine@example.rs"].message_id: 1}


def test_sms_and_push_go_to_the_storing_adapter_once(smtp: Server) -> None:
    user = person("tel@example.rs", phone="+381641234567")
    preferences.set(act(user), user, {("case", "sms"): True, ("case", "push"): True})
    rows = queue(user)
    assert Worker().run(once=True) == {"sent": 3}
    stored = {s.channel: s for s in StoredMessage.objects.all()}
    assert set(stored) == {"sms", "push"}
    assert stored["sms"].address == "+381641234567"
    assert stored["sms"].text.startswith(rows[0].subject)
    sms = Notification.objects.get(channel="sms")
    StoringAdapter().send(sms)  # a repeat (a worker killed after storing, before marking)
    assert StoredMessage.objects.filter(notification=sms).count() == 1
    assert len(smtp.received()) == 1


def test_a_dead_workers_rows_wait_for_its_lease_then_are_taken_over(smtp: Server) -> None:
    rows = [queue(person(f"u{i}@example.rs"))[0] for i in range(3)]
    dead = Worker(lease=60)
    batch = dead.claim()  # … and the worker dies before sending
    assert batch is not None and [r.pk for r in batch.rows] == [r.pk for r in rows]
    assert Worker().claim() is None  # leased: nobody else may send them
    held = Notification.objects.get(pk=rows[0].pk)
    assert held.claim == batch.token and held.lease_until == held.next_attempt_at
    # The lease runs out (for everybody's clock).
    Notification.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    batch.until = timezone.now() - timedelta(seconds=1)
    assert Worker().run(once=True) == {"sent": 3}
    dead.send(batch)  # came back to life: it renews first and finds the rows no longer its own
    assert smtp.message_ids() == {r.message_id: 1 for r in rows}
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}


def test_a_stopping_worker_hands_its_batch_back(smtp: Server) -> None:
    rows = [queue(person(f"u{i}@example.rs"))[0] for i in range(3)]
    worker = Worker()
    batch = worker.claim()
    assert batch is not None
    worker.stop()
    worker.send(batch)
    for row in Notification.objects.all():
        assert (row.state, row.claim, row.attempts, row.lease_until) == ("pending", "", 0, None)
        assert row.next_attempt_at <= timezone.now()
    assert Worker().run(once=True) == {"sent": 3}
    assert smtp.message_ids() == {r.message_id: 1 for r in rows}


def test_a_long_batch_renews_its_lease(smtp: Server) -> None:
    rows = [queue(person(f"u{i}@example.rs"))[0] for i in range(3)]
    worker = Worker(lease=60)
    batch = worker.claim()
    assert batch is not None
    batch.until = timezone.now() + timedelta(seconds=10)  # as if 50 s had gone by
    Notification.objects.filter(pk=rows[2].pk).update(claim="someone-else")  # taken over
    worker.send(batch)
    assert batch.until > timezone.now() + timedelta(seconds=50)
    assert smtp.message_ids() == {r.message_id: 1 for r in rows[:2]}
    assert Notification.objects.get(pk=rows[2].pk).state == State.PENDING


def test_the_command(smtp: Server, capsys: Any) -> None:
    queue(person("ana@example.rs"))
    call_command("notify_worker", "--once", "--batch", "5")
    assert "sent: 1, retried later: 0, failed: 0" in capsys.readouterr().out
    assert len(smtp.received()) == 1


def test_the_notice_of_a_delivery_records_its_notified_step(
    approved: Any, citizen: User, clerk: User, smtp: Server
) -> None:
    from salter.cases import services as cases
    from salter.mailbox.models import Delivery
    from salter.mailbox.services import give_consent, mailbox_of

    give_consent(act(citizen), mailbox_of(citizen))
    cases.take_transition(act(clerk), approved, "deliver")
    delivery = Delivery.objects.get(case=approved)
    notice = Notification.objects.get(delivery=delivery, channel="email")
    assert notice.kind == "delivery" and notice.recipient == citizen
    Worker().run(once=True)
    notice.refresh_from_db()
    delivery.refresh_from_db()
    assert notice.state == State.SENT and delivery.notified_at == notice.sent_at
    assert notice.message_id in smtp.message_ids()
