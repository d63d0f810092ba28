"""Notifications a case's progress causes, queued in the case's own transaction.

:mod:`salter.cases.services` calls these two functions while it registers or moves a case, so
the notice is committed with the step or not at all (:mod:`salter.mailbox.outbox`).

* :func:`on_submitted` — the applicant's receipt: registered under its registry number.
* :func:`on_move` — what the service's definition asks for under ``notifications``: each
  ``{"on": "transition:<id>" | "state:<name>", "to": "applicant" | <role>, "template": …}``
  that matches the step. A role means the officials of the case's authority holding it today:
  only the one who has the case's task in their own work, if any; else only those who already
  took a step of the case in that role, if any; else all of them.

Both are cheap when nothing is to be sent: a step that no entry names costs no query. An entry
that matches costs one query for its recipients (none for the applicant once loaded), one for
their preferences and one INSERT.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef
from django.urls import reverse

from salter.cases import access, workflow
from salter.cases.models import Case, CaseEvent, Task
from salter.cases.timeline import MOVES
from salter.identity.models import Membership, User
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


def _officials(case: Case, role: str) -> list[User]:
    """The officials of the case's authority holding ``role`` today — narrowed to the one who
    has the case's task in their work, else to those who already acted on the case in that
    role (the clerk who asked for the supplement hears of the answer), else all of them.
    Only memberships that reach the case (its unit, its level) count: nobody hears of a case
    they cannot open. One query (two for a case of a unit: the units above it)."""
    reach, _stand_ins = access.reach_filters(case)
    memberships = (
        Membership.objects.in_force()
        .filter(unit__authority_id=case.authority_id, role=role, user__is_active=True)
        .filter(reach)
        .select_related("user")
        .annotate(
            assigned=Exists(Task.objects.filter(case_id=case.pk, assignee=OuterRef("user"))),
            acted=Exists(
                CaseEvent.objects.filter(
                    case_id=case.pk, actor=OuterRef("user"), actor_role=role, kind__in=MOVES
                )
            ),
        )
        .order_by("user_id")
    )
    found = {m.user_id: m for m in memberships}  # a role in two units counts once
    for mark in ("assigned", "acted"):
        narrowed = [m.user for m in found.values() if getattr(m, mark)]
        if narrowed:
            return narrowed
    return [m.user for m in found.values()]


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
        recipients = [case.applicant] if to_applicant else _officials(case, entry["to"])
        outbox.enqueue(
            recipients,
            outbox.CASE,
            entry["template"],
            _context(case, official=not to_applicant),
            case=case,
        )
