"""Transitions: a step of the workflow taken by a person, the timer or the platform (an
automatic event), and the applicant's withdrawal; the apps hear of each move
(:class:`listeners.Moved`) and may hold a step (gates)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.cases import listeners, timeline, workflow
from salter.cases.errors import CaseError
from salter.cases.models import Case, CaseEvent
from salter.cases.services.approvals import approval_step, record_approval
from salter.cases.services.common import (
    TIMER,
    Acting,
    acting_role,
    already_done,
    invalid,
    lock,
    log,
    open_task,
    set_deadline,
)
from salter.catalog import formulas
from salter.core.context import Actor
from salter.identity.permissions import require_user


@transaction.atomic
def take_transition(
    actor: Actor,
    case: Case | int,
    transition_id: str,
    *,
    inputs: Mapping[str, Any] | None = None,
    opinion: str = "",
    expected_state: str | None = None,
    expected_version: int | None = None,
    confirmation: Any = None,
) -> Case:
    """Take one step of the workflow. The case row is locked first, so of two officials
    taking the same step at once exactly one succeeds; the other gets :class:`AlreadyDone`
    naming the first. ``expected_state``/``expected_version`` let a client say which case it
    saw, so a step taken meanwhile (even one that came back to the same state) is refused.

    A transition with ``requires_evidence`` waits until every piece of evidence the case asked
    a register for is settled (:func:`salter.exchange.evidence.events.awaited` says what it
    waits for).

    A transition with an approval line is taken in parts: each call records one approver's
    approval (and opinion) for the step of the line the caller may fill, and the call that
    records the last one moves the case.

    A step that makes an act (``transition["document"]``) makes it after the case has moved,
    in the same transaction (:mod:`salter.documents.acts`); a step that signs needs the
    signer's fresh second-factor ``confirmation`` (:class:`salter.identity.fresh.Confirmation`)."""
    if actor.user is None and actor.via != TIMER and not listeners.is_automatic(actor.via):
        require_user(actor)
    case = lock(case)
    definition = case.service_version.definition
    transition = workflow.transition(definition, transition_id)
    if transition is None:
        raise CaseError(_("This service has no step “%(id)s”.") % {"id": transition_id})
    if (
        case.closed_at is not None
        or case.state not in workflow.sources(transition)
        or (expected_state is not None and expected_state != case.state)
        or (expected_version is not None and expected_version != case.version)
    ):
        raise already_done(case)
    step: int | None = None
    if actor.user is None:  # the timer job, or an event (paid, delivered)
        if not (
            ("timer" in transition and actor.via == TIMER)
            or ("auto" in transition and transition["auto"] == actor.via)
        ):
            raise PermissionDenied(_("Only a person can take this step."))
        acting = Acting("")
    elif "approval" in transition:
        step, acting = approval_step(actor, case, transition)
    else:
        acting = acting_role(actor, case, transition["roles"])
    waiting = listeners.holds(case, transition)  # e.g. evidence asked of a register
    if waiting:
        raise CaseError(waiting)

    entered = dict(inputs or {})
    errors: dict[str, str] = {}
    if "input" in transition:
        errors.update(workflow.field_errors(transition["input"], entered))
    else:
        errors.update(dict.fromkeys(map(str, entered), _("There is no such field.")))
    opinion = opinion.strip()
    if transition.get("opinion") and not opinion:
        errors["opinion"] = _("Write your opinion: this step records it.")
    if errors:
        raise invalid(errors)

    values = {**case.data, **case.inputs, **entered}
    try:
        calculated = workflow.calculate(definition, values)
    except formulas.FormulaError as exc:
        raise invalid({"__all__": str(exc)}) from exc
    values.update(calculated)
    for name in transition.get("requires_fields", []):
        if not workflow.has_value(values.get(name)):
            errors[name] = _("This step needs a value for this field first.")
    guard = transition.get("guard")
    if guard is not None and not workflow.guard_holds(guard, values):
        errors[guard["field"]] = _(
            "The condition of this step (%(field)s %(op)s %(value)s) is not met."
        ) % {
            "field": guard["field"],
            "op": guard["op"],
            "value": guard["value"],
        }
    if errors:
        raise invalid(errors)

    if step is not None:
        done = record_approval(actor, case, transition, step, acting, opinion, entered, calculated)
        if not done:
            return case
    return _move(
        actor,
        case,
        transition=transition,
        to=transition["to"],
        acting=acting,
        opinion=opinion,
        entered=entered,
        calculated=calculated,
        confirmation=confirmation,
    )


def take_automatic_step(case: Case | int, event: str) -> Case | None:
    """The platform's automatic step: the transition of the case's workflow that waits for
    ``event`` — one an app declared (:func:`listeners.automatic`: ``paid`` when every fee is
    paid, ``delivered`` when the delivery of an act took effect) — if the case is in a state
    that has one; the moved case, or None. Called inside the transaction that recorded the
    event, so the event and the step commit together."""
    if not listeners.is_automatic(event):
        raise ValueError(f"no app declares the automatic event {event!r}")
    case_id = case if isinstance(case, int) else case.pk
    current = Case.objects.select_related("service_version").get(pk=case_id)
    if current.closed_at is not None:
        return None
    for transition in current.service_version.definition["workflow"]["transitions"]:
        if transition.get("auto") == event and current.state in workflow.sources(transition):
            return take_transition(
                Actor.system(event), case_id, transition["id"], expected_state=current.state
            )
    return None


def _move(
    actor: Actor,
    case: Case,
    *,
    transition: Mapping[str, Any],
    to: str,
    acting: Acting,
    opinion: str = "",
    entered: Mapping[str, Any] | None = None,
    calculated: Mapping[str, str] | None = None,
    confirmation: Any = None,
) -> Case:
    """Move a locked case to ``to``: pause or resume the deadline, record the event, replace
    the task (none in a final state), write the audit event."""
    definition = case.service_version.definition
    now = timezone.now()
    source = case.state
    role = acting.role
    transition_id = str(transition.get("id", ""))
    waited_before = workflow.waits_for_applicant(definition, source)
    waits_now = workflow.waits_for_applicant(definition, to)
    if case.paused_at is not None and not waits_now:
        waited = timezone.localdate(now) - timezone.localdate(case.paused_at)
        case.paused_days += max(waited.days, 0)
        case.paused_at = None
        set_deadline(case)
    if waits_now and case.paused_at is None:
        case.paused_at = now

    if transition_id == workflow.WITHDRAW or (
        not transition_id and to == workflow.BUILTIN_WITHDRAWN
    ):
        kind = CaseEvent.Kind.WITHDRAWN
    elif waits_now and not waited_before:
        kind = CaseEvent.Kind.SUPPLEMENT_REQUESTED
    elif waited_before and not waits_now and role == workflow.APPLICANT:
        kind = CaseEvent.Kind.SUPPLEMENT_ANSWERED
    else:
        kind = CaseEvent.Kind.TRANSITION

    case.state = to
    case.version += 1
    case.state_version = case.version
    case.state_entered_at = now
    case.inputs = {**case.inputs, **(entered or {}), **(calculated or {})}
    closed = workflow.is_final(definition, to)
    if closed:
        case.closed_at = now
        case.paused_at = None
    case.save(
        update_fields=[
            "state",
            "version",
            "state_version",
            "state_entered_at",
            "inputs",
            "closed_at",
            "paused_at",
            "paused_days",
            "deadline_at",
        ]
    )
    timeline.record(
        case,
        kind,
        actor,
        at=now,
        role=role,
        unit_id=acting.unit_id,
        transition_id=transition_id,
        from_state=source,
        to_state=to,
        opinion=opinion,
        payload={
            "inputs": dict(entered or {}),
            "calculated": dict(calculated or {}),
            **acting.payload(),
        },
    )
    open_task(case, now)
    audit.record(
        actor,
        f"case.{kind}",
        case,
        authority_id=case.authority_id,
        payload={
            "transition": transition_id,
            "from": source,
            "to": to,
            "role": role,
            **({"mark": acting.mark} if acting.principal is not None else {}),
        },
    )
    log.info("case.moved", case=case.pk, transition=transition_id, source=source, to=to)
    # Fees still due are cancelled, the definition's notifications queued, the step's act
    # issued and delivered — by the apps that handle them, in this transaction.
    listeners.announce(
        listeners.Moved(actor, case, transition, source, to, closed, confirmation=confirmation)
    )
    return case


@transaction.atomic
def withdraw(actor: Actor, case: Case | int) -> Case:
    """The applicant withdraws the application before it is decided.

    If the definition has a transition with the id ``withdraw``, that is the withdrawal: it
    says from which states it is allowed (e.g. not after the decision is drafted) and where it
    leads. A definition without one gets a built-in withdrawal, allowed in every state that is
    not final and leading to a closed state ``withdrawn`` that the definition does not list.
    """
    require_user(actor)
    assert actor.user is not None
    case = lock(case)
    if actor.user.pk != case.applicant_id:
        raise PermissionDenied(_("Only the applicant can withdraw the application."))
    if case.closed_at is not None:
        raise already_done(case)
    definition = case.service_version.definition
    transition = workflow.transition(definition, workflow.WITHDRAW)
    if transition is None:
        return _move(
            actor,
            case,
            transition={},
            to=workflow.BUILTIN_WITHDRAWN,
            acting=Acting(workflow.APPLICANT),
        )
    if (
        case.state not in workflow.sources(transition)
        or workflow.APPLICANT not in transition["roles"]
    ):
        raise CaseError(
            _("The application can no longer be withdrawn: the case is in “%(state)s”.")
            % {"state": workflow.state_label(definition, case.state)}
        )
    return _move(
        actor,
        case,
        transition=transition,
        to=transition["to"],
        acting=Acting(workflow.APPLICANT),
    )
