"""The e-mailbox pages in the browser, each through check_page (axe-core WCAG 2.2 AA on the
desktop and at 360 px, where nothing may scroll sideways).

The citizen (in Serbian, the site's default language): the empty inbox, consent to electronic
delivery given and revoked, a letter to an authority — refused beside its fields when empty,
then sent with a PDF attached and answered by its receipt — the inbox with messages, and a
delivered decision with its sealed delivery steps, refused without a reason, then accepted.

The official (in English): the letters received and one of them, the deliveries, a decision
waiting for the post and the form that records its postal delivery (a day in the future is
refused beside the field), and their notification preferences with the daily digest.

The decision and the letters are set up with model code; everything else goes through pages.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import add_totp, totp_code
from django.utils import timezone, translation
from django.utils.formats import date_format
from playwright.sync_api import Locator, Page, expect

from salter.authorities.models import Authority, OrgUnit
from salter.cases.models import Case
from salter.cases.tests.conftest import act
from salter.catalog import pilots
from salter.catalog import services as catalog
from salter.core.context import Actor
from salter.documents import uploads
from salter.identity import services as identity
from salter.identity.models import Role, User
from salter.mailbox import services as mailbox
from salter.mailbox.models import Consent, Delivery, Message
from salter.mailbox.tests.conftest import approved_case
from salter.mailbox.tests.helpers import a_pdf, deliver
from tests.browser.conftest import PASSWORD, check_page, goto, login, off_the_loop, submit
from tests.browser.test_language import switch_language
from tests.browser.test_pilots import download_pdf

pytestmark = pytest.mark.browser


def sr(text: str) -> str:
    """``text`` as the Serbian (Cyrillic) pages say it."""
    with translation.override("sr"):
        return translation.gettext(text)


def messages(page: Page) -> Locator:
    return page.locator(".messages")


def field_error(page: Page, field_id: str, text: str) -> None:
    """The error is beside the field, and the field says it is invalid."""
    expect(page.locator(f"#{field_id}_error")).to_have_text(text)
    field = page.locator(f"#{field_id}")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", re.compile(rf"(^| ){field_id}_error$"))


def officials(system: Actor, unit: OrgUnit) -> tuple[User, User]:
    clerk = identity.add_official(
        system,
        email="referent@surdulica.demo",
        full_name="Драган Референтовић",
        unit=unit,
        role=Role.CLERK,
        password=PASSWORD,
    ).user
    head = identity.add_official(
        system,
        email="nacelnik@surdulica.demo",
        full_name="Јелена Стојановић",
        unit=unit,
        role=Role.HEAD_OF_UNIT,
        password=PASSWORD,
    ).user
    return clerk, head


def delivered_decision(
    system: Actor, authority: Authority, unit: OrgUnit, citizen: User, *, consent: bool
) -> tuple[Case, Delivery, User]:
    """A newborn-aid case of ``citizen`` whose decision the head has signed and the clerk has
    delivered — to the e-mailbox with ``consent`` (given now), else by post; and the clerk."""
    version = catalog.offer_pilot(system, authority, pilots.NEWBORN_AID)
    clerk, head = officials(system, unit)

    def setup() -> tuple[Case, Delivery]:
        case = approved_case(version, citizen, clerk, head)
        return case, deliver(case, clerk, consent=consent)

    case, delivery = off_the_loop(setup)  # signing and sealing run an event loop of their own
    return case, delivery, clerk


# --- the citizen -------------------------------------------------------------------------------


def test_the_citizens_mailbox(
    page: Page,
    authority: Authority,
    unit: OrgUnit,
    system: Actor,
    citizen: User,
    tmp_path: Path,
) -> None:
    assert login(page, citizen.email, next_path="/mailbox/") == 200
    assert page.url.endswith("/mailbox/"), page.url
    expect(page.locator("main")).to_contain_text(
        sr(
            "Your mailbox is empty. Decisions and other documents that authorities deliver to"
            " you will arrive here, and so will the receipts of the letters you send."
        )
    )
    check_page(page)  # the empty inbox

    # Consent to electronic delivery: given for every authority, then revoked.
    with page.expect_navigation():
        page.get_by_role("link", name=sr("Consent to electronic delivery")).click()
    assert page.url.endswith("/mailbox/consent/"), page.url
    in_force = page.locator("main section[aria-labelledby=in-force-title]")
    expect(in_force).to_contain_text(
        sr("You have not consented: authorities send you their documents by post.")
    )
    check_page(page)  # no consent yet
    page.locator("#id_authority").select_option("")  # every authority
    submit(page, "main section[aria-labelledby=give-title] button[type=submit]")
    expect(messages(page)).to_contain_text(
        sr("You consented to receive documents electronically from every authority.")
    )
    revoke = in_force.get_by_role("button", name=sr("Revoke the consent for every authority"))
    expect(revoke).to_have_count(1)
    check_page(page)  # a consent in force, with its button to revoke it
    with page.expect_navigation():
        revoke.click()
    expect(messages(page)).to_contain_text(sr("The consent is revoked."))
    expect(in_force.locator("li")).to_have_count(0)
    check_page(page)  # revoked
    consent = Consent.objects.get(mailbox__user=citizen)
    assert consent.revoked_at is not None and consent.revoked_by == citizen

    # A letter: sent empty but for its text, it comes back with the errors beside the fields
    # and the text kept.
    goto(page, "/mailbox/write/")
    text = "Молим за обавештење о стању предмета."
    page.fill("#id_body", text)
    assert submit(page, "main form button[type=submit]") == 400
    required = sr("This field is required.")
    field_error(page, "id_authority", required)
    field_error(page, "id_subject", required)
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#id_body")).to_have_value(text)
    check_page(page)  # the errors

    # Sent again with an authority, a subject and a PDF: registered, and the receipt shows.
    pdf = tmp_path / "izvod.pdf"
    pdf.write_bytes(a_pdf())
    page.locator("#id_authority").select_option(label=authority.name)
    page.fill("#id_subject", "Допуна документације")
    page.set_input_files("#id_attachments", str(pdf))
    submit(page, "main form button[type=submit]")
    letter = Message.objects.get(mailbox__user=citizen, direction=Message.Direction.OUTBOUND)
    assert letter.document is not None
    number = letter.document.registry_number
    assert page.url.endswith(f"/mailbox/{letter.pk}/"), page.url
    expect(messages(page)).to_contain_text(number)
    receipt = page.locator("main .verdict[role=status]")
    expect(receipt).to_contain_text(sr("Receipt"))
    expect(receipt).to_contain_text(number)
    attached = page.get_by_role("link", name="izvod.pdf")
    expect(attached).to_have_count(1)
    check_page(page)  # the receipt
    download_pdf(page, attached)

    # A decision delivered to the mailbox (with a consent given in model code).
    case, delivery, clerk = delivered_decision(system, authority, unit, citizen, consent=True)
    assert delivery.channel == Delivery.Channel.ELECTRONIC
    goto(page, "/mailbox/")
    cards = page.locator("main ul.cards > li")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text(sr("New:"))
    expect(cards.first).to_contain_text(delivery.message.subject)
    check_page(page)  # the inbox with messages

    # Opened: the delivery's sealed steps, and the document.
    page.click(f"main a[href='/mailbox/{delivery.message_id}/']")
    page.wait_for_url(f"**/mailbox/{delivery.message_id}/")
    steps = page.locator("main section[aria-labelledby=delivery-steps-title] ol > li")
    expect(steps.locator("> strong")).to_have_text(
        [sr("Submitted for delivery"), sr("Delivered to the e-mailbox"), sr("Opened")]
    )
    expect(steps.locator(".status")).to_have_count(3)  # each "Sealed ✓"
    check_page(page)  # the delivery, with its timeline and the forms to answer it

    # Refused without a reason: the error beside the field; then accepted.
    refuse = page.get_by_role("button", name=sr("Refuse"), exact=True)
    with page.expect_navigation() as navigation:
        refuse.click()
    assert navigation.value is not None and navigation.value.status == 400
    field_error(page, "id_reason", required)
    check_page(page)  # the refusal's error
    with page.expect_navigation():
        page.get_by_role("button", name=sr("Accept"), exact=True).click()
    expect(messages(page)).to_contain_text(sr("You accepted the document."))
    expect(steps.locator("> strong").last).to_have_text(sr("Accepted"))
    expect(page.get_by_role("button", name=sr("Accept"), exact=True)).to_have_count(0)
    check_page(page)  # accepted
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.ACCEPTED


# --- the official ------------------------------------------------------------------------------


def sign_in_official(page: Page, user: User, next_path: str) -> None:
    """In English, with a password and a TOTP code (the official pages ask for both)."""
    device = add_totp(user)
    page.goto("/login/")
    switch_language(page, "en")
    login(page, user.email, next_path=next_path)
    page.fill("#id_code", totp_code(device))
    submit(page)
    assert page.url.endswith(next_path), page.url


def test_the_officials_mailbox(
    page: Page,
    authority: Authority,
    unit: OrgUnit,
    system: Actor,
    citizen: User,
) -> None:
    # A letter from the citizen, and a decision without consent: it waits for the post.
    pdf = uploads.check("izvod.pdf", a_pdf())
    letter, _created = mailbox.send_letter(
        act(citizen),
        mailbox.mailbox_of(citizen),
        authority,
        subject="Допуна документације",
        body="Шаљем извод из матичне књиге рођених.",
        files=[pdf],
    )
    case, delivery, clerk = delivered_decision(system, authority, unit, citizen, consent=False)
    assert delivery.state == Delivery.State.POSTAL
    assert letter.document is not None

    # The letters received, and one of them.
    sign_in_official(page, clerk, "/official/mailbox/")
    row = page.locator("main tbody tr", has_text=letter.document.registry_number)
    expect(row).to_have_count(1)
    check_page(page)  # the letters
    with page.expect_navigation():
        row.get_by_role("link", name=letter.subject).click()
    expect(page.locator("main h1")).to_have_text(letter.subject)
    expect(page.get_by_role("link", name="izvod.pdf")).to_have_count(1)
    check_page(page)  # a letter

    # The deliveries, the one waiting for the post first.
    goto(page, "/official/mailbox/deliveries/?state=postal")
    row = page.locator("main tbody tr", has_text=delivery.message.subject)
    expect(row).to_contain_text("To be delivered by post (no consent to electronic delivery)")
    check_page(page)  # the deliveries
    with page.expect_navigation():
        row.get_by_role("link", name=delivery.message.subject).click()
    assert page.url.endswith(f"/official/mailbox/deliveries/{delivery.pk}/"), page.url
    expect(page.locator("#postal-title")).to_have_text("Record the postal delivery")
    check_page(page)  # the delivery with the postal form
    download_pdf(page, page.get_by_role("link", name="Download the act to print (PDF)"))

    # A day in the future is refused beside the field; today is recorded.
    today = timezone.localdate()
    tomorrow = today + timedelta(days=1)
    page.fill("#id_delivered_on", tomorrow.isoformat())
    assert submit(page, "main section[aria-labelledby=postal-title] button") == 400
    field_error(page, "id_delivered_on", "The day must be between the sending and today.")
    expect(page.locator("#id_delivered_on")).to_have_value(tomorrow.isoformat())
    check_page(page)  # the error
    page.fill("#id_delivered_on", today.isoformat())
    submit(page, "main section[aria-labelledby=postal-title] button")
    expect(messages(page)).to_contain_text("The postal delivery is recorded.")
    day = date_format(today, "d.m.Y.")
    expect(page.locator("main dl.facts dt:text-is('State') + dd")).to_have_text(
        f"Delivered by post on {day}"
    )
    expect(page.locator("#postal-title")).to_have_count(0)
    check_page(page)  # delivered by post
    case.refresh_from_db()
    assert case.state == "delivered", case.state

    # An official's notification preferences include the daily digest of their queue.
    goto(page, "/account/notifications/")
    expect(page.locator("#n-digestemail")).to_be_checked()
    expect(page.locator("#n-digestsms")).to_have_count(0)
    check_page(page)  # the official's preferences
