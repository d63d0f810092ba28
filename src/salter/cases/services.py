"""Use cases of the case engine: submit, take a transition, claim and release, comment,
withdraw. Each runs in one transaction, checks permission and writes the audit event.

The definition a case runs is the :class:`~salter.catalog.models.ServiceVersion` it was
submitted on (pinned), so publishing a new version never changes a running case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.authorities.models import RegistryBook
from salter.authorities.services import allocate_number
from salter.cases import workflow
from salter.cases.models import Approval, Case, CaseEvent, Draft, Task
from salter.catalog import formulas
from salter.catalog.models import Service, ServiceVersion
from salter.core import confidentiality
from salter.core.context import Actor
from salter.documents.services import register_application
from salter.identity.models import Delegation, Membership, Role, User
from salter.identity.permissions import require_user

log = structlog.get_logger(__name__)

__all__ = [
    "AlreadyClaimed",
    "AlreadyDone",
    "CaseError",
    "assign",
    "assignable",
    "claim",
    "comment",
    "release",
    "role_mask",
    "submit",
    "take_transition",
    "withdraw",
]

# One bit per role, for the work queue's portable "roles intersect" filter (Task.role_mask).
ROLE_BITS = {role: 1 << i for i, role in enumerate([*Role.values, workflow.APPLICANT])}
TIMER = "timer"  # Actor.via of the background job that takes timed transitions
# Actor.via of the platform taking a step when an event happens (transition["auto"]).
EVENTS = ("paid", "delivered")
MAX_COMMENT = 5000
# Events that move a case: the last one says who moved it first.
MOVES = [
    CaseEvent.Kind.SUBMITTED,
    CaseEvent.Kind.TRANSITION,
    CaseEvent.Kind.WITHDRAWN,
    CaseEvent.Kind.SUPPLEMENT_REQUESTED,
    CaseEvent.Kind.SUPPLEMENT_ANSWERED,
    CaseEvent.Kind.APPROVAL,
]


class CaseError(Exception):
    """A use case of a case cannot go on; the message is for the person who tried."""


class AlreadyDone(CaseError):  # noqa: N818 — reads as "raise AlreadyDone(...)"
    """Someone else moved the case first (or it is no longer where the caller thought)."""

    def __init__(self, message: str, *, by: str = "", at: datetime | None = None) -> None:
        super().__init__(message)
        self.by = by
        self.at = at


class AlreadyClaimed(AlreadyDone):
    """Another official has claimed the task."""


def role_mask(roles: list[str]) -> int:
    mask = 0
    for role in roles:
        mask |= ROLE_BITS.get(role, 0)
    return mask


# --- helpers --------------------------------------------------------------------------------


def _lock(case: Case | int) -> Case:
    """The case row, locked until the end of the transaction: one step at a time per case.
    ``of=("self",)`` locks only the case, not the joined version and authority rows."""
    pk = case if isinstance(case, int) else case.pk
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("service_version__service", "authority")
        .get(pk=pk)
    )


def _official_roles(actor: Actor, authority_id: int) -> dict[str, int]:
    """The roles ``actor`` holds today in the authority → the unit of each (first one)."""
    if actor.user is None:
        return {}
    found: dict[str, int] = {}
    rows = (
        Membership.objects.in_force()
        .filter(user=actor.user, unit__authority_id=authority_id)
        .order_by("id")
        .values_list("role", "unit_id")
    )
    for role, unit_id in rows:
        found.setdefault(role, unit_id)
    return found


@dataclass(frozen=True)
class Acting:
    """In which role someone acts on a case, from which unit, and whether in their own right
    or standing in for someone (``mark`` deputy/delegated, ``principal`` whom)."""

    role: str
    unit_id: int | None = None
    mark: str = Approval.Mark.OWN
    principal: User | None = None

    def payload(self) -> dict[str, Any]:
        if self.principal is None:
            return {}
        return {"mark": self.mark, "principal": self.principal.full_name}


def _stand_ins(actor: Actor, authority_id: int) -> dict[str, Acting]:
    """The roles ``actor`` holds today in the authority as a deputy or by delegation."""
    if actor.user is None:
        return {}
    found: dict[str, Acting] = {}
    rows = (
        Delegation.objects.in_force()
        .filter(delegate=actor.user, unit__authority_id=authority_id)
        .select_related("principal")
        .order_by("id")
    )
    for d in rows:
        found.setdefault(d.role, Acting(d.role, d.unit_id, d.kind, d.principal))
    return found


def _acting_role(actor: Actor, case: Case, roles: list[str]) -> Acting:
    """The role in which ``actor`` may act, of ``roles``, and the unit they act from: their
    own roles first, then the roles they hold as a deputy or by delegation."""
    user = actor.user
    if user is not None and workflow.APPLICANT in roles and user.pk == case.applicant_id:
        return Acting(workflow.APPLICANT)
    # Only roles whose seat reaches the case (its unit, clearance) count: an official who
    # cannot see the case cannot act on it, and a grant to read it gives no role.
    held, reaching_stand_ins = _case_roles(actor, case)
    for role in roles:
        if role in held:
            return Acting(role, held[role])
    officials = [r for r in roles if r != workflow.APPLICANT]
    if officials and reaching_stand_ins:
        standing = _stand_ins(actor, case.authority_id)
        for role in officials:
            if role in standing and role in reaching_stand_ins:
                return standing[role]
    raise PermissionDenied(
        _("Only %(roles)s can take this step.")
        % {"roles": ", ".join(_role_label(r) for r in roles) or "—"}
    )


def _case_roles(actor: Actor, case: Case) -> tuple[dict[str, int], set[str]]:
    """The roles ``actor`` may act in on ``case`` — own (→ unit) and as a stand-in — counting
    only the memberships that reach the case (salter.cases.queries.case_roles)."""
    if actor.user is None:
        return {}, set()
    from salter.cases import queries  # the reads build on the use cases

    return queries.case_roles(case, actor.user)


def _role_label(role: str) -> str:
    if role == workflow.APPLICANT:
        return _("the applicant")
    return str(Role(role).label) if role in Role.values else role


def _already_done(case: Case) -> AlreadyDone:
    last = case.events.filter(kind__in=MOVES).select_related("actor").order_by("-id").first()
    definition = case.service_version.definition
    state = workflow.state_label(definition, case.state)
    if last is None:  # pragma: no cover — every case has its submission event
        return AlreadyDone(_("The case is now in “%(state)s”.") % {"state": state})
    name = last.actor.full_name if last.actor is not None else _("the platform")
    at = timezone.localtime(last.at)
    return AlreadyDone(
        _("Already done by %(name)s at %(time)s; the case is now in “%(state)s”.")
        % {"name": name, "time": at.strftime("%d.%m.%Y. %H:%M"), "state": state},
        by=name,
        at=last.at,
    )


def _deadline(case: Case) -> None:
    submitted = timezone.localdate(case.submitted_at)
    start = workflow.deadline_start(submitted, case.paused_days)
    case.deadline_at = workflow.deadline(case.service_version.definition, start)


def _open_task(case: Case, now: datetime, *, new: bool = False) -> None:
    """Replace the case's task with the one of its state (none in a final state). ``new``: the
    case was just registered and has no task yet, so it is inserted without a look-up."""
    definition = case.service_version.definition
    if workflow.is_final(definition, case.state):
        if not new:
            Task.objects.filter(case=case).delete()
        return
    roles = workflow.task_roles(definition, case.state)
    values = {
        "authority_id": case.authority_id,
        "state": case.state,
        "roles": roles,
        "role_mask": role_mask(roles),
        "assignee": None,
        # While the case waits for the applicant the legal deadline is paused.
        "due_at": None if case.paused_at is not None else case.deadline_at,
        "created_at": now,
        "unit_id": case.unit_id,
        "level": confidentiality.rank(case.confidentiality),
    }
    if new:
        Task.objects.create(case=case, **values)
    else:
        Task.objects.update_or_create(case=case, defaults=values)


def _event(
    case: Case,
    kind: str,
    actor: Actor,
    *,
    at: datetime,
    role: str = "",
    unit_id: int | None = None,
    **fields: Any,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        at=at,
        kind=kind,
        actor=actor.user,
        actor_role=role,
        unit_id=unit_id,
        **fields,
    )


def _invalid(errors: Mapping[str, str]) -> ValidationError:
    return ValidationError({name: [message] for name, message in errors.items()})


# --- submission ------------------------------------------------------------------------------


def submit(
    actor: Actor,
    service_version: ServiceVersion,
    data: Mapping[str, Any],
    *,
    idempotency_key: str | None = None,
) -> tuple[Case, bool]:
    """Register an application: ``(case, True)``, or ``(case, False)`` for a retry.

    A retry is a submission with an ``idempotency_key`` the applicant used before: it returns
    the case of the first attempt and takes no second registry number. Two attempts racing
    with one key both allocate under the counter lock, but the second one's insert hits the
    unique (applicant, key) constraint, its savepoint rolls back — number included, so the
    book has no gap — and it returns the first attempt's case.
    """
    require_user(actor)
    assert actor.user is not None
    key = idempotency_key or None
    if key is not None:
        existing = _existing(actor, service_version, key)
        if existing is not None:
            return existing, False
    try:
        # The audit events (the number, the submission) join the chain together at the end,
        # so the platform-wide chain head is not locked while the case is written.
        with transaction.atomic(), audit.deferred():
            return _register(actor, service_version, data, key), True
    except IntegrityError:
        existing = _existing(actor, service_version, key) if key is not None else None
        if existing is None:
            raise
        return existing, False


def _existing(actor: Actor, version: ServiceVersion, key: str) -> Case | None:
    case = (
        Case.objects.select_related("service_version__service__authority")
        .defer("service_version__definition")
        .filter(applicant=actor.user, idempotency_key=key)
        .first()
    )
    if case is not None and case.service_version.service_id != version.service_id:
        raise CaseError(
            _("This idempotency key was already used for another application; use a new one.")
        )
    return case


def _register(
    actor: Actor, service_version: ServiceVersion, data: Mapping[str, Any], key: str | None
) -> Case:
    # The status is read again in this transaction; the definition of a published version
    # never changes, so the caller's copy is used when it has one.
    version = (
        ServiceVersion.objects.select_related("service__authority")
        .defer("definition")
        .get(pk=service_version.pk)
    )
    if "definition" in service_version.__dict__:
        version.definition = service_version.definition
    service = version.service
    authority = service.authority
    if version.status != ServiceVersion.Status.PUBLISHED or not authority.is_active:
        raise CaseError(_("This service is not offered at the moment."))
    if service.kind == Service.Kind.INTERNAL and not _official_roles(actor, authority.pk):
        raise PermissionDenied(
            _("This is an internal procedure: only the staff of %(authority)s can apply.")
            % {"authority": authority.display_name}
        )
    definition = version.definition
    errors = workflow.field_errors(definition["form"]["schema"], data)
    if errors:
        raise _invalid(errors)
    book = RegistryBook.objects.get(authority=authority, is_default=True)
    allocation = allocate_number(actor, book)
    now = timezone.now()
    case = Case(
        service_version=version,
        authority=authority,
        applicant=actor.user,
        on_behalf_of=actor.on_behalf_of or "",
        registry_number=allocation.formatted,
        book=book,
        year=allocation.year,
        number=allocation.number,
        state=definition["workflow"]["initial"],
        data=dict(data),
        submitted_at=now,
        state_entered_at=now,
        idempotency_key=key,
        unit_id=service.unit_id,
        confidentiality=definition.get("confidentiality", confidentiality.DEFAULT_CASE_LEVEL),
    )
    _deadline(case)
    if workflow.waits_for_applicant(definition, case.state):  # e.g. waiting for the fee
        case.paused_at = now
    case.save(force_insert=True)
    from salter.exchange import evidence, subjects  # the exchange builds on cases

    subjects.on_submitted(case)
    register_application(actor, case)
    if definition.get("fees"):
        from salter.payments import services as payments  # payments build on cases

        payments.open_orders(actor, case)
    # The draft the application was filled in is done with, in the same transaction.
    Draft.objects.filter(applicant=actor.user, service=service).delete()
    _event(
        case,
        CaseEvent.Kind.SUBMITTED,
        actor,
        at=now,
        role=workflow.APPLICANT,
        to_state=case.state,
        payload={"registry_number": case.registry_number},
    )
    _open_task(case, now, new=True)
    from salter.mailbox import case_notifications  # the mailbox builds on cases

    case_notifications.on_submitted(case)
    evidence.on_submitted(case)
    audit.record(
        actor,
        "case.submitted",
        case,
        authority_id=authority.pk,
        payload={
            "service": service.code,
            "version": version.number,
            "registry_number": case.registry_number,
            "state": case.state,
        },
    )
    log.info("case.submitted", case=case.pk, registry_number=case.registry_number)
    return case


# --- transitions -----------------------------------------------------------------------------


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
    a register for is settled (:func:`salter.exchange.evidence.awaited` says what it waits for).

    A transition with an approval line is taken in parts: each call records one approver's
    approval (and opinion) for the step of the line the caller may fill, and the call that
    records the last one moves the case.

    A step that makes an act (``transition["document"]``) makes it after the case has moved,
    in the same transaction (:mod:`salter.documents.acts`); a step that signs needs the
    signer's fresh second-factor ``confirmation`` (:class:`salter.identity.fresh.Confirmation`)."""
    if actor.user is None and actor.via != TIMER and actor.via not in EVENTS:
        require_user(actor)
    case = _lock(case)
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
        raise _already_done(case)
    step: int | None = None
    if actor.user is None:  # the timer job, or an event (paid, delivered)
        if not (
            ("timer" in transition and actor.via == TIMER)
            or ("auto" in transition and transition["auto"] == actor.via)
        ):
            raise PermissionDenied(_("Only a person can take this step."))
        acting = Acting("")
    elif "approval" in transition:
        step, acting = _approval_step(actor, case, transition)
    else:
        acting = _acting_role(actor, case, transition["roles"])
    if transition.get("requires_evidence"):
        from salter.exchange import evidence  # the exchange builds on cases

        awaited = evidence.awaited(case)
        if awaited:
            raise CaseError(awaited)

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
        raise _invalid(errors)

    values = {**case.data, **case.inputs, **entered}
    try:
        calculated = workflow.calculate(definition, values)
    except formulas.FormulaError as exc:
        raise _invalid({"__all__": str(exc)}) from exc
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
        raise _invalid(errors)

    if step is not None:
        done = _record_approval(actor, case, transition, step, acting, opinion, entered, calculated)
        if not done:
            return case
    moved = _move(
        actor,
        case,
        transition_id=transition_id,
        to=transition["to"],
        acting=acting,
        opinion=opinion,
        entered=entered,
        calculated=calculated,
    )
    if "document" in transition:
        from salter.documents import acts  # documents builds on cases, not the reverse

        try:
            acts.make(actor, moved, transition, confirmation=confirmation)
        except acts.ActError as exc:
            raise CaseError(str(exc)) from exc
    if "deliver" in transition:
        from salter.mailbox import delivery  # the mailbox builds on cases, not the reverse

        try:
            delivery.deliver_act(actor, moved, transition["deliver"]["document"])
        except delivery.DeliveryError as exc:
            raise CaseError(str(exc)) from exc
    return moved


def on_event(case: Case | int, event: str) -> Case | None:
    """The platform takes the step of the case's workflow that waits for ``event`` (``paid``:
    every fee is paid; ``delivered``: the delivery of its act took effect), if the case is in a
    state that has one; the moved case, or None. Called inside the transaction that recorded
    the event, so the event and the step commit together."""
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


def _approved(case: Case) -> dict[str, set[int]]:
    """The approval steps recorded in the current visit of the case's state."""
    found: dict[str, set[int]] = {}
    rows = Approval.objects.filter(case=case, state_version=case.state_version).values_list(
        "transition_id", "step", "actor_id"
    )
    for transition_id, step, _actor in rows:
        found.setdefault(transition_id, set()).add(step)
    return found


def _approval_step(actor: Actor, case: Case, transition: Mapping[str, Any]) -> tuple[int, Acting]:
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
            return index, _acting_role(actor, case, [steps[index]["role"]])
        except PermissionDenied:
            continue
    waiting = ", ".join(workflow.text(steps[i]["label"]) for i in pending) or "—"
    raise PermissionDenied(_("The approval line now waits for: %(steps)s.") % {"steps": waiting})


def _record_approval(
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
    _event(
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


def _move(
    actor: Actor,
    case: Case,
    *,
    transition_id: str,
    to: str,
    acting: Acting,
    opinion: str = "",
    entered: Mapping[str, Any] | None = None,
    calculated: Mapping[str, str] | None = None,
) -> Case:
    """Move a locked case to ``to``: pause or resume the deadline, record the event, replace
    the task (none in a final state), write the audit event."""
    definition = case.service_version.definition
    now = timezone.now()
    source = case.state
    role = acting.role
    waited_before = workflow.waits_for_applicant(definition, source)
    waits_now = workflow.waits_for_applicant(definition, to)
    if case.paused_at is not None and not waits_now:
        waited = timezone.localdate(now) - timezone.localdate(case.paused_at)
        case.paused_days += max(waited.days, 0)
        case.paused_at = None
        _deadline(case)
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
    if workflow.is_final(definition, to):
        case.closed_at = now
        case.paused_at = None
        if definition.get("fees"):
            from salter.payments import services as payments  # payments build on cases

            payments.cancel_due(case)
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
    _event(
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
    _open_task(case, now)
    from salter.mailbox import case_notifications  # the mailbox builds on cases

    case_notifications.on_move(case, transition_id, source, to)
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
    case = _lock(case)
    if actor.user.pk != case.applicant_id:
        raise PermissionDenied(_("Only the applicant can withdraw the application."))
    if case.closed_at is not None:
        raise _already_done(case)
    definition = case.service_version.definition
    transition = workflow.transition(definition, workflow.WITHDRAW)
    if transition is None:
        return _move(
            actor,
            case,
            transition_id="",
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
        transition_id=workflow.WITHDRAW,
        to=transition["to"],
        acting=Acting(workflow.APPLICANT),
    )


# --- tasks and comments ----------------------------------------------------------------------


def _lock_task(task: Task | int) -> tuple[Case, Task]:
    case_id = (
        Task.objects.values_list("case_id", flat=True).get(pk=task)
        if isinstance(task, int)
        else task.case_id
    )
    case = _lock(case_id)
    locked = Task.objects.select_related("assignee").filter(case=case).first()
    if locked is None:
        raise _already_done(case)
    return case, locked


@transaction.atomic
def claim(actor: Actor, task: Task | int) -> Task:
    """Take the task into one's own work. Claiming one's own task again changes nothing."""
    require_user(actor)
    assert actor.user is not None
    case, task = _lock_task(task)
    officials = [r for r in task.roles if r != workflow.APPLICANT]
    acting = _acting_role(actor, case, officials)
    if task.assignee_id == actor.user.pk:
        return task
    if task.assignee is not None:
        raise AlreadyClaimed(
            _("Already claimed by %(name)s.") % {"name": task.assignee.full_name},
            by=task.assignee.full_name,
        )
    task.assignee = actor.user
    task.save(update_fields=["assignee"])
    now = timezone.now()
    _event(
        case,
        CaseEvent.Kind.CLAIMED,
        actor,
        at=now,
        role=acting.role,
        unit_id=acting.unit_id,
        payload=acting.payload(),
    )
    audit.record(actor, "case.claimed", case, authority_id=case.authority_id)
    return task


def assignable(case: Case, roles: list[str]) -> list[User]:
    """The officials who may take over a task with ``roles`` in the case's authority today:
    those holding one of the roles, and those standing in for someone who does."""
    officials = [r for r in roles if r != workflow.APPLICANT]
    where = {"unit__authority_id": case.authority_id, "role__in": officials}
    from salter.cases import queries  # the reads build on the use cases

    # Only those whose role reaches the case (unit, clearance) could act on it.
    reach_held, reach_standing = queries.reach_filters(case)
    held = Membership.objects.in_force().filter(**where).filter(reach_held)
    standing = Delegation.objects.in_force().filter(**where).filter(reach_standing)
    return list(
        User.objects.filter(is_active=True, kind=User.Kind.OFFICIAL)
        .filter(Q(pk__in=held.values("user_id")) | Q(pk__in=standing.values("delegate_id")))
        .exclude(pk=case.applicant_id)
        .order_by("full_name", "id")
    )


@transaction.atomic
def assign(actor: Actor, task: Task | int, to: User) -> Task:
    """A head of unit gives the task to a named official (reassigning it if someone had
    it): one who holds, or stands in for, one of the task's roles — never the applicant."""
    require_user(actor)
    assert actor.user is not None
    case, task = _lock_task(task)
    head = _acting_role(actor, case, [Role.HEAD_OF_UNIT.value])
    if to.pk not in {u.pk for u in assignable(case, task.roles)}:
        raise PermissionDenied(
            _("%(name)s holds none of the roles this task needs.") % {"name": to.full_name}
        )
    if task.assignee_id == to.pk:
        return task
    previous = task.assignee_id
    task.assignee = to
    task.save(update_fields=["assignee"])
    _event(
        case,
        CaseEvent.Kind.ASSIGNED,
        actor,
        at=timezone.now(),
        role=head.role,
        unit_id=head.unit_id,
        payload={
            "assignee": to.pk,
            "assignee_name": to.full_name,
            "from": previous,
            **head.payload(),
        },
    )
    audit.record(
        actor,
        "case.assigned",
        case,
        authority_id=case.authority_id,
        payload={"to": to.pk, "from": previous},
    )
    return task


@transaction.atomic
def release(actor: Actor, task: Task | int) -> Task:
    """Give the task back to the queue: its assignee, or a head of unit of the authority
    (who may take work off someone away, to reassign it)."""
    require_user(actor)
    assert actor.user is not None
    case, task = _lock_task(task)
    if task.assignee_id is None:
        return task
    if task.assignee_id == actor.user.pk:
        held = _official_roles(actor, case.authority_id)
        role = next((r for r in task.roles if r in held), "")
        unit_id = held.get(role)
    else:
        head = _acting_role(actor, case, [Role.HEAD_OF_UNIT.value])
        role, unit_id = head.role, head.unit_id
    previous = task.assignee_id
    task.assignee = None
    task.save(update_fields=["assignee"])
    _event(
        case,
        CaseEvent.Kind.RELEASED,
        actor,
        at=timezone.now(),
        role=role,
        unit_id=unit_id,
        payload={"assignee": previous},
    )
    audit.record(
        actor, "case.released", case, authority_id=case.authority_id, payload={"from": previous}
    )
    return task


@transaction.atomic
def comment(actor: Actor, case: Case | int, text: str, *, internal: bool = True) -> CaseEvent:
    """A comment on the timeline. Officials of the authority write internal comments (never
    shown to the applicant) or public ones; the applicant's comments are always public."""
    require_user(actor)
    assert actor.user is not None
    case = _lock(case)
    text = text.strip()
    if not text:
        raise _invalid({"text": _("Write the comment.")})
    if len(text) > MAX_COMMENT:
        raise _invalid({"text": _("Enter at most %(n)s characters.") % {"n": MAX_COMMENT}})
    if actor.user.pk == case.applicant_id:
        role, unit_id, internal = workflow.APPLICANT, None, False
    else:
        held, _standing = _case_roles(actor, case)  # a grant to read gives no voice
        if not held:
            raise PermissionDenied(_("Only officials of the authority can comment on this case."))
        role, unit_id = next(iter(held.items()))
    event = _event(
        case,
        CaseEvent.Kind.COMMENT,
        actor,
        at=timezone.now(),
        role=role,
        unit_id=unit_id,
        internal=internal,
        payload={"text": text},
    )
    audit.record(
        actor,
        "case.commented",
        case,
        authority_id=case.authority_id,
        payload={"internal": internal},
    )
    return event
