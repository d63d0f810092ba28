"""Approval lines (sequential and parallel), deputies and delegations, and the applicant's own
steps taken from the case page."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from salter.audit.models import AuditEvent
from salter.authorities.models import Authority, OrgUnit
from salter.cases import services
from salter.cases.errors import AlreadyDone, CaseError
from salter.cases.models import Approval, Case, CaseEvent, Task
from salter.catalog import pilots
from salter.catalog import services as catalog
from salter.catalog.models import ServiceVersion
from salter.core.context import Actor
from salter.identity import services as identity
from salter.identity.models import Delegation, Role, User

from .conftest import NEWBORN_FORM, OVERTIME_FORM, MakeOfficial, act, confirmed, today
from .test_official_views import signed_in

pytestmark = pytest.mark.django_db

DRAFT = {"decision_outcome": "granted", "decision_reasoning": "Услови су испуњени."}


def with_line(system: Actor, authority: Authority, mode: str) -> ServiceVersion:
    """The newborn-aid pilot whose decision is approved by the head of unit and the
    secretary (an approver), in order or in any order."""
    definition = copy.deepcopy(pilots.NEWBORN_AID.definition())
    for t in definition["workflow"]["transitions"]:
        if t["id"] == "approve_decision":
            t["roles"] = ["head_of_unit", "approver"]
            t["approval"] = {
                "mode": mode,
                "steps": [
                    {"role": "head_of_unit", "label": {"sr": "Начелник", "en": "Head"}},
                    {"role": "approver", "label": {"sr": "Секретар", "en": "Secretary"}},
                ],
            }
    service = catalog.create_service(
        system, authority, code=f"aid-{mode}", name="Помоћ", kind="administrative"
    )
    version = catalog.create_draft_version(system, service, definition)
    return catalog.publish_version(system, version)


def drafted(version: ServiceVersion, citizen: User, clerk: User) -> Case:
    case = services.submit(act(citizen), version, NEWBORN_FORM)[0]
    services.take_transition(act(clerk), case, "start_review")
    services.take_transition(act(clerk), case, "draft_decision", inputs=DRAFT)
    case.refresh_from_db()
    return case


def test_a_sequential_line_takes_its_steps_in_order(
    authority: Authority,
    system: Actor,
    citizen: User,
    clerk: User,
    head: User,
    secretary: User,
) -> None:
    case = drafted(with_line(system, authority, "sequential"), citizen, clerk)
    assert Task.objects.get(case=case).roles == ["head_of_unit"]
    with pytest.raises(PermissionDenied, match="waits for: Head"):
        services.take_transition(
            act(secretary),
            case,
            "approve_decision",
            opinion="Да.",
            confirmation=confirmed(secretary),
        )
    with pytest.raises(ValidationError):  # every approver writes an opinion
        services.take_transition(act(head), case, "approve_decision", confirmation=confirmed(head))

    version = case.version
    services.take_transition(
        act(head), case, "approve_decision", opinion="Слажем се.", confirmation=confirmed(head)
    )
    case.refresh_from_db()
    assert case.state == "decision_drafted" and case.version == version + 1
    # the secretary's turn (the head may still return the draft: another transition)
    assert Task.objects.get(case=case).roles == ["head_of_unit", "approver"]
    with pytest.raises(CaseError, match="already recorded your approval"):
        services.take_transition(
            act(head), case, "approve_decision", opinion="Опет.", confirmation=confirmed(head)
        )
    with pytest.raises(AlreadyDone, match="Бранко Шефовић"):  # a page shown before
        services.take_transition(
            act(secretary), case, "approve_decision", opinion="Да.", expected_version=version
        )

    services.take_transition(
        act(secretary),
        case,
        "approve_decision",
        opinion="Сагласан.",
        confirmation=confirmed(secretary),
    )
    case.refresh_from_db()
    assert case.state == "approved"
    rows = list(Approval.objects.filter(case=case).order_by("step").values_list("step", "actor"))
    assert rows == [(0, head.pk), (1, secretary.pk)]
    kinds = list(case.events.order_by("id").values_list("kind", flat=True))
    assert kinds[-3:] == [
        CaseEvent.Kind.APPROVAL,
        CaseEvent.Kind.TRANSITION,
        CaseEvent.Kind.DOCUMENT,
    ]
    actions = set(
        AuditEvent.objects.filter(object_id=str(case.pk)).values_list("action", flat=True)
    )
    assert "case.approval" in actions


def test_a_parallel_line_takes_its_steps_in_any_order(
    authority: Authority,
    system: Actor,
    citizen: User,
    clerk: User,
    head: User,
    secretary: User,
) -> None:
    case = drafted(with_line(system, authority, "parallel"), citizen, clerk)
    assert set(Task.objects.get(case=case).roles) == {"head_of_unit", "approver"}
    services.take_transition(
        act(secretary),
        case,
        "approve_decision",
        opinion="Сагласан.",
        confirmation=confirmed(secretary),
    )
    case.refresh_from_db()
    assert case.state == "decision_drafted"
    assert Task.objects.get(case=case).roles == ["head_of_unit"]
    services.take_transition(
        act(head), case, "approve_decision", opinion="Слажем се.", confirmation=confirmed(head)
    )
    case.refresh_from_db()
    assert case.state == "approved"


def test_returning_the_draft_starts_the_line_again(
    authority: Authority,
    system: Actor,
    citizen: User,
    clerk: User,
    head: User,
    secretary: User,
) -> None:
    case = drafted(with_line(system, authority, "sequential"), citizen, clerk)
    services.take_transition(
        act(head), case, "approve_decision", opinion="Да.", confirmation=confirmed(head)
    )
    services.take_transition(act(head), case, "return_draft", opinion="Допунити образложење.")
    services.take_transition(act(clerk), case, "draft_decision", inputs=DRAFT)
    case.refresh_from_db()
    assert Task.objects.get(case=case).roles == ["head_of_unit"]  # the head approves again
    with pytest.raises(PermissionDenied):
        services.take_transition(
            act(secretary),
            case,
            "approve_decision",
            opinion="Да.",
            confirmation=confirmed(secretary),
        )


def test_a_deputy_approves_and_the_mark_says_for_whom(
    authority: Authority,
    unit: OrgUnit,
    system: Actor,
    citizen: User,
    clerk: User,
    head: User,
    make_official: MakeOfficial,
) -> None:
    case = services.submit(act(citizen), pilots_version(system, authority), NEWBORN_FORM)[0]
    services.take_transition(act(clerk), case, "start_review")
    services.take_transition(act(clerk), case, "draft_decision", inputs=DRAFT)
    deputy = make_official("zamenik@surdulica.demo", "Зоран Заменић", Role.CLERK)
    with pytest.raises(PermissionDenied):
        services.take_transition(
            act(deputy), case, "approve_decision", opinion="Да.", confirmation=confirmed(deputy)
        )

    delegation = identity.delegate_role(
        act(head),
        principal=head,
        delegate=deputy,
        unit=unit,
        role=Role.HEAD_OF_UNIT,
        kind=Delegation.Kind.DEPUTY,
        valid_until=today() + timedelta(days=10),
        reason="Годишњи одмор",
    )
    services.take_transition(
        act(deputy), case, "approve_decision", opinion="Одобравам.", confirmation=confirmed(deputy)
    )
    case.refresh_from_db()
    assert case.state == "approved"
    approval = Approval.objects.get(case=case)
    assert (approval.mark, approval.principal) == ("deputy", head)
    event = case.events.filter(kind=CaseEvent.Kind.TRANSITION).order_by("-id").first()
    assert event is not None and event.payload["principal"] == "Бранко Шефовић"

    # The applicant's timeline says who stood in for whom.
    client = signed_in(citizen)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "deputy for Бранко Шефовић" in page

    identity.revoke_delegation(act(head), delegation)
    later = services.submit(act(citizen), case.service_version, NEWBORN_FORM)[0]
    services.take_transition(act(clerk), later, "start_review")
    services.take_transition(act(clerk), later, "draft_decision", inputs=DRAFT)
    with pytest.raises(PermissionDenied):  # no longer a stand-in
        services.take_transition(
            act(deputy), later, "approve_decision", opinion="Да.", confirmation=confirmed(deputy)
        )


def pilots_version(system: Actor, authority: Authority) -> ServiceVersion:
    return catalog.offer_pilot(system, authority, pilots.NEWBORN_AID)


def test_delegations_are_checked(
    unit: OrgUnit, head: User, clerk: User, citizen: User, make_official: MakeOfficial
) -> None:
    def delegate(by: User, **changes: Any) -> Delegation:
        values: dict[str, Any] = {
            "principal": head,
            "delegate": clerk,
            "unit": unit,
            "role": Role.HEAD_OF_UNIT,
            "kind": Delegation.Kind.DELEGATED,
            "valid_until": today() + timedelta(days=5),
        }
        values.update(changes)
        return identity.delegate_role(act(by), **values)

    wrong: list[tuple[dict[str, Any], str]] = [
        ({"role": Role.APPROVER}, "role"),  # the head does not hold it
        ({"delegate": head}, "delegate"),
        ({"delegate": citizen}, "delegate"),
        ({"valid_until": today() - timedelta(days=1)}, "valid_until"),
        ({"valid_until": today() + timedelta(days=400)}, "valid_until"),
        ({"valid_from": today() - timedelta(days=1)}, "valid_from"),
        ({"kind": "forever"}, "kind"),
    ]
    for changes, field in wrong:
        with pytest.raises(ValidationError) as caught:
            delegate(head, **changes)
        assert field in caught.value.message_dict, changes

    other = make_official("drugi@surdulica.demo", "Други Референт", Role.CLERK)
    with pytest.raises(PermissionDenied):  # a clerk cannot hand on the head's role
        delegate(other)
    made = delegate(head)
    with pytest.raises(PermissionDenied):
        identity.revoke_delegation(act(other), made)
    assert identity.revoke_delegation(act(head), made).revoked_at is not None
    assert AuditEvent.objects.filter(action="delegation.revoked").count() == 1


# --- the applicant's steps on the case page ---------------------------------------------------


def test_the_employee_reports_the_work_from_the_case_page(
    overtime: ServiceVersion, employee: User, head: User, citizen: User
) -> None:
    case = services.submit(act(employee), overtime, OVERTIME_FORM)[0]
    url = reverse("cases:detail", args=[case.pk])
    client = signed_in(employee)
    assert 'name="actual_hours"' not in client.get(url).content.decode()  # not yet
    services.take_transition(act(head), case, "approve", opinion="Да.")
    page = client.get(url).content.decode()
    assert "Hours actually worked" in page and "What was done" in page  # the ui labels
    take = reverse("cases:take", args=[case.pk, "report"])

    wrong = client.post(take, {"expected_version": "2", "actual_hours": "9", "work_done": "x"})
    assert wrong.status_code == 400
    assert wrong.content.decode().count('aria-invalid="true"') == 2
    done = client.post(
        take, {"expected_version": "2", "actual_hours": "3,5", "work_done": "Завршено данас."}
    )
    assert done.status_code == 302, done.content.decode()
    case.refresh_from_db()
    assert case.state == "reported" and case.inputs["actual_hours"] == 3.5

    again = client.post(
        take, {"expected_version": "2", "actual_hours": "3", "work_done": "Завршено данас."}
    )
    assert again.status_code == 302
    assert "Already done by" in client.get(url).content.decode()
    case.refresh_from_db()
    assert case.version == 3  # the retry changed nothing

    # Officials' steps are not the applicant's, and nobody else can act on the case.
    assert client.post(reverse("cases:take", args=[case.pk, "confirm"])).status_code == 404
    stranger = signed_in(citizen)
    assert stranger.post(take, {"actual_hours": "1"}).status_code == 404
    anonymous = client.__class__().post(take, {"actual_hours": "1"})
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_the_citizen_answers_a_supplement_request_from_the_case_page(
    newborn_aid: ServiceVersion, citizen: User, clerk: User
) -> None:
    case = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)[0]
    services.take_transition(act(clerk), case, "start_review")
    services.take_transition(
        act(clerk),
        case,
        "request_supplement",
        inputs={"supplement_request": "Доставите извод из матичне књиге рођених."},
    )
    client = signed_in(citizen)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Доставите извод из матичне књиге рођених." in page and "Your answer" in page
    case.refresh_from_db()
    response = client.post(
        reverse("cases:take", args=[case.pk, "answer_supplement"]),
        {"expected_version": str(case.version), "supplement_answer": "Извод је у прилогу."},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "in_review" and case.paused_at is None
    last = case.events.order_by("-id").first()
    assert last is not None and last.kind == CaseEvent.Kind.SUPPLEMENT_ANSWERED
    assert timezone.now() - last.at < timedelta(minutes=1)


def test_the_official_page_shows_the_approval_line(
    authority: Authority,
    system: Actor,
    citizen: User,
    clerk: User,
    head: User,
    secretary: User,
) -> None:
    case = drafted(with_line(system, authority, "sequential"), citizen, clerk)
    services.take_transition(
        act(head), case, "approve_decision", opinion="Слажем се.", confirmation=confirmed(head)
    )
    page = signed_in(secretary).get(reverse("official:case", args=[case.pk])).content.decode()
    assert "Approval line (in order)" in page
    assert "approved by Бранко Шефовић" in page and "waiting for approval" in page
    # The secretary's approval completes the line: it signs, with a fresh second factor.
    assert "Sign: " in page and 'name="second_factor_code"' in page


# --- reassigning a task -------------------------------------------------------------------


def test_a_head_gives_the_task_to_a_named_official(
    newborn_aid: ServiceVersion,
    citizen: User,
    clerk: User,
    head: User,
    make_official: MakeOfficial,
) -> None:
    other = make_official("drugi@surdulica.demo", "Други Референт", Role.CLERK)
    case = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)[0]
    task = Task.objects.get(case=case)
    services.claim(act(clerk), task)
    assert {u.pk for u in services.assignable(case, task.roles)} == {clerk.pk, other.pk}

    with pytest.raises(PermissionDenied):  # only a head of unit reassigns
        services.assign(act(clerk), task, other)
    with pytest.raises(PermissionDenied, match="holds none of the roles"):
        services.assign(act(head), task, citizen)
    services.assign(act(head), task, other)
    task.refresh_from_db()
    assert task.assignee == other
    event = case.events.order_by("-id").first()
    assert event is not None and event.kind == CaseEvent.Kind.ASSIGNED
    assert event.payload["from"] == clerk.pk and event.payload["assignee_name"] == "Други Референт"
    assert AuditEvent.objects.filter(action="case.assigned").count() == 1

    # Through the page: the head sees the choice and uses it; a clerk sees none.
    client = signed_in(head)
    page = client.get(reverse("official:case", args=[case.pk])).content.decode()
    assert 'name="assignee"' in page and "Драган Референтовић" in page
    response = client.post(
        reverse("official:case_assign", args=[case.pk]), {"assignee": str(clerk.pk)}
    )
    assert response.status_code == 302
    assert Task.objects.get(case=case).assignee == clerk
    clerk_page = signed_in(clerk).get(reverse("official:case", args=[case.pk])).content.decode()
    assert 'name="assignee"' not in clerk_page
    refused = signed_in(clerk).post(
        reverse("official:case_assign", args=[case.pk]), {"assignee": str(other.pk)}
    )
    assert refused.status_code == 302 and Task.objects.get(case=case).assignee == clerk
