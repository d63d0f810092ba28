"""Access to one case for an official who would not otherwise read it: a colleague of another
unit asked to advise, an official cleared below the case's level, an inspector of another
authority. Use cases: grant and revoke. Each runs in one transaction, checks permission, writes
the audit event and an internal event on the case's timeline.

A grant is for reading only: acting on the case still needs a role whose seat reaches it (see
:mod:`salter.cases.queries`). A grant may hide the reads made under it from the persons
concerned until a date (an investigation); "Who accessed my data" shows them after it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from salter.audit import services as audit
from salter.cases import access, timeline
from salter.cases.models import Case, CaseEvent, CaseGrant
from salter.core.context import Actor
from salter.identity.models import User
from salter.identity.permissions import require_user

__all__ = ["MAX_HIDDEN_DAYS", "MAX_REASON", "grant_access", "revoke_access"]

MAX_REASON = 300
# Reads under a grant stay hidden from the persons concerned for at most this long: a longer
# investigation is granted again, by a head of unit who decides it still needs secrecy.
MAX_HIDDEN_DAYS = 366
NOT_GRANTING = gettext_noop(
    "Only a head of unit or the administrator of the authority who handles the case can give "
    "access to it."
)


def _may_grant(actor: Actor, case: Case) -> None:
    require_user(actor)
    assert actor.user is not None
    if not access.may_grant(case, actor.user):
        raise PermissionDenied(_(NOT_GRANTING))


def _label(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


@transaction.atomic
def grant_access(
    actor: Actor,
    case: Case | int,
    user: User,
    *,
    reason: str,
    valid_until: datetime | None = None,
    hidden_until: datetime | None = None,
) -> CaseGrant:
    """Let ``user`` (an official of any authority) read ``case`` until ``valid_until`` (or
    until revoked), for ``reason``. Only a head of unit or the authority's administrator who
    reaches the case may give access; ``hidden_until`` keeps the reads under the grant from
    the persons concerned until then (at most a year)."""
    case = Case.objects.select_for_update(of=("self",)).get(
        pk=case if isinstance(case, int) else case.pk
    )
    _may_grant(actor, case)
    assert actor.user is not None
    now = timezone.now()
    reason = reason.strip()
    errors: dict[str, str] = {}
    if not reason:
        errors["reason"] = _("Write why this official needs to read the case.")
    elif len(reason) > MAX_REASON:
        errors["reason"] = _("Enter at most %(n)s characters.") % {"n": MAX_REASON}
    if not user.is_active or user.kind != User.Kind.OFFICIAL:
        errors["user"] = _("Access to a case is given only to an active official.")
    elif user.pk == case.applicant_id:
        errors["user"] = _("The applicant reads their own case already.")
    elif user.pk == actor.user.pk:
        errors["user"] = _("You cannot give access to yourself.")
    elif access.sees(case, user):
        errors["user"] = _("%(name)s already reads this case through their own role.") % {
            "name": user.full_name
        }
    elif access.active_grant(case, user) is not None:
        errors["user"] = _("%(name)s already has access to this case.") % {"name": user.full_name}
    if valid_until is not None and valid_until <= now:
        errors["valid_until"] = _("The end of the access must be in the future.")
    if hidden_until is not None:
        if hidden_until <= now:
            errors["hidden_until"] = _(
                "The date until which reads stay hidden must be in the future."
            )
        elif hidden_until - now > timedelta(days=MAX_HIDDEN_DAYS):
            errors["hidden_until"] = _("Reads stay hidden for at most a year.")
    if errors:
        raise ValidationError({name: [message] for name, message in errors.items()})
    grant = CaseGrant.objects.create(
        case=case,
        user=user,
        reason=reason,
        granted_by=actor.user,
        granted_at=now,
        valid_until=valid_until,
        hidden_until=hidden_until,
    )
    payload = {
        "grantee": user.pk,
        "reason": reason,
        "valid_until": _label(valid_until),
        "hidden_until": _label(hidden_until),
    }
    timeline.record(
        case,
        CaseEvent.Kind.ACCESS_GRANTED,
        actor,
        at=now,
        internal=True,
        payload={**payload, "grantee_name": user.full_name, "text": f"{user.full_name}: {reason}"},
    )
    audit.record(
        actor,
        "cases.access_granted",
        grant,
        authority_id=case.authority_id,
        payload={"case": case.pk, **payload},
    )
    return grant


@transaction.atomic
def revoke_access(actor: Actor, grant: CaseGrant | int) -> CaseGrant:
    """End a grant now (by whoever may give access to the case). Revoking a revoked grant
    changes nothing."""
    grant = (
        CaseGrant.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(pk=grant if isinstance(grant, int) else grant.pk)
    )
    case = Case.objects.get(pk=grant.case_id)
    _may_grant(actor, case)
    assert actor.user is not None
    if grant.revoked_at is not None:
        return grant
    now = timezone.now()
    grant.revoked_at = now
    grant.revoked_by = actor.user
    grant.save(update_fields=["revoked_at", "revoked_by"])
    timeline.record(
        case,
        CaseEvent.Kind.ACCESS_REVOKED,
        actor,
        at=now,
        internal=True,
        payload={
            "grantee": grant.user_id,
            "grantee_name": grant.user.full_name,
            "text": grant.user.full_name,
        },
    )
    audit.record(
        actor,
        "cases.access_revoked",
        grant,
        authority_id=case.authority_id,
        payload={
            "case": case.pk,
            "grantee": grant.user_id,
            "reason": grant.reason,
            "hidden_until": _label(grant.hidden_until),
        },
    )
    return grant
