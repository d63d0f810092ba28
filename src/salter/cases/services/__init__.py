"""Use cases of the case engine — the only code that changes cases, their tasks, approvals and
numbers. Each runs in one transaction, checks permission and writes the audit event; find one
by its name here:

* :func:`submit` (:mod:`.submission`) — an application becomes a case;
* :func:`take_transition`, :func:`take_automatic_step`, :func:`withdraw` (:mod:`.transitions`);
  approval lines are recorded by :func:`take_transition` (:mod:`.approvals`);
* :func:`claim`, :func:`release`, :func:`assign`, :func:`assignable` (:mod:`.assignment`);
* :func:`comment` (:mod:`.comments`);
* :func:`next_sub_number`, :func:`carry_over` (:mod:`.numbers`) — a case's registry number and
  the sub-numbers of its acts.

The definition a case runs is the :class:`~salter.catalog.models.ServiceVersion` it was
submitted on (pinned), so publishing a new version never changes a running case. The apps that
take part in a case hear of it through :mod:`salter.cases.listeners`; the engine imports none.
"""

from salter.cases.services.assignment import assign, assignable, claim, release
from salter.cases.services.comments import comment
from salter.cases.services.numbers import carry_over, next_sub_number
from salter.cases.services.submission import submit
from salter.cases.services.transitions import take_automatic_step, take_transition, withdraw

__all__ = [
    "assign",
    "assignable",
    "carry_over",
    "claim",
    "comment",
    "next_sub_number",
    "release",
    "submit",
    "take_automatic_step",
    "take_transition",
    "withdraw",
]
