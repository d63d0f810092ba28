"""Background tasks of the case engine (Django Tasks API). ``salter clock`` enqueues them
every ``SALTER_CLOCK_SECONDS`` (:mod:`salter.core.clock`); ``salter db_worker`` runs them.
Both are idempotent, so an extra run, a retried one or two workers at once change nothing
twice."""

from __future__ import annotations

from django_tasks import task

from salter.cases import timers
from salter.core import clock


@task()
def run_timers() -> int:
    return timers.fire_timers()


@task()
def escalate_overdue() -> int:
    return timers.escalate_overdue()


clock.register(
    "run_timers", task=run_timers, run=lambda: {"timers taken": timers.fire_timers()}, order=10
)
clock.register(
    "escalate_overdue",
    task=escalate_overdue,
    run=lambda: {"tasks escalated": timers.escalate_overdue()},
    order=20,
)
