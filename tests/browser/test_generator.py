"""An authority administrator builds a service in the service generator, without a programmer:
creates it, adds a field, a state and a transition, sees a problem beside the input it concerns,
fixes it, looks at the workflow diagram and publishes."""

from __future__ import annotations

import pytest
from conftest import add_totp, totp_code
from playwright.sync_api import Page, expect

from salter.authorities.models import OrgUnit
from salter.catalog.models import Service, ServiceVersion
from salter.core.context import Actor
from salter.identity import services as identity_services
from salter.identity.models import Role
from tests.browser.conftest import PASSWORD, check_page, login, submit

pytestmark = pytest.mark.browser

EMAIL = "admin@surdulica.demo"
LIST = "/official/catalog/services/"


def open_item(page: Page, anchor: str) -> None:
    details = page.locator(f"details#{anchor}")
    if details.get_attribute("open") is None:
        page.click(f"details#{anchor} > summary")


def save(page: Page, anchor: str) -> None:
    assert submit(page, f"details#{anchor} button[value=save]") == 200


def test_an_administrator_builds_and_publishes_a_service(
    page: Page, unit: OrgUnit, system: Actor
) -> None:
    admin = identity_services.add_official(
        system,
        email=EMAIL,
        full_name="Ана Администратор",
        unit=unit,
        role=Role.AUTHORITY_ADMIN,
        password=PASSWORD,
    ).user
    device = add_totp(admin)
    login(page, EMAIL, next_path=LIST)
    page.fill("#id_code", totp_code(device))
    submit(page)
    assert page.url.endswith(LIST), page.url
    check_page(page)

    # A new service: its first draft is valid from the start.
    page.click(f"a[href='{LIST}new/']")
    check_page(page)
    page.fill("#id_code", "parking_permit")
    page.fill("#id_name", "Паркинг дозвола")
    page.fill("#id_name_en", "Parking permit")
    page.select_option("#id_kind", "administrative")
    submit(page)
    service = Service.objects.get(code="parking_permit")
    draft = service.versions.get()
    assert f"/catalog/services/{service.pk}/versions/1/" in page.url
    expect(page.locator("main h1")).to_contain_text("Паркинг дозвола")
    expect(page.locator("#problems.success")).to_be_visible()

    # A field.
    open_item(page, "new-field")
    page.fill("#id_new-field-name", "plate")
    page.fill("#id_new-field-label_sr", "Регистарска ознака")
    page.fill("#id_new-field-label_en", "Licence plate")
    page.fill("#id_new-field-max_length", "12")
    page.check("#id_new-field-required")
    save(page, "new-field")
    expect(page.locator("details#field-plate > summary")).to_contain_text("Регистарска ознака")

    # A state, and a transition into it that nobody may take.
    open_item(page, "new-state")
    page.fill("#id_new-state-id", "in_review")
    page.fill("#id_new-state-label_sr", "У обради")
    page.fill("#id_new-state-label_en", "Under review")
    save(page, "new-state")
    open_item(page, "new-transition")
    page.fill("#id_new-transition-id", "review")
    page.check("input[name='new-transition-sources'][value='submitted']")
    page.select_option("#id_new-transition-target", "in_review")
    page.fill("#id_new-transition-label_sr", "Узми у обраду")
    page.fill("#id_new-transition-label_en", "Start the review")
    save(page, "new-transition")

    # The problems: in the summary, linked to the inputs, and beside them.
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("a[href='#id_transition-1-roles']")).to_be_visible()
    roles = page.locator("#id_transition-1-roles")
    expect(roles).to_have_attribute("aria-describedby", "id_transition-1-roles_error")
    expect(page.locator("#id_transition-1-roles_error")).to_be_visible()
    expect(page.locator("#state-in_review-problems")).to_be_visible()  # no way out of it
    check_page(page)

    # Fixed: a clerk takes the review, and a way out of the new state.
    page.check("input[name='transition-1-roles'][value='clerk']")
    save(page, "transition-1")
    expect(page.locator("#id_transition-1-roles_error")).to_have_count(0)
    open_item(page, "new-transition")
    page.fill("#id_new-transition-id", "close")
    page.check("input[name='new-transition-sources'][value='in_review']")
    page.select_option("#id_new-transition-target", "decided")
    page.fill("#id_new-transition-label_sr", "Реши")
    page.fill("#id_new-transition-label_en", "Decide")
    page.check("input[name='new-transition-roles'][value='head_of_unit']")
    save(page, "new-transition")
    expect(page.locator(".error-summary")).to_have_count(0)
    expect(page.locator("#problems.success")).to_be_visible()

    # The diagram, inline and on its own.
    diagram = page.locator("#diagram svg[role=img]")
    expect(diagram).to_be_visible()
    expect(diagram.locator("g.state")).to_have_count(3)
    expect(diagram.locator("desc")).to_contain_text("Узми у обраду")
    check_page(page)
    svg = page.request.get(f"/official/catalog/services/{service.pk}/versions/1/diagram.svg")
    assert svg.ok and svg.headers["content-type"].startswith("image/svg+xml")

    assert submit(page, "form.publish button") == 200
    draft.refresh_from_db()
    assert draft.status == ServiceVersion.Status.PUBLISHED
    expect(page.locator(".status-published").first).to_be_visible()
    check_page(page)
