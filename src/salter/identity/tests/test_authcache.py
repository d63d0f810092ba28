"""The per-process memory of users: fewer queries, and never stale after a change here."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from salter.identity import authcache
from salter.identity.models import User

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"


def test_a_session_reads_its_user_once_within_the_cache_time(
    client: Client, citizen: User, django_assert_max_num_queries: Any
) -> None:
    client.force_login(citizen, backend="salter.identity.backends.CachedModelBackend")
    client.get(ME)
    with django_assert_max_num_queries(1):  # the session row only (none from Redis)
        assert client.get(ME).json()["email"] == citizen.email


def test_a_change_to_the_user_is_seen_at_once(client: Client, citizen: User) -> None:
    client.force_login(citizen, backend="salter.identity.backends.CachedModelBackend")
    client.get(ME)
    citizen.full_name = "Ново Име"
    citizen.save()
    assert client.get(ME).json()["full_name"] == "Ново Име"
    citizen.is_active = False
    citizen.save()
    assert client.get(ME).status_code == 401


def test_each_request_gets_its_own_user_instance(citizen: User) -> None:
    from salter.identity.backends import CachedModelBackend

    backend = CachedModelBackend()
    first = backend.get_user(citizen.pk)
    second = backend.get_user(citizen.pk)
    assert first is not None and second is not None
    assert first == second and first is not second
    assert authcache.get_user_row(citizen.pk) is not None
    assert backend.get_user("not a number") is None
