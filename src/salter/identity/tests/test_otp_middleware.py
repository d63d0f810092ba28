"""The OTP middleware loads the verifying device only when asked, with django-otp's answers."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import PASSWORD, add_totp, totp_code
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from salter.identity import loa
from salter.identity.middleware import OTPMiddleware
from salter.identity.models import User

pytestmark = pytest.mark.django_db


def _through_middleware(user: User, persistent_id: str | None) -> tuple[Any, HttpRequest]:
    request = HttpRequest()
    request.session = SessionStore()
    if persistent_id is not None:
        request.session[DEVICE_ID_SESSION_KEY] = persistent_id
    request.user = user
    seen: dict[str, Any] = {}

    def view(req: HttpRequest) -> HttpResponse:
        seen["user"] = req.user
        return HttpResponse()

    OTPMiddleware(view)(request)
    return seen["user"], request


def test_the_device_is_loaded_on_first_use_only(
    citizen: User, django_assert_num_queries: Any
) -> None:
    device = add_totp(citizen)
    with django_assert_num_queries(0):
        user, _request = _through_middleware(citizen, device.persistent_id)
        assert user.is_authenticated
    with django_assert_num_queries(1):
        assert user.is_verified()
        assert user.otp_device == device
        assert user.is_verified()


@pytest.mark.parametrize("case", ["deleted", "unconfirmed", "someone_else's", "none"])
def test_no_valid_device_means_not_verified(citizen: User, case: str) -> None:
    device = add_totp(citizen)
    persistent_id: str | None = device.persistent_id
    if case == "deleted":
        device.delete()
    elif case == "unconfirmed":
        device.confirmed = False
        device.save()
    elif case == "someone_else's":
        other = User.objects.create_user("other@example.rs", PASSWORD, full_name="Други")
        persistent_id = add_totp(other).persistent_id
    else:
        persistent_id = None
    user, request = _through_middleware(citizen, persistent_id)
    assert not user.is_verified()
    assert user.otp_device is None
    assert DEVICE_ID_SESSION_KEY not in request.session


def test_a_device_set_after_the_middleware_wins(citizen: User) -> None:
    first, second = add_totp(citizen), add_totp(citizen)
    user, _request = _through_middleware(citizen, first.persistent_id)
    user.otp_device = second
    assert user.otp_device == second and user.is_verified()


def test_me_with_a_two_factor_session_takes_at_most_three_queries(
    client: Client, citizen: User, django_assert_max_num_queries: Any
) -> None:
    device = add_totp(citizen)
    assert client.post("/login/", {"username": citizen.email, "password": PASSWORD}).status_code
    response = client.post("/login/verify/", {"code": totp_code(device)})
    assert response.status_code == 302
    assert client.get("/api/v1/me").status_code == 200  # the first request stamps the session

    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["level_of_assurance"] == loa.TWO_FACTOR
