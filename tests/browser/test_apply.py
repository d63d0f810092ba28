"""A citizen applies for newborn aid step by step, submits once and follows the case."""

from __future__ import annotations

import pytest
from conftest import add_totp, totp_code
from playwright.sync_api import Page, expect

from salter.authorities.models import OrgUnit
from salter.cases.models import Case
from salter.catalog import pilots, services
from salter.catalog.models import Service
from salter.core.context import Actor
from salter.identity.models import User
from tests.browser.conftest import check_page, goto, login, submit
from tests.browser.test_form_preview import valid_jmbg

pytestmark = pytest.mark.browser

NEXT = "main form button[value=next]"
APPLY = f"/services/surdulica/{pilots.NEWBORN_AID.code}/apply/"


def offer_newborn_aid(system: Actor, unit: OrgUnit) -> None:
    pilot = pilots.NEWBORN_AID
    service = services.create_service(
        system,
        unit.authority,
        code=pilot.code,
        name=pilot.name,
        name_en=pilot.name_en,
        kind=Service.Kind.ADMINISTRATIVE,
        min_level_of_assurance=pilot.min_level_of_assurance,
    )
    services.publish_version(
        system, services.create_draft_version(system, service, pilot.definition())
    )


def test_a_citizen_applies_for_newborn_aid(
    page: Page, unit: OrgUnit, system: Actor, citizen: User
) -> None:
    offer_newborn_aid(system, unit)
    device = add_totp(citizen)

    goto(page, "/")
    expect(page.locator(f"main a[href='{APPLY}']")).to_have_text(pilots.NEWBORN_AID.name)
    login(page, citizen.email, next_path=APPLY)
    assert "/login/verify/" in page.url, page.url
    page.fill("#id_code", totp_code(device))
    submit(page)
    assert page.url.endswith(APPLY), page.url
    expect(page.locator("main h1")).to_have_text(pilots.NEWBORN_AID.name)
    expect(page.locator(".step-count")).to_have_text("Корак 1 од 3")
    check_page(page)

    # A mistake: the step comes back with a message on the field, the rest kept.
    page.fill("#id_parent_name", "Јована Јовановић")
    page.fill("#id_parent_jmbg", "0101990710000")
    page.fill("#id_parent_address", "Српских владара 1, Сурдулица")
    page.fill("#id_parent_email", "jovana@example.rs")
    page.fill("#id_bank_account", "160-0000000012345-67")
    submit(page, NEXT)
    expect(page.locator("#id_parent_jmbg_error")).to_contain_text("ЈМБГ")
    check_page(page)

    page.fill("#id_parent_jmbg", valid_jmbg("010199071000"))
    submit(page, NEXT)
    assert page.url.endswith("?step=2"), page.url
    check_page(page)

    page.fill("#id_child_name", "Лука Јовановић")
    page.fill("#id_child_jmbg", valid_jmbg("150302471000"))
    page.fill("#id_child_birth_date", "2024-03-15")
    submit(page, NEXT)
    assert page.url.endswith("?step=3"), page.url
    check_page(page)

    submit(page, NEXT)
    assert page.url.endswith("?step=review"), page.url
    expect(page.locator("main dl")).to_contain_text("Лука Јовановић")
    check_page(page)

    submit(page, "main form button[value=submit]")
    case = Case.objects.get(applicant=citizen)
    assert page.url.endswith(f"/cases/{case.pk}/"), page.url
    expect(page.locator(".messages")).to_contain_text(case.registry_number)
    expect(page.locator(".timeline li")).to_have_count(1)
    expect(page.locator(".timeline li")).to_contain_text("Захтев поднет")
    expect(page.locator("#next-heading + p")).to_contain_text("Захтев поднет")
    check_page(page)

    # Going back (a retried submission) makes no second case.
    page.go_back()
    submit(page, "main form button[value=submit]")
    assert page.url.endswith(f"/cases/{case.pk}/"), page.url
    assert Case.objects.filter(applicant=citizen).count() == 1

    goto(page, "/cases/")
    expect(page.locator("main .card")).to_have_count(1)
    expect(page.locator("main .card")).to_contain_text(case.registry_number)
    expect(page.locator("header nav a[href='/cases/']")).to_be_visible()

    page.click(f"main a[href='/cases/{case.pk}/']")
    page.click(f"main a[href='/cases/{case.pk}/withdraw/']")
    check_page(page)
    submit(page, "main form button[type=submit]")
    expect(page.locator(".timeline li")).to_have_count(2)
    expect(page.locator("main a[href$='/withdraw/']")).to_have_count(0)
    expect(page.locator("#next-heading + p")).to_contain_text("Захтев повучен")
    check_page(page)
