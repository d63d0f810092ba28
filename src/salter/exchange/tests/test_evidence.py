"""Ex officio evidence: what a submission asks for, how the platform asks registers that are
down, slow, unreadable or refusing, and what the official decides when they do not answer.

The registers here are real HTTP servers on 127.0.0.1 (``evidence_helpers``) that misbehave
on purpose; ``test_evidence_registers.py`` asks the demo registers themselves."""

# ruff: noqa: F811 — the case engine's fixtures are imported by name and used as arguments

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from salter.audit.models import AuditEvent
from salter.authorities import services as authorities
from salter.authorities.models import Authority
from salter.cases import services as cases
from salter.cases.errors import CaseError
from salter.cases.models import CaseEvent
from salter.cases.tests.conftest import (  # noqa: F401 — fixtures, registered by importing
    NEWBORN_FORM,
    accountant,
    act,
    clerk,
    head,
    make_official,
    newborn_aid,
    overtime,
)
from salter.catalog import definitions, pilots
from salter.catalog.models import ServiceVersion
from salter.core.context import Actor
from salter.exchange.evidence import services as evidence
from salter.exchange.evidence import worker
from salter.exchange.evidence.panel import panel
from salter.exchange.models import EvidenceRequest
from salter.exchange.tests.evidence_helpers import (
    BIRTH,
    EX_OFFICIO_FORM,
    RESIDENCE,
    Register,
    closed_port_url,
    point,
    running,
    submitted,
)
from salter.identity import services as identity
from salter.identity.models import Role, User
from salter.mailbox.models import Notification

State = EvidenceRequest.State
DRAFT = {"decision_outcome": "granted", "decision_reasoning": "Услови су испуњени."}


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are asserted in English (the source language); the site's default is sr."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fast_registers(settings: Any) -> None:
    settings.SALTER_REGISTER_TIMEOUT_SECONDS = 0.5
    settings.SALTER_REGISTER_RETRY_SECONDS = 60


@pytest.fixture
def holder(system: Actor) -> Authority:
    """The authority that keeps the registers."""
    return authorities.create_authority(
        system,
        code="maticari",
        name="Министарство државне управе",
        name_en="Ministry of Public Administration",
        kind=Authority.Kind.MINISTRY,
    )


def requests_of(case: Any) -> dict[str, EvidenceRequest]:
    return {r.code: r for r in EvidenceRequest.objects.filter(case=case)}


def due_now(request: EvidenceRequest) -> None:
    """Time passes until the request's next attempt (a backoff or a lease runs out)."""
    EvidenceRequest.objects.filter(pk=request.pk).update(next_attempt_at=timezone.now())


def past_deadline(request: EvidenceRequest) -> None:
    """The register's deadline to answer has passed, and the request is due again."""
    now = timezone.now()
    EvidenceRequest.objects.filter(pk=request.pk).update(
        due_at=now - timedelta(seconds=1), next_attempt_at=now - timedelta(seconds=1)
    )


def only_birth(case: Any) -> EvidenceRequest:
    """Leave only the birth record to ask for: the residence is brought by the applicant."""
    EvidenceRequest.objects.filter(case=case, code="residence").update(
        state=State.BROUGHT, next_attempt_at=None
    )
    return requests_of(case)["birth_record"]


# --- submission -------------------------------------------------------------------------------


def test_submission_asks_for_each_piece_of_evidence_with_inputs_from_the_form(
    newborn_aid: ServiceVersion, citizen: User, settings: Any
) -> None:
    settings.SALTER_REGISTER_ANSWER_DAYS = 15
    before = timezone.now()
    case = submitted(newborn_aid, citizen)
    found = requests_of(case)
    assert set(found) == {"birth_record", "residence"}
    birth, residence = found["birth_record"], found["residence"]
    assert (birth.state, birth.service_code) == (State.PENDING, BIRTH)
    assert birth.inputs == {"jmbg": NEWBORN_FORM["child_jmbg"]}
    assert residence.inputs == {"jmbg": NEWBORN_FORM["parent_jmbg"]}
    assert residence.service_code == RESIDENCE
    assert before <= birth.next_attempt_at <= timezone.now()  # type: ignore[operator]
    assert birth.due_at - birth.created_at == timedelta(days=15)
    assert birth.attempts == 0 and birth.answer is None
    # The personal numbers of the query are encrypted at rest like the form's.
    with connection.cursor() as cursor:
        cursor.execute("SELECT inputs FROM exchange_evidencerequest WHERE id = %s", [birth.pk])
        raw = str(cursor.fetchone()[0])
    assert str(NEWBORN_FORM["child_jmbg"]) not in raw


def test_an_applicant_who_brings_the_evidence_is_not_asked_for_anything(
    newborn_aid: ServiceVersion, citizen: User
) -> None:
    case = submitted(newborn_aid, citizen, bring_evidence=True)
    found = requests_of(case)
    assert {r.state for r in found.values()} == {State.BROUGHT}
    assert all(r.next_attempt_at is None and r.due_at == r.created_at for r in found.values())
    assert worker.ask_due() == {}  # nothing is due


def test_a_service_without_evidence_asks_nothing(overtime: ServiceVersion, clerk: User) -> None:
    from salter.cases.tests.conftest import OVERTIME_FORM

    case = cases.submit(act(clerk), overtime, OVERTIME_FORM)[0]
    assert not EvidenceRequest.objects.filter(case=case).exists()


def test_an_empty_input_field_escalates_at_once(
    newborn_aid: ServiceVersion, citizen: User, system: Actor, authority: Authority
) -> None:
    definition = pilots.NEWBORN_AID.definition()
    definition["form"]["schema"]["required"].remove("child_jmbg")
    from salter.catalog import services as catalog

    draft = catalog.create_draft_version(system, newborn_aid.service, definition)
    version = catalog.publish_version(system, draft)
    form = {k: v for k, v in EX_OFFICIO_FORM.items() if k != "child_jmbg"}
    case = cases.submit(act(citizen), version, form)[0]
    birth = requests_of(case)["birth_record"]
    assert birth.state == State.ESCALATED and "child_jmbg" in birth.last_error
    assert requests_of(case)["residence"].state == State.PENDING
    from salter.cases import steps

    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.EVIDENCE)
    assert event.internal
    assert "cannot be asked: the application lacks a value" in steps.act_text(event)


def test_the_worker_is_nudged_after_the_commit(
    newborn_aid: ServiceVersion, citizen: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        submitted(newborn_aid, citizen)
    assert len([c for c in callbacks if c.__name__ == "_nudge"]) == 1  # once, not per request
    assert [t.task_path for t in DBTaskResult.objects.all()] == [
        "salter.exchange.tasks.ask_evidence"
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        submitted(newborn_aid, citizen, bring_evidence=True)
    assert not [c for c in callbacks if c.__name__ == "_nudge"]  # nothing to ask


# --- the step that requires the evidence --------------------------------------------------------


def test_the_decision_waits_for_the_evidence_and_says_which(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, holder: Authority
) -> None:
    point(BIRTH, holder, closed_port_url())
    case = submitted(newborn_aid, citizen)
    cases.take_transition(act(clerk), case, "start_review")  # does not wait
    with pytest.raises(CaseError) as refused:
        cases.take_transition(act(clerk), case, "draft_decision", inputs=DRAFT)
    message = str(refused.value)
    assert (
        "Waiting for the answer of Ministry of Public Administration about: "
        "The child's birth record (asked just now)."
    ) in message
    assert "(asked just now)" in message
    assert "The parent's residence" in message

    birth, residence = requests_of(case)["birth_record"], requests_of(case)["residence"]
    evidence.applicant_brings(act(clerk), residence.pk)
    EvidenceRequest.objects.filter(pk=birth.pk).update(state=State.ESCALATED)
    with pytest.raises(CaseError, match="did not answer about: The child's birth record"):
        cases.take_transition(act(clerk), case, "draft_decision", inputs=DRAFT)

    evidence.decide_without(act(clerk), birth.pk, "Рођење је уписано у нашу књигу.")
    moved = cases.take_transition(act(clerk), case, "draft_decision", inputs=DRAFT)
    assert moved.state == "decision_drafted"


def test_answered_and_unfound_evidence_count_as_settled(
    newborn_aid: ServiceVersion, citizen: User, clerk: User
) -> None:
    case = submitted(newborn_aid, citizen)
    EvidenceRequest.objects.filter(case=case, code="birth_record").update(state=State.ANSWERED)
    EvidenceRequest.objects.filter(case=case, code="residence").update(state=State.NOT_FOUND)
    cases.take_transition(act(clerk), case, "start_review")
    assert cases.take_transition(act(clerk), case, "draft_decision", inputs=DRAFT).state == (
        "decision_drafted"
    )


# --- registers that do not answer ---------------------------------------------------------------


def _assert_waits_then_escalates(case: Any, request: EvidenceRequest, *, error: str) -> None:
    """The request stays pending with an exponential backoff while the register fails, and is
    escalated to the clerks once its deadline has passed."""
    before = timezone.now()
    assert worker.ask_due() == {"retried": 1}
    first = EvidenceRequest.objects.get(pk=request.pk)
    assert first.state == State.PENDING and first.attempts == 1
    assert error in first.last_error
    wait = first.next_attempt_at - before  # type: ignore[operator]
    assert timedelta(seconds=29) < wait <= timedelta(seconds=61)  # 60 s, jittered to 30–60 s
    assert worker.ask_due() == {}  # not due again yet

    due_now(first)
    before = timezone.now()
    assert worker.ask_due() == {"retried": 1}
    second = EvidenceRequest.objects.get(pk=request.pk)
    assert second.attempts == 2
    wait = second.next_attempt_at - before  # type: ignore[operator]
    assert timedelta(seconds=59) < wait <= timedelta(seconds=121)  # doubled
    assert not Notification.objects.filter(case=case).exclude(recipient=case.applicant).exists()

    User.objects.filter(email="clerk@surdulica.demo").update(language="en")
    past_deadline(second)
    assert worker.ask_due() == {"escalated": 1}
    last = EvidenceRequest.objects.get(pk=request.pk)
    assert last.state == State.ESCALATED and last.attempts == 3
    assert last.escalated_at is not None and last.next_attempt_at is None
    assert error in last.last_error
    event = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.EVIDENCE).get()
    assert event.internal and event.actor is None
    assert event.payload["state"] == State.ESCALATED and error in event.payload["text"]
    notices = Notification.objects.filter(case=case).exclude(recipient=case.applicant)
    assert notices.exists()
    assert {n.recipient.email for n in notices} == {"clerk@surdulica.demo"}
    body = notices.first().body  # type: ignore[union-attr]
    assert "The child's birth record" in body
    assert "Ministry of Public Administration did not answer within" in body
    assert f"/official/cases/{case.pk}/" in body
    assert AuditEvent.objects.filter(action="evidence.escalated").count() == 1


def test_a_register_that_is_down_keeps_the_case_waiting_then_escalates(
    newborn_aid: ServiceVersion, citizen: User, official: User, holder: Authority
) -> None:
    point(BIRTH, holder, closed_port_url())
    case = submitted(newborn_aid, citizen)
    request = only_birth(case)
    _assert_waits_then_escalates(case, request, error="")
    assert requests_of(case)["birth_record"].last_error  # some words about the outage


def test_a_slow_register_is_given_up_on_after_its_timeout(
    newborn_aid: ServiceVersion, citizen: User, official: User, holder: Authority
) -> None:
    with running(Register(delay=2.0, body=b"{}")) as register:
        point(BIRTH, holder, register.url, timeout=0.3)
        case = submitted(newborn_aid, citizen)
        request = only_birth(case)
        started = timezone.now()
        _assert_waits_then_escalates(case, request, error="")
        # Three attempts, each abandoned after its timeout rather than the register's 2 s.
        assert timezone.now() - started < timedelta(seconds=5)
        assert register.count() == 3


def test_a_register_answering_garbage_is_retried_with_a_clear_error(
    newborn_aid: ServiceVersion, citizen: User, official: User, holder: Authority
) -> None:
    with running(
        Register(body=b"<html>Service Unavailable</html>", content_type="text/html")
    ) as register:
        point(BIRTH, holder, register.url)
        case = submitted(newborn_aid, citizen)
        request = only_birth(case)
        _assert_waits_then_escalates(case, request, error="")
        text = requests_of(case)["birth_record"].last_error.lower()
        assert "unreadable" in text or "not json" in text or "invalid" in text, text


def test_a_register_that_refuses_escalates_at_once(
    newborn_aid: ServiceVersion, citizen: User, official: User, holder: Authority
) -> None:
    refusal = b'{"error": "unauthorised", "message": "The token is not valid."}'
    with running(Register(status=401, body=refusal)) as register:
        point(BIRTH, holder, register.url)
        case = submitted(newborn_aid, citizen)
        request = only_birth(case)
        assert worker.ask_due() == {"escalated": 1}
    found = EvidenceRequest.objects.get(pk=request.pk)
    assert found.state == State.ESCALATED and found.attempts == 1 and found.last_error
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.EVIDENCE)
    assert event.internal and event.payload["refused"] is True
    from salter.cases import steps

    assert "refused the query: decide how to obtain the evidence" in steps.act_text(event)
    assert Notification.objects.filter(case=case, recipient__email="clerk@surdulica.demo")


def test_no_data_service_for_the_query_escalates(
    newborn_aid: ServiceVersion, citizen: User, official: User
) -> None:
    case = submitted(newborn_aid, citizen)
    only_birth(case)
    assert worker.ask_due() == {"escalated": 1}
    assert requests_of(case)["birth_record"].state == State.ESCALATED


def test_a_crash_after_the_register_answered_leaves_the_request_to_be_asked_again(
    newborn_aid: ServiceVersion,
    citizen: User,
    holder: Authority,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with running(Register(status=503, body=b'{"error": "busy"}')) as register:
        point(BIRTH, holder, register.url)
        case = submitted(newborn_aid, citizen)
        request = only_birth(case)

        def crash(*args: Any, **kwargs: Any) -> str:
            raise RuntimeError("the worker died before saving")

        monkeypatch.setattr(worker, "settle_failure", crash)
        before = timezone.now()
        assert worker.ask_due() == {"failed": 1}
        assert register.count() == 1
        held = EvidenceRequest.objects.get(pk=request.pk)
        # Nothing was saved: still pending, no attempt counted, under the lease until it ends.
        assert held.state == State.PENDING and held.attempts == 0 and held.last_error == ""
        assert held.next_attempt_at > before + timedelta(seconds=30)  # type: ignore[operator]
        assert worker.ask_due() == {}  # leased: nobody asks again meanwhile

        monkeypatch.undo()
        due_now(held)  # the lease ran out
        assert worker.ask_due() == {"retried": 1}
        assert register.count() == 2
        assert EvidenceRequest.objects.get(pk=request.pk).attempts == 1


def test_backoff_is_capped_and_never_past_the_deadline(settings: Any) -> None:
    settings.SALTER_REGISTER_RETRY_SECONDS = 60
    assert timedelta(seconds=30) <= worker.backoff(1) <= timedelta(seconds=60)
    assert timedelta(seconds=120) <= worker.backoff(3) <= timedelta(seconds=240)
    assert worker.backoff(40) <= timedelta(hours=6)


# --- the official decides -----------------------------------------------------------------------


@pytest.fixture
def stranger(system: Actor) -> User:
    """A clerk of another municipality."""
    other = authorities.create_authority(
        system, code="vranje", name="Град Врање", kind=Authority.Kind.LOCAL_GOVERNMENT
    )
    unit = authorities.create_unit(system, other, code="social", name="Друштвене делатности")
    return identity.add_official(
        system,
        email="clerk@vranje.demo",
        full_name="Вера Врањанац",
        unit=unit,
        role=Role.CLERK,
        password="x" * 20,
    ).user


def test_asking_again_gives_the_register_a_new_deadline(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, settings: Any
) -> None:
    case = submitted(newborn_aid, citizen)
    request = only_birth(case)
    EvidenceRequest.objects.filter(pk=request.pk).update(
        state=State.ESCALATED, attempts=5, last_error="down", next_attempt_at=None
    )
    settings.SALTER_REGISTER_ANSWER_DAYS = 2
    again = evidence.ask_again(act(clerk), request.pk)
    found = EvidenceRequest.objects.get(pk=request.pk)
    assert found.state == State.PENDING and found.attempts == 0 and found.last_error == ""
    assert found.next_attempt_at <= timezone.now()  # type: ignore[operator]
    assert timedelta(days=2) - timedelta(seconds=5) < found.due_at - timezone.now()
    assert again.pk == request.pk
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.EVIDENCE)
    assert event.actor == clerk and event.internal and event.actor_role == "clerk"
    assert AuditEvent.objects.filter(action="evidence.asked_again", actor_id=clerk.pk).exists()
    with pytest.raises(evidence.EvidenceError, match="out of date"):
        evidence.ask_again(act(clerk), request.pk)  # pending now: nothing to ask again


def test_the_applicant_brings_it_or_the_case_is_decided_without_it(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User
) -> None:
    case = submitted(newborn_aid, citizen)
    found = requests_of(case)
    evidence.applicant_brings(act(head), found["birth_record"].pk)
    with pytest.raises(evidence.EvidenceError, match="Write why"):
        evidence.decide_without(act(clerk), found["residence"].pk, "  ")
    evidence.decide_without(act(clerk), found["residence"].pk, "Пребивалиште је познато.")
    after = requests_of(case)
    assert after["birth_record"].state == State.BROUGHT
    assert after["residence"].state == State.CANCELLED
    events = list(CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.EVIDENCE).order_by("id"))
    assert [(e.payload["state"], e.internal, e.actor_role) for e in events] == [
        (State.BROUGHT, False, "head_of_unit"),  # the applicant needs to know
        (State.CANCELLED, True, "clerk"),
    ]
    assert events[1].payload["text"] == "Пребивалиште је познато."
    reasons = AuditEvent.objects.filter(action="evidence.cancelled").values_list(
        "payload", flat=True
    )
    assert [p["reason"] for p in reasons] == ["Пребивалиште је познато."]
    with pytest.raises(evidence.EvidenceError, match="out of date"):
        evidence.applicant_brings(act(clerk), found["residence"].pk)


def test_only_clerks_and_heads_of_the_case_authority_decide(
    newborn_aid: ServiceVersion,
    citizen: User,
    accountant: User,
    stranger: User,
) -> None:
    case = submitted(newborn_aid, citizen)
    request = requests_of(case)["birth_record"]
    for who in (accountant, stranger, citizen):
        with pytest.raises(PermissionDenied):
            evidence.applicant_brings(act(who), request.pk)
    with pytest.raises(PermissionDenied):
        evidence.ask_again(Actor.system("test"), request.pk)
    assert requests_of(case)["birth_record"].state == State.PENDING


def test_a_grant_to_read_the_case_is_no_say_over_its_evidence(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User, system: Actor
) -> None:
    from salter.cases import grants
    from salter.catalog import services as catalog

    unit = clerk.memberships.get().unit
    catalog.set_unit(system, newborn_aid.service, unit)
    other = authorities.create_unit(system, unit.authority, code="fin", name="Финансије")
    outsider = identity.add_official(
        system,
        email="finance-clerk@surdulica.demo",
        full_name="Зоран Финансијски",
        unit=other,
        role=Role.CLERK,
        password=None,
    ).user
    case = submitted(newborn_aid, citizen)
    grants.grant_access(act(head), case, outsider, reason="Провера исплате помоћи.")
    request = requests_of(case)["birth_record"]
    with pytest.raises(PermissionDenied):
        evidence.applicant_brings(act(outsider), request.pk)
    assert not any(line.may_settle for line in panel(case, outsider, official=True))
    assert any(line.may_settle for line in panel(case, clerk, official=True))
    assert requests_of(case)["birth_record"].state == State.PENDING


def test_nothing_is_decided_on_a_closed_case(
    newborn_aid: ServiceVersion, citizen: User, clerk: User
) -> None:
    case = submitted(newborn_aid, citizen)
    cases.withdraw(act(citizen), case)
    request = requests_of(case)["birth_record"]
    with pytest.raises(evidence.EvidenceError, match="closed"):
        evidence.decide_without(act(clerk), request.pk, "Повучен.")


# --- the workers ----------------------------------------------------------------------------------


def test_the_exchange_worker_asks_what_is_due_once(
    newborn_aid: ServiceVersion, citizen: User, holder: Authority
) -> None:
    point(BIRTH, holder, closed_port_url())
    point(RESIDENCE, holder, closed_port_url())
    submitted(newborn_aid, citizen)
    out = io.StringIO()
    call_command("exchange_worker", "--once", stdout=out)
    assert out.getvalue().strip() == "retried: 2"
    assert set(EvidenceRequest.objects.values_list("attempts", flat=True)) == {1}


def test_the_clock_asks_for_evidence_too(
    newborn_aid: ServiceVersion, citizen: User, holder: Authority
) -> None:
    point(BIRTH, holder, closed_port_url())
    point(RESIDENCE, holder, closed_port_url())
    submitted(newborn_aid, citizen)
    out = io.StringIO()
    call_command("clock", "--once", "--run", stdout=out)
    assert "evidence requests asked: 2" in out.getvalue()
    call_command("clock", "--once", stdout=out)
    assert DBTaskResult.objects.filter(task_path="salter.exchange.tasks.ask_evidence").exists()


# --- the definition ------------------------------------------------------------------------------


def _newborn() -> dict[str, Any]:
    return pilots.NEWBORN_AID.definition()


def _messages(d: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e.path, e.message) for e in definitions.validate(d)]


def test_the_definition_names_form_fields_as_the_query_inputs() -> None:
    d = _newborn()
    d["evidence"][0]["inputs"] = {"jmbg": "baby_jmbg"}
    assert _messages(d) == [
        (
            "/evidence/0/inputs/jmbg",
            "The query's input “jmbg” takes “baby_jmbg”, which is not a field of the form.",
        )
    ]


def test_inputs_need_a_register_query() -> None:
    d = _newborn()
    del d["evidence"][1]["register_query"]
    assert _messages(d) == [
        (
            "/evidence/1/inputs",
            "The inputs are for a register query: name it in “register_query”.",
        )
    ]


def test_the_bring_field_is_a_tick_box_offered_only_when_the_applicant_may_bring() -> None:
    d = _newborn()
    d["evidence"][0]["bring_field"] = "child_name"
    d["evidence"][1]["applicant_may_bring"] = False
    paths = dict(_messages(d))
    assert "must be a yes/no field" in paths["/evidence/0/bring_field"]
    assert "may not bring this evidence" in paths["/evidence/1/bring_field"]
    d = _newborn()
    d["evidence"][0]["bring_field"] = "nothing_here"
    assert _messages(d) == [
        ("/evidence/0/bring_field", "“nothing_here” is not a field of the form.")
    ]


def test_a_step_cannot_wait_for_evidence_nobody_asks_for() -> None:
    d = _newborn()
    for item in d["evidence"]:
        del item["register_query"], item["inputs"]
    [(path, message)] = _messages(d)
    assert path.endswith("/requires_evidence")
    assert "no evidence names a register query" in message
