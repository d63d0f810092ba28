"""Both pilot procedures end to end, in the browser, as every person who takes a step.

Overtime work (an internal procedure) at the Business Registers Agency and at Surdulica: the
employee applies, the head of unit approves (while a second head, racing them, is told who
was first), the employee reports the work done, the head confirms, accounting issues the pay
slip with the computed pay, and the employee reads the whole timeline. Newborn aid (an
administrative procedure) at Surdulica: the parent applies leaving the evidence to the
municipality, which asks the demo registers (served by the live server, reached over HTTP) for
the child's birth record and the parent's residence; the clerk asks for a supplement and gets
it, reads the birth record in the case's evidence panel, drafts the decision — refused until the
registers have answered —, the head approves it, the clerk delivers it to the parent's
e-mailbox (they consented to electronic delivery), the notification worker e-mails the parent,
who opens the decision from the e-mail's link — which delivers it and moves the case into the
appeal period — and downloads it; the clerk sees when it was opened and closes the case.

The pay slip and the decision are signed: the official types a code from the authenticator app
with the step, the case pages list the act, the applicant downloads the PDF and anyone checks it
on the public verification page by its code. Signing without a fresh second factor is refused
beside the field, and the step-up page is the other way to confirm.

Everybody works in English (the header's language form), logs in with a password and a TOTP
code and acts only through the pages; the setup (authorities, units, officials, devices, the
published pilots) is model code. Every page a role mainly works on goes through check_page.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from conftest import Mailbox, add_totp, totp_code
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Locator, Page, expect

from salter.authorities import services as authorities
from salter.authorities.models import Authority, OrgUnit
from salter.cases import services as cases
from salter.cases.models import Case
from salter.cases.tests.conftest import NEWBORN_FORM
from salter.catalog import pilots
from salter.catalog import services as catalog
from salter.core.context import Actor
from salter.documents.models import Document
from salter.exchange.evidence import worker
from salter.exchange.models import DataService, ExchangeMessage
from salter.identity import fresh
from salter.identity import services as identity
from salter.identity.models import Role, User
from salter.mailbox.models import Delivery
from salter.registers import demo as registers
from salter.registers import seed as register_people
from salter.registers.models import RegisterLog
from tests.browser.conftest import (
    PASSWORD,
    check_page,
    goto,
    login,
    off_the_loop,
    send_notifications,
)
from tests.browser.test_language import switch_language

pytestmark = pytest.mark.browser

NewPage = Callable[[], Page]


@dataclass(frozen=True)
class Account:
    user: User
    device: TOTPDevice

    @property
    def name(self) -> str:
        return self.user.full_name


def add(system: Actor, unit: OrgUnit, email: str, name: str, role: str) -> Account:
    user = identity.add_official(
        system, email=email, full_name=name, unit=unit, role=role, password=PASSWORD
    ).user
    return Account(user, add_totp(user))


# --- steps in the browser ----------------------------------------------------------------------


def sign_in(page: Page, account: Account, next_path: str) -> None:
    """Switch the page to English, log in with the password and the TOTP code, land on
    ``next_path``."""
    page.goto("/login/")
    switch_language(page, "en")
    login(page, account.user.email, next_path=next_path)
    assert "/login/verify/" in page.url, page.url
    page.fill("#id_code", totp_code(account.device))
    click(page, page.get_by_role("button", name="Confirm", exact=True))
    assert page.url.endswith(next_path), page.url


def click(page: Page, target: Locator) -> int:
    """Click a button or link, wait for the next page and return its HTTP status."""
    with page.expect_navigation() as navigation:
        target.click()
    response = navigation.value
    assert response is not None
    return response.status


def fill(scope: Locator, values: Mapping[str, str | bool]) -> None:
    """Fill form controls found by their ``name``: text, number, date, textarea, select,
    a radio group (the value to choose) or a checkbox (True/False)."""
    for name, value in values.items():
        control = scope.locator(f"[name={name}]")
        kind = control.first.evaluate("e => e.type")
        if kind == "checkbox":
            control.set_checked(bool(value))
        elif kind == "radio":
            scope.locator(f"[name={name}][value='{value}']").check()
        elif kind.startswith("select"):
            control.select_option(str(value))
        else:
            control.fill(str(value))


def step_button(scope: Page | Locator, label: str) -> Locator:
    """The button of a step, named after the transition's label (a step with an approval line
    says "Record my approval: <label>")."""
    return scope.get_by_role("button", name=re.compile(rf"(^|: ){re.escape(label)}$"))


def step_form(page: Page, label: str) -> Locator:
    """The form of one step, found by its button."""
    return page.locator("main form").filter(has=step_button(page, label))


SECOND_FACTOR = "Code from your authenticator app"


def take_step(
    page: Page,
    label: str,
    values: Mapping[str, str | bool] | None = None,
    opinion: str = "",
    code: str = "",
) -> None:
    """An official takes a step from the case page: fill its form, press its button and come
    back to the case with a message. ``code`` goes into a signing step's second-factor field."""
    form = step_form(page, label)
    expect(form).to_have_count(1)
    fill(form, values or {})
    if opinion:
        form.get_by_label("Opinion").fill(opinion)
    if code:
        form.get_by_label(SECOND_FACTOR).fill(code)
    assert click(page, step_button(form, label)) == 200
    assert "/official/cases/" in page.url, page.url


def next_code(account: Account) -> str:
    """A code the authenticator app accepts now and that ``account`` has not used yet: the
    next 30-second step's (within django-otp's tolerance). The current one may have just served
    to log in, and django-otp takes each code once. The device is read again first: a login
    that crossed a 30-second boundary left django-otp with a drift of one step, and a code
    counted without it can fall outside the window the server accepts."""
    account.device.refresh_from_db()
    return totp_code(account.device, offset=1)


def sign_step(
    page: Page,
    account: Account,
    label: str,
    values: Mapping[str, str | bool] | None = None,
    opinion: str = "",
) -> None:
    """A step that signs an act: its button says so, and the official types a fresh code."""
    form = step_form(page, label)
    expect(form.get_by_role("button", name=f"Sign: {label}", exact=True)).to_have_count(1)
    take_step(page, label, values, opinion, code=next_code(account))
    done(page, label)


def done(page: Page, label: str) -> None:
    expect(page.locator(".messages")).to_contain_text(f"Done: {label}.")


def state(page: Page) -> Locator:
    """The official case page's "State" fact (the first list of facts: the evidence panel's
    have a "State" of their own)."""
    return page.locator("main dl.facts").first.locator("dt:text-is('State') + dd")


def open_from_queue(page: Page, case: Case, state_label: str, *, check: bool = True) -> None:
    """Find the case in the work queue (in the state it should be in) and open it."""
    page.goto("/official/cases/queue/")
    row = page.locator("main tbody tr", has_text=case.registry_number)
    expect(row).to_contain_text(state_label)
    if check:
        check_page(page)
    click(page, row.get_by_role("link", name=case.registry_number))
    assert page.url.endswith(f"/official/cases/{case.pk}/"), page.url


def claim(page: Page, account: Account) -> None:
    click(page, page.get_by_role("button", name="Claim the task"))
    expect(page.locator(".messages")).to_contain_text("The task is now yours.")
    expect(page.locator("main dl.facts dt:text-is('Assigned to') + dd")).to_have_text(account.name)


def applicant_step(page: Page, label: str, values: Mapping[str, str], *, shows: str = "") -> None:
    """The applicant takes their step from their case page: a form with inputs named after the
    transition's input schema and a button named after its label. ``shows`` is text the page
    must show beside the step (what the authority asked)."""
    first = next(iter(values))
    form = page.locator("main form").filter(has=page.locator(f"[name={first}]"))
    expect(form).to_have_count(1)
    if shows:
        expect(page.locator("main")).to_contain_text(shows)
    check_page(page)  # the applicant's step
    fill(form, values)
    click(page, step_button(form, label))
    done(page, label)


def timeline_entry(page: Page, what: str) -> Locator:
    """The one timeline entry that says ``what`` happened."""
    entry = page.locator(".timeline li").filter(has_text=what)
    timeline = page.locator(".timeline").inner_text()
    assert entry.count() == 1, f"{what!r} is not once on the timeline of {page.url}:\n{timeline}"
    return entry


def documents(page: Page) -> Locator:
    """The case page's "Documents" section (the acts of the case)."""
    section = page.locator("main section[aria-labelledby=acts-title]")
    expect(section.locator("h2")).to_have_text("Documents")
    return section


def official_sees_act(page: Page, signer: Account, kinds: list[str]) -> None:
    """The official's case page lists the act, signed by ``signer``, with a download link for
    each version (``kinds``, oldest first)."""
    acts = documents(page)
    expect(acts).to_contain_text(f"Signed by {signer.name} and sealed on")
    links = acts.get_by_role("link", name=re.compile(r"^Version \d+ "))
    expect(links).to_have_text([f"Version {n} ({kind})" for n, kind in enumerate(kinds, 1)])
    href = links.last.get_attribute("href") or ""
    assert re.fullmatch(rf"/official/cases/\d+/documents/\d+/v{len(kinds)}/", href), href


def download_pdf(page: Page, link: Locator) -> bytes:
    """Click a download link and return the file, which must be a PDF."""
    with page.expect_download() as info:
        link.click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"%PDF"), f"{link} gave {data[:20]!r}, not a PDF"
    return data


def deliveries(page: Page) -> Locator:
    """A case page's "Deliveries" section: each delivery of an act and where it stands."""
    section = page.locator("main section[aria-labelledby=deliveries-title]")
    expect(section.locator("h2")).to_have_text("Deliveries")
    return section


def when(at: datetime, *, seconds: bool = False) -> str:
    """A moment as the pages write it: 22.11.2026. 10:14 (local time)."""
    return date_format(localtime(at), "d.m.Y. H:i:s" if seconds else "d.m.Y. H:i")


def delivery_notice(mailbox: Mailbox, user: User, message_id: int) -> Message:
    """The notification worker sends what is due; return the one e-mail that reached ``user``
    with the link to message ``message_id`` of their e-mailbox."""
    counts = send_notifications()
    assert counts["sent"] and not counts["failed"] and not counts["retried"], counts
    path = f"/mailbox/{message_id}/"
    found = [m for m in mailbox.to(user.email) if path in mailbox.body(m)]
    subjects = [m["Subject"] for m in mailbox.to(user.email)]
    assert len(found) == 1, f"{len(found)} e-mails to {user.email} link to {path}: {subjects}"
    return found[0]


def applicant_downloads_act(page: Page, case: Case) -> str:
    """The applicant's case page offers the issued act as a PDF and shows its verification
    code; returns the code."""
    acts = documents(page)
    link = acts.get_by_role("link", name=re.compile(r"^Download .+ \(PDF\)$"))
    expect(link).to_have_count(1)
    expect(acts.get_by_role("link", name=re.compile(r"^Version "))).to_have_count(0)
    document = Document.objects.get(case=case, issued_at__isnull=False)
    assert link.get_attribute("href") == f"/cases/{case.pk}/documents/{document.pk}/"
    expect(acts).to_contain_text(f"Verification code: {document.verification_code}")
    download_pdf(page, link)
    return document.verification_code


def verify_as_anyone(new_page: NewPage, code: str, signer: Account, authority: str) -> None:
    """Somebody who is not logged in checks the code: the registered act carries a valid
    personal signature of ``signer`` and a valid e-seal of the authority (in Serbian, the
    default language)."""
    visitor = new_page()
    goto(visitor, f"/verify/{code}/")
    with translation.override("sr"):
        valid = translation.gettext("Valid")
    main = visitor.locator("main")
    expect(main.locator(".verdict.valid")).to_have_count(1)
    expect(main.locator(".verdict.invalid, .verdict.indeterminate")).to_have_count(0)
    signatures = main.locator("section.signature")
    expect(signatures).to_have_count(2)
    expect(signatures.locator("h3")).to_contain_text([signer.name, authority])
    expect(signatures.locator("dd strong")).to_have_text([valid, valid])


# --- overtime work -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Office:
    """An authority offering the overtime pilot: its unit where the employee and the head
    work, and its finance unit where accounting issues the pay slip (as ``approver``)."""

    name: str
    name_en: str
    kind: str
    unit: tuple[str, str, str]
    finance: tuple[str, str, str]


OFFICES = {
    "apr": Office(
        "Агенција за привредне регистре",
        "Serbian Business Registers Agency",
        Authority.Kind.AGENCY,
        ("hr", "Одељење за људске ресурсе", "Human resources department"),
        ("accounting", "Одељење за финансије", "Finance department"),
    ),
    "surdulica": Office(
        "Општина Сурдулица",
        "Municipality of Surdulica",
        Authority.Kind.LOCAL_GOVERNMENT,
        ("general", "Одељење за општу управу", "General administration"),
        ("finance", "Одељење за финансије", "Finance department"),
    ),
}

REASON = "The annual report must reach the ministry on Monday."
WORK_DONE = "Finished the annual report and sent it to the ministry."
OPINION = "Approved: the report cannot wait."
PAY = Decimal("3582.684")  # 3.5 h × 812.40 × 1.26


@dataclass(frozen=True)
class OvertimeStaff:
    employee: Account
    head: Account
    other_head: Account
    accountant: Account


def overtime_staff(system: Actor, code: str) -> OvertimeStaff:
    office = OFFICES[code]
    authority = authorities.create_authority(
        system, code=code, name=office.name, name_en=office.name_en, kind=office.kind
    )

    def unit(spec: tuple[str, str, str]) -> OrgUnit:
        return authorities.create_unit(
            system, authority, code=spec[0], name=spec[1], name_en=spec[2]
        )

    work, finance = unit(office.unit), unit(office.finance)
    catalog.offer_pilot(system, authority, pilots.OVERTIME)
    return OvertimeStaff(
        employee=add(system, work, f"ana@{code}.demo", "Ана Анић", Role.CLERK),
        head=add(system, work, f"sef@{code}.demo", "Бранко Шефовић", Role.HEAD_OF_UNIT),
        other_head=add(system, work, f"zamenik@{code}.demo", "Зоран Николић", Role.HEAD_OF_UNIT),
        accountant=add(system, finance, f"racun@{code}.demo", "Вера Рачуновић", Role.APPROVER),
    )


@pytest.mark.parametrize("code", list(OFFICES))
def test_overtime_from_the_application_to_the_pay_slip(
    page: Page, new_page: NewPage, system: Actor, code: str
) -> None:
    office = OFFICES[code]
    staff = overtime_staff(system, code)
    apply = f"/services/{code}/{pilots.OVERTIME.code}/apply/"

    # The employee applies, one step and a summary, and gets a registry number.
    sign_in(page, staff.employee, apply)
    expect(page.locator("main h1")).to_have_text(pilots.OVERTIME.name_en)
    expect(page.locator("main h2.step-title")).to_have_text("Application for overtime work")
    check_page(page)  # the form
    fill(page.locator("main form"), {"date": "2026-12-01", "planned_hours": "3", "reason": REASON})
    click(page, page.get_by_role("button", name="Next", exact=True))
    assert page.url.endswith("?step=review"), page.url
    expect(page.locator("main dl")).to_contain_text(REASON)
    check_page(page)  # the summary
    click(page, page.get_by_role("button", name="Submit", exact=True))
    case = Case.objects.get(applicant=staff.employee.user)
    assert page.url.endswith(f"/cases/{case.pk}/"), page.url
    expect(page.locator(".messages")).to_contain_text(case.registry_number)
    expect(page.locator("main dl.facts")).to_contain_text(case.registry_number)
    expect(page.locator("#next-heading + p")).to_contain_text("Application submitted")
    check_page(page)  # the applicant's case

    # The head finds it in the queue and claims it; a second head opens it too.
    head = new_page()
    sign_in(head, staff.head, "/official/cases/queue/")
    open_from_queue(head, case, "Application submitted")
    expect(head.locator("main")).to_contain_text(REASON)
    claim(head, staff.head)
    check_page(head)  # the official's case with its steps
    other = new_page()
    sign_in(other, staff.other_head, f"/official/cases/{case.pk}/")
    expect(step_form(other, "Approve the overtime")).to_have_count(1)

    # Both approve; the first one wins, the second is told who was first.
    take_step(head, "Approve the overtime", opinion=OPINION)
    done(head, "Approve the overtime")
    expect(state(head)).to_have_text("Overtime approved")
    expect(head.locator("main .timeline")).to_contain_text(OPINION)
    expect(step_form(head, "Approve the overtime")).to_have_count(0)
    take_step(other, "Approve the overtime", opinion="Approved as well.")
    expect(other.locator(".messages")).to_contain_text(f"Already done by {staff.head.name}")
    expect(other.locator(".messages")).to_contain_text("Overtime approved")
    check_page(other)  # the refusal
    case.refresh_from_db()
    assert (case.state, case.version) == ("approved", 2)
    assert case.events.filter(transition_id="approve").count() == 1

    # The employee reports the work done from their case page.
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator("#next-heading + p")).to_contain_text("Overtime approved")
    report = {"actual_hours": "3.5", "work_done": WORK_DONE}
    applicant_step(page, "Report the work done", report)
    expect(page.locator("#next-heading + p")).to_contain_text("Work reported")
    expect(step_form(page, "Report the work done")).to_have_count(0)
    check_page(page)  # the applicant's case after their step

    # The head confirms the report.
    open_from_queue(head, case, "Work reported", check=False)
    expect(head.locator("main")).to_contain_text(WORK_DONE)
    take_step(head, "Confirm the report")
    done(head, "Confirm the report")
    expect(state(head)).to_have_text("Report confirmed")

    # Accounting issues the pay slip: 3.5 h × 812.40 × 1.26 = 3582.684.
    accounting = new_page()
    sign_in(accounting, staff.accountant, "/official/cases/queue/")
    open_from_queue(accounting, case, "Report confirmed")
    claim(accounting, staff.accountant)
    check_page(accounting)
    pay_slip = "Issue the overtime pay slip"
    sign_step(accounting, staff.accountant, pay_slip, {"hourly_base_pay": "812.40"})
    expect(state(accounting)).to_have_text("Pay slip issued, closed")
    official_sees_act(accounting, staff.accountant, ["Signed"])
    pay = accounting.locator("main dl.facts dt:text-is('Overtime pay (RSD)') + dd")
    expect(pay).to_have_count(1)
    assert Decimal(pay.inner_text()) == PAY, pay.inner_text()
    expect(accounting.locator("main #steps-title")).to_have_count(0)
    check_page(accounting)  # the closed case
    case.refresh_from_db()
    assert case.closed_at is not None
    assert Decimal(case.inputs["overtime_pay"]) == PAY

    # The employee reads the whole timeline: each step, the unit and the role.
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator("#next-heading + p")).to_contain_text("The case is closed")
    expect(page.locator("#next-heading + p")).to_contain_text("Pay slip issued, closed")
    unit, finance = office.unit[2], office.finance[2]
    steps = [
        ("Approve the overtime", "Overtime approved", f"{unit}, Head of unit"),
        ("Confirm the report", "Report confirmed", f"{unit}, Head of unit"),
        ("Issue the overtime pay slip", "Pay slip issued, closed", f"{finance}, Approver"),
        ("Report the work done", "Work reported", "you (the applicant)"),
    ]
    for what, to, who in steps:
        entry = timeline_entry(page, what)
        expect(entry).to_contain_text(f"→ {to}")
        expect(entry).to_contain_text(who)
    expect(timeline_entry(page, "Approve the overtime")).to_contain_text(OPINION)
    expect(page.locator(".timeline li").first).to_contain_text("Application submitted")
    expect(page.get_by_role("link", name="Withdraw the application")).to_have_count(0)
    check_page(page)  # the applicant's closed case, with the pay slip

    # The employee downloads the signed pay slip; anyone can check it by its code.
    code = applicant_downloads_act(page, case)
    verify_as_anyone(new_page, code, staff.accountant, office.name)


# --- the demo registers ------------------------------------------------------------------------

# The holder of the civil registry (the demo's ministry; the residence register's holder, the
# Ministry of the Interior, is added by the registers' onboarding itself).
MINISTRY = (
    "mdulsu",
    "Министарство државне управе и локалне самоуправе",
    "Ministry of Public Administration and Local Self-Government",
)
INTERIOR = "Ministry of the Interior"
# The demo's family in the registers (docs/exchange.md): Ivana Marković and her son Luka, born
# on 14 September 2026, whose birth record names her as his mother.
IVANA, LUKA = register_people.IVANA, register_people.LUKA


def demo_registers(system: Actor, live_server: Any, settings: Any) -> dict[str, DataService]:
    """The demo registers joined to the platform as ``make run`` does
    (:func:`salter.registers.demo.connect`): filled with the demo's people, the platform's token
    issued, each query offered as a data service — at the live server's ``/registers/``, so the
    platform asks them over a real socket, like any register elsewhere. By code."""
    settings.SALTER_REGISTERS_URL = f"{live_server.url}/registers"
    if not Authority.objects.filter(code=MINISTRY[0]).exists():
        authorities.create_authority(
            system,
            code=MINISTRY[0],
            name=MINISTRY[1],
            name_en=MINISTRY[2],
            kind=Authority.Kind.MINISTRY,
        )
    found = {service.code: service for service in registers.connect(system)}
    for service in found.values():
        assert service.url.startswith(f"{live_server.url}/registers/"), service.url
    return found


def ask_registers() -> Counter[str]:
    """What ``salter exchange_worker --once`` does: ask the registers for the evidence that is
    due and return what came of it. Off Playwright's loop: the platform seals its log of each
    exchange (and the registers, in the live server's thread, seal theirs)."""
    return off_the_loop(worker.ask_due)


def evidence_panel(page: Page) -> Locator:
    """A case page's "Evidence from registers" panel."""
    section = page.locator("main section[aria-labelledby=evidence-title]")
    expect(section.locator("h2")).to_have_text("Evidence from registers")
    return section


def evidence_item(page: Page, label: str) -> Locator:
    """One piece of evidence on the official's panel, by its label."""
    item = (
        evidence_panel(page)
        .locator("article.evidence")
        .filter(has=page.get_by_role("heading", level=3, name=label, exact=True))
    )
    expect(item).to_have_count(1)
    return item


def fact(scope: Locator, label: str) -> Locator:
    """The value of the fact ``label`` in the lists of facts within ``scope``."""
    return scope.locator(f"dl.facts dt:text-is({label!r}) + dd")


# --- newborn aid -------------------------------------------------------------------------------

NEWBORN_APPLY = f"/services/surdulica/{pilots.NEWBORN_AID.code}/apply/"
SUPPLEMENT_REQUEST = "Please send the number of your ID card as well."
SUPPLEMENT_ANSWER = "My ID card number is 009876543."
REASONING = "The parent lives in Surdulica and the child was born on 14 September 2026."
BIRTH_RECORD = "The child's birth record"
RESIDENCE = "The parent's residence"


def test_newborn_aid_from_the_application_to_delivery(
    page: Page,
    new_page: NewPage,
    authority: Authority,
    unit: OrgUnit,
    system: Actor,
    citizen: User,
    mailbox: Mailbox,
    live_server: Any,
    settings: Any,
) -> None:
    """The issue's proof of e-delivery: the decision is delivered, the parent gets the e-mail,
    opens the mailbox from its link and downloads the decision; the official sees "Opened"
    with its time. And of ex officio evidence: the parent leaves the evidence to the
    municipality, the demo registers answer over HTTP, the clerk reads the birth record on the
    case page and may draft the decision only then."""
    settings.SALTER_PUBLIC_URL = live_server.url  # the e-mail's links lead to this server
    demo_registers(system, live_server, settings)
    citizen.full_name = "Ивана Марковић"  # Luka's mother, in the demo registers
    citizen.language = "en"  # registered in English: their notices come in English
    citizen.save(update_fields=["full_name", "language"])
    catalog.offer_pilot(system, authority, pilots.NEWBORN_AID)
    parent = Account(citizen, add_totp(citizen))
    clerk = add(system, unit, "referent@surdulica.demo", "Драган Референтовић", Role.CLERK)
    head = add(system, unit, "nacelnik@surdulica.demo", "Јелена Стојановић", Role.HEAD_OF_UNIT)

    # The parent applies in three steps and a summary.
    sign_in(page, parent, NEWBORN_APPLY)
    expect(page.locator("main h1")).to_have_text(pilots.NEWBORN_AID.name_en)
    expect(page.locator(".step-count")).to_have_text("Step 1 of 3")
    check_page(page)  # step 1, the parent
    fill(
        page.locator("main form.stack"),
        {
            "parent_name": "Ивана Марковић",
            "parent_jmbg": IVANA,
            "parent_address": "Српских владара 14, Сурдулица",
            "parent_email": "ivana@example.rs",
            "bank_account": "160-0000000012345-67",
        },
    )
    click(page, page.get_by_role("button", name="Next", exact=True))
    assert page.url.endswith("?step=2"), page.url
    expect(page.locator("main h2.step-title")).to_have_text("The child")
    check_page(page)  # step 2, the child
    fill(
        page.locator("main form.stack"),
        {
            "child_name": "Лука Марковић",
            "child_jmbg": LUKA,
            "child_birth_date": "2026-09-14",
        },
    )
    click(page, page.get_by_role("button", name="Next", exact=True))
    assert page.url.endswith("?step=3"), page.url
    expect(page.locator("main")).to_contain_text("obtains the birth record")
    check_page(page)  # step 3, the evidence
    # Left unticked: the municipality obtains the birth record and the residence ex officio.
    fill(page.locator("main form.stack"), {"bring_evidence": False})
    click(page, page.get_by_role("button", name="Next", exact=True))
    assert page.url.endswith("?step=review"), page.url
    expect(page.locator("main dl")).to_contain_text("Лука Марковић")
    check_page(page)  # the summary
    click(page, page.get_by_role("button", name="Submit", exact=True))
    case = Case.objects.get(applicant=citizen)
    assert page.url.endswith(f"/cases/{case.pk}/"), page.url
    expect(page.locator(".messages")).to_contain_text(case.registry_number)
    expect(page.locator("#next-heading + p")).to_contain_text("Application submitted")
    # The parent reads, in plain words, that the municipality is asking the registers.
    expect(evidence_panel(page).locator("li")).to_have_text(
        [
            f"{BIRTH_RECORD} {authority.name_en} is obtaining this from {MINISTRY[2]}.",
            f"{RESIDENCE} {authority.name_en} is obtaining this from {INTERIOR}.",
        ],
        use_inner_text=True,  # the label and the state are two lines
    )
    check_page(page)  # the applicant's case, with the evidence being obtained
    assert case.data["bring_evidence"] is False
    asked = case.evidence.order_by("id")
    assert [(r.code, r.state) for r in asked] == [
        ("birth_record", "pending"),
        ("residence", "pending"),
    ]

    # The parent consents to electronic delivery by the municipality (ZUP art. 57).
    click(page, page.locator("header").get_by_role("link", name="E-mailbox"))
    click(page, page.get_by_role("link", name="Consent to electronic delivery"))
    assert page.url.endswith("/mailbox/consent/"), page.url
    check_page(page)  # the consent page, none given yet
    page.get_by_label("From which authority").select_option(label=authority.name_en)
    click(page, page.get_by_role("button", name="I consent to electronic delivery"))
    expect(page.locator(".messages")).to_contain_text(
        f"You consented to receive documents electronically from {authority.name_en}."
    )
    expect(page.locator("main section[aria-labelledby=in-force-title] li")).to_contain_text(
        authority.name_en
    )

    # The clerk takes it from the queue, starts the review and asks for a supplement.
    office = new_page()
    sign_in(office, clerk, "/official/cases/queue/")
    open_from_queue(office, case, "Application submitted")
    claim(office, clerk)
    expect(fact(evidence_item(office, BIRTH_RECORD), "State")).to_have_text(
        "Asked, waiting for the register"
    )
    check_page(office)  # the clerk's case, the registers not asked yet
    take_step(office, "Start the review")
    done(office, "Start the review")
    # The decision waits for the evidence: the page says so above the steps.
    expect(evidence_panel(office).locator("p.error")).to_have_text(
        "Waiting for evidence: “Draft the decision” can be taken once every piece below is settled."
    )
    take_step(office, "Request a supplement", {"supplement_request": SUPPLEMENT_REQUEST})
    done(office, "Request a supplement")
    expect(state(office)).to_have_text("Waiting for a supplement")
    expect(office.locator("main dl.facts").first).to_contain_text("paused while the case waits")

    # The parent sees that the authority waits for them and answers from the case page.
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator("#next-heading + p")).to_contain_text("Waiting for a supplement")
    expect(page.locator("#next-heading")).to_contain_text("What happens next")
    expect(page.locator("main")).to_contain_text("The authority is waiting for you")
    answer = {"supplement_answer": SUPPLEMENT_ANSWER}
    applicant_step(page, "Send the supplement", answer, shows=SUPPLEMENT_REQUEST)
    expect(page.locator("#next-heading + p")).to_contain_text("Under review")
    expect(page.locator("main")).not_to_contain_text("The authority is waiting for you")
    check_page(page)  # the applicant's case after their step

    # The clerk reads the answer and drafts the decision: refused, the registers have not
    # been asked yet.
    draft = {"decision_outcome": "granted", "decision_reasoning": REASONING}
    open_from_queue(office, case, "Under review", check=False)
    expect(office.locator("main")).to_contain_text(SUPPLEMENT_ANSWER)
    take_step(office, "Draft the decision", draft)
    expect(office.locator(".messages")).to_contain_text(
        f"Waiting for the answer of {MINISTRY[2]} about: {BIRTH_RECORD} (asked"
    )
    expect(office.locator(".messages")).to_contain_text(
        f"Waiting for the answer of {INTERIOR} about: {RESIDENCE} (asked"
    )
    expect(state(office)).to_have_text("Under review")
    check_page(office)  # the refusal

    # The exchange worker asks the registers over HTTP; both answer.
    assert ask_registers() == Counter(answered=2)
    # Both sides logged both exchanges, and the hashes the registers returned match.
    exchanged = ExchangeMessage.objects.filter(case=case)
    assert sorted(exchanged.values_list("outcome", "hash_matches")) == [("answered", True)] * 2
    logged = RegisterLog.objects.values_list("request_id", flat=True)
    assert sorted(logged) == sorted(str(m.request_id) for m in exchanged)
    office.goto(f"/official/cases/{case.pk}/")
    birth = evidence_item(office, BIRTH_RECORD)
    expect(fact(birth, "Register")).to_have_text(f"Birth record by personal number — {MINISTRY[2]}")
    expect(fact(birth, "State")).to_have_text("Obtained from the register")
    expect(birth.locator("h4")).to_have_text("What the register answered")
    record = {
        "Given name": "Лука",
        "Family name": "Марковић",
        "Date of birth": "14.09.2026.",
        "Place of birth": "Сурдулица",
        "Mother's name": "Ивана Марковић",
        "Mother's JMBG": IVANA,
        "Entry number in the register": "154/2026",
    }
    for label, value in record.items():
        expect(fact(birth, label)).to_have_text(value)
    residence = evidence_item(office, RESIDENCE)
    expect(fact(residence, "State")).to_have_text("Obtained from the register")
    expect(fact(residence, "Address")).to_have_text("Српских владара 14")
    expect(evidence_panel(office).locator("p.error")).to_have_count(0)
    expect(evidence_panel(office).get_by_role("button")).to_have_count(0)  # nothing to decide
    expect(timeline_entry(office, f"{BIRTH_RECORD} — obtained from")).to_contain_text(MINISTRY[2])
    check_page(office)  # the clerk's case with the evidence obtained

    take_step(office, "Draft the decision", draft)
    done(office, "Draft the decision")
    expect(state(office)).to_have_text("Decision drafted")

    # The head approves the draft with an opinion.
    boss = new_page()
    sign_in(boss, head, "/official/cases/queue/")
    open_from_queue(boss, case, "Decision drafted")
    expect(boss.locator("main")).to_contain_text(REASONING)
    check_page(boss)  # the head's case
    sign_step(boss, head, "Approve the decision", opinion="The draft is correct.")
    expect(state(boss)).to_have_text("Decision approved")
    official_sees_act(boss, head, ["Draft", "Signed"])
    check_page(boss)  # the head's case with the signed decision
    download_pdf(boss, documents(boss).get_by_role("link", name="Version 2 (Signed)"))

    # The clerk delivers the decision: with the parent's consent, to their e-mailbox.
    office.goto(f"/official/cases/{case.pk}/")
    take_step(office, "Deliver the decision")
    done(office, "Deliver the decision")
    expect(state(office)).to_have_text("Decision sent for delivery")
    expect(deliveries(office)).to_contain_text("E-mailbox: Not opened yet; deemed delivered on")
    check_page(office)  # the case waiting for the delivery
    delivery = Delivery.objects.get(case=case)
    assert delivery.channel == Delivery.Channel.ELECTRONIC, delivery.channel

    # The worker sends the notice; it reaches the parent's mail server, in English.
    notice = delivery_notice(mailbox, citizen, delivery.message_id)
    assert notice["Content-Language"] == "en", notice["Content-Language"]
    assert notice["Subject"] == "A document from Municipality of Surdulica in your e-mailbox"
    body = mailbox.body(notice).replace("\r\n", "\n")
    assert case.registry_number in body, body
    link = f"{live_server.url}/mailbox/{delivery.message_id}/"
    assert re.search(rf"^{re.escape(link)}$", body, re.MULTILINE), body
    assert Delivery.objects.get(pk=delivery.pk).state == Delivery.State.NOTIFIED

    # The parent follows the link: the decision, in the mailbox. Opening it delivers it.
    response = page.goto(link)
    assert response is not None and response.status == 200
    assert page.url == link, page.url
    expect(page.locator("main h1")).to_have_text(delivery.message.subject)
    document = Document.objects.get(case=case, issued_at__isnull=False)
    facts = page.locator("main dl.facts")
    expect(facts).to_contain_text(document.registry_number)
    expect(facts).to_contain_text(case.registry_number)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.OPENED and delivery.opened_at is not None
    opened_at = when(delivery.opened_at)
    expect(facts.locator("dt:text-is('Delivery') + dd")).to_have_text(f"Opened {opened_at}")
    expect(page.locator("#delivery-steps-title + p + ol > li > strong")).to_have_text(
        ["Submitted for delivery", "Delivered to the e-mailbox", "Recipient notified", "Opened"]
    )
    check_page(page)  # the delivered decision, with its delivery steps
    pdf = page.locator("main section[aria-labelledby=files-title]").get_by_role(
        "link", name=f"Download “{delivery.message.subject}” (PDF)"
    )
    download_pdf(page, pdf)

    # The platform moved the case on; the official sees when the parent opened it.
    case.refresh_from_db()
    assert case.state == "delivered", case.state
    office.goto(f"/official/cases/{case.pk}/")
    expect(state(office)).to_have_text("Decision delivered, the appeal period runs")
    expect(deliveries(office)).to_contain_text(f"E-mailbox: Opened {opened_at}")
    click(office, deliveries(office).get_by_role("link"))
    assert office.url.endswith(f"/official/mailbox/deliveries/{delivery.pk}/"), office.url
    expect(office.locator("main dl.facts dt:text-is('State') + dd")).to_have_text(
        f"Opened {opened_at}"
    )
    opened = office.locator(".timeline li").filter(has=office.locator("strong:text-is('Opened')"))
    expect(opened).to_contain_text(when(delivery.opened_at, seconds=True))
    check_page(office)  # the delivery's sealed timeline

    # The clerk closes the case (before its timer would, once the appeal period has run).
    office.goto(f"/official/cases/{case.pk}/")
    take_step(office, "Close the case")
    done(office, "Close the case")
    expect(state(office)).to_have_text("Decision final, case closed")
    check_page(office)  # the closed case
    case.refresh_from_db()
    assert case.closed_at is not None

    # The parent reads the whole timeline.
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator("#next-heading + p")).to_contain_text(
        "The case is closed: Decision final, case closed"
    )
    social = unit.name_en
    steps = [
        ("Start the review", "Under review", f"{social}, Clerk"),
        ("Supplement requested", "Waiting for a supplement", f"{social}, Clerk"),
        ("Draft the decision", "Decision drafted", f"{social}, Clerk"),
        ("Approve the decision", "Decision approved", f"{social}, Head of unit"),
        ("Deliver the decision", "Decision sent for delivery", f"{social}, Clerk"),
        ("Delivery took effect", "Decision delivered, the appeal period runs", ""),
        ("Close the case", "Decision final, case closed", f"{social}, Clerk"),
        ("Supplement sent", "Under review", "you (the applicant)"),
    ]
    for what, to, who in steps:
        entry = timeline_entry(page, what)
        expect(entry).to_contain_text(f"→ {to}")
        expect(entry).to_contain_text(who)
    expect(timeline_entry(page, "Approve the decision")).to_contain_text("The draft is correct.")
    # That the registers answered, not what they said (a birth record names other people).
    timeline_entry(page, f"{BIRTH_RECORD} — obtained from {MINISTRY[2]}")
    timeline_entry(page, f"{RESIDENCE} — obtained from {INTERIOR}")
    expect(evidence_panel(page).locator("li")).to_have_text(
        [f"{BIRTH_RECORD} Obtained from {MINISTRY[2]}.", f"{RESIDENCE} Obtained from {INTERIOR}."],
        use_inner_text=True,
    )
    expect(page.locator("main")).not_to_contain_text("154/2026")
    check_page(page)  # the applicant's closed case, with the decision

    # The parent downloads the signed decision; anyone can check it by its code.
    code = applicant_downloads_act(page, case)
    verify_as_anyone(new_page, code, head, authority.name)


def test_signing_needs_a_fresh_second_factor(
    page: Page,
    authority: Authority,
    unit: OrgUnit,
    system: Actor,
    citizen: User,
    settings: Any,
) -> None:
    """The head signs the decision: without a code (and the login's confirmation no longer
    fresh) the step is refused beside the field, the opinion stays; the step-up page's
    confirmation then lets the head sign with the field left empty."""
    version = catalog.offer_pilot(system, authority, pilots.NEWBORN_AID)
    clerk = add(system, unit, "referent@surdulica.demo", "Драган Референтовић", Role.CLERK)
    head = add(system, unit, "nacelnik@surdulica.demo", "Јелена Стојановић", Role.HEAD_OF_UNIT)
    case, _ = cases.submit(Actor(user=citizen, via="test"), version, NEWBORN_FORM)
    draft = {"decision_outcome": "granted", "decision_reasoning": REASONING}
    cases.take_transition(Actor(user=clerk.user, via="test"), case, "start_review")
    cases.take_transition(Actor(user=clerk.user, via="test"), case, "draft_decision", inputs=draft)
    sign_in(page, head, f"/official/cases/{case.pk}/")

    # Logging in confirmed the second factor; as if its two minutes had passed since.
    max_age = fresh.max_age()
    settings.SALTER_SIGNING_MAX_AGE = 0
    label, opinion = "Approve the decision", "The draft is correct."
    form = step_form(page, label)
    form.get_by_label("Opinion").fill(opinion)
    assert click(page, step_button(form, label)) == 400
    field = page.locator("#approve_decision-second-factor")
    error = page.locator("#approve_decision-second-factor_error")
    expect(error).to_have_text(
        "To sign, confirm it is you: enter a code from your authenticator app."
    )
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute(
        "aria-describedby",
        "approve_decision-second-factor_hint approve_decision-second-factor_error",
    )
    expect(page.locator("#approve_decision-opinion")).to_have_value(opinion)
    check_page(page)  # the refusal
    assert Case.objects.get(pk=case.pk).state == "decision_drafted"

    # The head confirms on the step-up page instead and comes back to the step.
    settings.SALTER_SIGNING_MAX_AGE = max_age
    click(page, step_form(page, label).get_by_role("link", name="confirm it is you"))
    assert "/login/step-up/" in page.url, page.url
    check_page(page)  # the step-up page
    page.fill("#id_code", next_code(head))
    click(page, page.get_by_role("button", name="Confirm", exact=True))
    assert page.url.endswith(f"/official/cases/{case.pk}/#step-approve_decision"), page.url
    expect(step_form(page, label)).to_contain_text("leave the code empty")
    step_form(page, label).get_by_label("Opinion").fill(opinion)
    assert click(page, step_button(step_form(page, label), label)) == 200
    done(page, label)
    expect(state(page)).to_have_text("Decision approved")
    official_sees_act(page, head, ["Draft", "Signed"])
