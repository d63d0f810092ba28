"""A citizen becomes an e-citizen and turns on two-factor login, all through the browser."""

from __future__ import annotations

import time

import pytest
from conftest import Mailbox
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    PASSWORD,
    check_page,
    email_link,
    goto,
    login,
    logout,
    submit,
    totp_key,
    totp_now,
    wrong_code,
)

pytestmark = pytest.mark.browser

EMAIL = "ana.jovanovic@example.rs"
NAME = "Ана Јовановић"
VERIFY_LINK = r"https?://\S+/register/verify/\S+/"


def test_register_verify_and_two_factor_login(page: Page, mailbox: Mailbox) -> None:
    goto(page, "/")
    submit(page, "main a[href='/register/']")
    check_page(page)

    # A mistake first: the error summary and the field errors must be accessible too.
    page.fill("#id_full_name", NAME)
    page.fill("#id_email", EMAIL)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD + "!")
    assert submit(page) == 200
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#id_password2_error")).to_be_visible()
    check_page(page)

    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    assert submit(page) == 200
    expect(page.locator("main")).to_contain_text(EMAIL)
    expect(page.locator("main form")).to_have_count(0)
    check_page(page)  # register done

    # Logging in before confirming the address: an error and a button to resend the link.
    login(page, EMAIL)
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("main form[action='/register/resend/']")).to_be_visible()
    check_page(page)

    # The link from the e-mail confirms the address; a mangled link is refused politely.
    link = email_link(mailbox, EMAIL, VERIFY_LINK)
    goto(page, link[:-3] + "xx/", status=400)
    expect(page.locator("main [role=alert]")).to_be_visible()
    goto(page, link)
    submit(page, "main a.button[href='/login/']")
    check_page(page)

    page.fill("#id_username", EMAIL)
    page.fill("#id_password", PASSWORD)
    submit(page)
    assert page.url.endswith("/"), page.url
    expect(page.locator("header form[action='/logout/'] button")).to_be_visible()

    goto(page, "/account/")  # profile at level 1
    goto(page, "/account/security/")
    key = totp_key(page.locator("#totp-secret").inner_text())
    page.fill("#id_code", wrong_code(key))
    submit(page, "main form:has(#id_code) button[type=submit]")
    expect(page.locator("#id_code_error")).to_be_visible()
    check_page(page)  # security page with a wrong code

    page.fill("#id_code", totp_now(key))
    submit(page, "main form:has(#id_code) button[type=submit]")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    check_page(page)  # recovery codes

    logout(page)
    expect(page.locator("header a[href='/login/']")).to_be_visible()
    check_page(page)  # home with the "logged out" message

    login(page, EMAIL)
    assert "/login/verify/" in page.url, page.url
    check_page(page)
    goto(page, "/account/")  # nothing else opens until the second factor is given
    assert "/login/verify/" in page.url, page.url

    page.fill("#id_code", wrong_code(key))
    submit(page)
    expect(page.locator("#id_code_error")).to_be_visible()
    check_page(page)  # login/verify with a wrong code

    # After a wrong code django-otp refuses every code for a moment (the throttle doubles on each
    # failure). The code of the setup was used: it accepts the next step's code, never one twice.
    time.sleep(settings.OTP_TOTP_THROTTLE_FACTOR + 0.2)
    page.fill("#id_code", totp_now(key, steps_ahead=1))
    submit(page)
    assert "/login/" not in page.url, page.url
    expect(page.locator("header a[href='/account/']")).to_be_visible()

    goto(page, "/account/")  # profile at level 2, with the device and this session
    expect(page.locator("main")).to_contain_text(NAME)
    goto(page, "/account/security/")  # security page with a device listed
    goto(page, "/account/tokens/new/")
    page.fill("#id_name", "Моја апликација")
    submit(page)
    expect(page.locator("#api-token-secret")).to_contain_text("slt_")
    check_page(page)  # token created
    submit(page, "main a.button")
    assert page.url.endswith("/account/"), page.url
    check_page(page)  # profile with a token listed
