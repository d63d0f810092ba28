"""Levels of assurance (eIDAS: low / substantial / high) carried by each session.

1 = password, 2 = two factors, 3 = qualified certificate or national eID "high".
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse

PASSWORD = 1
TWO_FACTOR = 2
HIGH = 3

SESSION_KEY = "salter_loa"
F = TypeVar("F", bound=Callable[..., HttpResponseBase])


def of(request: HttpRequest) -> int:
    token = getattr(request, "api_token", None)
    if token is not None:
        return int(token.loa)
    if not request.user.is_authenticated:
        return 0
    return int(request.session.get(SESSION_KEY, PASSWORD))


def parse_level(value: str | None) -> int:
    """A level from a query string; anything malformed asks for two factors."""
    try:
        level = int(value or TWO_FACTOR)
    except ValueError:
        return TWO_FACTOR
    return min(max(level, PASSWORD), HIGH)


def set_level(request: HttpRequest, level: int) -> None:
    request.session[SESSION_KEY] = level


def map_acr(acr: str | None) -> int:
    """Map an OpenID Connect ``acr`` claim to a level; unknown values count as the lowest."""
    config: dict[str, Any] = settings.SALTER_OIDC
    if not acr:
        return int(config["default_loa"])
    return int(config["acr_map"].get(acr, config["default_loa"]))


def step_up_url(request: HttpRequest, level: int) -> str:
    query = urlencode({"next": request.get_full_path(), "level": level})
    return f"{reverse('identity:step_up')}?{query}"


def require_level(level: int) -> Callable[[F], F]:
    """Decorate a view: anonymous users log in, users below ``level`` are asked to step up."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if of(request) < level:
                return redirect(step_up_url(request, level))
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
