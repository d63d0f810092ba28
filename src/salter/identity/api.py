from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Router, Schema, Status

from salter.core.context import Actor
from salter.core.errors import ApiError
from salter.core.params import Id
from salter.identity import auth, authcache, loa, services
from salter.identity.models import ApiToken, Membership

router = Router(tags=["identity"], auth=auth.AUTH)


class MembershipOut(Schema):
    authority: str
    unit: str
    role: str


class MeOut(Schema):
    id: int
    email: str
    full_name: str
    kind: str
    level_of_assurance: int
    authenticated_by: str
    scopes: list[str]
    memberships: list[MembershipOut]


@router.get("/me", response=MeOut, summary="Who am I")
def me(request: HttpRequest) -> dict[str, object]:
    """The caller's account. At most three queries: authentication, user, memberships."""
    auth.require_scope(request, "read")
    user = request.user
    token = getattr(request, "api_token", None)
    user_id = int(user.pk or 0)
    memberships = authcache.get_memberships(user_id)
    if memberships is None:
        # Three columns rather than three whole models: less to compile, fetch and build.
        memberships = [
            {"authority": authority, "unit": unit, "role": role}
            for authority, unit, role in Membership.objects.in_force()
            .filter(user_id=user_id)
            .values_list("unit__authority__code", "unit__code", "role")
        ]
        authcache.put_memberships(user_id, memberships)
    return {
        "id": user.pk,
        "email": user.email,  # type: ignore[union-attr]
        "full_name": user.full_name,  # type: ignore[union-attr]
        "kind": user.kind,  # type: ignore[union-attr]
        "level_of_assurance": loa.of(request),
        "authenticated_by": "token" if token else "session",
        "scopes": token.scopes if token else list(ApiToken.Scope.values),
        "memberships": memberships,
    }


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@router.get("/tokens", response=list[TokenOut], summary="My API tokens (never their secrets)")
def list_tokens(request: HttpRequest) -> list[ApiToken]:
    auth.require_scope(request, "read")
    return list(
        ApiToken.objects.filter(user_id=int(request.user.pk or 0)).order_by("-created_at", "-id")
    )


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke an API token")
def revoke_token(request: HttpRequest, token_id: Id) -> Status[None]:
    auth.require_scope(request, "write")
    auth.require_level(request, loa.TWO_FACTOR)
    try:
        services.revoke_api_token(Actor.from_request(request, via="api"), token_id)
    except PermissionDenied as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return Status(204, None)
