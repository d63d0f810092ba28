"""A short-lived, per-process memory of API callers, so a busy machine client costs no query.

What it keeps, for ``SALTER_API_AUTH_CACHE_SECONDS`` (5 s by default, 0 turns it off):

* a verified token: its digest, scopes, level and expiry, and the fields of its user that the
  API reads — keyed by the token's public prefix, checked against the full secret every time;
* a user's memberships (authority, unit, role), for ``GET /api/v1/me``;
* a logged-in user's row, which Django otherwise reads on every request of a session.

Revoking a token, ending a membership or deactivating a user clears the entry in the process
that did it at once; other processes see the change within the cache time. That is the
trade-off: a revoked token may keep working for up to that many seconds on other workers —
far less than the minutes a signed access token (JWT) lives elsewhere. Expiry is checked on
every hit, so an expired token never works.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from django.conf import settings

MAX_ENTRIES = 10_000

_lock = threading.Lock()
_tokens: OrderedDict[str, tuple[float, Any]] = OrderedDict()
_memberships: OrderedDict[int, tuple[float, Any]] = OrderedDict()
_users: OrderedDict[int, tuple[float, Any]] = OrderedDict()


def ttl() -> float:
    return float(getattr(settings, "SALTER_API_AUTH_CACHE_SECONDS", 0))


def _get(store: OrderedDict[Any, tuple[float, Any]], key: Any) -> Any:
    entry = store.get(key)
    if entry is None:
        return None
    expires, value = entry
    if expires < time.monotonic():
        with _lock:
            store.pop(key, None)
        return None
    return value


def _put(store: OrderedDict[Any, tuple[float, Any]], key: Any, value: Any) -> None:
    seconds = ttl()
    if seconds <= 0:
        return
    with _lock:
        store[key] = (time.monotonic() + seconds, value)
        store.move_to_end(key)
        while len(store) > MAX_ENTRIES:
            store.popitem(last=False)


def get_token(prefix: str) -> Any:
    return _get(_tokens, prefix)


def put_token(prefix: str, token: Any) -> None:
    _put(_tokens, prefix, token)


def get_memberships(user_id: int) -> Any:
    return _get(_memberships, user_id)


def put_memberships(user_id: int, memberships: Any) -> None:
    _put(_memberships, user_id, memberships)


def get_user_row(user_id: int) -> Any:
    """The column values of a logged-in user (a tuple, so no request shares an instance)."""
    return _get(_users, user_id)


def put_user_row(user_id: int, row: Any) -> None:
    _put(_users, user_id, row)


def forget_token(prefix: str) -> None:
    with _lock:
        _tokens.pop(prefix, None)


def forget_user(user_id: int) -> None:
    with _lock:
        _memberships.pop(user_id, None)
        _users.pop(user_id, None)
        for prefix in [p for p, (_e, t) in _tokens.items() if t.user_id == user_id]:
            _tokens.pop(prefix, None)


def clear() -> None:
    with _lock:
        _tokens.clear()
        _memberships.clear()
        _users.clear()
