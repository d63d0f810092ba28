"""An official cannot reach the work area without a second factor."""

from __future__ import annotations

import pytest
from conftest import add_totp, totp_code
from playwright.sync_api import Page, expect

from salter.authorities.models import OrgUnit
from salter.core.context import Actor
from salter.identity import services
from salter.identity.models import Role, User
from tests.browser.conftest import PASSWORD, check_page, login, submit, totp_key, totp_now

pytestmark = pytest.mark.browser

EMAIL = "sluzbenik@surdulica.demo"


def add_official(system: Actor, unit: OrgUnit, role: str) -> User:
    membership = services.add_official(
        system, email=EMAIL, full_name="Милица Стојановић", unit=unit, role=role, password=PASSWORD
    )
    return membership.user


def test_official_must_set_up_a_second_factor(page: Page, unit: OrgUnit, system: Actor) -> None:
    add_official(system, unit, Role.CLERK)

    # Not logged in: /official/ sends to the login page, which would come back after it.
    page.goto("/official/")
    assert "/login/" in page.url and "next=/official/" in page.url, page.url
    check_page(page)

    page.fill("#id_username", EMAIL)
    page.fill("#id_password", PASSWORD)
    submit(page)
    assert page.url.endswith("/account/security/"), page.url
    expect(page.locator("main .notice")).to_be_visible()
    expect(page.locator("main .messages")).to_be_visible()
    check_page(page)  # the security page with the "officials must" notice and a message

    page.goto("/official/")  # typing the address does not help
    assert page.url.endswith("/account/security/"), page.url
    expect(page.locator("header a[href='/official/']")).to_be_visible()

    key = totp_key(page.locator("#totp-secret").inner_text())
    page.fill("#id_code", totp_now(key))
    submit(page, "main form:has(#id_code) button[type=submit]")
    expect(page.locator("#recovery-codes li")).to_have_count(10)

    submit(page, "header a[href='/official/']")
    assert page.url.endswith("/official/"), page.url
    expect(page.locator("main")).to_contain_text("Општина Сурдулица")
    check_page(page)  # the official dashboard


def test_official_with_a_second_factor_is_asked_for_it(
    page: Page, unit: OrgUnit, system: Actor
) -> None:
    device = add_totp(add_official(system, unit, Role.APPROVER))

    login(page, EMAIL, next_path="/official/")
    assert "/login/verify/" in page.url, page.url
    page.goto("/official/")  # the gate holds while the second factor is pending
    assert "/login/verify/" in page.url, page.url

    page.fill("#id_code", totp_code(device))
    submit(page)
    assert page.url.endswith("/official/"), page.url
    check_page(page)
