"""Fixtures for the registers' tests (helpers.py has the plain functions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from salter.registers.models import RegisterClient
from salter.registers.tests.helpers import add_family, body_of, platform_client

Post = Callable[..., Any]


@pytest.fixture
def post(client: Client) -> Post:
    """POST raw bytes, as a register client does."""

    def send(path: str, body: bytes | dict[str, Any], token: str | None = None) -> Any:
        raw = body if isinstance(body, bytes) else body_of(body)
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return client.post(path, raw, content_type="application/json", headers=headers)

    return send


@pytest.fixture
def platform(db: None) -> tuple[RegisterClient, str]:
    return platform_client()


@pytest.fixture
def family(db: None) -> None:
    add_family()
