"""The case engine through its use cases: both pilots end to end, numbers, idempotency,
roles, races, supplements, withdrawal, claims and comments."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone, translation

from salter.audit.models import AuditEvent
from salter.authorities.models import RegistryCounter
from salter.cases import services, workflow
from salter.cases.errors import AlreadyClaimed, AlreadyDone, CaseError
from salter.cases.models import Case, CaseEvent, Task
from salter.cases.services import submission
from salter.cases.services.common import TIMER
from salter.catalog import pilots
from salter.catalog import services as catalog
from salter.catalog.models import ServiceVersion
from salter.core import calendar
from salter.core.context import Actor
from salter.identity.models import User
from salter.mailbox.services import record_postal

from .conftest import NEWBORN_FORM, OVERTIME_FORM, MakeOfficial, act, confirmed, today

pytestmark = pytest.mark.django_db


def kinds(case: Case) -> list[str]:
    return list(case.events.order_by("id").values_list("kind", flat=True))


# --- the overtime pilot ------------------------------------------------------------------------


def test_overtime_end_to_end(
    overtime: ServiceVersion, employee: User, head: User, accountant: User
) -> None:
    case, created = services.submit(act(employee), overtime, OVERTIME_FORM, idempotency_key="k1")
    assert created
    assert case.registry_number == f"01-1/{case.year}"
    assert case.state == "submitted"
    assert case.deadline_at == calendar.add_working_days(today(), 15)
    assert case.task.roles == ["head_of_unit"]
    assert case.task.due_at == case.deadline_at

    with pytest.raises(ValidationError) as refused:
        services.take_transition(act(head), case, "approve")
    assert refused.value.message_dict == {"opinion": ["Write your opinion: this step records it."]}

    services.take_transition(act(head), case, "approve", opinion="Одобравам, рок је хитан.")
    case.refresh_from_db()
    assert case.state == "approved"
    assert case.task.roles == ["applicant"]

    services.take_transition(
        act(employee),
        case,
        "report",
        inputs={"actual_hours": 3.5, "work_done": "Завршен годишњи извештај."},
    )
    services.take_transition(act(head), case, "confirm")
    case = services.take_transition(
        act(accountant),
        case,
        "issue_pay_slip",
        inputs={"hourly_base_pay": 812.40},
        confirmation=confirmed(accountant),
    )

    assert case.state == "closed"
    assert case.closed_at is not None
    assert not Task.objects.filter(case=case).exists()
    pay = Decimal(case.inputs["overtime_pay"])
    assert pay == Decimal("3.5") * Decimal("812.4") * Decimal("1.26") == Decimal("3582.684")
    assert kinds(case) == [
        "submitted",
        "transition",
        "transition",
        "transition",
        "transition",
        "document",
    ]
    # The pay slip: an act of the case (sub-number 1), signed by the accountant and sealed.
    application, slip = case.documents.order_by("sub_number")
    # The application is the case's first entry in the registry book, under its own number.
    assert (application.registry_number, application.direction) == (
        case.registry_number,
        "incoming",
    )
    assert application.sender == employee.full_name
    assert slip.registry_number == f"{case.registry_number}-1" and slip.act_code == "pay_slip"
    assert slip.issued_by == accountant and slip.issued_at is not None
    assert [v.kind for v in slip.versions.all()] == ["signed"]
    approve = case.events.get(transition_id="approve")
    assert approve.opinion == "Одобравам, рок је хитан."
    assert (approve.actor_role, approve.unit_id, approve.actor) == (
        "head_of_unit",
        head.memberships.get().unit_id,
        head,
    )
    assert case.version == 5
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"case.submitted", "case.transition", "registry.number_allocated"} <= actions


def test_wrong_role_is_refused(overtime: ServiceVersion, employee: User, clerk: User) -> None:
    case, _ = services.submit(act(employee), overtime, OVERTIME_FORM)
    with pytest.raises(PermissionDenied, match="Only Head of unit can take this step"):
        services.take_transition(act(clerk), case, "approve", opinion="Може.")
    with pytest.raises(PermissionDenied):  # the applicant cannot approve their own overtime
        services.take_transition(act(employee), case, "approve", opinion="Може.")
    case.refresh_from_db()
    assert case.state == "submitted"


def test_an_internal_procedure_is_only_for_staff(overtime: ServiceVersion, citizen: User) -> None:
    with pytest.raises(PermissionDenied, match="internal procedure"):
        services.submit(act(citizen), overtime, OVERTIME_FORM)


def test_form_errors_are_one_message_per_field(overtime: ServiceVersion, employee: User) -> None:
    with pytest.raises(ValidationError) as refused:
        services.submit(
            act(employee),
            overtime,
            {"date": "1. 12.", "planned_hours": 9, "surprise": 1},
        )
    assert refused.value.message_dict == {
        "date": ["Enter a date as YYYY-MM-DD."],
        "planned_hours": ["The value must be at most 4."],
        "reason": ["This field is required."],
        "surprise": ["There is no such field."],
    }
    assert not Case.objects.exists()
    assert RegistryCounter.objects.filter(last_number__gt=0).count() == 0


def test_transition_input_guard_and_requires_fields(
    overtime: ServiceVersion, employee: User, head: User
) -> None:
    case, _ = services.submit(act(employee), overtime, OVERTIME_FORM)
    services.take_transition(act(head), case, "approve", opinion="Да.")
    with pytest.raises(ValidationError) as refused:
        services.take_transition(act(employee), case, "report", inputs={"actual_hours": 0})
    assert refused.value.message_dict == {
        "actual_hours": ["The value must be more than 0."],
        "work_done": ["This field is required."],
    }
    with pytest.raises(ValidationError, match="no such field"):
        services.take_transition(
            act(employee),
            case,
            "report",
            inputs={"actual_hours": 1, "work_done": "Урађено све.", "x": 1},
        )


def test_guard_compares_numbers() -> None:
    guard = {"field": "actual_hours", "op": ">", "value": 0}
    assert workflow.guard_holds(guard, {"actual_hours": "0.5"})
    assert not workflow.guard_holds(guard, {"actual_hours": 0})
    assert not workflow.guard_holds(guard, {})
    assert workflow.guard_holds({"field": "o", "op": "==", "value": "granted"}, {"o": "granted"})


# --- numbers and idempotency ---------------------------------------------------------------


def test_a_retried_submission_returns_the_same_case(
    overtime: ServiceVersion, employee: User
) -> None:
    first, created = services.submit(act(employee), overtime, OVERTIME_FORM, idempotency_key="a")
    again, created_again = services.submit(
        act(employee), overtime, OVERTIME_FORM, idempotency_key="a"
    )
    other, _ = services.submit(act(employee), overtime, OVERTIME_FORM, idempotency_key="b")

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and again.registry_number == first.registry_number
    assert other.number == first.number + 1
    assert Case.objects.count() == 2


def test_a_key_is_per_applicant(overtime: ServiceVersion, employee: User, clerk: User) -> None:
    mine, _ = services.submit(act(employee), overtime, OVERTIME_FORM, idempotency_key="same")
    theirs, created = services.submit(act(clerk), overtime, OVERTIME_FORM, idempotency_key="same")
    assert created and theirs.pk != mine.pk


def test_a_key_cannot_be_reused_for_another_service(
    overtime: ServiceVersion, newborn_aid: ServiceVersion, employee: User
) -> None:
    services.submit(act(employee), overtime, OVERTIME_FORM, idempotency_key="k")
    with pytest.raises(CaseError, match="already used"):
        services.submit(act(employee), newborn_aid, NEWBORN_FORM, idempotency_key="k")


def test_a_failed_submission_leaves_no_gap(
    overtime: ServiceVersion, employee: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(case: Case, now: Any, **options: Any) -> None:
        raise RuntimeError("the disk is full")

    with monkeypatch.context() as patch:
        patch.setattr(submission, "open_task", broken)
        with pytest.raises(RuntimeError):
            services.submit(act(employee), overtime, OVERTIME_FORM, idempotency_key="x")
    assert not Case.objects.exists()
    assert not CaseEvent.objects.exists()

    case, created = services.submit(act(employee), overtime, OVERTIME_FORM, idempotency_key="x")
    assert created and case.number == 1


def test_a_retired_version_takes_no_new_case(
    overtime: ServiceVersion, employee: User, system: Actor
) -> None:
    catalog.retire_version(system, overtime)
    with pytest.raises(CaseError, match="not offered"):
        services.submit(act(employee), overtime, OVERTIME_FORM)


def test_a_case_stays_on_its_version(
    overtime: ServiceVersion, employee: User, head: User, system: Actor
) -> None:
    case, _ = services.submit(act(employee), overtime, OVERTIME_FORM)
    changed = pilots.OVERTIME.definition()
    changed["workflow"]["transitions"][0]["roles"] = ["clerk"]
    catalog.publish_version(system, catalog.create_draft_version(system, overtime.service, changed))
    services.take_transition(act(head), case, "approve", opinion="Још по старом.")


# --- races -----------------------------------------------------------------------------------


def test_the_second_official_hears_who_was_first(
    overtime: ServiceVersion, employee: User, head: User, make_official: MakeOfficial
) -> None:
    deputy = make_official("zamenik@surdulica.demo", "Зоран Заменић", "head_of_unit")
    case, _ = services.submit(act(employee), overtime, OVERTIME_FORM)
    services.take_transition(act(head), case.pk, "approve", opinion="Да.")
    with pytest.raises(AlreadyDone, match="Already done by Бранко Шефовић at") as late:
        services.take_transition(act(deputy), case.pk, "reject", opinion="Не.")
    assert "Overtime approved" in str(late.value)
    with pytest.raises(AlreadyDone):  # a client that saw an older version
        services.take_transition(
            act(employee),
            case.pk,
            "report",
            inputs={"actual_hours": 1, "work_done": "Нешто урађено."},
            expected_version=1,
        )


@pytest.mark.django_db(transaction=True)
def test_two_officials_at_once_exactly_one_succeeds(
    overtime: ServiceVersion, employee: User, head: User, make_official: MakeOfficial
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks from two connections; SQLite serialises whole transactions")
    deputy = make_official("zamenik@surdulica.demo", "Зоран Заменић", "head_of_unit")
    case, _ = services.submit(act(employee), overtime, OVERTIME_FORM)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def take(user: User) -> None:
        from django.db import connection as own

        translation.activate("en")  # a thread starts in the default language
        try:
            barrier.wait()
            services.take_transition(act(user), case.pk, "approve", opinion=user.full_name)
            results[user.full_name] = "ok"
        except AlreadyDone as exc:
            results[user.full_name] = exc
        finally:
            own.close()

    threads = [threading.Thread(target=take, args=(u,)) for u in (head, deputy)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    winners = [name for name, r in results.items() if r == "ok"]
    losers = [r for r in results.values() if isinstance(r, AlreadyDone)]
    assert len(winners) == 1 and len(losers) == 1
    assert f"Already done by {winners[0]}" in str(losers[0])
    assert CaseEvent.objects.filter(case=case, transition_id="approve").count() == 1


# --- the newborn-aid pilot, supplements and the deadline pause --------------------------------


def test_newborn_aid_with_a_supplement(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User
) -> None:
    case, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM, idempotency_key="n1")
    submitted = today()
    assert case.deadline_at == calendar.add_calendar_days(submitted, 30)
    assert case.task.roles == ["clerk"]  # withdrawal is not work waiting for the applicant

    services.take_transition(act(clerk), case, "start_review")
    services.take_transition(
        act(clerk), case, "request_supplement", inputs={"supplement_request": "Доставите извод."}
    )
    case.refresh_from_db()
    assert case.paused_at is not None
    assert case.task.roles == ["applicant"] and case.task.due_at is None

    # Five days pass while the case waits for the parent.
    Case.objects.filter(pk=case.pk).update(paused_at=case.paused_at - timedelta(days=5))
    with pytest.raises(PermissionDenied):  # only the applicant answers
        services.take_transition(
            act(clerk), case, "answer_supplement", inputs={"supplement_answer": "x"}
        )
    services.take_transition(
        act(citizen), case, "answer_supplement", inputs={"supplement_answer": "Ево извода."}
    )
    case.refresh_from_db()
    assert (case.paused_at, case.paused_days) == (None, 5)
    assert case.deadline_at == calendar.add_calendar_days(submitted + timedelta(days=5), 30)
    assert case.task.due_at == case.deadline_at

    services.take_transition(
        act(clerk),
        case,
        "draft_decision",
        inputs={"decision_outcome": "granted", "decision_reasoning": "Испуњени су услови."},
    )
    services.take_transition(
        act(head), case, "approve_decision", opinion="Сагласан.", confirmation=confirmed(head)
    )
    with pytest.raises(CaseError, match="no longer be withdrawn"):
        services.withdraw(act(citizen), case)
    services.take_transition(act(clerk), case, "deliver")
    case.refresh_from_db()
    assert case.state == "delivering"  # no consent: the decision waits for the post
    delivery = case.deliveries.get()
    assert delivery.channel == "postal"
    record_postal(act(clerk), delivery, timezone.localdate())
    case.refresh_from_db()
    assert case.state == "delivered"
    services.take_transition(Actor.system(TIMER), case, "close")
    case.refresh_from_db()
    assert case.state == "closed" and case.closed_at is not None
    assert kinds(case) == [
        "submitted",
        "transition",
        "supplement_requested",
        "supplement_answered",
        "transition",
        "drafted",
        "transition",
        "document",
        "transition",
        "delivery",  # submitted
        "delivery",  # postal
        "delivery",  # delivered by post
        "transition",  # the platform: delivery took effect
        "transition",
    ]


def test_a_person_cannot_take_a_step_meant_for_nobody(
    newborn_aid: ServiceVersion, citizen: User
) -> None:
    case, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    with pytest.raises(PermissionDenied):
        services.take_transition(Actor.system(TIMER), case, "start_review")
    with pytest.raises(CaseError, match="no step"):
        services.take_transition(act(citizen), case, "teleport")


# --- withdrawal --------------------------------------------------------------------------------


def test_withdraw_through_the_definition(
    newborn_aid: ServiceVersion, citizen: User, clerk: User
) -> None:
    case, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    with pytest.raises(PermissionDenied):
        services.withdraw(act(clerk), case)
    case = services.withdraw(act(citizen), case)
    assert case.state == "withdrawn" and case.closed_at is not None
    assert kinds(case)[-1] == "withdrawn"
    assert not Task.objects.exists()
    with pytest.raises(AlreadyDone):
        services.withdraw(act(citizen), case)


def test_builtin_withdrawal_when_the_definition_has_none(
    authority: Any, system: Actor, citizen: User
) -> None:
    definition = pilots.NEWBORN_AID.definition()
    transitions = definition["workflow"]["transitions"]
    definition["workflow"]["transitions"] = [t for t in transitions if t["id"] != "withdraw"]
    del definition["workflow"]["states"]["withdrawn"]
    service = catalog.create_service(system, authority, code="plain", name="П", kind="petition")
    version = catalog.publish_version(
        system, catalog.create_draft_version(system, service, definition)
    )
    case, _ = services.submit(act(citizen), version, NEWBORN_FORM)
    case = services.withdraw(act(citizen), case)
    assert case.state == workflow.BUILTIN_WITHDRAWN and case.closed_at is not None
    assert workflow.state_label(definition, case.state) == "Withdrawn by the applicant"


# --- claims and comments --------------------------------------------------------------------


def test_claim_release_and_reassign(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User, make_official: MakeOfficial
) -> None:
    other = make_official("drugi@surdulica.demo", "Милан Другић", "clerk")
    case, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    task = services.claim(act(clerk), case.task)
    assert task.assignee == clerk
    assert services.claim(act(clerk), task.pk).assignee == clerk  # idempotent
    with pytest.raises(AlreadyClaimed, match="Already claimed by Драган Референтовић"):
        services.claim(act(other), task)
    with pytest.raises(PermissionDenied):
        services.claim(act(citizen), task)
    with pytest.raises(PermissionDenied):  # a colleague cannot take it away
        services.release(act(other), task)
    assert services.release(act(head), task).assignee is None  # the head can
    services.claim(act(other), task)
    assert kinds(case)[1:] == ["claimed", "released", "claimed"]
    # A step replaces the task: the next one is unclaimed.
    services.take_transition(act(other), case, "start_review")
    assert Task.objects.get(case=case).assignee is None


def test_comments(newborn_aid: ServiceVersion, citizen: User, clerk: User) -> None:
    stranger = User.objects.create_user("x@example.rs", "x", full_name="Непознати")
    case, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    internal = services.comment(act(clerk), case, "Проверити рачун.")
    public = services.comment(act(clerk), case, "Захтев је примљен.", internal=False)
    own = services.comment(act(citizen), case, "Хвала.", internal=True)
    assert (internal.internal, public.internal, own.internal) == (True, False, False)
    with pytest.raises(PermissionDenied):
        services.comment(act(stranger), case, "Хм.")
    with pytest.raises(ValidationError):
        services.comment(act(clerk), case, "   ")


@pytest.mark.django_db(transaction=True)
def test_two_retries_at_once_make_one_case_and_no_gap(
    overtime: ServiceVersion, employee: User
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks from two connections; SQLite serialises whole transactions")
    barrier = threading.Barrier(2)
    found: list[tuple[int, bool]] = []

    def send() -> None:
        from django.db import connection as own

        try:
            barrier.wait()
            case, created = services.submit(
                act(employee), overtime, OVERTIME_FORM, idempotency_key="double-click"
            )
            found.append((case.pk, created))
        finally:
            own.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(created for _pk, created in found) == [False, True]
    assert len({pk for pk, _created in found}) == 1
    case, created = services.submit(act(employee), overtime, OVERTIME_FORM, idempotency_key="next")
    assert created and case.number == 2


def test_the_timeline_is_append_only(newborn_aid: ServiceVersion, citizen: User) -> None:
    case, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    event = case.events.get()
    event.opinion = "changed"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


def test_refusals_are_in_serbian(overtime: ServiceVersion, employee: User, head: User) -> None:
    case, _ = services.submit(act(employee), overtime, OVERTIME_FORM)
    services.take_transition(act(head), case, "approve", opinion="Да.")
    with translation.override("sr"), pytest.raises(AlreadyDone) as late:
        services.take_transition(act(head), case, "reject", opinion="Не.")
    assert str(late.value).startswith("Већ је урадио/ла Бранко Шефовић у ")
    assert "„Прековремени рад одобрен”" in str(late.value)
