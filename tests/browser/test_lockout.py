"""Too many wrong passwords: the account is paused from that network, other accounts are not."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from salter.identity.models import User
from tests.browser.conftest import PASSWORD, check_page, login

pytestmark = pytest.mark.browser


def test_wrong_passwords_lock_one_account_from_one_address(page: Page, citizen: User) -> None:
    other = User.objects.create_user(
        "jelena@example.rs", PASSWORD, full_name="Јелена Илић", email_verified_at=timezone.now()
    )
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5

    for attempt in range(1, limit):
        assert login(page, citizen.email, f"wrong password {attempt}") == 200
        expect(page.locator(".error-summary")).to_be_visible()
    check_page(page)  # the login page with an error

    assert login(page, citizen.email, "wrong password again") == 429
    expect(page.locator("main [role=alert]")).to_be_visible()
    expect(page.locator("main a[href='/password/reset/']")).to_be_visible()
    check_page(page)  # too many attempts

    # The right password does not help from this address while the pause lasts...
    assert login(page, citizen.email, PASSWORD) == 429
    expect(page.locator("header a[href='/login/']")).to_be_visible()
    page.goto("/account/")
    assert "/login/" in page.url, page.url

    # ...and another account on the same network is not affected.
    assert login(page, other.email, PASSWORD) == 200
    assert page.url.endswith("/"), page.url
    expect(page.locator("header a[href='/account/']")).to_be_visible()
