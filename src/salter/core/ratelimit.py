"""A per-client rate limit kept in Django's cache: a fixed window per (scope, client).

Fixed windows are coarse (a client may spend two windows' worth around a boundary) but cost
one ``add`` and one ``incr`` per request and share state across workers when the cache is
Redis; that is what an expensive public endpoint needs. With the local-memory cache each
worker counts on its own, so the effective limit is the rate times the number of workers.

The client is ``REMOTE_ADDR``, as for the login lockout: behind a proxy the proxy must set it
(gunicorn's ``forwarded_allow_ips``), or every client would share one bucket.

Back-pressure (docs/configuration.md): :func:`check_api` for every call under ``/api/``
(per address, and per bearer token when one is sent) and :func:`check_login` for each login
attempt (per address and per account name), each a setting of its own. A cache that cannot
be reached lets requests through: a limit is a guard, not a reason to stop the service.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

import structlog
from django.conf import settings
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


log = structlog.get_logger(__name__)


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


def now_seconds() -> float:
    """The clock of the windows (a test pins it, away from a window's end)."""
    return time.time()


def client_of(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "") or "unknown")


def hit(scope: str, client: str, rate: str) -> Decision:
    """Count one request of ``client`` in ``scope``; refused once over ``rate``."""
    parsed = parse(rate)
    if parsed is None:
        return Decision(True)
    limit, period = parsed
    now = now_seconds()
    window = int(now // period)
    # Hashed: the key is safe for any cache backend and holds no address in clear.
    who = hashlib.sha256(client.encode()).hexdigest()[:32]
    key = f"ratelimit:{scope}:{period}:{window}:{who}"
    try:
        count = _count(key, period)
    except Exception as exc:  # noqa: BLE001 — any cache failure (Redis down): fail open
        log.warning("ratelimit.cache_unavailable", scope=scope, error=type(exc).__name__)
        return Decision(True)
    if count <= limit:
        return Decision(True)
    return Decision(False, retry_after=max(1, math.ceil((window + 1) * period - now)))


def _count(key: str, period: int) -> int:
    cache.add(key, 0, timeout=period + 1)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period + 1)
        return 1


@dataclass(frozen=True)
class Refusal:
    """A request over a limit: which one (``per``), its rate, and when to come back."""

    per: str  # "address", "token", "account"
    rate: str
    retry_after: int


def _first_refusal(checks: list[tuple[str, str, str, str]]) -> Refusal | None:
    """Count in each (per, scope, client, rate) in turn; stop at the first refusal, so a
    refused request is not also counted against the buckets after it."""
    for per, scope, client, rate in checks:
        decision = hit(scope, client, rate)
        if not decision.allowed:
            log.info("ratelimit.refused", scope=scope, rate=rate)
            return Refusal(per, rate, decision.retry_after)
    return None


def bearer_of(request: HttpRequest) -> str:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def check_api(request: HttpRequest) -> Refusal | None:
    """Per client address (``SALTER_API_RATE_PER_IP``), then per bearer token
    (``SALTER_API_RATE_PER_TOKEN``). The token is counted as sent, valid or not: the bucket is
    keyed by its hash, so nobody can spend another client's budget without its secret, and
    guessing is held back by the address's limit."""
    checks = [("address", "api.ip", client_of(request), settings.SALTER_API_RATE_PER_IP)]
    token = bearer_of(request)
    if token:
        checks.append(("token", "api.token", token, settings.SALTER_API_RATE_PER_TOKEN))
    return _first_refusal(checks)


def check_login(request: HttpRequest, username: str) -> Refusal | None:
    """One login attempt (a password or a second-factor code): per client address
    (``SALTER_LOGIN_RATE_PER_IP``), then per account name (``SALTER_LOGIN_RATE_PER_USERNAME``),
    beside django-axes, which locks out username + address after failures. The account's limit
    holds back guessing spread over many addresses; it is per window, so nobody can keep an
    account closed for longer than they keep attacking it."""
    checks = [("address", "login.ip", client_of(request), settings.SALTER_LOGIN_RATE_PER_IP)]
    name = username.strip().lower()
    if name:
        checks.append(("account", "login.username", name, settings.SALTER_LOGIN_RATE_PER_USERNAME))
    return _first_refusal(checks)
