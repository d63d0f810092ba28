"""The registry clerk registers an incoming letter with its scan, finds it in the book and
voids a mistaken entry; every page passes axe at both widths."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import add_totp, totp_code
from playwright.sync_api import Page, expect

from salter.authorities.models import Authority, OrgUnit
from salter.core.context import Actor
from salter.documents.models import Document
from salter.documents.tests.test_registry import a_pdf
from salter.identity import services
from salter.identity.models import Role
from tests.browser.conftest import PASSWORD, check_page, goto, login, submit

pytestmark = pytest.mark.browser


def test_a_letter_is_registered_found_and_voided(
    page: Page, authority: Authority, unit: OrgUnit, system: Actor, tmp_path: Path
) -> None:
    clerk = services.add_official(
        system,
        email="pisarnica@surdulica.demo",
        full_name="Писарница Сурдулица",
        unit=unit,
        role=Role.REGISTRY_CLERK,
        password=PASSWORD,
    ).user
    device = add_totp(clerk)
    login(page, clerk.email, next_path="/official/registry/")
    page.fill("#id_code", totp_code(device))
    submit(page)
    assert page.url.endswith("/official/registry/"), page.url
    check_page(page)

    goto(page, "/official/registry/new/")
    scan = tmp_path / "dopis.pdf"
    scan.write_bytes(a_pdf())
    page.check("#f-direction-incoming")
    page.fill("#f-subject", "Допис Агенције за привредне регистре")
    page.fill("#f-sender", "АПР, Београд")
    page.set_input_files("#f-file", str(scan))
    submit(page, "main form.panel button[type=submit]")
    document = Document.objects.get()
    assert page.url.endswith(f"/official/registry/{document.pk}/"), page.url
    expect(page.locator("main")).to_contain_text("dopis.pdf")
    check_page(page)

    goto(page, "/official/registry/?q=допис")
    expect(page.locator("main tbody tr")).to_have_count(1)
    check_page(page)

    goto(page, f"/official/registry/{document.pk}/")
    page.fill("#void-reason", "Уписано грешком.")
    submit(page, "form:has(#void-reason) button[type=submit]")
    document.refresh_from_db()
    assert document.voided_at is not None
    check_page(page)
