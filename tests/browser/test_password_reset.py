"""A forgotten password: the e-mail link, a new password, and logging in with it."""

from __future__ import annotations

import pytest
from conftest import Mailbox
from playwright.sync_api import Page, expect

from salter.identity.models import User
from tests.browser.conftest import PASSWORD, check_page, email_link, goto, login, submit

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a brand new passphrase 2025"
RESET_LINK = r"https?://\S+/password/reset/[^/\s]+/[^/\s]+/"


def test_reset_a_forgotten_password(page: Page, mailbox: Mailbox, citizen: User) -> None:
    goto(page, "/login/")
    submit(page, "main a[href='/password/reset/']")
    check_page(page)

    page.fill("#id_email", citizen.email)
    submit(page)
    assert page.url.endswith("/password/reset/sent/"), page.url
    check_page(page)

    link = email_link(mailbox, citizen.email, RESET_LINK)
    goto(page, link)  # redirects to the form under …/set-password/
    expect(page.locator("#id_new_password1")).to_be_visible()

    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD + "?")
    submit(page)
    expect(page.locator(".error-summary")).to_be_visible()
    check_page(page)  # the form with an error

    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    submit(page)
    assert page.url.endswith("/password/reset/complete/"), page.url
    check_page(page)

    goto(page, link)  # a used link does not work twice
    expect(page.locator("main a.button[href='/password/reset/']")).to_be_visible()

    assert login(page, citizen.email, PASSWORD) == 200
    expect(page.locator(".error-summary")).to_be_visible()  # the old password is gone
    login(page, citizen.email, NEW_PASSWORD)
    assert page.url.endswith("/"), page.url
    expect(page.locator("header a[href='/account/']")).to_be_visible()
