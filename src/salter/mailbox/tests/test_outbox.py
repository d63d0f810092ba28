"""The outbox: what notify() writes, in which language, for which channels, and only once."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from salter.cases import services as cases
from salter.catalog.models import ServiceVersion
from salter.core.context import Actor
from salter.identity.models import User
from salter.mailbox import outbox, preferences
from salter.mailbox.models import Notification
from salter.mailbox.tests.conftest import NEWBORN_FORM, act

pytestmark = pytest.mark.django_db

RECEIPT = "mailbox/notifications/case_submitted.txt"
Channel = Notification.Channel


def person(email: str, **extra: Any) -> User:
    return User.objects.create_user(email, "x", full_name="Јована Јовановић", **extra)


def channels(rows: list[Notification]) -> list[str]:
    return sorted(r.channel for r in rows)


def digest_context() -> dict[str, Any]:
    counts = {"queue": 1, "assigned": 0, "due_soon": 0, "overdue": 0}
    return {"counts": counts, "day": timezone.localdate(), "path": "/official/cases/queue/"}


def test_email_only_by_default(citizen: User) -> None:
    rows = outbox.notify(
        citizen, outbox.DIGEST, "mailbox/notifications/digest.txt", digest_context()
    )
    assert channels(rows) == ["email"]
    row = Notification.objects.get()
    assert (row.address, row.state, row.attempts, row.language) == (
        citizen.email,
        "pending",
        0,
        "sr",
    )
    assert row.next_attempt_at <= timezone.now() and row.message_id == (
        f"<notification-{row.pk}@salter.localhost>"
    )


def test_sms_needs_a_phone_and_a_choice_push_a_choice(system: Actor) -> None:
    with_phone = person("telefon@example.rs", phone="+381641234567")
    without = person("bez@example.rs")
    for user in (with_phone, without):
        preferences.set(
            act(user), user, {(outbox.CASE, Channel.SMS): True, (outbox.CASE, Channel.PUSH): True}
        )
    context = digest_context()
    template = "mailbox/notifications/digest.txt"
    assert channels(outbox.notify(with_phone, outbox.CASE, template, context)) == [
        "email",
        "push",
        "sms",
    ]
    assert channels(outbox.notify(without, outbox.CASE, template, context)) == ["email", "push"]
    sms = Notification.objects.get(channel="sms")
    assert sms.address == "+381641234567"
    assert Notification.objects.get(channel="push", recipient=with_phone).address == (
        f"user:{with_phone.pk}"
    )
    # Without a choice, a phone number alone brings no SMS.
    other = person("drugi@example.rs", phone="+381641234568")
    assert channels(outbox.notify(other, outbox.CASE, template, context)) == ["email"]


def test_a_kind_turned_off_writes_nothing_unless_mandatory(citizen: User) -> None:
    preferences.set(act(citizen), citizen, {(outbox.CASE, Channel.EMAIL): False})
    template, context = "mailbox/notifications/digest.txt", digest_context()
    assert outbox.notify(citizen, outbox.CASE, template, context) == []
    assert Notification.objects.count() == 0
    legal = outbox.notify(citizen, outbox.CASE, template, context, mandatory=True)
    assert channels(legal) == ["email"]


def test_the_same_dedupe_key_adds_nothing_and_the_transaction_goes_on(citizen: User) -> None:
    template, context = "mailbox/notifications/digest.txt", digest_context()
    first = outbox.notify(citizen, outbox.MESSAGE, template, context, dedupe_key="receipt:7")
    again = outbox.notify(citizen, outbox.MESSAGE, template, context, dedupe_key="receipt:7")
    assert channels(first) == ["email"] and again == []
    assert Notification.objects.get().dedupe_key == "receipt:7:email"
    # Turning SMS on later adds the SMS for the same key, once; the e-mail is not repeated.
    citizen.phone = "+381641234567"
    citizen.save()
    preferences.set(act(citizen), citizen, {(outbox.MESSAGE, Channel.SMS): True})
    late = outbox.notify(citizen, outbox.MESSAGE, template, context, dedupe_key="receipt:7")
    assert channels(late) == ["sms"]
    assert Notification.objects.count() == 2


@pytest.mark.parametrize(
    ("language", "subject", "body"),
    [
        ("sr", "Предмет", ["Поштовани/а Јована Јовановић,", "Општина Сурдулица", "деловодни број"]),
        (
            "sr-latn",
            "Predmet",
            ["Poštovani/a Jovana Jovanović,", "Opština Surdulica", "delovodni broj"],
        ),
        ("en", "Case", ["Hello Јована Јовановић,", "Municipality of Surdulica", "registry number"]),
    ],
)
def test_in_the_recipients_language(
    newborn_aid: ServiceVersion, language: str, subject: str, body: list[str]
) -> None:
    applicant = person(f"{language}@example.rs", language=language)
    case, _created = cases.submit(act(applicant), newborn_aid, NEWBORN_FORM)
    row = Notification.objects.get(recipient=applicant)
    assert (row.kind, row.case_id, row.language) == ("case", case.pk, language)
    assert row.subject.startswith(f"{subject} {case.registry_number} — ")
    for text in body:
        assert text in row.body
    assert f"http://127.0.0.1:8000/cases/{case.pk}/" in row.body
    assert "/account/notifications/" in row.body
    if language == "sr-latn":
        assert not any("\u0400" <= ch <= "\u04ff" for ch in row.subject + row.body)


def test_a_template_must_start_with_its_subject(citizen: User) -> None:
    with pytest.raises(outbox.TemplateFormatError):
        outbox.notify(citizen, outbox.CASE, "identity/email/verify.txt", {"link": "x"})
    with pytest.raises(ValueError, match="unknown notification kind"):
        outbox.notify(citizen, "gossip", RECEIPT, {})


@pytest.mark.django_db(transaction=True)
def test_notify_runs_only_in_the_transaction_of_its_cause(citizen: User) -> None:
    template, context = "mailbox/notifications/digest.txt", digest_context()
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox.notify(citizen, outbox.CASE, template, context)
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        outbox.notify(citizen, outbox.CASE, template, context)
        _ = 1 / 0  # the change fails: its notification goes with it
    assert Notification.objects.count() == 0
    with transaction.atomic():
        outbox.notify(citizen, outbox.CASE, template, context)
    assert Notification.objects.count() == 1


def _listener() -> psycopg.Connection[Any]:
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    raw: psycopg.Connection[Any] = wrapper.connection
    raw.autocommit = True
    raw.execute(f"LISTEN {outbox.CHANNEL}")
    return raw


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_commit_wakes_the_worker_once_and_a_rollback_does_not(citizen: User) -> None:
    listener = _listener()
    template, context = "mailbox/notifications/digest.txt", digest_context()
    try:
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            outbox.notify(citizen, outbox.CASE, template, context)
            _ = 1 / 0
        assert list(listener.notifies(timeout=0.3)) == []
        with transaction.atomic():
            for _ in range(3):
                outbox.notify(citizen, outbox.CASE, template, context)
        woke = list(listener.notifies(timeout=1, stop_after=1))
        assert [n.channel for n in woke] == [outbox.CHANNEL]
        assert list(listener.notifies(timeout=0.3)) == []  # once per transaction
    finally:
        listener.close()


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_a_racing_duplicate_leaves_the_callers_transaction_usable(citizen: User) -> None:
    """Two transactions queue the same key at once: the second one's INSERT waits for the
    first, then the unique column refuses it inside a savepoint; the caller carries on."""
    template, context = "mailbox/notifications/digest.txt", digest_context()
    first_inserted, first_may_commit = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                outbox.notify(citizen, outbox.DIGEST, template, context, dedupe_key="k")
                first_inserted.set()
                first_may_commit.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_inserted.wait(10)
    with transaction.atomic():
        threading.Timer(0.3, first_may_commit.set).start()
        outcome["second"] = outbox.notify(citizen, outbox.DIGEST, template, context, dedupe_key="k")
        outcome["still_usable"] = User.objects.filter(pk=citizen.pk).exists()
    thread.join(10)
    assert outcome == {"second": [], "still_usable": True}
    assert Notification.objects.filter(dedupe_key="k:email").count() == 1
