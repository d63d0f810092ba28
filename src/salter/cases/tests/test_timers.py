"""The clock: timed transitions and escalation of overdue tasks, run as background tasks by
the real database worker."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from salter.audit.models import AuditEvent
from salter.cases import services, timers
from salter.cases.models import Case, CaseEvent, Task
from salter.catalog.models import ServiceVersion
from salter.identity.models import User
from salter.mailbox.models import Message
from salter.mailbox.services import give_consent, mailbox_of, opened

from .conftest import NEWBORN_FORM, OVERTIME_FORM, act, confirmed, today
from .test_official_views import signed_in

pytestmark = pytest.mark.django_db

DRAFT = {"decision_outcome": "granted", "decision_reasoning": "Услови су испуњени."}


def delivered(newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User) -> Case:
    case = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)[0]
    services.take_transition(act(clerk), case, "start_review")
    services.take_transition(act(clerk), case, "draft_decision", inputs=DRAFT)
    services.take_transition(
        act(head), case, "approve_decision", opinion="Да.", confirmation=confirmed(head)
    )
    box = mailbox_of(citizen)
    give_consent(act(citizen), box)
    services.take_transition(act(clerk), case, "deliver")
    opened(act(citizen), Message.objects.get(case=case))  # the delivery takes effect
    case.refresh_from_db()
    assert case.state == "delivered"
    return case


def entered_days_ago(case: Case, days: int) -> None:
    """The case entered its state at noon, local time, ``days`` calendar days ago: counted in
    days, not 24-hour spans, so a daylight-saving change in between cannot shift the day."""
    day = timezone.localdate() - timedelta(days=days)
    entered = timezone.make_aware(datetime.combine(day, time(12)))
    Case.objects.filter(pk=case.pk).update(state_entered_at=entered)


# The real worker closes its database connections between tasks, which a test wrapped in a
# transaction would not survive on PostgreSQL: this one commits and is cleaned up after.
@pytest.mark.django_db(transaction=True)
def test_the_worker_closes_a_delivered_case_when_its_timer_is_due(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User
) -> None:
    case = delivered(newborn_aid, citizen, clerk, head)
    entered_days_ago(case, 14)
    assert timers.due_timers() == []  # 15 days after delivery, not 14

    entered_days_ago(case, 15)
    call_command("clock", "--once", stdout=io.StringIO())
    # timers, escalation, year end, digests, deemed, evidence, notices of reads, partitions
    assert DBTaskResult.objects.count() == 8
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    case.refresh_from_db()
    assert case.state == "closed" and case.closed_at is not None
    last = case.events.order_by("-id").first()
    assert last is not None and last.transition_id == "close" and last.actor is None
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}

    # Idempotent: another round finds nothing to do.
    assert timers.fire_timers() == 0


def test_a_case_moved_by_a_person_meanwhile_is_left_alone(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User
) -> None:
    case = delivered(newborn_aid, citizen, clerk, head)
    entered_days_ago(case, 20)
    due = timers.due_timers()
    assert [d.case_id for d in due] == [case.pk]
    services.take_transition(act(clerk), case, "close")  # the clerk closed it first
    assert timers.fire_timers() == 0
    assert case.events.filter(transition_id="close").count() == 1


def test_overdue_tasks_are_flagged_to_the_head_once(
    overtime: ServiceVersion, employee: User, head: User, clerk: User
) -> None:
    late = services.submit(act(employee), overtime, OVERTIME_FORM)[0]
    on_time = services.submit(act(employee), overtime, OVERTIME_FORM)[0]
    Task.objects.filter(case=late).update(due_at=today() - timedelta(days=1))
    Task.objects.filter(case=on_time).update(due_at=today())  # due today is not overdue

    assert timers.escalate_overdue() == 1
    assert timers.escalate_overdue() == 0  # once
    task = Task.objects.get(case=late)
    assert task.escalated_at is not None
    event = late.events.get(kind=CaseEvent.Kind.ESCALATED)
    assert event.internal and event.actor is None
    assert AuditEvent.objects.filter(action="case.escalated", object_id=str(late.pk)).exists()

    page = signed_in(head).get(reverse("official:case_escalated")).content.decode()
    assert late.registry_number in page and on_time.registry_number not in page
    dashboard = signed_in(head).get("/official/").content.decode()
    assert "1 overdue task is flagged to you" in dashboard
    assert (
        "Flagged to the head of unit"
        in signed_in(head).get("/official/cases/queue/").content.decode()
    )
    other = signed_in(clerk).get(reverse("official:case_escalated")).content.decode()
    assert late.registry_number not in other  # a clerk is not flagged

    # The applicant does not see the internal flag on their timeline.
    mine = signed_in(employee).get(reverse("cases:detail", args=[late.pk])).content.decode()
    assert "Overdue: flagged" not in mine


def test_a_paused_case_is_not_escalated(
    newborn_aid: ServiceVersion, citizen: User, clerk: User
) -> None:
    case = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)[0]
    services.take_transition(act(clerk), case, "start_review")
    services.take_transition(
        act(clerk), case, "request_supplement", inputs={"supplement_request": "Доставите извод."}
    )
    assert Task.objects.get(case=case).due_at is None
    assert timers.escalate_overdue(today() + timedelta(days=400)) == 0


def test_the_escalated_page_needs_an_official(citizen: User) -> None:
    url = reverse("official:case_escalated")
    anonymous = signed_in(citizen).__class__().get(url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert signed_in(citizen).get(url).status_code in (302, 403)
