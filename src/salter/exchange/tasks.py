"""Background tasks of the exchange (Django Tasks API). A submission that needs evidence from a
register enqueues :func:`ask_evidence` after its commit, and ``salter clock`` enqueues it every
round, for ``salter db_worker`` to run; ``salter exchange_worker`` does the same work in a
loop of its own. Any number of runs at once ask each due request once
(:func:`salter.exchange.evidence.worker.ask_due` claims before it asks)."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone
from django_tasks import task

from salter.core import clock
from salter.exchange import access_log, notices
from salter.exchange.evidence import worker


@task()
def ask_evidence() -> int:
    """Ask the registers for the evidence that is due; how many requests were handled."""
    return sum(worker.ask_due().values())


@task()
def announce_reads() -> int:
    """Tell people of the reads of their data that became visible since the last run; how
    many notifications were queued."""
    return notices.announce().notices


@task()
def make_partitions() -> int:
    """Make the access log's partitions for this month and the next two (PostgreSQL; nothing
    to do elsewhere); how many were made."""
    return len(make_access_log_partitions())


def make_access_log_partitions() -> list[str]:
    if connection.vendor != "postgresql":
        return []
    return access_log.ensure_partitions(connection, timezone.localdate(), 3)


clock.register(
    "ask_evidence",
    task=ask_evidence,
    run=lambda: {"evidence requests asked": sum(worker.ask_due().values())},
    order=60,
)
clock.register(
    "announce_reads",
    task=announce_reads,
    run=lambda: {"notices of reads of personal data queued": notices.announce().notices},
    order=70,
)
clock.register(
    "make_partitions",
    task=make_partitions,
    run=lambda: {"access-log partitions made": len(make_access_log_partitions())},
    order=80,
)
