"""OpenID Connect login through a national eID provider (authorisation code flow with PKCE).

The provider's ``acr`` claim becomes the session's level of assurance (see ``loa.map_acr``).
Configured by ``SALTER_OIDC_ISSUER``, ``SALTER_OIDC_CLIENT_ID`` and
``SALTER_OIDC_CLIENT_SECRET``; without an issuer the login button is not shown.
"""

from __future__ import annotations

from typing import Any

import requests
import structlog
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.core import params
from salter.core.context import Actor
from salter.identity import loa
from salter.identity.models import User
from salter.identity.sessions import start_session

log = structlog.get_logger(__name__)
NEXT_KEY = "salter_oidc_next"
_clients: dict[tuple[str, str], Any] = {}


class LoginRefused(Exception):
    """The provider vouched for the person, but Šalter cannot open a session for them."""


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
    request.session[NEXT_KEY] = params.text(request.GET, "next", max_length=2000)
    extra: dict[str, str] = {}
    if params.text(request.GET, "level", max_length=10) == "3":
        extra["acr_values"] = "high"
    redirect_uri = request.build_absolute_uri(reverse("identity:oidc_callback"))
    return client.authorize_redirect(request, redirect_uri, **extra)  # type: ignore[no-any-return,unused-ignore]


def callback(request: HttpRequest) -> HttpResponse:
    client = _client()
    try:
        token = client.authorize_access_token(request)
    except OAuthError as exc:
        log.info("oidc_refused", error=exc.error)
        reason = (
            _("you cancelled it or the eID service refused it")
            if exc.error == "access_denied"
            else _("the eID service reported an error")
        )
        messages.error(
            request,
            _("The eID login did not complete (%(reason)s). Please try again.")
            % {"reason": reason},
        )
        return redirect("identity:login")
    except (AuthlibBaseError, requests.RequestException, ValueError) as exc:
        # A bad or expired ID token, or the provider not answering: say so, never a 500.
        log.warning("oidc_callback_failed", error=exc.__class__.__name__)
        messages.error(
            request, _("The eID service did not answer properly. Please try again in a moment.")
        )
        return redirect("identity:login")
    claims = dict(token.get("userinfo") or {})
    level = loa.map_acr(claims.get("acr"))
    try:
        user = _user_for(Actor.from_request(request, via="oidc"), claims)
        if not user.is_active:
            raise LoginRefused(_("This account is disabled. Contact the help desk."))
    except LoginRefused as exc:
        messages.error(request, str(exc))
        return redirect("identity:login")
    start_session(request, user, method="oidc", level=level)
    target = request.session.pop(NEXT_KEY, "")
    # "//host/" and "/\\host/" start with a slash too, yet browsers leave the site for them;
    # and redirect() reads a word without one ("abc") as the name of a URL pattern.
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("core:home")
    return redirect(target)


@transaction.atomic
def _user_for(actor: Actor, claims: dict[str, Any]) -> User:
    """Find the account of this eID subject, or open one on the first login."""
    subject = f"{str(settings.SALTER_OIDC['issuer']).rstrip('/')}#{claims['sub']}"
    user = User.objects.select_for_update().filter(oidc_subject=subject).first()
    if user is not None:
        return user
    email = str(claims.get("email") or f"{claims['sub']}@eid.invalid").lower()
    name = str(claims.get("name") or claims.get("given_name") or email)
    user = User.objects.filter(email__iexact=email).first()
    if user is not None and (user.oidc_subject or user.is_official):
        # Never re-link an account bound to another eID, nor an official's account: those
        # are linked by an administrator, not by whoever controls the address.
        raise LoginRefused(
            _(
                "An account with this e-mail address already exists. Log in with your "
                "password and link the eID from your account."
            )
        )
    if user is not None and not claims.get("email_verified"):
        # Linking on an address nobody vouched for would hand over the account.
        raise LoginRefused(
            _(
                "An account with this e-mail address exists, and the eID provider did not "
                "confirm that the address is yours. Log in with your password."
            )
        )
    if user is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email,
                    None,
                    full_name=name,
                    oidc_subject=subject,
                    email_verified_at=timezone.now() if claims.get("email_verified") else None,
                )
        except IntegrityError:
            # Two first logins of the same person at once: the other one opened the account.
            existing = User.objects.filter(oidc_subject=subject).first()
            if existing is None:
                raise LoginRefused(_("Please try again.")) from None
            return existing
        action = "user.registered"
    else:
        user.oidc_subject = subject
        user.save(update_fields=["oidc_subject"])
        action = "user.eid_linked"
    audit.record(
        actor.as_user(user),
        action,
        user,
        payload={"issuer": settings.SALTER_OIDC["issuer"]},
    )
    return user
