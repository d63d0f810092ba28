"""Kill the outbox worker (SIGKILL, a real process) in the middle of an SMTP transaction,
start another, and count what arrived at a real SMTP server.

* Killed before the server accepted the message (stalled at RCPT TO): every notification
  arrives exactly once, and every row ends ``sent``.
* Killed after the server took the message but before its "250" reached us (RFC 1047's
  window, see :mod:`salter.mailbox.worker`): that one message arrives twice — with the same
  Message-ID, so the receiver can drop the repeat — and nothing else is repeated or lost.

The workers are ``salter notify_worker`` processes on the test's own database: the PostgreSQL
test database itself, or, for SQLite (whose test database lives in this process's memory), a
copy in a file that is read back into memory afterwards.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from django.utils import timezone

from salter.identity.models import User
from salter.mailbox import outbox
from salter.mailbox.models import Notification
from salter.mailbox.tests.smtp import Server, smtp_server

SRC = Path(__file__).resolve().parents[3]
N = 8  # notifications
K = 4  # the worker dies in the middle of the K-th


@contextmanager
def shared_database(tmp_path: Path) -> Iterator[str]:
    """A DATABASE_URL another process can open, holding what this test committed; whatever
    the other processes wrote is visible here when the block ends."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        password = f":{quote(settings['PASSWORD'])}" if settings["PASSWORD"] else ""
        host = f"{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
        yield f"postgres://{quote(settings['USER'])}{password}@{host}/{settings['NAME']}"
        return
    path = tmp_path / "outbox.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(path) as copy:
        connection.connection.backup(copy)
    yield f"sqlite:///{path}"
    with sqlite3.connect(path) as copy:
        copy.backup(connection.connection)


def start_worker(database_url: str, smtp_port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "salter.settings.test",
        "DATABASE_URL": database_url,
        "SALTER_TEST_SMTP_PORT": str(smtp_port),
        "SALTER_OUTBOX_LEASE_SECONDS": "1",
        "SALTER_OUTBOX_POLL_SECONDS": "0.1",
        "SALTER_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "salter", "notify_worker", "--batch", str(N)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def output(process: subprocess.Popen[bytes]) -> str:
    assert process.stdout is not None
    return process.stdout.read().decode(errors="replace")


def enqueue() -> list[Notification]:
    counts = {"queue": 1, "assigned": 0, "due_soon": 0, "overdue": 0}
    context = {"counts": counts, "day": timezone.localdate(), "path": "/official/cases/queue/"}
    rows = []
    with transaction.atomic():
        for i in range(N):
            user = User.objects.create_user(f"u{i}@example.rs", "x", full_name=f"Корисник {i}")
            rows += outbox.notify(user, outbox.CASE, "mailbox/notifications/digest.txt", context)
    return rows


def kill_then_restart(server: Server, database_url: str) -> None:
    first = start_worker(database_url, server.port)
    try:
        assert server.stalled.wait(60), output(first) if first.poll() is not None else "no stall"
        assert len(server.message_ids()) in (K - 1, K)  # K: taken, its "250" held back
        first.kill()  # SIGKILL: no handler, no clean-up
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
        first.wait(10)
    server.release.set()  # the stalled SMTP session ends; its client is gone
    second = start_worker(database_url, server.port)
    try:
        server.wait_for(N, timeout=60)
        second.send_signal(signal.SIGTERM)  # finishes the message in hand, then exits
        assert second.wait(30) == 0, output(second)
    finally:
        if second.poll() is None:
            second.kill()
            second.wait(10)


@pytest.mark.django_db(transaction=True)
def test_killed_before_the_server_accepts_every_notification_arrives_once(
    tmp_path: Path, settings: Any
) -> None:
    rows = enqueue()
    with smtp_server(stall_at_rcpt=K) as server, shared_database(tmp_path) as database_url:
        kill_then_restart(server, database_url)
    assert server.message_ids() == Counter({row.message_id: 1 for row in rows})
    states = dict(Notification.objects.values_list("pk", "state"))
    assert states == {row.pk: "sent" for row in rows}
    # A send cut short by the kill is not counted: it had no outcome.
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_killed_between_the_servers_250_and_our_commit_the_repeat_keeps_its_message_id(
    tmp_path: Path, settings: Any
) -> None:
    rows = enqueue()
    with smtp_server(stall_after_data=K) as server, shared_database(tmp_path) as database_url:
        kill_then_restart(server, database_url)
    repeated = rows[K - 1].message_id
    assert server.message_ids() == Counter(
        {row.message_id: 2 if row.message_id == repeated else 1 for row in rows}
    )
    twice = [a for a in server.received() if a.message_id == repeated]
    assert twice[0].body == twice[1].body and twice[0].message["To"] == twice[1].message["To"]
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}
