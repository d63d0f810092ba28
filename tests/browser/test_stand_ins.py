"""A head of unit appoints a deputy, who records an approval in a two-step approval line;
the escalated-tasks page. Every page passes axe at both widths."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from conftest import add_totp, totp_code
from django.utils import timezone
from playwright.sync_api import Page, expect

from salter.authorities.models import Authority, OrgUnit
from salter.cases import services as cases
from salter.cases import timers
from salter.cases.models import Approval, Case, Task
from salter.cases.tests.conftest import NEWBORN_FORM
from salter.catalog import pilots
from salter.catalog import services as catalog
from salter.core.context import Actor
from salter.identity import services
from salter.identity.models import Membership, Role, User
from tests.browser.conftest import PASSWORD, check_page, goto, login, logout, submit

pytestmark = pytest.mark.browser
DRAFT = {"decision_outcome": "granted", "decision_reasoning": "Услови су испуњени."}


def add(system: Actor, unit: OrgUnit, email: str, name: str, role: str) -> User:
    return services.add_official(
        system, email=email, full_name=name, unit=unit, role=role, password=PASSWORD
    ).user


def sign_in(page: Page, user: User, next_path: str) -> None:
    device = add_totp(user) if not user.totpdevice_set.exists() else user.totpdevice_set.get()
    login(page, user.email, next_path=next_path)
    page.fill("#id_code", totp_code(device))
    submit(page)


def test_a_deputy_approves_in_a_line_and_the_head_sees_overdue_work(
    page: Page, authority: Authority, unit: OrgUnit, system: Actor, citizen: User
) -> None:
    definition = copy.deepcopy(pilots.NEWBORN_AID.definition())
    for t in definition["workflow"]["transitions"]:
        if t["id"] == "approve_decision":
            t["roles"] = ["head_of_unit", "approver"]
            t["approval"] = {
                "mode": "sequential",
                "steps": [
                    {"role": "head_of_unit", "label": {"sr": "Начелник", "en": "Head"}},
                    {"role": "approver", "label": {"sr": "Секретар", "en": "Secretary"}},
                ],
            }
    service = catalog.create_service(
        system, authority, code="aid", name="Помоћ", kind="administrative"
    )
    version = catalog.publish_version(
        system, catalog.create_draft_version(system, service, definition)
    )
    head = add(system, unit, "sef@surdulica.demo", "Бранко Шефовић", Role.HEAD_OF_UNIT)
    clerk = add(system, unit, "ref@surdulica.demo", "Драган Референтовић", Role.CLERK)
    add(system, unit, "sek@surdulica.demo", "Сава Секретаревић", Role.APPROVER)
    case, _ = cases.submit(Actor(user=citizen, via="test"), version, NEWBORN_FORM)
    cases.take_transition(Actor(user=clerk, via="test"), case, "start_review")
    cases.take_transition(Actor(user=clerk, via="test"), case, "draft_decision", inputs=DRAFT)

    # The head appoints the clerk as deputy.
    sign_in(page, head, "/official/delegations/")
    assert page.url.endswith("/official/delegations/"), page.url
    check_page(page)
    until = (timezone.localdate() + timedelta(days=5)).isoformat()
    membership = Membership.objects.get(user=head, role=Role.HEAD_OF_UNIT)
    page.select_option("#d-membership", value=str(membership.pk))
    page.select_option("#d-delegate", label="Драган Референтовић")
    page.check("#d-kind-deputy")
    page.fill("#d-until", until)
    submit(page, "main form.panel button[type=submit]")
    expect(page.locator("main table")).to_contain_text("Драган Референтовић")
    check_page(page)

    # An overdue task is flagged to the head.
    Task.objects.filter(case=case).update(due_at=timezone.localdate() - timedelta(days=1))
    assert timers.escalate_overdue() == 1
    goto(page, "/official/cases/escalated/")
    expect(page.locator("main tbody tr")).to_contain_text(case.registry_number)
    check_page(page)
    logout(page)

    # The deputy records the head's step of the line.
    sign_in(page, clerk, f"/official/cases/{case.pk}/")
    assert page.url.endswith(f"/official/cases/{case.pk}/"), page.url
    expect(page.locator("#step-approve_decision")).to_contain_text("Начелник")
    check_page(page)
    page.fill("#approve_decision-opinion", "Сагласан у име начелника.")
    submit(page, "#step-approve_decision button[type=submit]")
    expect(page.locator("#step-approve_decision")).to_contain_text("Драган Референтовић")
    check_page(page)
    approval = Approval.objects.get(case=case)
    assert (approval.mark, approval.principal) == ("deputy", head)
    assert Case.objects.get(pk=case.pk).state == "decision_drafted"  # the secretary is next
