"""Notifications a case's progress causes, queued in the case's own transaction.

:mod:`salter.mailbox.listeners` calls these two functions when the case engine announces a
submission or a move, inside the step's transaction, so the notice is committed with the step
or not at all (:mod:`salter.mailbox.outbox`).

* :func:`on_submitted` — the applicant's receipt: registered under its registry number.
* :func:`on_move` — what the service's definition asks for under ``notifications``: each
  ``{"on": "transition:<id>" | "state:<name>", "to": "applicant" | <role>, "template": …}``
  that matches the step. A role means the officials of the case's authority holding it today:
  only the one who has the case's task in their own work, if any; else only those who already
  took a step of the case in that role, if any; else all of them
  (:func:`salter.cases.access.officials_to_notify`).

Both are cheap when nothing is to be sent: a step that no entry names costs no query. An entry
that matches costs one query for its recipients (none for the applicant once loaded), one for
their preferences and one INSERT.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from salter.cases import access, workflow
from salter.cases.models import Case
from salter.mailbox import outbox

SUBMITTED = "mailbox/notifications/case_submitted.txt"


def _context(case: Case, *, official: bool) -> dict[str, Any]:
    definition = case.service_version.definition
    state = case.state
    page = "official:case" if official else "cases:detail"
    return {
        "case": case,
        "service": case.service_version.service,
        "authority": case.authority,
        "inputs": case.inputs,
        # Called by the template while the recipient's language is active.
        "state": lambda: workflow.state_label(definition, state),
        "path": reverse(page, args=[case.pk]),
    }


def on_submitted(case: Case) -> None:
    """The applicant's receipt: the application was registered under its number."""
    outbox.notify(case.applicant, outbox.CASE, SUBMITTED, _context(case, official=False), case=case)


def on_move(case: Case, transition_id: str, source: str, to: str) -> None:
    """The definition's ``notifications`` for ``transition:<id>`` and ``state:<to>``."""
    wanted = {f"transition:{transition_id}", f"state:{to}"} if transition_id else {f"state:{to}"}
    entries = [
        entry
        for entry in case.service_version.definition.get("notifications", ())
        if entry.get("on") in wanted
    ]
    for entry in entries:
        to_applicant = entry["to"] == workflow.APPLICANT
        recipients = (
            [case.applicant] if to_applicant else access.officials_to_notify(case, entry["to"])
        )
        outbox.enqueue(
            recipients,
            outbox.CASE,
            entry["template"],
            _context(case, official=not to_applicant),
            case=case,
        )
