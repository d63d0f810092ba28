"""Permission checks used by services. They raise :class:`PermissionDenied` with a reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

from salter.core.context import Actor
from salter.identity.models import Membership, Role

if TYPE_CHECKING:
    from salter.authorities.models import Authority


def require_user(actor: Actor) -> None:
    if actor.user is None or not actor.user.is_active:
        raise PermissionDenied("You need to be logged in.")


def require_platform_admin(actor: Actor, or_authority_admin_of: Authority | None = None) -> None:
    if actor.user is None and actor.via in {"seed", "command"}:
        return  # the operator at the console
    require_user(actor)
    assert actor.user is not None
    if actor.user.is_platform_admin:
        return
    if or_authority_admin_of is not None:
        if (
            Membership.objects.in_force()
            .filter(
                user=actor.user, role=Role.AUTHORITY_ADMIN, unit__authority=or_authority_admin_of
            )
            .exists()
        ):
            return
    raise PermissionDenied("Only a platform administrator may do this.")
