"""Pages the main flows do not reach: acting for a company, and the national-eID step-up."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from salter.core.context import Actor
from salter.identity import services
from salter.identity.models import Company, User
from tests.browser.conftest import check_page, goto, login, submit

pytestmark = pytest.mark.browser


def test_acting_for_a_company_shows_whom_you_act_for(
    page: Page, citizen: User, system: Actor
) -> None:
    company = Company.objects.create(pib="101134702", mb="07023014", name="Демо д.о.о.")
    services.grant_company_mandate(system, agent=citizen, company=company)
    login(page, citizen.email)
    goto(page, "/account/")
    page.select_option("#mandate", label="Демо д.о.о. (Заступник привредног друштва)")
    submit(page, "main form:has(#mandate) button[type=submit]")
    expect(page.locator("header .acting")).to_contain_text("Демо д.о.о.")
    check_page(page)  # the banner on the profile page
    page.select_option("#mandate", value="")
    submit(page, "main form:has(#mandate) button[type=submit]")
    expect(page.locator("header .acting")).to_have_count(0)


def test_national_eid_step_up_page(page: Page, citizen: User) -> None:
    login(page, citizen.email)
    goto(page, "/login/step-up/?level=3&next=/account/")
    expect(page.locator("main h1")).to_be_visible()
