"""Background tasks of the registry of documents (Django Tasks API), enqueued by ``salter
clock`` (:mod:`salter.core.clock`) and run by ``salter db_worker``."""

from __future__ import annotations

from collections.abc import Mapping

from django_tasks import task

from salter.core import clock
from salter.core.context import Actor
from salter.documents import yearend


@task()
def close_past_years() -> int:
    """Close the registry years that have ended and carry their open cases over."""
    return _close_past_years()["cases carried over"]


def _close_past_years() -> Mapping[str, int]:
    ended = yearend.close_past_years(Actor.system("command"))
    return {
        "registry years closed": len(ended),
        "cases carried over": sum(e.carried_over for e in ended),
    }


clock.register("close_past_years", task=close_past_years, run=_close_past_years, order=30)
