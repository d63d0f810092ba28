"""The access log's table: append-only, and on PostgreSQL partitioned by month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from salter.exchange import access_log, tracker
from salter.exchange.models import AccessRecord
from salter.identity.models import Person, User

pytestmark = pytest.mark.django_db


def _record(person: Person, at: datetime | None = None, reader: User | None = None) -> None:
    tracker.record(
        [person.pk],
        reader=tracker.Reader(user=reader, label="Тест", authority_id=None),
        action=AccessRecord.Action.CASE_READ,
        purpose="case_processing",
        items=["parent_name"],
        at=at,
    )


def test_a_record_is_never_changed_or_deleted_through_the_model() -> None:
    person = Person.objects.create(given_name="Ана")
    _record(person)
    record = AccessRecord.objects.get()
    with pytest.raises(ValueError, match="append-only"):
        record.save()
    with pytest.raises(ValueError, match="append-only"):
        record.delete()


def test_reads_are_not_logged_while_switched_off() -> None:
    person = Person.objects.create(given_name="Ана")
    with tracker.switched_off():
        _record(person)
    assert not AccessRecord.objects.exists()
    _record(person)
    assert AccessRecord.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL partitions")
def test_on_postgresql_the_database_refuses_update_and_delete() -> None:
    person = Person.objects.create(given_name="Ана")
    _record(person)
    for statement in (
        "UPDATE exchange_accessrecord SET purpose = 'x'",
        "DELETE FROM exchange_accessrecord",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
    assert AccessRecord.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL partitions")
def test_on_postgresql_each_month_has_its_partition_and_others_fall_to_the_default() -> None:
    call_command("access_log_partitions", "--months", "2")
    person = Person.objects.create(given_name="Ана")
    now = datetime.now(UTC)
    _record(person, at=now)
    _record(person, at=datetime(2001, 5, 17, tzinfo=UTC))  # no partition that far back
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text, at FROM exchange_accessrecord")
        where = {at.year: table for table, at in cursor.fetchall()}
    assert where[now.year] == access_log.partition_name(now.date().replace(day=1))
    assert where[2001] == "exchange_accessrecord_default"
    names = access_log.partitions(connection)
    assert access_log.partition_name(access_log.next_month(now.date())) in names
    # Running it again makes nothing new.
    assert access_log.ensure_partitions(connection, now.date(), 2) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL partitions")
def test_on_postgresql_a_month_read_before_its_partition_gets_it_with_its_rows() -> None:
    """The clock did not run for months: reads of a month with no partition went to the
    default; making the month's partition later moves them there, ids and all, and leaves the
    default's other rows where they were."""
    person = Person.objects.create(given_name="Ана")
    later = access_log.month_start(datetime.now(UTC).date() + timedelta(days=400))
    name = access_log.partition_name(later)
    early = datetime(later.year, later.month, 1, 0, 30, tzinfo=UTC)
    late = datetime(later.year, later.month, 28, 23, 0, tzinfo=UTC)
    old = datetime(2001, 5, 17, tzinfo=UTC)
    for at in (early, late, old):
        _record(person, at=at)
    before = set(AccessRecord.objects.values_list("id", "at"))
    assert access_log.ensure_partitions(connection, later, 1) == [name]
    with connection.cursor() as cursor:
        cursor.execute("SELECT at, tableoid::regclass::text FROM exchange_accessrecord")
        where = dict(cursor.fetchall())
    assert where == {early: name, late: name, old: "exchange_accessrecord_default"}
    assert set(AccessRecord.objects.values_list("id", "at")) == before  # ids kept
    assert name in access_log.partitions(connection)
    assert "exchange_accessrecord_default" in access_log.partitions(connection)
    # Still append-only, the new partition and the new default alike.
    for table in (name, "exchange_accessrecord_default"):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 — our own table names
    assert AccessRecord.objects.count() == 3


def test_months_roll_over_the_year() -> None:
    from datetime import date

    assert access_log.next_month(date(2026, 12, 15)) == date(2027, 1, 1)
    assert access_log.partition_name(date(2027, 1, 1)) == "exchange_accessrecord_202701"


def test_the_clock_makes_the_coming_months_partitions() -> None:
    from salter.exchange import tasks

    made = tasks.make_access_log_partitions()
    if connection.vendor != "postgresql":
        assert made == []
        return
    names = access_log.partitions(connection)
    this_month = datetime.now(UTC).date().replace(day=1)
    assert access_log.partition_name(this_month) in names
    assert access_log.partition_name(access_log.next_month(this_month)) in names
