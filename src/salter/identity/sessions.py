"""Opening a login session and raising it to two factors: the steps the password login, the
second-factor page, passkeys and the OpenID Connect callback share. Not a page: views,
:mod:`salter.identity.passkeys` and :mod:`salter.identity.oidc` call it."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import login
from django.http import HttpRequest
from django_otp import login as otp_login

from salter.core.context import Actor
from salter.identity import fresh, loa, services
from salter.identity.middleware import AUTH_AT, PENDING_2FA
from salter.identity.models import User


def start_session(request: HttpRequest, user: User, *, method: str, level: int) -> None:
    """Log ``user`` in and record the session. The key is rotated every time, also when the
    same user logs in again to step up (Django keeps the key then)."""
    same_user = request.user.is_authenticated and request.user.pk == user.pk
    old_key = request.session.session_key if same_user else None
    login(request, user, backend="salter.identity.backends.CachedModelBackend")
    if old_key is not None and request.session.session_key == old_key:
        request.session.cycle_key()
    request.session[AUTH_AT] = int(time.time())
    loa.set_level(request, max(level, loa.of(request)) if same_user else level)
    services.record_login(
        Actor.from_request(request),
        request.session,
        method=method,
        loa=loa.of(request),
        user_agent=request.headers.get("User-Agent", ""),
        replaces=old_key,
    )


def complete_second_factor(request: HttpRequest, device: Any, *, method: str) -> None:
    """``device`` verified the user: the session key is rotated and the level rises to two
    factors."""
    old_key = request.session.session_key
    otp_login(request, device)
    request.session.cycle_key()
    logging_in = request.session.pop(PENDING_2FA, None) is not None
    if not logging_in:
        # A confirmation asked for on the step-up page (e.g. before signing) releases a signing
        # key for a moment; the second step of a login does not.
        fresh.mark(request, method)
    loa.set_level(request, max(loa.of(request), loa.TWO_FACTOR))
    services.raise_session_level(
        Actor.from_request(request), old_key, request.session, method=method, loa=loa.TWO_FACTOR
    )
