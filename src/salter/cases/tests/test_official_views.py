"""The officials' pages of cases: the queue, a case, and the steps taken from it."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from conftest import add_totp, totp_code
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from salter.authorities import services as authority_services
from salter.authorities.models import Authority
from salter.cases import services
from salter.cases.models import Case, CaseEvent, Task
from salter.catalog.models import ServiceVersion
from salter.core.context import Actor
from salter.identity.models import Role, User

from .conftest import OVERTIME_FORM, MakeOfficial, act, offer, today

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    """A client of ``user`` at level of assurance 2 (as after a TOTP code), in English."""
    client = Client(headers={"accept-language": "en"})
    add_totp(user)
    client.force_login(user)
    session = client.session
    session["salter_loa"] = 2
    session.save()
    return client


def submitted(overtime: ServiceVersion, employee: User) -> Case:
    return services.submit(act(employee), overtime, OVERTIME_FORM)[0]


def case_url(case: Case) -> str:
    return reverse("official:case", args=[case.pk])


def take_url(case: Case, step: str) -> str:
    return reverse("official:case_take", args=[case.pk, step])


QUEUE = "/official/cases/queue/"
NEXT = re.compile(r'<a href="(\?[^"]*)">Next page</a>')
ROW = re.compile(r'<a href="/official/cases/(\d+)/">')


def test_anonymous_logs_in_and_citizens_are_refused(
    overtime: ServiceVersion, employee: User, citizen: User
) -> None:
    case = submitted(overtime, employee)
    for path in (QUEUE, case_url(case)):
        response = Client().get(path)
        assert response.status_code == 302 and "/login/" in response["Location"]
        assert signed_in(citizen).get(path).status_code == 403
    assert signed_in(citizen).post(take_url(case, "approve")).status_code == 403


def test_an_official_of_another_authority_gets_not_found(
    overtime: ServiceVersion, employee: User, system: Actor
) -> None:
    case = submitted(overtime, employee)
    other = authority_services.create_authority(
        system, code="vranje", name="Град Врање", kind=Authority.Kind.LOCAL_GOVERNMENT
    )
    from salter.identity import services as identity

    stranger = identity.add_official(
        system,
        email="sef@vranje.demo",
        full_name="Други Шеф",
        unit=authority_services.create_unit(system, other, code="it", name="ИТ"),
        role=Role.HEAD_OF_UNIT,
        password="x" * 20,
    ).user
    client = signed_in(stranger)
    assert client.get(case_url(case)).status_code == 404
    assert client.post(take_url(case, "approve"), {"opinion": "да"}).status_code == 404
    assert client.post(reverse("official:case_claim", args=[case.pk])).status_code == 404
    assert (
        client.post(reverse("official:case_comment", args=[case.pk]), {"text": "x"}).status_code
        == 404
    )
    assert case.registry_number not in client.get(QUEUE).content.decode()


def test_the_head_sees_the_case_and_approves_it(
    overtime: ServiceVersion, employee: User, head: User
) -> None:
    case = submitted(overtime, employee)
    services.comment(act(head), case, "Само за нас.")
    client = signed_in(head)

    queue = client.get(QUEUE).content.decode()
    assert case.registry_number in queue and case_url(case) in queue

    page = client.get(case_url(case)).content.decode()
    assert "Само за нас." in page  # internal comments are shown to officials
    assert "Approve the overtime" in page and "Reject the application" in page
    assert 'name="expected_version" value="1"' in page
    assert "Withdraw the application" not in page  # the applicant's step

    missing = client.post(take_url(case, "approve"), {"expected_version": "1"})
    assert missing.status_code == 400
    assert "Write your opinion" in missing.content.decode()

    response = client.post(
        take_url(case, "approve"), {"expected_version": "1", "opinion": "Одобравам."}, follow=True
    )
    assert response.redirect_chain[-1][0] == case_url(case)
    body = response.content.decode()
    assert "Done: Approve the overtime." in body and "Одобравам." in body
    case.refresh_from_db()
    assert case.state == "approved"


def test_the_second_official_is_told_who_did_it_first(
    overtime: ServiceVersion, employee: User, head: User, make_official: MakeOfficial
) -> None:
    case = submitted(overtime, employee)
    deputy = make_official("zamenik@surdulica.demo", "Зоран Заменић", Role.HEAD_OF_UNIT)
    first, second = signed_in(head), signed_in(deputy)
    assert 'value="1"' in second.get(case_url(case)).content.decode()  # both saw version 1
    first.post(take_url(case, "approve"), {"expected_version": "1", "opinion": "Да."})

    response = second.post(
        take_url(case, "reject"), {"expected_version": "1", "opinion": "Не."}, follow=True
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Already done by Бранко Шефовић at" in body
    assert 'class="message error"' in body
    case.refresh_from_db()
    assert case.state == "approved" and case.version == 2


def test_without_the_role_the_step_is_not_offered_and_refused(
    overtime: ServiceVersion, employee: User, clerk: User
) -> None:
    case = submitted(overtime, employee)
    client = signed_in(clerk)  # a clerk of the authority, not its head
    page = client.get(case_url(case)).content.decode()
    assert "Approve the overtime" not in page
    response = client.post(
        take_url(case, "approve"), {"expected_version": "1", "opinion": "Да."}, follow=True
    )
    assert "Only Head of unit can take this step." in response.content.decode()
    case.refresh_from_db()
    assert case.state == "submitted"


def test_input_fields_are_rendered_and_validated(
    overtime: ServiceVersion, employee: User, head: User, accountant: User
) -> None:
    case = submitted(overtime, employee)
    services.take_transition(act(head), case, "approve", opinion="Да.")
    services.take_transition(
        act(employee), case, "report", inputs={"actual_hours": 3.5, "work_done": "Извештај готов."}
    )
    services.take_transition(act(head), case, "confirm")
    client = signed_in(accountant)
    page = client.get(case_url(case)).content.decode()
    assert 'name="hourly_base_pay"' in page and 'id="issue_pay_slip-id_hourly_base_pay"' in page

    wrong = client.post(
        take_url(case, "issue_pay_slip"), {"expected_version": "4", "hourly_base_pay": "abc"}
    )
    assert wrong.status_code == 400 and 'aria-invalid="true"' in wrong.content.decode()

    # The step signs the pay slip: without a fresh second factor it is refused, keeping what
    # was typed.
    unconfirmed = client.post(
        take_url(case, "issue_pay_slip"), {"expected_version": "4", "hourly_base_pay": "812,40"}
    )
    assert unconfirmed.status_code == 400
    assert "To sign, confirm it is you" in unconfirmed.content.decode()
    assert 'value="812,40"' in unconfirmed.content.decode()
    case.refresh_from_db()
    assert case.state == "confirmed"
    code = totp_code(TOTPDevice.objects.get(user=accountant))
    client.post(
        take_url(case, "issue_pay_slip"),
        {"expected_version": "4", "hourly_base_pay": "812,40", "second_factor_code": code},
    )
    case.refresh_from_db()
    assert case.state == "closed" and Decimal(case.inputs["overtime_pay"]) == Decimal("3582.684")
    assert case.inputs["overtime_pay"] == "3582.684"  # as written: no trailing zeros
    # Both sides read the entered values under their labels, the pay included.
    official = client.get(case_url(case)).content.decode()
    assert "Hourly base pay (RSD)" in official and "Overtime pay (RSD)" in official
    mine = signed_in(employee).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Overtime pay (RSD)" in mine and "3582.684" in mine


def test_claim_release_and_comment(overtime: ServiceVersion, employee: User, head: User) -> None:
    case = submitted(overtime, employee)
    client = signed_in(head)
    client.post(reverse("official:case_claim", args=[case.pk]))
    assert Task.objects.get(case=case).assignee == head
    assert case.registry_number not in client.get(QUEUE + "?assigned=unassigned").content.decode()
    assert case.registry_number in client.get(QUEUE + "?assigned=mine").content.decode()
    client.post(reverse("official:case_release", args=[case.pk]))
    assert Task.objects.get(case=case).assignee is None

    empty = client.post(reverse("official:case_comment", args=[case.pk]), {"text": " "})
    assert empty.status_code == 400 and "Write the comment." in empty.content.decode()
    client.post(reverse("official:case_comment", args=[case.pk]), {"text": "Проверити."})
    event = CaseEvent.objects.filter(case=case, kind="comment").get()
    assert event.internal and event.payload["text"] == "Проверити."


def test_the_queue_marks_deadlines_in_words_and_filters(
    overtime: ServiceVersion, employee: User, head: User
) -> None:
    late, near = submitted(overtime, employee), submitted(overtime, employee)
    Task.objects.filter(case=late).update(due_at=today() - timedelta(days=1))
    Task.objects.filter(case=near).update(due_at=today())
    client = signed_in(head)
    body = client.get(QUEUE).content.decode()
    assert "Overdue" in body and "Deadline near" in body
    only = client.get(QUEUE + "?overdue=1").content.decode()
    assert late.registry_number in only and near.registry_number not in only
    assert near.registry_number not in client.get(QUEUE + "?state=approved").content.decode()

    dashboard = client.get("/official/").content.decode()
    assert "2 open tasks" in dashboard and "1 overdue" in dashboard and QUEUE in dashboard


def test_queue_and_case_pages_take_a_constant_number_of_queries(
    overtime: ServiceVersion,
    employee: User,
    head: User,
    authority: Authority,
    system: Actor,
    django_assert_max_num_queries: Any,
) -> None:
    from salter.catalog import pilots

    client = signed_in(head)
    first = submitted(overtime, employee)
    client.get(QUEUE)  # the first request stamps the session

    def queries_of(path: str) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    few_queue, few_case = queries_of(QUEUE), queries_of(case_url(first))
    for _ in range(60):
        case = submitted(overtime, employee)
        services.comment(act(head), case, "Види.")
    offer(system, authority, pilots.NEWBORN_AID)  # a second definition in the filters
    for _ in range(5):
        services.comment(act(head), first, "Још.")
    page1 = client.get(QUEUE).content.decode()
    assert "First page" not in page1 and page1.count("<tr>") == 50 + 1  # the header row too
    next_url = QUEUE + html.unescape(NEXT.search(page1).group(1))  # type: ignore[union-attr]
    assert "after=" in next_url and "page=2" in next_url
    assert queries_of(QUEUE) == few_queue
    assert queries_of(next_url) == few_queue  # keyset paging: no earlier rows read again
    assert queries_of(case_url(first)) == few_case
    with django_assert_max_num_queries(15):
        client.get(QUEUE)
    page2 = client.get(next_url).content.decode()
    assert "First page" in page2 and "Next page" not in page2 and "Page 2" in page2
    assert page2.count("<tr>") == 61 - 50 + 1  # the header row and 11 tasks
    shown = set(ROW.findall(page1)) | set(ROW.findall(page2))
    assert len(shown) == 61  # every task once
    # A cursor that is not one (typed by hand, cut short) is a 400 that says so and leads to
    # the first page (salter.core.params).
    refused = client.get(QUEUE + "?after=zz!&page=9")
    assert refused.status_code == 400 and "Start again from the first page" in refused.text
    assert f'href="{QUEUE}"' in refused.text
