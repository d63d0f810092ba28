"""Back-pressure on login, beside the lockout: per client address and per account name, a 429
page in the reader's language with ``Retry-After``, checked before the password is hashed."""

from __future__ import annotations

from typing import Any

import pytest
from axes.models import AccessAttempt
from conftest import PASSWORD, add_totp
from django.test import Client
from django.urls import reverse

from salter.core import ratelimit
from salter.identity.models import User

pytestmark = pytest.mark.django_db

LOGIN = "/login/"
WRONG = "wrong password!"  # noqa: S105


@pytest.fixture(autouse=True)
def _mid_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """30 s into a minute: no window ends during a test."""
    monkeypatch.setattr(ratelimit, "now_seconds", lambda: 999_999_990.0)


def attempt(client: Client, email: str, password: str = WRONG, **extra: Any) -> Any:
    return client.post(LOGIN, {"username": email, "password": password}, **extra)


def assert_refused(response: Any) -> int:
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    retry_after = int(response["Retry-After"])
    assert retry_after == 30  # to the end of the minute
    return retry_after


def test_an_address_over_its_rate_is_refused_before_the_password_is_checked(
    settings: Any, citizen: User
) -> None:
    settings.SALTER_LOGIN_RATE_PER_IP = "2/minute"
    here = Client(REMOTE_ADDR="10.0.0.1")
    assert [attempt(here, f"nobody{n}@example.rs").status_code for n in range(2)] == [200, 200]
    failures = AccessAttempt.objects.count()

    refused = attempt(here, citizen.email, PASSWORD)

    assert_refused(refused)
    assert "_auth_user_id" not in here.session  # the right password did not get in
    assert AccessAttempt.objects.count() == failures  # nor did axes count a failure
    assert attempt(Client(REMOTE_ADDR="10.0.0.2"), citizen.email, PASSWORD).status_code == 302


def test_an_account_attempted_from_many_addresses_is_held_back(
    settings: Any, citizen: User, official: User
) -> None:
    settings.SALTER_LOGIN_RATE_PER_USERNAME = "2/minute"
    for n in range(2):
        attempt(Client(REMOTE_ADDR=f"10.0.1.{n}"), citizen.email.upper())

    assert_refused(attempt(Client(REMOTE_ADDR="10.0.1.9"), citizen.email, PASSWORD))
    # Another account from the same addresses is not affected.
    assert attempt(Client(REMOTE_ADDR="10.0.1.0"), official.email, PASSWORD).status_code == 302


def test_the_page_is_in_the_readers_language(settings: Any) -> None:
    settings.SALTER_LOGIN_RATE_PER_IP = "1/minute"
    client = Client()
    attempt(client, "a@example.rs")

    english = attempt(client, "a@example.rs", HTTP_ACCEPT_LANGUAGE="en")
    serbian = attempt(client, "a@example.rs", HTTP_ACCEPT_LANGUAGE="sr")

    seconds = assert_refused(english)
    assert "Too many attempts" in english.content.decode()
    assert f"wait {seconds} second" in english.content.decode()
    assert_refused(serbian)
    assert "Превише покушаја" in serbian.content.decode()


def test_second_factor_codes_count_against_the_account(settings: Any, citizen: User) -> None:
    add_totp(citizen)
    client = Client()
    assert attempt(client, citizen.email, PASSWORD).status_code == 302
    settings.SALTER_LOGIN_RATE_PER_USERNAME = "2/minute"
    verify = reverse("identity:login_verify")

    codes = [client.post(verify, {"code": "000000"}).status_code for _ in range(2)]
    refused = client.post(verify, {"code": "000000"})

    assert codes == [200, 200]
    assert_refused(refused)


def test_pages_other_than_login_are_not_limited(settings: Any) -> None:
    settings.SALTER_LOGIN_RATE_PER_IP = "1/minute"
    client = Client()

    assert [client.get(LOGIN).status_code for _ in range(3)] == [200, 200, 200]
