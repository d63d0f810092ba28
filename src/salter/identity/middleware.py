"""Session policy: lifetime, idle timeout, the second-factor gate and acting for someone."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware as BaseOTPMiddleware

from salter.core.context import Actor
from salter.core.errors import error_body
from salter.identity import loa, services
from salter.identity.models import Mandate, User

AUTH_AT = "salter_auth_at"
SEEN_AT = "salter_seen"
PENDING_2FA = "salter_2fa_pending"
ACTING = "salter_acting"
SEEN_GRANULARITY = 60  # seconds: the session is rewritten at most once a minute

# Paths a user may reach while a second factor is pending or still has to be set up.
_GATE_OPEN = (
    "/login/verify/",
    "/logout/",
    "/account/security/",
    "/webauthn/",
    "/static/",
    "/i18n/",
    "/healthz",
    "/readyz",
)


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.acting_for = None  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            refusal = self._enforce(request)
            if refusal is not None:
                return refusal
        elif request.path.startswith("/official/"):
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)

    def _enforce(self, request: HttpRequest) -> HttpResponse | None:
        session = request.session
        now = int(time.time())
        user = request.user
        assert isinstance(user, User)
        auth_at = session.get(AUTH_AT, now)
        seen = session.get(SEEN_AT, now)
        idle = settings.SALTER_OFFICIAL_IDLE if user.is_official else settings.SALTER_CITIZEN_IDLE
        if now - auth_at > settings.SALTER_SESSION_ABSOLUTE.total_seconds():
            return self._expire(request, _("Your session has ended. Please log in again."))
        if now - seen > idle.total_seconds():
            return self._expire(
                request, _("You were logged out after a period of inactivity. Please log in again.")
            )
        if AUTH_AT not in session:
            session[AUTH_AT] = now
        if now - seen >= SEEN_GRANULARITY or SEEN_AT not in session:
            session[SEEN_AT] = now

        path = request.path
        if session.get(PENDING_2FA) and not path.startswith(_GATE_OPEN):
            if path.startswith("/api/"):
                return JsonResponse(
                    error_body(
                        "second_factor_required",
                        "Finish logging in with your second factor first.",
                        {"step_up_url": reverse("identity:login_verify")},
                    ),
                    status=401,
                )
            return redirect(f"{reverse('identity:login_verify')}?next={request.get_full_path()}")
        if path.startswith("/official/"):
            if not user.is_official:
                return HttpResponseForbidden(_("This part of Šalter is for officials."))
            if loa.of(request) < loa.TWO_FACTOR:
                if not services.has_second_factor(user):
                    messages.info(
                        request, _("Officials need a second factor. Set one up to continue.")
                    )
                    return redirect("identity:security")
                return redirect(loa.step_up_url(request, loa.TWO_FACTOR))
        acting = session.get(ACTING)
        if acting:
            mandate = (
                Mandate.objects.select_related("company", "person")
                .filter(pk=acting, agent=user)
                .first()
            )
            if mandate is None or not mandate.is_valid():
                del session[ACTING]
            else:
                request.acting_for = mandate  # type: ignore[attr-defined]
        return None

    def _expire(self, request: HttpRequest, message: str) -> HttpResponse:
        services.record_logout(Actor.from_request(request), request.session.session_key)
        logout(request)
        if request.path.startswith("/api/"):
            return self.get_response(request)
        messages.info(request, message)
        return redirect_to_login(request.get_full_path())


class OTPMiddleware(BaseOTPMiddleware):
    """django-otp's middleware, with the verifying device loaded on first use.

    django-otp loads ``request.user.otp_device`` as soon as anything touches ``request.user``:
    one query on every request of a user who logged in with a second factor. Šalter takes the
    level of assurance from the session (:mod:`salter.identity.loa`) and only the passkey views
    ask ``user.is_verified()``, so the device is loaded then; ``GET /api/v1/me`` with a level-2
    session stays at three queries. The outcome is django-otp's: the persistent id is read from
    the session now, the device is checked (owner, confirmed) when loaded, and a stale id is
    dropped from the session then.
    """

    def _verify_user_sync(self, request: HttpRequest, user: User) -> User:
        persistent_id = (
            request.session.get(DEVICE_ID_SESSION_KEY) if user.is_authenticated else None
        )
        if not persistent_id or not isinstance(user, User):
            return super()._verify_user_sync(request, user)
        self._init_user_fields(user)
        user.defer_otp_device(
            lambda: self._finalize_device(
                request, user, self._device_from_persistent_id(persistent_id)
            )
        )
        return user
