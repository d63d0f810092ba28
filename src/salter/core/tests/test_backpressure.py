"""Back-pressure on the API: 429 ``rate_limited`` with ``Retry-After`` per client address and
per bearer token, counted in the cache (Redis when configured); the settings are checked."""

from __future__ import annotations

import socket
import uuid
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings as django_settings
from django.core.cache.backends.redis import RedisCache
from django.test import Client

from salter.core import checks, ratelimit
from salter.core.context import Actor
from salter.identity import services
from salter.identity.models import User

pytestmark = pytest.mark.django_db

PUBLIC = "/api/v1/authorities"


@pytest.fixture(autouse=True)
def _mid_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """30 s into a minute: no window ends during a test."""
    monkeypatch.setattr(ratelimit, "now_seconds", lambda: 999_999_990.0)


def token_of(user: User) -> dict[str, str]:
    _token, secret = services.create_api_token(
        Actor(user=user, via="test"), name="ci", scopes=["read"], days=30, loa=1
    )
    return {"Authorization": f"Bearer {secret}"}


def refusal_of(response: Any) -> dict[str, Any]:
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "rate_limited"
    retry_after = int(response["Retry-After"])
    assert retry_after == 30
    assert error["details"]["retry_after"] == retry_after
    assert str(retry_after) in error["message"]
    return error


def test_an_address_over_its_rate_gets_429(settings: Any) -> None:
    settings.SALTER_API_RATE_PER_IP = "3/minute"
    here = Client(REMOTE_ADDR="10.0.0.1")

    statuses = [here.get(PUBLIC).status_code for _ in range(3)]
    refused = here.get(PUBLIC)

    assert statuses == [200, 200, 200]
    error = refusal_of(refused)
    assert error["details"] == {
        "limit": "3/minute",
        "per": "address",
        "retry_after": int(refused["Retry-After"]),
    }
    assert Client(REMOTE_ADDR="10.0.0.2").get(PUBLIC).status_code == 200


def test_a_refusal_costs_no_query(settings: Any, django_assert_num_queries: Any) -> None:
    settings.SALTER_API_RATE_PER_IP = "1/minute"
    client = Client()
    client.get(PUBLIC)

    with django_assert_num_queries(0):
        refusal_of(client.get(PUBLIC))


def test_a_token_over_its_rate_gets_429_and_other_tokens_do_not(
    settings: Any, citizen: User
) -> None:
    settings.SALTER_API_RATE_PER_TOKEN = "2/minute"
    first, second = token_of(citizen), token_of(citizen)
    client = Client()

    assert [client.get("/api/v1/me", headers=first).status_code for _ in range(2)] == [200, 200]
    refused = client.get("/api/v1/me", headers=first)

    assert refusal_of(refused)["details"]["per"] == "token"
    assert refusal_of(refused)["details"]["limit"] == "2/minute"
    assert client.get("/api/v1/me", headers=second).status_code == 200
    assert client.get(PUBLIC).status_code == 200  # the address is not over its own rate


def test_wrong_tokens_from_one_address_are_held_back_by_the_address_rate(settings: Any) -> None:
    """A guesser cannot escape the limit by sending a new token each time."""
    settings.SALTER_API_RATE_PER_IP = "5/minute"
    client = Client()

    statuses = [
        client.get("/api/v1/me", headers={"Authorization": f"Bearer slt_{n}"}).status_code
        for n in range(6)
    ]

    assert statuses == [401] * 5 + [429]


def test_pages_are_not_counted_by_the_api_rates(settings: Any) -> None:
    settings.SALTER_API_RATE_PER_IP = "1/minute"
    client = Client()

    assert [client.get("/").status_code for _ in range(3)] == [200, 200, 200]


def test_a_cache_that_cannot_be_reached_lets_requests_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Down:
        def add(self, *args: Any, **kwargs: Any) -> bool:
            raise ConnectionError("redis is down")

    monkeypatch.setattr(ratelimit, "cache", Down())

    assert ratelimit.hit("t", "10.0.0.1", "1/minute").allowed
    assert ratelimit.hit("t", "10.0.0.1", "1/minute").allowed


def test_a_rate_that_does_not_read_fails_the_system_check(settings: Any) -> None:
    assert checks.rates_read(None) == []
    settings.SALTER_LOGIN_RATE_PER_USERNAME = "lots"

    errors = checks.rates_read(None)

    assert [(e.id, e.obj) for e in errors] == [
        ("salter.core.E001", "SALTER_LOGIN_RATE_PER_USERNAME")
    ]


# --- Shared through Redis -------------------------------------------------------------------


def _redis_location() -> str:
    """The Redis database this test process caches in (settings/test.py gives each xdist
    worker its own, which only this process flushes), else a local one; skipped without."""
    default = django_settings.CACHES["default"]
    redis = default["BACKEND"].endswith("RedisCache")
    location = str(default["LOCATION"]) if redis else "redis://127.0.0.1:6379/13"
    address = urlparse(location)
    try:
        socket.create_connection((address.hostname or "", address.port or 6379), 1).close()
    except OSError:
        pytest.skip(f"no Redis at {location}")
    return location


def test_the_count_is_shared_through_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes with their own connections (two cache objects here) share one window:
    what one counted, the other refuses."""
    location = _redis_location()
    params = {"KEY_PREFIX": f"salter-test-{uuid.uuid4().hex}", "TIMEOUT": 60}
    one, other = RedisCache(location, params), RedisCache(location, params)

    monkeypatch.setattr(ratelimit, "cache", one)
    first = [ratelimit.hit("shared", "10.0.0.9", "3/minute").allowed for _ in range(2)]
    monkeypatch.setattr(ratelimit, "cache", other)
    then = [ratelimit.hit("shared", "10.0.0.9", "3/minute") for _ in range(2)]

    assert first == [True, True]
    assert [d.allowed for d in then] == [True, False]
    assert then[1].retry_after == 30
    # No clear(): it would empty the whole database. The keys expire with their window.
