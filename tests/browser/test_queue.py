"""The head of unit works an overtime application from the work queue, in the browser."""

from __future__ import annotations

import pytest
from conftest import add_totp, totp_code
from playwright.sync_api import Page, expect

from salter.authorities.models import Authority, OrgUnit
from salter.cases import services as cases
from salter.cases.models import Case
from salter.cases.tests.conftest import OVERTIME_FORM, offer
from salter.catalog import pilots
from salter.core.context import Actor
from salter.identity import services
from salter.identity.models import Role, User
from tests.browser.conftest import PASSWORD, check_page, goto, login, submit

pytestmark = pytest.mark.browser


def add(system: Actor, unit: OrgUnit, email: str, name: str, role: str) -> User:
    return services.add_official(
        system, email=email, full_name=name, unit=unit, role=role, password=PASSWORD
    ).user


def test_the_head_approves_overtime_from_the_queue(
    page: Page, authority: Authority, unit: OrgUnit, system: Actor
) -> None:
    version = offer(system, authority, pilots.OVERTIME)
    employee = add(system, unit, "ana@surdulica.demo", "Ана Анић", Role.CLERK)
    head = add(system, unit, "sef@surdulica.demo", "Бранко Шефовић", Role.HEAD_OF_UNIT)
    device = add_totp(head)
    case, _ = cases.submit(Actor(user=employee, via="test"), version, OVERTIME_FORM)

    login(page, head.email, next_path="/official/")
    page.fill("#id_code", totp_code(device))
    submit(page)
    assert page.url.endswith("/official/"), page.url
    expect(page.locator("main")).to_contain_text("1")
    check_page(page)  # the dashboard with the counts

    goto(page, "/official/cases/queue/")
    row = page.locator("main tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(case.registry_number)

    submit(page, f"main tbody a:has-text('{case.registry_number}')")
    assert page.url.endswith(f"/official/cases/{case.pk}/"), page.url
    check_page(page)  # the case with its steps

    page.fill("#approve-opinion", "Одобравам, извештај је хитан.")
    submit(page, "#step-approve button[type=submit]")
    assert page.url.endswith(f"/official/cases/{case.pk}/"), page.url
    expect(page.locator("main .messages")).to_be_visible()
    expect(page.locator("main .timeline")).to_contain_text("Одобравам, извештај је хитан.")
    expect(page.locator("#step-approve")).to_have_count(0)
    check_page(page)
    case.refresh_from_db()
    assert case.state == "approved"
    assert Case.objects.get(pk=case.pk).version == 2
