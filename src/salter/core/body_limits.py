"""How large a request body that is not multipart may be, route by route.

``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB) for every route, except a route that reads its own
body under a limit of its own (:func:`salter.core.upload_limits.read_body`) and declares it
here: the JSON form of a letter with files in base64 (``POST /api/v1/mailbox/messages``). A
check of ``Content-Length`` made before the route runs asks :func:`for_request`, so that it
refuses what the route would refuse and lets through what the route admits.

No imports from the project: the API's error handling reads this module.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest

# (method, path) → the route's limit, read when asked (settings may change it).
_OWN: dict[tuple[str, str], Callable[[], int]] = {}


def declare(method: str, path: str, limit: Callable[[], int]) -> None:
    """``method path`` reads its body itself, under ``limit()`` bytes."""
    _OWN[(method.upper(), path)] = limit


def for_request(request: HttpRequest) -> int | None:
    """The most a body that is not multipart may be on this request (``None``: no limit)."""
    own = _OWN.get((str(request.method), request.path_info))
    if own is not None:
        return own()
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return int(limit) if limit is not None else None
