"""The clock's jobs: the periodic work each app registers and ``salter clock`` runs.

Each app registers its jobs when it loads (its ``tasks`` module, imported by its
``AppConfig.ready``): a name, the background task that ``salter clock`` enqueues for
``salter db_worker``, and the function that ``salter clock --run`` calls in its own process,
which says what it did as ``{"what": how many}``. The clock knows no app; a new app adds a job
without editing it. Every job is idempotent, so an extra run, a retried one or two at once
change nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Job:
    name: str
    task: Any  # a django_tasks Task: task.enqueue()
    run: Callable[[], Mapping[str, int]]
    order: int


_jobs: dict[str, Job] = {}


def register(
    name: str, *, task: Any, run: Callable[[], Mapping[str, int]], order: int = 100
) -> None:
    """Add a job (registering a name again replaces it: a module reloaded in a test)."""
    _jobs[name] = Job(name, task, run, order)


def jobs() -> list[Job]:
    return sorted(_jobs.values(), key=lambda job: (job.order, job.name))
