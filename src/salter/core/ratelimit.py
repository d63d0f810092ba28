"""A per-client rate limit kept in Django's cache: a fixed window per (scope, client).

Fixed windows are coarse (a client may spend two windows' worth around a boundary) but cost
one ``add`` and one ``incr`` per request and share state across workers when the cache is
Redis; that is what an expensive public endpoint needs. With the local-memory cache each
worker counts on its own, so the effective limit is the rate times the number of workers.

The client is ``REMOTE_ADDR``, as for the login lockout: behind a proxy the proxy must set it
(gunicorn's ``forwarded_allow_ips``), or every client would share one bucket.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest

UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # seconds until the window ends, when refused


def parse(rate: str) -> tuple[int, int] | None:
    """``"30/minute"`` → ``(30, 60)``; ``""`` or ``"off"`` → ``None`` (no limit).

    Raises ``ValueError`` for anything else, so a mistyped setting fails loudly."""
    text = rate.strip().lower()
    if text in {"", "off", "none"}:
        return None
    count, sep, unit = text.partition("/")
    if not sep or not count.strip().isdigit() or unit.strip() not in UNITS:
        raise ValueError(f"a rate is '<count>/<second|minute|hour|day>', not {rate!r}")
    return int(count), UNITS[unit.strip()]


def client_of(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "") or "unknown")


def hit(scope: str, client: str, rate: str) -> Decision:
    """Count one request of ``client`` in ``scope``; refused once over ``rate``."""
    parsed = parse(rate)
    if parsed is None:
        return Decision(True)
    limit, period = parsed
    now = time.time()
    window = int(now // period)
    # Hashed: the key is safe for any cache backend and holds no address in clear.
    who = hashlib.sha256(client.encode()).hexdigest()[:32]
    key = f"ratelimit:{scope}:{period}:{window}:{who}"
    cache.add(key, 0, timeout=period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period + 1)
        count = 1
    if count <= limit:
        return Decision(True)
    return Decision(False, retry_after=max(1, math.ceil((window + 1) * period - now)))
