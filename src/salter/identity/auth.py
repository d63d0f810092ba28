"""API authentication: a bearer token for machine clients, the session for the browser."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from salter.core.errors import ApiError
from salter.identity import loa, services

ACR_VALUES = {1: "basic", 2: "medium", 3: "high"}


class TokenAuth(HttpBearer):
    openapi_description = "An API token created on the profile page: `Bearer slt_…`."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = services.authenticate_token(token)
        if api_token is None:
            return None
        request.user = api_token.user
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token.user


class BrowserSessionAuth(SessionAuth):
    """The session, checked for its CSRF token only when there is a logged-in session.

    ninja's SessionAuth checks CSRF first, so a write with no credentials at all (or with a
    wrong token, which falls through to here) was refused 403 "CSRF check Failed" instead of
    401 ``not_authenticated``. A logged-in session without the token is still refused, 403
    ``csrf_failed``: that is the cross-site request the check is for."""

    openapi_description = "The browser's login session (CSRF token required for writes)."

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        if (
            self.csrf
            and not getattr(request, "_ninja_csrf_exempt", False)
            and check_csrf(request) is not None
        ):
            raise ApiError(
                403,
                "csrf_failed",
                "A write with the browser session needs the CSRF token: send the "
                "'salter_csrf' cookie's value in the 'X-CSRFToken' header.",
            )
        return request.COOKIES.get(self.param_name)


AUTH = [TokenAuth(), BrowserSessionAuth()]


def require_scope(request: HttpRequest, scope: str) -> None:
    token = getattr(request, "api_token", None)
    if token is not None and scope not in token.scopes:
        raise ApiError(
            403,
            "insufficient_scope",
            f"This token lacks the '{scope}' scope.",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
        )


def require_level(request: HttpRequest, level: int) -> None:
    """Refuse with a step-up challenge (RFC 9470) rather than a flat no."""
    if loa.of(request) >= level:
        return
    acr = ACR_VALUES.get(level, str(level))
    raise ApiError(
        401,
        "insufficient_user_authentication",
        f"This needs level of assurance {level}. Log in again with a stronger method.",
        details={
            "required_level": level,
            "step_up_url": reverse("identity:step_up") + f"?level={level}",
        },
        headers={
            "WWW-Authenticate": (
                f'Bearer error="insufficient_user_authentication", acr_values="{acr}"'
            )
        },
    )
