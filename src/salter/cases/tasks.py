"""Background tasks of the case engine (Django Tasks API). ``salter clock`` enqueues them
every ``SALTER_CLOCK_SECONDS``; ``salter db_worker`` runs them. Both are idempotent, so an
extra run, a retried one or two workers at once change nothing twice."""

from __future__ import annotations

from django_tasks import task

from salter.cases import timers


@task()
def run_timers() -> int:
    return timers.fire_timers()


@task()
def escalate_overdue() -> int:
    return timers.escalate_overdue()


@task()
def close_past_years() -> int:
    """Close the registry years that have ended and carry their open cases over."""
    from salter.core.context import Actor
    from salter.documents import yearend

    return sum(e.carried_over for e in yearend.close_past_years(Actor.system("command")))
