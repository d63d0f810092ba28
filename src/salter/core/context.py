"""Who is acting, for whom, and in which request: passed to every service call.

A service never reads the request; the view builds an :class:`Actor` and passes it on, so the
same use case runs from a page, an API call, a command or a background task.
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest

    from salter.identity.models import User

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("salter_request_id", default="")
_ip: contextvars.ContextVar[str] = contextvars.ContextVar("salter_ip", default="")


def current_request_id() -> str:
    return _request_id.get()


def bind_request(request_id: str, ip: str) -> tuple[contextvars.Token[str], contextvars.Token[str]]:
    return _request_id.set(request_id), _ip.set(ip)


def unbind_request(tokens: tuple[contextvars.Token[str], contextvars.Token[str]]) -> None:
    _request_id.reset(tokens[0])
    _ip.reset(tokens[1])


@dataclass(frozen=True)
class Actor:
    """The person (or system) acting, and on whose behalf.

    ``on_behalf_of`` is a reference such as ``"identity.company:12"`` or ``"identity.person:7"``;
    ``None`` means the user acts for themself.
    """

    user: User | None
    on_behalf_of: str | None = None
    mandate_id: int | None = None
    request_id: str = field(default_factory=lambda: current_request_id() or uuid.uuid4().hex)
    ip: str | None = field(default_factory=lambda: _ip.get() or None)
    via: str = "web"

    def as_user(self, user: User) -> Actor:
        """The same request, now known to be ``user`` (just registered, logged in, verified)."""
        return replace(self, user=user)

    @classmethod
    def system(cls, reason: str = "system") -> Actor:
        return cls(user=None, via=reason)

    @classmethod
    def from_request(cls, request: HttpRequest, via: str = "web") -> Actor:
        user: Any = getattr(request, "user", None)
        acting = getattr(request, "acting_for", None)
        return cls(
            user=user if user is not None and user.is_authenticated else None,
            on_behalf_of=acting.principal_ref if acting else None,
            mandate_id=acting.pk if acting else None,
            request_id=getattr(request, "request_id", "") or uuid.uuid4().hex,
            ip=request.META.get("REMOTE_ADDR"),
            via=via,
        )
