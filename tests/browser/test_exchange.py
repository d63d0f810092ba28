"""Data, not documents (issue 6), in the browser, each page through check_page (axe-core WCAG
2.2 AA on the desktop and at 360 px, where nothing may scroll sideways).

- The citizen's "Who accessed my data": after a clerk opened her case and the municipality
  asked the registers about her, she reads who, for which authority, why and under which law,
  filters by authority and downloads everything held about her as JSON and as PDF.
- The evidence panel of the official's case page in each state that asks something of the
  official: the demo registers (served by the live server) answer one query while the other
  register is down past its deadline — escalated; "Ask again" asks it again (pending) and,
  the register back, it answers; "Decide without it" settles the other. The applicant reads
  each state in plain words.
- Who else may read a case: the head of unit gives an official of another unit access by
  e-mail address (an empty form is refused beside its fields), the grantee reads the case —
  read only — and reads nothing once the access is revoked.

Everybody works in English (the header's language form). The setup — authorities, units,
officials, the published pilot, the demo registers and the submitted cases — is model code;
what the exchange worker does (``salter exchange_worker --once``) runs off Playwright's loop,
since the platform seals its log of each exchange.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from salter.authorities import services as authorities
from salter.authorities.models import Authority, OrgUnit
from salter.cases import services as cases
from salter.cases.models import Case, CaseEvent, CaseGrant
from salter.catalog import pilots
from salter.catalog import services as catalog
from salter.core.context import Actor
from salter.exchange.models import AccessRecord, DataService, EvidenceRequest
from salter.exchange.tests.evidence_helpers import closed_port_url
from salter.identity.models import Person, Role, User
from tests.browser.conftest import check_page, goto, login, send_notifications
from tests.browser.test_language import switch_language
from tests.browser.test_mailbox import messages
from tests.browser.test_pilots import (
    BIRTH_RECORD,
    INTERIOR,
    IVANA,
    LUKA,
    MINISTRY,
    RESIDENCE,
    Account,
    NewPage,
    add,
    ask_registers,
    click,
    demo_registers,
    download_pdf,
    evidence_item,
    evidence_panel,
    fact,
    sign_in,
    state,
    take_step,
    timeline_entry,
    when,
)

pytestmark = pytest.mark.browser

State = EvidenceRequest.State
BIRTH_QUERY = "civil_registry.birth_by_jmbg"
RESIDENCE_QUERY = "residence_register.residence_by_jmbg"
SURDULICA = "Municipality of Surdulica"
# Ivana Marković applies for newborn aid for her son Luka, as in docs/exchange.md.
FORM: dict[str, Any] = {
    "parent_name": "Ивана Марковић",
    "parent_jmbg": IVANA,
    "parent_address": "Српских владара 14, Сурдулица",
    "parent_email": "ivana@example.rs",
    "bank_account": "160-0000000012345-67",
    "child_name": "Лука Марковић",
    "child_jmbg": LUKA,
    "child_birth_date": "2026-09-14",
    "bring_evidence": False,  # the municipality obtains the records ex officio
}
DRAFT = {
    "decision_outcome": "granted",
    "decision_reasoning": "The parent lives in Surdulica; the child was born on 14.09.2026.",
}


@pytest.fixture
def ivana(citizen: User) -> User:
    """The applicant: Ivana Marković, her account tied to her personal number (so the reads of
    her data — her case, her residence in the register — are hers to see), in English."""
    person, _made = Person.objects.get_or_create_jmbg(
        IVANA, defaults={"given_name": "Ивана", "family_name": "Марковић"}
    )
    citizen.full_name = "Ивана Марковић"
    citizen.person = person
    citizen.language = "en"
    citizen.save(update_fields=["full_name", "person", "language"])
    return citizen


@pytest.fixture
def newborn_aid(system: Actor, authority: Authority, unit: OrgUnit) -> Any:
    """The newborn-aid pilot at Surdulica, handled by its social affairs unit (as in the
    demo): officials of other units read its cases only by grant."""
    version = catalog.offer_pilot(system, authority, pilots.NEWBORN_AID)
    catalog.set_unit(system, version.service, unit)
    return version


@pytest.fixture
def clerk(system: Actor, unit: OrgUnit) -> Account:
    return add(system, unit, "referent@surdulica.demo", "Драган Референтовић", Role.CLERK)


def submit_case(version: Any, applicant: User, **form: Any) -> Case:
    """The application, submitted by model code (the pilot test applies through the pages)."""
    case, _created = cases.submit(Actor(user=applicant, via="test"), version, {**FORM, **form})
    return case


def sign_in_citizen(page: Page, user: User, next_path: str) -> None:
    """In English, with a password (the citizen's pages ask for no second factor)."""
    page.goto("/login/")
    switch_language(page, "en")
    assert login(page, user.email, next_path=next_path) == 200
    assert page.url.endswith(next_path), page.url


def read_by(page: Page, reader: str) -> Locator:
    """The newest read of "Who accessed my data" by ``reader``."""
    cards = page.locator("main ul.cards > li").filter(
        has=page.locator("dt:text-is('Who') + dd", has_text=reader)
    )
    expect(cards.first).to_be_visible()
    return cards.first


# --- who accessed my data ----------------------------------------------------------------------


def test_who_accessed_my_data_and_everything_held_about_me(
    page: Page,
    new_page: NewPage,
    system: Actor,
    ivana: User,
    newborn_aid: Any,
    clerk: Account,
    live_server: Any,
    settings: Any,
) -> None:
    demo_registers(system, live_server, settings)
    case = submit_case(newborn_aid, ivana)
    assert ask_registers() == Counter(answered=2)  # her son's birth record, her residence

    # The clerk opens the case: a read of Ivana's data, logged.
    office = new_page()
    sign_in(office, clerk, f"/official/cases/{case.pk}/")
    expect(office.locator("main h1")).to_contain_text(case.registry_number)
    assert AccessRecord.objects.filter(
        subject=ivana.person, reader=clerk.user, case=case, action=AccessRecord.Action.CASE_READ
    ).exists()

    # Ivana finds the page from her account.
    sign_in_citizen(page, ivana, "/account/")
    click(page, page.get_by_role("link", name="Who accessed my data, and everything held about me"))
    assert page.url.endswith("/my/data/"), page.url
    expect(page.locator("main h1")).to_have_text("Who accessed my data")

    # The clerk's read: who, for which authority, what, why, under which law, which data.
    read = read_by(page, clerk.name)
    expect(read.locator(".card-title")).to_contain_text("Opened a case")
    expect(fact(read, "Who")).to_have_text(clerk.name)
    expect(fact(read, "Authority")).to_have_text(SURDULICA)
    expect(fact(read, "Purpose")).to_have_text("Handling the case")
    expect(fact(read, "Legal basis")).to_have_text(newborn_aid.service.legal_basis)
    expect(fact(read, "Data read")).to_contain_text("child_jmbg")
    link = fact(read, "Case").get_by_role("link", name=case.registry_number)
    expect(link).to_have_attribute("href", f"/cases/{case.pk}/")
    # The municipality's query of the residence register about her, ex officio.
    query = read_by(page, "Šalter (ex officio)")
    expect(query.locator(".card-title")).to_contain_text("Queried a register")
    expect(fact(query, "Authority")).to_have_text(SURDULICA)
    expect(fact(query, "Purpose")).to_have_text("Evidence obtained ex officio (ZUP art. 9 and 103)")
    expect(fact(query, "Data read")).to_contain_text("address")
    check_page(page)  # who accessed my data

    # Filtered by an authority that has not read her data.
    page.get_by_label("Authority").select_option(label=INTERIOR)
    click(page, page.get_by_role("button", name="Show", exact=True))
    expect(page.locator("main")).to_contain_text("This authority has not read your data.")
    expect(page.locator("main ul.cards")).to_have_count(0)
    check_page(page)  # the filter, nothing found
    page.get_by_label("Authority").select_option(label=SURDULICA)
    click(page, page.get_by_role("button", name="Show", exact=True))
    expect(read_by(page, clerk.name)).to_be_visible()

    # Everything held about her: the JSON has her case and the clerk's read.
    export = page.locator("main section[aria-labelledby=export-title]")
    with page.expect_download() as info:
        export.get_by_role("link", name="Download as JSON").click()
    assert info.value.suggested_filename.endswith(".json"), info.value.suggested_filename
    data = json.loads(Path(info.value.path()).read_bytes())
    assert [c["registry_number"] for c in data["cases"]] == [case.registry_number]
    assert data["cases"][0]["form"]["child_jmbg"] == LUKA
    assert any(r["reader"] == clerk.name for r in data["access_log"]), data["access_log"]
    response = page.request.get(f"{live_server.url}/my/data/export.json")
    assert response.status == 200
    assert response.headers["content-type"] == "application/json", response.headers
    assert response.headers["content-disposition"].startswith("attachment;")
    # … and the PDF.
    pdf = download_pdf(page, export.get_by_role("link", name="Download as PDF"))
    assert len(pdf) > 1000
    response = page.request.get(f"{live_server.url}/my/data/export.pdf")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf", response.headers


# --- the evidence panel ------------------------------------------------------------------------


def test_the_official_decides_about_evidence_a_register_did_not_give(
    page: Page,
    new_page: NewPage,
    system: Actor,
    ivana: User,
    newborn_aid: Any,
    clerk: Account,
    live_server: Any,
    settings: Any,
    mailbox: Any,
) -> None:
    registers = demo_registers(system, live_server, settings)
    case = submit_case(newborn_aid, ivana)

    # Both registers are down (nothing listens where they are offered), and their answers
    # were due a minute ago: the worker's attempt escalates both to the official.
    down = closed_port_url()
    DataService.objects.filter(code__in=[BIRTH_QUERY, RESIDENCE_QUERY]).update(
        url=down, timeout_seconds=1
    )
    case.evidence.update(due_at=timezone.now() - timedelta(minutes=1))
    assert ask_registers() == Counter(escalated=2)
    counts = send_notifications()  # the clerks are told
    assert counts["sent"] and not counts["failed"], counts
    subjects = [str(make_header(decode_header(m["Subject"]))) for m in mailbox.to(clerk.user.email)]
    assert sum(case.registry_number in subject for subject in subjects) == 2, subjects

    # The clerk's case page: both escalated, with the problem and the three ways out.
    office = new_page()
    sign_in(office, clerk, f"/official/cases/{case.pk}/")
    click(office, office.get_by_role("button", name="Claim the task"))
    take_step(office, "Start the review")
    birth = evidence_item(office, BIRTH_RECORD)
    expect(fact(birth, "Register")).to_have_text(f"Birth record by personal number — {MINISTRY[2]}")
    expect(fact(birth, "State")).to_have_text("The register did not answer: the official decides")
    expect(fact(birth, "Attempts without an answer")).to_have_text("1")
    # The client's words, in the worker's language (Serbian, the platform's default).
    expect(fact(birth, "Last problem")).to_contain_text("Connection refused")
    for button in ("Ask again", "The applicant brings it", "Decide without it"):
        expect(birth.get_by_role("button", name=button, exact=True)).to_have_count(1)
    expect(evidence_panel(office).locator("p.error")).to_contain_text(
        "“Draft the decision” can be taken once every piece below is settled."
    )
    check_page(office)  # both escalated

    # The decision waits: refused with what to do.
    take_step(office, "Draft the decision", DRAFT)
    expect(messages(office)).to_contain_text(
        f"{MINISTRY[2]} did not answer about: {BIRTH_RECORD}. Decide first how to obtain it"
    )
    expect(state(office)).to_have_text("Under review")

    # The applicant reads it in plain words, without the error.
    sign_in_citizen(page, ivana, f"/cases/{case.pk}/")
    expect(evidence_panel(page).locator("li")).to_have_text(
        [
            f"{BIRTH_RECORD} {MINISTRY[2]} has not answered yet; the official handling your"
            " case will decide how to obtain this.",
            f"{RESIDENCE} {INTERIOR} has not answered yet; the official handling your case"
            " will decide how to obtain this.",
        ],
        use_inner_text=True,
    )
    expect(page.locator("main")).not_to_contain_text("did not answer:")
    expect(page.get_by_role("button", name="Ask again")).to_have_count(0)
    check_page(page)  # the applicant's case, escalated

    # The civil registry: asked again — pending, nothing more to decide about it.
    click(office, birth.get_by_role("button", name="Ask again", exact=True))
    assert office.url.endswith(f"/official/cases/{case.pk}/#evidence-title"), office.url
    expect(messages(office)).to_contain_text("The register will be asked again.")
    birth = evidence_item(office, BIRTH_RECORD)
    expect(fact(birth, "State")).to_have_text("Asked, waiting for the register")
    expect(fact(birth, "Attempts without an answer")).to_have_text("0")
    expect(birth.get_by_role("button", name="Ask again", exact=True)).to_have_count(0)
    check_page(office)  # one pending, one escalated

    # The civil registry is back (offered at the live server again) and answers.
    DataService.objects.filter(code=BIRTH_QUERY).update(url=registers[BIRTH_QUERY].url)
    assert ask_registers() == Counter(answered=1)
    office.goto(f"/official/cases/{case.pk}/")
    birth = evidence_item(office, BIRTH_RECORD)
    expect(fact(birth, "State")).to_have_text("Obtained from the register")
    expect(fact(birth, "Entry number in the register")).to_have_text("154/2026")
    expect(fact(birth, "Mother's JMBG")).to_have_text(IVANA)
    expect(birth.get_by_role("button")).to_have_count(0)

    # The residence: decided without it, with a reason (the textarea requires one).
    residence = evidence_item(office, RESIDENCE)
    reason = "The parent's residence is in the municipality's own records."
    residence.get_by_label("Why the case can be decided without it").fill(reason)
    click(office, residence.get_by_role("button", name="Decide without it", exact=True))
    expect(messages(office)).to_contain_text("Recorded: the case is decided without this evidence.")
    expect(fact(evidence_item(office, RESIDENCE), "State")).to_have_text("No longer needed")
    expect(evidence_panel(office).locator("p.error")).to_have_count(0)
    expect(timeline_entry(office, f"{RESIDENCE} — decided without it")).to_contain_text(reason)
    check_page(office)  # answered and cancelled: settled

    # Settled: the decision goes ahead.
    take_step(office, "Draft the decision", DRAFT)
    expect(messages(office)).to_contain_text("Done: Draft the decision.")
    expect(state(office)).to_have_text("Decision drafted")
    assert [(r.code, r.state) for r in case.evidence.order_by("id")] == [
        ("birth_record", State.ANSWERED),
        ("residence", State.CANCELLED),
    ]

    # The applicant reads both outcomes; the reason stays internal.
    page.reload()
    expect(evidence_panel(page).locator("li")).to_have_text(
        [
            f"{BIRTH_RECORD} Obtained from {MINISTRY[2]}.",
            f"{RESIDENCE} No longer needed for your case.",
        ],
        use_inner_text=True,
    )
    expect(page.locator("main")).not_to_contain_text(reason)
    check_page(page)  # the applicant's case, settled


# --- who else may read a case ------------------------------------------------------------------


def test_the_head_of_unit_gives_an_official_of_another_unit_access(
    page: Page,
    new_page: NewPage,
    system: Actor,
    authority: Authority,
    unit: OrgUnit,
    ivana: User,
    newborn_aid: Any,
) -> None:
    finance = authorities.create_unit(
        system, authority, code="finance", name="Одељење за финансије", name_en="Finance"
    )
    head = add(system, unit, "nacelnik@surdulica.demo", "Јелена Стојановић", Role.HEAD_OF_UNIT)
    adviser = add(system, finance, "racun@surdulica.demo", "Вера Рачуновић", Role.CLERK)
    case = submit_case(newborn_aid, ivana, bring_evidence=True)
    access = f"/official/cases/{case.pk}/access/"

    # The official of the finance unit does not read the social affairs' case.
    other = new_page()
    sign_in(other, adviser, "/official/cases/queue/")
    response = other.goto(f"/official/cases/{case.pk}/")
    assert response is not None and response.status == 404
    response = other.goto(access)
    assert response is not None and response.status == 404

    # The head opens the case and, from it, who else may read it: nobody yet.
    sign_in(page, head, f"/official/cases/{case.pk}/")
    click(page, page.get_by_role("link", name="Who else may read this case"))
    assert page.url.endswith(access), page.url
    expect(page.locator("main h1")).to_have_text(f"Access to case {case.registry_number}")
    granted = page.locator("main section[aria-labelledby=grants-title]")
    expect(granted).to_contain_text("Nobody outside the unit has been given access.")
    check_page(page)  # the grants page, empty

    # Sent empty: the errors beside the fields.
    form = page.locator("main section[aria-labelledby=grant-title] form")
    assert click(page, form.get_by_role("button", name="Give access")) == 400
    expect(page.locator("#g-email_error")).to_have_text("Enter the official's e-mail address.")
    expect(page.locator("#g-email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#g-reason_error")).to_have_text(
        "Write why this official needs to read the case."
    )
    expect(page.locator("#g-reason")).to_have_attribute("aria-invalid", "true")
    check_page(page)  # the errors

    # Given, by e-mail address, until a day in a week.
    reason = "Checks the bank account before the payment."
    until = timezone.localdate() + timedelta(days=7)
    page.get_by_label("Official's e-mail address").fill(adviser.user.email)
    page.get_by_label("Reason").fill(reason)
    page.get_by_label("Valid until (last day, optional)").fill(until.isoformat())
    assert click(page, form.get_by_role("button", name="Give access")) == 200
    assert page.url.endswith(access), page.url
    expect(messages(page)).to_contain_text(f"{adviser.name} may now read this case.")
    row = granted.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_contain_text(adviser.name)
    expect(row.locator("td").nth(0)).to_contain_text(adviser.user.email)
    expect(row.locator("td").nth(1)).to_have_text(reason)
    expect(row.locator("td").nth(2)).to_contain_text(head.name)
    # Access ends at the midnight after the last day given.
    grant = CaseGrant.objects.get(case=case, user=adviser.user)
    assert grant.valid_until is not None
    assert timezone.localtime(grant.valid_until).date() == until + timedelta(days=1)
    expect(row.locator("td").nth(3)).to_have_text(when(grant.valid_until))
    expect(row.locator("td").nth(5)).to_have_text("in force")
    expect(row.get_by_role("button", name="Revoke")).to_have_count(1)
    check_page(page)  # the grants page with a grant

    # The adviser reads the case now — read only — and the read is logged.
    goto(other, f"/official/cases/{case.pk}/")
    expect(other.locator("main .notice")).to_contain_text(
        f"You read this case under access given by {head.name}: you can read it, not act on it."
    )
    expect(other.locator("main #steps-title")).to_have_count(0)
    expect(other.get_by_role("button", name="Claim the task")).to_have_count(0)
    expect(other.get_by_role("link", name="Who else may read this case")).to_have_count(0)
    assert AccessRecord.objects.filter(
        subject=ivana.person, reader=adviser.user, case=case
    ).exists()
    # The grant is on the case's internal timeline, not on the applicant's.
    assert CaseEvent.objects.filter(case=case, internal=True).exists()

    # Revoked: the adviser reads nothing more.
    click(page, row.get_by_role("button", name="Revoke"))
    expect(messages(page)).to_contain_text("The access is revoked.")
    expect(granted.locator("tbody tr td").nth(5)).to_contain_text("revoked")
    check_page(page)  # the grants page with a revoked grant
    response = other.goto(f"/official/cases/{case.pk}/")
    assert response is not None and response.status == 404
