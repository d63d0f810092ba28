"""Fees end to end in the browser: the citizen applies for a certificate of property status,
finds the fees on the case page and opens the payment slip; the authority's accountant imports
the bank statement and confirms the other fee by hand; the case moves on. Every page passes
axe at both widths."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import add_totp, totp_code
from playwright.sync_api import Page, expect

from salter.authorities import services as authorities
from salter.authorities.models import Authority, OrgUnit
from salter.cases.models import Case
from salter.catalog import pilots
from salter.catalog import services as catalog
from salter.core.accounts import make_account
from salter.core.context import Actor
from salter.identity import services as identity
from salter.identity.models import Role, User
from salter.payments.models import PaymentOrder
from salter.payments.tests.conftest import Entry, statement
from tests.browser.conftest import PASSWORD, check_page, goto, login, submit

pytestmark = pytest.mark.browser


def test_a_fee_is_paid_and_the_case_moves_on(
    page: Page,
    new_page: object,
    authority: Authority,
    unit: OrgUnit,
    citizen: User,
    system: Actor,
    tmp_path: Path,
) -> None:
    authorities.set_fee_account(
        system, authority, account=make_account("840", "1003"), payment_code=103
    )
    catalog.offer_pilot(system, authority, pilots.PROPERTY_CERTIFICATE)
    device = add_totp(citizen)

    login(page, citizen.email, next_path="/services/surdulica/property-certificate/apply/")
    page.fill("#id_code", totp_code(device))
    submit(page)
    check_page(page)
    page.fill("#id_jmbg", "0101990710008")
    page.fill("#id_purpose", "упис у школу")
    page.fill("#id_copies", "2")
    submit(page, "main form button[value=next]")
    check_page(page)
    submit(page, "main form button[value=submit]")
    case = Case.objects.get()
    fee, copies = PaymentOrder.objects.filter(case=case).order_by("id")
    expect(page.locator("main #fees-title")).to_be_visible()
    check_page(page)

    page.click(f"a[href='/payments/{fee.pk}/']")
    expect(page.locator("main svg[role=img]")).to_be_visible()
    expect(page.locator("main")).to_contain_text(fee.reference)
    check_page(page)

    accountant = identity.add_official(
        system,
        email="racunovodja@surdulica.demo",
        full_name="Снежана Тасић",
        unit=unit,
        role=Role.APPROVER,
        password=PASSWORD,
    ).user
    key = add_totp(accountant)
    official = new_page()  # type: ignore[operator]
    login(official, accountant.email, next_path="/official/payments/")
    official.fill("#id_code", totp_code(key))
    submit(official)
    check_page(official)
    expect(official.locator("main tbody tr")).to_have_count(2)

    day = tmp_path / "izvod.xml"
    day.write_bytes(statement(Entry(fee.reference, "500", ref="1"), account=authority.account))
    goto(official, "/official/payments/import/")
    official.set_input_files("#id_file", str(day))
    submit(official, "main form.panel button[type=submit]")
    expect(official.locator("#result-title")).to_be_visible()
    check_page(official)

    goto(official, f"/official/payments/orders/{copies.pk}/")
    official.fill("#id_amount", "abc")
    official.fill("#id_note", "признаница поште бр. 77")
    assert submit(official, "main form button[type=submit]") == 400
    check_page(official)  # the errors, and what was typed, still there
    expect(official.locator("#id_note")).to_have_value("признаница поште бр. 77")
    official.fill("#id_amount", "300,00")
    submit(official, "main form button[type=submit]")
    check_page(official)
    case.refresh_from_db()
    assert case.state == "submitted"
