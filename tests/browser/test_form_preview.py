"""An authority administrator previews the newborn-aid form as the applicant will see it."""

from __future__ import annotations

import pytest
from conftest import add_totp, totp_code
from playwright.sync_api import Page, expect

from salter.authorities.models import OrgUnit
from salter.catalog import pilots, services
from salter.catalog.models import Service
from salter.core.context import Actor
from salter.identity import services as identity_services
from salter.identity.models import Role
from salter.identity.validators import jmbg_check_digit
from tests.browser.conftest import PASSWORD, check_page, login, submit
from tests.browser.test_language import switch_language

pytestmark = pytest.mark.browser

EMAIL = "admin@surdulica.demo"
NEXT = "main form button[value=next]"


def valid_jmbg(first12: str) -> str:
    digit = jmbg_check_digit(first12)
    assert digit is not None
    return f"{first12}{digit}"


def newborn_aid(system: Actor, unit: OrgUnit) -> str:
    """Publish the pilot at the unit's authority; the preview's path."""
    service = services.create_service(
        system,
        unit.authority,
        code=pilots.NEWBORN_AID.code,
        name=pilots.NEWBORN_AID.name,
        name_en=pilots.NEWBORN_AID.name_en,
        kind=Service.Kind.ADMINISTRATIVE,
    )
    draft = services.create_draft_version(system, service, pilots.NEWBORN_AID.definition())
    version = services.publish_version(system, draft)
    return f"/official/catalog/services/{service.pk}/versions/{version.number}/preview/"


def test_preview_of_the_newborn_aid_form(page: Page, unit: OrgUnit, system: Actor) -> None:
    path = newborn_aid(system, unit)
    admin = identity_services.add_official(
        system,
        email=EMAIL,
        full_name="Ана Администратор",
        unit=unit,
        role=Role.AUTHORITY_ADMIN,
        password=PASSWORD,
    ).user
    device = add_totp(admin)

    login(page, EMAIL, next_path=path)
    assert "/login/verify/" in page.url, page.url
    page.fill("#id_code", totp_code(device))
    submit(page)
    assert page.url.endswith(path), page.url
    expect(page.locator("main h1")).to_have_text(pilots.NEWBORN_AID.name)
    expect(page.locator(".steps li[aria-current=step]")).to_have_text("Подаци о родитељу")
    expect(page.locator(".step-count")).to_have_text("Корак 1 од 3")
    check_page(page)

    # An empty first step: a summary of errors linking to each field, marked on the field.
    submit(page, NEXT)
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("a")).to_have_count(5)
    expect(summary.locator("a[href='#id_parent_name']")).to_contain_text("Попуните ово поље.")
    expect(page.locator("#id_parent_jmbg")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_parent_jmbg")).to_have_attribute(
        "aria-describedby", "id_parent_jmbg_error id_parent_jmbg_helptext"
    )
    check_page(page)

    # A JMBG with a wrong check digit gets the JMBG validator's message; the rest is kept.
    page.fill("#id_parent_name", "Јована Јовановић")
    page.fill("#id_parent_jmbg", "0101990710000")
    page.fill("#id_parent_address", "Краља Петра 1, Сурдулица")
    page.fill("#id_parent_email", "jovana@example.rs")
    page.fill("#id_bank_account", "160-0000000012345-67")
    submit(page, NEXT)
    expect(page.locator("#id_parent_jmbg_error")).to_contain_text("ЈМБГ")
    expect(page.locator(".error-summary a")).to_have_count(1)
    expect(page.locator("#id_parent_name")).to_have_value("Јована Јовановић")
    check_page(page)

    page.fill("#id_parent_jmbg", valid_jmbg("010199071000"))
    submit(page, NEXT)
    assert page.url.endswith("?step=2"), page.url
    expect(page.locator(".steps li[aria-current=step]")).to_have_text("Подаци о детету")
    check_page(page)

    page.fill("#id_child_name", "Лука Јовановић")
    page.fill("#id_child_jmbg", valid_jmbg("150302471000"))
    page.fill("#id_child_birth_date", "2024-03-15")
    submit(page, NEXT)
    assert page.url.endswith("?step=3"), page.url
    expect(page.locator("#id_birth_record_file_note")).to_contain_text("Доказе достављам сам")
    check_page(page)

    # Ticking "I bring the evidence" asks for the birth record (evaluated on the server).
    page.check("#id_bring_evidence")
    page.set_input_files(
        "#id_birth_record_file",
        files=[{"name": "izvod.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7"}],
    )
    submit(page, NEXT)
    assert page.url.endswith("?step=done"), page.url
    expect(page.locator("main dl")).to_contain_text("izvod.pdf")
    expect(page.locator("main dl")).to_contain_text("Лука Јовановић")
    check_page(page)

    # Once in English, on a step with help texts.
    page.goto(f"{path}?step=1")
    switch_language(page, "en")
    expect(page.locator(".step-count")).to_have_text("Step 1 of 3")
    expect(page.locator("label[for=id_parent_jmbg]")).to_have_text(
        "Parent's personal number (JMBG)"
    )
    check_page(page)
