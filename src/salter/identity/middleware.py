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

from salter.core.errors import error_body
from salter.identity import loa
from salter.identity.models import User

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
                from salter.identity.services import has_second_factor

                if not has_second_factor(user):
                    messages.info(
                        request, _("Officials need a second factor. Set one up to continue.")
                    )
                    return redirect("identity:security")
                return redirect(loa.step_up_url(request, loa.TWO_FACTOR))
        acting = session.get(ACTING)
        if acting:
            from salter.identity.models import Mandate

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
        from salter.core.context import Actor
        from salter.identity import services

        services.record_logout(Actor.from_request(request), request.session.session_key)
        logout(request)
        if request.path.startswith("/api/"):
            return self.get_response(request)
        messages.info(request, message)
        return redirect_to_login(request.get_full_path())
