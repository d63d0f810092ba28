"""OpenID Connect login through a national eID provider (authorisation code flow with PKCE).

The provider's ``acr`` claim becomes the session's level of assurance (see ``loa.map_acr``).
Configured by ``SALTER_OIDC_ISSUER``, ``SALTER_OIDC_CLIENT_ID`` and
``SALTER_OIDC_CLIENT_SECRET``; without an issuer the login button is not shown.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.core.context import Actor
from salter.identity import loa
from salter.identity.models import User

NEXT_KEY = "salter_oidc_next"
_clients: dict[tuple[str, str], Any] = {}


def _client() -> Any:
    config: dict[str, Any] = settings.SALTER_OIDC
    if not config["issuer"]:
        raise Http404("OpenID Connect login is not configured.")
    key = (config["issuer"], config["client_id"])
    if key not in _clients:
        oauth = OAuth()
        _clients[key] = oauth.register(
            name="eid",
            client_id=config["client_id"],
            client_secret=config["client_secret"],
            server_metadata_url=config["issuer"].rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": config["scope"], "code_challenge_method": "S256"},
        )
    return _clients[key]


def start(request: HttpRequest) -> HttpResponse:
    client = _client()
    request.session[NEXT_KEY] = request.GET.get("next", "")
    extra: dict[str, str] = {}
    if request.GET.get("level") == "3":
        extra["acr_values"] = "high"
    redirect_uri = request.build_absolute_uri(reverse("identity:oidc_callback"))
    return client.authorize_redirect(request, redirect_uri, **extra)  # type: ignore[no-any-return,unused-ignore]


def callback(request: HttpRequest) -> HttpResponse:
    from salter.identity.views import start_session

    client = _client()
    try:
        token = client.authorize_access_token(request)
    except OAuthError as exc:
        messages.error(
            request,
            _("The eID login did not complete (%(reason)s). Please try again.")
            % {"reason": exc.error},
        )
        return redirect("identity:login")
    claims = dict(token.get("userinfo") or {})
    level = loa.map_acr(claims.get("acr"))
    user = _user_for(Actor.from_request(request, via="oidc"), claims)
    start_session(request, user, method="oidc", level=level)
    target = request.session.pop(NEXT_KEY, "") or reverse("core:home")
    if not target.startswith("/"):
        target = reverse("core:home")
    return redirect(target)


@transaction.atomic
def _user_for(actor: Actor, claims: dict[str, Any]) -> User:
    """Find the account of this eID subject, or open one on the first login."""
    subject = f"{settings.SALTER_OIDC['issuer']}#{claims['sub']}"
    user = User.objects.filter(oidc_subject=subject).first()
    if user is not None:
        return user
    email = str(claims.get("email") or f"{claims['sub']}@eid.invalid").lower()
    name = str(claims.get("name") or claims.get("given_name") or email)
    user = (
        User.objects.filter(email__iexact=email).first() if claims.get("email_verified") else None
    )
    if user is None:
        user = User.objects.create_user(
            email,
            None,
            full_name=name,
            oidc_subject=subject,
            email_verified_at=timezone.now() if claims.get("email_verified") else None,
        )
        action = "user.registered"
    else:
        user.oidc_subject = subject
        user.save(update_fields=["oidc_subject"])
        action = "user.eid_linked"
    audit.record(
        Actor(user=user, request_id=actor.request_id, ip=actor.ip, via="oidc"),
        action,
        user,
        payload={"issuer": settings.SALTER_OIDC["issuer"]},
    )
    return user
