"""How large a request body that is not multipart may be, route by route.

``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB) for every route, except a route that reads its own
body under a limit of its own (:func:`salter.core.upload_limits.read_body`) and declares it
here: the JSON form of a letter with files in base64 (``POST /api/v1/mailbox/messages``). A
check of ``Content-Length`` made before the route runs asks :func:`for_request`, so that it
refuses what the route would refuse and lets through what the route admits.

No imports from the project: the API's error handling reads this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

MB = 1024 * 1024

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


def megabytes(size: int, *, up: bool = False) -> str:
    """``size`` in MB with at most one decimal; ``up`` rounds up, so a size one byte over a
    limit never reads as the limit itself."""
    value = size / MB
    if up:
        value = math.ceil(value * 10) / 10
    return f"{value:.1f}".rstrip("0").rstrip(".")


def size_text(size: int, *, up: bool = False) -> str:
    """``20 MB``, ``2.5 MB`` or, under a megabyte, ``800 kB``: what a person reads."""
    if size >= MB:
        return f"{megabytes(size, up=up)} MB"
    kilobytes = size / 1024
    value = math.ceil(kilobytes * 10) / 10 if up else round(kilobytes, 1)
    return f"{value:.1f}".rstrip("0").rstrip(".") + " kB"


def too_large_message(size: int, limit: int) -> str:
    """The one sentence every 413 ``request_too_large`` says, whoever refuses the body."""
    return _("The request is %(size)s; at most %(limit)s are accepted here.") % {
        "size": size_text(size, up=True),
        "limit": size_text(limit),
    }
