"""Approval lines: each approver's approval (and opinion) of a transition, sequential or
parallel, in their own right or standing in for someone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.cases import timeline, workflow
from salter.cases.access import role_mask
from salter.cases.errors import CaseError
from salter.cases.models import Approval, Case, CaseEvent, Task
from salter.cases.services.common import (
    Acting,
    acting_role,
)
from salter.core.context import Actor


def _approved(case: Case) -> dict[str, set[int]]:
    """The approval steps recorded in the current visit of the case's state."""
    found: dict[str, set[int]] = {}
    rows = Approval.objects.filter(case=case, state_version=case.state_version).values_list(
        "transition_id", "step", "actor_id"
    )
    for transition_id, step, _actor in rows:
        found.setdefault(transition_id, set()).add(step)
    return found


def approval_step(actor: Actor, case: Case, transition: Mapping[str, Any]) -> tuple[int, Acting]:
    """The step of the transition's approval line that ``actor`` may record now, and in which
    capacity. One person records one step of a line; a sequential line takes its steps in
    order, a parallel one in any order."""
    assert actor.user is not None
    recorded = Approval.objects.filter(
        case=case, state_version=case.state_version, transition_id=transition["id"]
    ).values_list("step", "actor_id")
    done = {step for step, _actor in recorded}
    if any(actor_id == actor.user.pk for _step, actor_id in recorded):
        raise CaseError(
            _("You have already recorded your approval; the approval line waits for the others.")
        )
    steps = transition["approval"]["steps"]
    pending = workflow.pending_steps(transition, done)
    for index in pending:
        try:
            return index, acting_role(actor, case, [steps[index]["role"]])
        except PermissionDenied:
            continue
    waiting = ", ".join(workflow.text(steps[i]["label"]) for i in pending) or "—"
    raise PermissionDenied(_("The approval line now waits for: %(steps)s.") % {"steps": waiting})


def record_approval(
    actor: Actor,
    case: Case,
    transition: Mapping[str, Any],
    step: int,
    acting: Acting,
    opinion: str,
    entered: Mapping[str, Any],
    calculated: Mapping[str, str],
) -> bool:
    """Record one approval; ``True`` when it completed the line (the caller moves the case).
    An approval that does not complete the line is an event of its own and counts as a change
    of the case (``version``), so a page shown before it is refused as out of date."""
    assert actor.user is not None
    now = timezone.now()
    line = transition["approval"]["steps"]
    Approval.objects.create(
        case=case,
        state_version=case.state_version,
        transition_id=transition["id"],
        step=step,
        role=acting.role,
        actor=actor.user,
        unit_id=acting.unit_id,
        mark=acting.mark,
        principal=acting.principal,
        opinion=opinion,
        at=now,
    )
    approved = _approved(case)
    complete = len(approved.get(transition["id"], set())) == len(line)
    audit.record(
        actor,
        "case.approval",
        case,
        authority_id=case.authority_id,
        payload={
            "transition": transition["id"],
            "step": step,
            "role": acting.role,
            "mark": acting.mark,
        },
    )
    if complete:  # the transition's own event tells it, with this last approval
        return True
    timeline.record(
        case,
        CaseEvent.Kind.APPROVAL,
        actor,
        at=now,
        role=acting.role,
        unit_id=acting.unit_id,
        transition_id=transition["id"],
        opinion=opinion,
        payload={"step": step, "step_label": line[step]["label"], **acting.payload()},
    )
    case.version += 1
    case.inputs = {**case.inputs, **entered, **calculated}
    case.save(update_fields=["version", "inputs"])
    definition = case.service_version.definition
    roles = workflow.task_roles(definition, case.state, approved)
    Task.objects.filter(case=case).update(roles=roles, role_mask=role_mask(roles))
    return False
