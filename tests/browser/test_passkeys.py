"""Passkeys: register one with Chromium's virtual authenticator, then log in with it.

The authenticator is Chromium's own (DevTools WebAuthn domain), so the browser really runs the
WebAuthn ceremony: the server checks a real attestation and a real signature."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from salter.identity.models import User, UserSession
from tests.browser.conftest import check_page, login, logout

pytestmark = pytest.mark.browser


@pytest.fixture
def authenticator(page: Page, live_server: Any, settings: Any) -> Iterator[str]:
    """A platform authenticator with user verification, like a phone's fingerprint sensor."""
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    assert live_server.url.startswith("http://localhost:"), live_server.url
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    created = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    yield created["authenticatorId"]
    cdp.send("WebAuthn.disable")


def test_register_a_passkey_and_log_in_with_it(
    page: Page, authenticator: str, citizen: User
) -> None:
    login(page, citizen.email)
    page.goto("/account/security/")
    check_page(page)
    page.click("#passkey-register-button")
    expect(page.locator("#passkey-register-status-message")).not_to_be_empty()
    expect(page.locator("#passkey-register-status-message")).to_contain_text("success")
    # Registering counts as using the new factor: the session is now at level 2.
    page.goto("/account/")
    expect(page.locator("main .facts dd").nth(2)).to_have_text("2")
    assert UserSession.objects.get(user=citizen, ended_at__isnull=True).loa == 2

    logout(page)
    login(page, citizen.email, next_path="/account/")
    assert "/login/verify/" in page.url, page.url
    check_page(page)
    page.click("#passkey-verification-button")
    page.wait_for_url(lambda url: url.endswith("/account/") and "verify" not in url)
    expect(page.locator("main .facts dd").nth(2)).to_have_text("2")
    session = UserSession.objects.filter(user=citizen, ended_at__isnull=True).latest("pk")
    assert (session.method, session.loa) == ("passkey", 2)
