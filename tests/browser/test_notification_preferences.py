"""The notification preferences page: accessible (axe-core, WCAG 2.2 AA) on a desktop and at
360 px, and a choice made there holds."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from salter.identity.models import User
from salter.mailbox import preferences
from tests.browser.conftest import check_page, goto, login, submit

pytestmark = pytest.mark.browser


def test_choosing_notifications(page: Page, citizen: User) -> None:
    login(page, citizen.email)
    goto(page, "/account/")
    page.click("a[href='/account/notifications/']")
    expect(page.locator("main h1")).to_be_visible()
    check_page(page)
    email = page.locator("#n-caseemail")
    expect(email).to_be_checked()
    expect(page.locator("#n-deliveryemail")).to_be_disabled()
    email.uncheck()
    page.locator("#n-casepush").check()
    submit(page, "main form button[type=submit]")
    expect(page.locator("#n-caseemail")).not_to_be_checked()
    expect(page.locator("#n-casepush")).to_be_checked()
    check_page(page)  # with the confirmation shown
    chosen = preferences.get(citizen)
    assert not chosen[("case", "email")] and chosen[("case", "push")]
