"""What the case engine's use cases share: the case's lock, in which role someone acts,
the deadline, the task of a state, the "already done" answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.cases import access, workflow
from salter.cases.access import role_mask
from salter.cases.errors import AlreadyDone
from salter.cases.models import Approval, Case, Task
from salter.cases.timeline import MOVES
from salter.core import confidentiality
from salter.core.context import Actor
from salter.identity.models import Delegation, Membership, Role, User

log = structlog.get_logger("salter.cases.services")

TIMER = "timer"  # Actor.via of the background job that takes timed transitions
MAX_COMMENT = 5000


def lock(case: Case | int) -> Case:
    """The case row, locked until the end of the transaction: one step at a time per case.
    ``of=("self",)`` locks only the case, not the joined version and authority rows."""
    pk = case if isinstance(case, int) else case.pk
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("service_version__service", "authority")
        .get(pk=pk)
    )


def official_roles(actor: Actor, authority_id: int) -> dict[str, int]:
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


def acting_role(actor: Actor, case: Case, roles: list[str]) -> Acting:
    """The role in which ``actor`` may act, of ``roles``, and the unit they act from: their
    own roles first, then the roles they hold as a deputy or by delegation."""
    user = actor.user
    if user is not None and workflow.APPLICANT in roles and user.pk == case.applicant_id:
        return Acting(workflow.APPLICANT)
    # Only roles whose seat reaches the case (its unit, clearance) count: an official who
    # cannot see the case cannot act on it, and a grant to read it gives no role.
    held, reaching_stand_ins = case_roles_of(actor, case)
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


def case_roles_of(actor: Actor, case: Case) -> tuple[dict[str, int], set[str]]:
    """The roles ``actor`` may act in on ``case`` — own (→ unit) and as a stand-in — counting
    only the memberships that reach the case (salter.cases.access.case_roles)."""
    if actor.user is None:
        return {}, set()
    return access.case_roles(case, actor.user)


def _role_label(role: str) -> str:
    if role == workflow.APPLICANT:
        return _("the applicant")
    return str(Role(role).label) if role in Role.values else role


def already_done(case: Case) -> AlreadyDone:
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


def set_deadline(case: Case) -> None:
    submitted = timezone.localdate(case.submitted_at)
    start = workflow.deadline_start(submitted, case.paused_days)
    case.deadline_at = workflow.deadline(case.service_version.definition, start)


def open_task(case: Case, now: datetime, *, new: bool = False) -> None:
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


def invalid(errors: Mapping[str, str]) -> ValidationError:
    return ValidationError({name: [message] for name, message in errors.items()})
