"""What a case's steps queue, and for whom: the applicant's receipt, and the definition's
``notifications`` — to the applicant, or to the officials holding a role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.models.signals import pre_save
from django.test.utils import CaptureQueriesContext

from salter.authorities.models import Authority
from salter.cases import access
from salter.cases import services as cases
from salter.cases.models import Case, Task
from salter.catalog import pilots
from salter.catalog import services as catalog
from salter.catalog.models import ServiceVersion
from salter.core.context import Actor
from salter.identity.models import Role, User
from salter.mailbox import case_notifications
from salter.mailbox.models import Notification
from salter.mailbox.tests.conftest import NEWBORN_FORM, act, confirmed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_readers() -> Iterator[None]:
    """The notices are asserted in English (the source language): every user made in these
    tests reads English (a user's language decides the language of their notifications)."""

    def english(sender: Any, instance: User, **kwargs: Any) -> None:
        if instance._state.adding:
            instance.language = "en"

    pre_save.connect(english, sender=User, dispatch_uid="english-readers")
    yield
    pre_save.disconnect(sender=User, dispatch_uid="english-readers")


SUPPLEMENT = {"supplement_request": "Приложите извод из матичне књиге рођених."}
DRAFT = {"decision_outcome": "granted", "decision_reasoning": "Услови су испуњени."}


def notices() -> list[tuple[str, str]]:
    """(recipient, subject) of every notification, oldest first."""
    return [
        (n.recipient.email, n.subject)
        for n in Notification.objects.select_related("recipient").order_by("id")
    ]


def newest(user: User) -> Notification:
    return Notification.objects.filter(recipient=user).latest("id")


def test_the_receipt_names_the_registry_number_and_links_the_case(
    newborn_aid: ServiceVersion, citizen: User
) -> None:
    case, _created = cases.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    again, created = cases.submit(act(citizen), newborn_aid, NEWBORN_FORM, idempotency_key="k")
    assert created
    receipt = Notification.objects.get(case=case)
    assert (receipt.recipient, receipt.kind, receipt.channel) == (citizen, "case", "email")
    assert case.registry_number in receipt.subject and case.registry_number in receipt.body
    assert f"/cases/{case.pk}/" in receipt.body
    # A retried submission (same key) finds its case and queues nothing more.
    cases.submit(act(citizen), newborn_aid, NEWBORN_FORM, idempotency_key="k")
    assert Notification.objects.filter(case=again).count() == 1


def test_the_definition_decides_who_hears_of_each_step(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User, make_official: Any
) -> None:
    other_clerk = make_official("druga@surdulica.demo", "Друга Службеница", Role.CLERK)
    second_head = make_official("zamenik@surdulica.demo", "Заменик Шефа", Role.HEAD_OF_UNIT)
    case, _created = cases.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    cases.take_transition(act(clerk), case, "start_review")
    assert Notification.objects.count() == 1  # the receipt; the definition names no such step

    cases.take_transition(act(clerk), case, "request_supplement", inputs=SUPPLEMENT)
    asked = newest(citizen)
    assert asked.subject == f"Case {case.registry_number}: please supplement your application"
    assert SUPPLEMENT["supplement_request"] in asked.body
    assert f"/cases/{case.pk}/" in asked.body

    # The applicant answers: the clerk who asked hears of it, not every clerk.
    cases.take_transition(
        act(citizen), case, "answer_supplement", inputs={"supplement_answer": "Приложено."}
    )
    answered = newest(clerk)
    assert "the applicant sent the supplement" in answered.subject
    assert f"/official/cases/{case.pk}/" in answered.body
    assert not Notification.objects.filter(recipient=other_clerk).exists()

    # No head of unit has acted on the case yet: every head is asked to approve.
    cases.take_transition(act(clerk), case, "draft_decision", inputs=DRAFT)
    to_approve = Notification.objects.filter(subject__contains="waits for your approval")
    assert {n.recipient for n in to_approve} == {head, second_head}
    cases.take_transition(
        act(head), case, "approve_decision", opinion="Да.", confirmation=confirmed(head)
    )
    assert len(notices()) == 5


def test_an_assignee_alone_hears_of_their_case(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, make_official: Any
) -> None:
    make_official("druga@surdulica.demo", "Друга Службеница", Role.CLERK)
    case, _created = cases.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    cases.take_transition(act(clerk), case, "start_review")
    cases.take_transition(act(clerk), case, "request_supplement", inputs=SUPPLEMENT)
    locked = Case.objects.select_related("service_version__service", "authority").get(pk=case.pk)
    Task.objects.filter(case=case).update(assignee=clerk)
    assert access.officials_to_notify(locked, Role.CLERK) == [clerk]
    Task.objects.filter(case=case).update(assignee=None)
    Notification.objects.all().delete()
    # With nobody assigned and nobody in the role on the case: all clerks.
    fresh, _created = cases.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    fresh = Case.objects.select_related("service_version__service", "authority").get(pk=fresh.pk)
    assert len(access.officials_to_notify(fresh, Role.CLERK)) == 2


def test_internal_procedures_notify_the_employee_and_accounting(
    authority: Authority, system: Actor, make_official: Any
) -> None:
    overtime = catalog.offer_pilot(system, authority, pilots.OVERTIME)
    employee = make_official("ana@surdulica.demo", "Ана Анић", Role.CLERK)
    head = make_official("sef@surdulica.demo", "Бранко Шефовић", Role.HEAD_OF_UNIT)
    accountant = make_official("racun@surdulica.demo", "Вера Рачуновић", Role.APPROVER)
    form = {"date": "2026-12-01", "planned_hours": 3, "reason": "Годишњи извештај."}
    case, _created = cases.submit(act(employee), overtime, form)
    cases.take_transition(act(head), case, "approve", opinion="Може.")
    assert "your overtime was approved" in newest(employee).subject
    cases.take_transition(
        act(employee), case, "report", inputs={"actual_hours": 2.5, "work_done": "Извештај готов."}
    )
    cases.take_transition(act(head), case, "confirm")
    to_accounting = newest(accountant)
    assert "issue the pay slip" in to_accounting.subject
    assert "Hours worked: 2.5" in to_accounting.body  # an English reader: a decimal point


def test_a_step_nobody_is_told_of_costs_no_query_and_recipients_cost_a_fixed_few(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, make_official: Any
) -> None:
    case, _created = cases.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    locked = Case.objects.select_related("service_version__service", "authority").get(pk=case.pk)
    with CaptureQueriesContext(connection) as nothing:
        case_notifications.on_move(locked, "start_review", "submitted", "in_review")
    assert len(nothing) == 0

    def cost() -> int:
        with CaptureQueriesContext(connection) as captured:
            case_notifications.on_move(
                locked, "answer_supplement", "supplement_requested", "in_review"
            )
        return len(captured)

    one = cost()
    for i in range(5):
        make_official(f"c{i}@surdulica.demo", f"Службеник {i}", Role.CLERK)
    assert cost() == one == 3  # recipients, their preferences, one INSERT
    assert Notification.objects.filter(subject__contains="sent the supplement").count() == 1 + 6
