"""The engine's seam (salter.cases.listeners): an app that the engine has never heard of —
here a stand-in for the archive — adds an effect to a step, holds a step, and is checked,
without a line of the cases app changing."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import checks

from salter.cases import listeners, services
from salter.cases.checks import definition_errors, pilots_are_handled, published_are_handled
from salter.cases.errors import CaseError
from salter.cases.models import Case, CaseEvent
from salter.catalog import pilots
from salter.catalog.models import ServiceVersion
from salter.identity.models import User

from .conftest import OVERTIME_FORM, act

pytestmark = pytest.mark.django_db
ARCHIVE = "archive"


@pytest.fixture
def seam(monkeypatch: pytest.MonkeyPatch) -> Iterator[listeners.Registry]:
    """The installed apps' registry, copied, so what a test registers leaves with it."""
    registry = copy.deepcopy(listeners.registry)
    monkeypatch.setattr(listeners, "registry", registry)
    yield registry


def submitted(overtime: ServiceVersion, employee: User) -> Case:
    case, _created = services.submit(act(employee), overtime, OVERTIME_FORM)
    return case


def test_a_new_app_adds_an_effect_to_a_step(
    seam: listeners.Registry, overtime: ServiceVersion, employee: User
) -> None:
    heard: list[tuple[str, str, str, bool]] = []

    @listeners.on(listeners.Moved, app=ARCHIVE, order=90)
    def start_retention(moved: listeners.Moved) -> None:
        heard.append((moved.transition_id, moved.source, moved.to, moved.closed))

    case = submitted(overtime, employee)
    services.withdraw(act(employee), case)
    assert heard == [("withdraw", "submitted", "withdrawn", True)]


def test_handlers_run_in_order_after_the_installed_ones(
    seam: listeners.Registry, overtime: ServiceVersion, employee: User
) -> None:
    order: list[str] = []
    listeners.on(listeners.Submitted, app=ARCHIVE, order=99)(lambda s: order.append("late"))
    listeners.on(listeners.Submitted, app=ARCHIVE, order=1)(lambda s: order.append("early"))
    names = [h.fn.__name__ for h in seam.handlers[listeners.Submitted]]
    assert names[0] == "<lambda>" and names[-1] == "<lambda>"
    assert names[1:-1] == ["record_subjects", "register_application", "open_orders", "receipt",
                           "ask_for_evidence"]  # fmt: skip
    submitted(overtime, employee)
    assert order == ["early", "late"]


def test_a_handler_refuses_the_step_and_nothing_of_it_stays(
    seam: listeners.Registry, overtime: ServiceVersion, employee: User
) -> None:
    @listeners.on(listeners.Moved, app=ARCHIVE, order=90)
    def refuse(moved: listeners.Moved) -> None:
        raise CaseError("The archive is closed for maintenance.")

    case = submitted(overtime, employee)
    with pytest.raises(CaseError, match="closed for maintenance"):
        services.withdraw(act(employee), case)
    case.refresh_from_db()
    assert case.state == "submitted" and case.closed_at is None
    assert not case.events.filter(kind=CaseEvent.Kind.WITHDRAWN).exists()


def test_effects_that_leave_the_database_wait_for_the_commit(
    seam: listeners.Registry,
    overtime: ServiceVersion,
    employee: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    sent: list[int] = []

    @listeners.on(listeners.Moved, app=ARCHIVE, order=90)
    def hand_over(moved: listeners.Moved) -> None:
        listeners.after_commit(sent.append, moved.case.pk)

    case = submitted(overtime, employee)
    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw(act(employee), case)
    assert sent == [case.pk]


def test_a_gate_holds_a_step_and_says_why(
    seam: listeners.Registry, overtime: ServiceVersion, employee: User, head: User
) -> None:
    definition = copy.deepcopy(overtime.definition)
    approve = next(t for t in definition["workflow"]["transitions"] if t["id"] == "approve")
    approve["archive_hold"] = True
    ServiceVersion.objects.filter(pk=overtime.pk).update(definition=definition)
    overtime.refresh_from_db()
    assert definition_errors("overtime", definition)[0].id == "salter.cases.E001"

    @listeners.gate("archive_hold", app=ARCHIVE)
    def on_hold(case: Case) -> str:
        return "The case is under a legal hold."

    assert definition_errors("overtime", definition) == []
    case = submitted(overtime, employee)
    with pytest.raises(CaseError, match="legal hold"):
        services.take_transition(act(head), case, "approve", opinion="Да.")
    case.refresh_from_db()
    assert case.state == "submitted"


def test_an_automatic_event_must_be_declared(overtime: ServiceVersion, employee: User) -> None:
    case = submitted(overtime, employee)
    with pytest.raises(ValueError, match="no app declares"):
        services.take_automatic_step(case, "archived")
    assert listeners.is_automatic("paid") and listeners.is_automatic("delivered")


def test_the_check_fails_when_no_installed_app_handles_a_key(
    seam: listeners.Registry, overtime: ServiceVersion
) -> None:
    assert pilots_are_handled(None) == []
    assert published_are_handled(None, databases=["default"]) == []
    # As if the e-mailbox and fees were not installed:
    for key in [k for k, app in seam.claimed.items() if app in ("mailbox", "payments")]:
        del seam.claimed[key]
    del seam.automatic["paid"], seam.automatic["delivered"]
    errors = pilots_are_handled(None)
    assert {e.id for e in errors} == {"salter.cases.E001"}
    newborn = next(e.msg for e in errors if pilots.NEWBORN_AID.code in e.msg)
    for key in ("fees", "notifications", "deliver", "auto:delivered"):
        assert key in newborn
    assert published_are_handled(None, databases=["default"])
    assert any(e.id == "salter.cases.E001" for e in checks.run_checks(databases=["default"]))


def test_an_app_cannot_claim_what_another_handles_or_the_engine_reads(
    seam: listeners.Registry,
) -> None:
    with pytest.raises(ValueError, match="mailbox handles it"):
        listeners.handles(ARCHIVE, "deliver")
    with pytest.raises(ValueError, match="the case engine reads it"):
        listeners.handles(ARCHIVE, "workflow")
