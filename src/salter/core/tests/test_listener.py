"""The workers' LISTEN connection when the database server ends it (a restart, a failover):
the error is Django's ``DatabaseError``, which ``notify_worker`` and ``exchange_worker`` catch
to start again with fresh connections — psycopg's own error used to end the process."""

from __future__ import annotations

import time

import pytest
from django.db import DatabaseError, connection

from salter.core.listener import Listener

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def listener() -> Listener:
    if connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; elsewhere the workers poll")
    return Listener("salter_test_listener")


def end_its_session(listener: Listener) -> None:
    raw = listener.open()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [raw.info.backend_pid])


def test_a_wait_on_a_connection_the_server_ended_raises_djangos_database_error(
    listener: Listener,
) -> None:
    end_its_session(listener)
    with pytest.raises(DatabaseError):
        listener.wait(5, lambda: False)
    # What the workers do next: close, and open a fresh connection that hears notices.
    listener.close()
    listener.open()
    with connection.cursor() as cursor:
        cursor.execute("NOTIFY salter_test_listener")
    started = time.monotonic()
    listener.wait(5, lambda: False)
    assert time.monotonic() - started < 4  # woken by the notice, not by the time running out
    listener.close()
