"""Tasks: claim, release, and a head of unit's assignment of a case's task."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.cases import access, timeline, workflow
from salter.cases.errors import AlreadyClaimed
from salter.cases.models import Case, CaseEvent, Task
from salter.cases.services.common import (
    acting_role,
    already_done,
    lock,
    official_roles,
)
from salter.core.context import Actor
from salter.identity.models import Delegation, Membership, Role, User
from salter.identity.permissions import require_user


def _lock_task(task: Task | int) -> tuple[Case, Task]:
    case_id = (
        Task.objects.values_list("case_id", flat=True).get(pk=task)
        if isinstance(task, int)
        else task.case_id
    )
    case = lock(case_id)
    locked = Task.objects.select_related("assignee").filter(case=case).first()
    if locked is None:
        raise already_done(case)
    return case, locked


@transaction.atomic
def claim(actor: Actor, task: Task | int) -> Task:
    """Take the task into one's own work. Claiming one's own task again changes nothing."""
    require_user(actor)
    assert actor.user is not None
    case, task = _lock_task(task)
    officials = [r for r in task.roles if r != workflow.APPLICANT]
    acting = acting_role(actor, case, officials)
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
    timeline.record(
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
    # Only those whose role reaches the case (unit, clearance) could act on it.
    reach_held, reach_standing = access.reach_filters(case)
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
    head = acting_role(actor, case, [Role.HEAD_OF_UNIT.value])
    if to.pk not in {u.pk for u in assignable(case, task.roles)}:
        raise PermissionDenied(
            _("%(name)s holds none of the roles this task needs.") % {"name": to.full_name}
        )
    if task.assignee_id == to.pk:
        return task
    previous = task.assignee_id
    task.assignee = to
    task.save(update_fields=["assignee"])
    timeline.record(
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
        held = official_roles(actor, case.authority_id)
        role = next((r for r in task.roles if r in held), "")
        unit_id = held.get(role)
    else:
        head = acting_role(actor, case, [Role.HEAD_OF_UNIT.value])
        role, unit_id = head.role, head.unit_id
    previous = task.assignee_id
    task.assignee = None
    task.save(update_fields=["assignee"])
    timeline.record(
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
