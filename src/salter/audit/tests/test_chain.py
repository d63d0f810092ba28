"""The audit chain: every change leaves a linked event, and tampering is caught."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from salter.audit import services
from salter.audit.models import AuditEvent
from salter.core.context import Actor

pytestmark = pytest.mark.django_db(transaction=True)


def _write(n: int) -> list[AuditEvent]:
    actor = Actor.system("command")
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(services.record(actor, "test.event", payload={"i": i}))
    return events


class _TriggerOff:
    """Tamper as an attacker with direct database access would: past the PostgreSQL trigger."""

    def __enter__(self) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only"
                )

    def __exit__(self, *exc: object) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only"
                )


def _sql(statement: str, params: list[Any]) -> None:
    with _TriggerOff(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_intact_chain_verifies() -> None:
    events = _write(5)
    report = services.verify()
    assert report.ok and report.checked == 5
    assert events[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))


def test_record_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        services.record(Actor.system(), "test.event")


def test_edited_payload_is_caught() -> None:
    events = _write(4)
    _sql("UPDATE audit_auditevent SET payload = %s WHERE id = %s", ['{"i": 99}', events[2].pk])
    report = services.verify()
    assert not report.ok and report.broken_at == events[2].pk
    assert "payload" in report.problem


def test_edited_field_is_caught() -> None:
    events = _write(4)
    _sql("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["test.other", events[1].pk])
    report = services.verify()
    assert not report.ok and report.broken_at == events[1].pk
    assert "content was changed" in report.problem


def test_edit_with_recomputed_hash_is_caught_by_the_next_link() -> None:
    events = _write(4)
    forged = AuditEvent.objects.get(pk=events[1].pk)
    forged.action = "test.forged"
    new_hash = services._hash_of(forged)
    _sql(
        "UPDATE audit_auditevent SET action = %s, hash = %s WHERE id = %s",
        ["test.forged", new_hash, events[1].pk],
    )
    report = services.verify()
    assert not report.ok and report.broken_at == events[2].pk


def test_deleted_event_is_caught() -> None:
    events = _write(5)
    _sql("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
    report = services.verify()
    assert not report.ok and report.broken_at == events[3].pk
    assert "deleted" in report.problem


def test_deleted_last_event_is_caught() -> None:
    events = _write(3)
    _sql("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk])
    report = services.verify()
    assert not report.ok
    assert "at the end" in report.problem


def test_reordered_events_are_caught() -> None:
    events = _write(4)
    a, b = events[1].pk, events[2].pk
    _sql("UPDATE audit_auditevent SET id = %s WHERE id = %s", [-1, a])
    _sql("UPDATE audit_auditevent SET id = %s WHERE id = %s", [a, b])
    _sql("UPDATE audit_auditevent SET id = %s WHERE id = %s", [b, -1])
    report = services.verify()
    assert not report.ok and report.broken_at == a


def test_command_reports_the_first_broken_link() -> None:
    events = _write(3)
    call_command("audit", "verify")
    _sql("UPDATE audit_auditevent SET object_id = %s WHERE id = %s", ["x", events[0].pk])
    with pytest.raises(CommandError, match=f"BROKEN at event #{events[0].pk}"):
        call_command("audit", "verify")


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_refuses_update_and_delete() -> None:
    events = _write(2)
    for statement in (
        "UPDATE audit_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement, [events[0].pk])
    assert services.verify().ok


def test_deferred_events_join_the_chain_together_at_the_end_of_the_block() -> None:
    actor = Actor.system("command")
    _write(1)
    with transaction.atomic():
        with services.deferred():
            first = services.record(actor, "test.deferred", payload={"i": 1})
            with services.deferred():  # nested: the outer block appends
                second = services.record(actor, "test.deferred", payload={"i": 2})
            assert first.pk is None and second.pk is None  # not yet in the chain
            assert AuditEvent.objects.count() == 1
        assert first.pk is not None and second.prev_hash == first.hash
    report = services.verify()
    assert report.ok and report.checked == 3

    # A block that fails appends nothing (and its transaction rolls back).
    with pytest.raises(ValueError), transaction.atomic(), services.deferred():
        services.record(actor, "test.deferred", payload={"i": 3})
        raise ValueError("the use case failed")
    assert AuditEvent.objects.count() == 3 and services.verify().ok
