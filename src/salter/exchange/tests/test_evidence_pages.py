"""The evidence panel of both case pages and the official's decisions posted from it: who may
post them, what they do, what each side reads, and what the panel costs."""

# ruff: noqa: F811 — the case engine's fixtures are imported by name and used as arguments

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from salter.authorities import services as authorities
from salter.authorities.models import Authority
from salter.cases import services as cases
from salter.cases.models import Case, CaseEvent
from salter.cases.tests.conftest import (  # noqa: F401 — fixtures, registered by importing
    accountant,
    act,
    clerk,
    head,
    make_official,
    newborn_aid,
)
from salter.cases.tests.test_official_views import signed_in
from salter.catalog.models import ServiceVersion
from salter.core.context import Actor
from salter.exchange.evidence import worker
from salter.exchange.evidence.panel import panel
from salter.exchange.models import EvidenceRequest
from salter.exchange.tests.evidence_helpers import BIRTH, closed_port_url, point, submitted
from salter.identity import services as identity
from salter.identity.models import Role, User

State = EvidenceRequest.State
DRAFT = {"decision_outcome": "granted", "decision_reasoning": "Услови су испуњени."}


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def case(newborn_aid: ServiceVersion, citizen: User, authority: Authority) -> Case:
    """A case whose birth record the civil registry did not give (escalated) and whose
    residence is still being asked for."""
    point(BIRTH, authority, closed_port_url())
    found = submitted(newborn_aid, citizen)
    EvidenceRequest.objects.filter(case=found, code="birth_record").update(
        state=State.ESCALATED,
        attempts=4,
        last_error="The register did not answer: connection refused.",
        next_attempt_at=None,
    )
    return found


def birth(case: Case) -> EvidenceRequest:
    return EvidenceRequest.objects.get(case=case, code="birth_record")


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def url(name: str, request: EvidenceRequest) -> str:
    return reverse(f"evidence:{name}", args=[request.pk])


def test_the_official_sees_what_is_missing_and_why(case: Case, clerk: User) -> None:
    text = page(signed_in(clerk), f"/official/cases/{case.pk}/")
    assert "Evidence from registers" in text
    assert "The register did not answer: the official decides" in text
    assert "The register did not answer: connection refused." in text  # the last problem
    assert "Asked, waiting for the register" in text  # the residence
    assert "<dt>Attempts without an answer</dt><dd>4</dd>" in text
    assert "Waiting for evidence:" not in text  # no step of this state waits for it
    assert text.count("Ask again") == 1  # the escalated one; the pending one is being asked
    assert text.count("The applicant brings it") == 2
    assert text.count("Decide without it") == 2


def test_the_step_that_waits_shows_why_and_is_refused_with_the_reason(
    case: Case, clerk: User
) -> None:
    cases.take_transition(act(clerk), case, "start_review")
    client = signed_in(clerk)
    text = page(client, f"/official/cases/{case.pk}/")
    assert "Waiting for evidence: “Draft the decision” can be taken once every piece" in text
    take = reverse("official:case_take", args=[case.pk, "draft_decision"])
    response = client.post(take, DRAFT, follow=True)
    shown = html.unescape(response.content.decode())
    assert "did not answer about: The child's birth record" in shown
    assert "Waiting for the answer of residence_register.residence_by_jmbg about" in shown
    case.refresh_from_db()
    assert case.state == "in_review"


def test_the_applicant_reads_plain_words_and_no_errors(case: Case, citizen: User) -> None:
    text = page(signed_in(citizen), f"/cases/{case.pk}/")
    assert "Evidence from registers" in text
    assert (
        "has not answered yet; the official handling your case will decide how to obtain this"
        in text
    )
    assert "Municipality of Surdulica is obtaining this from the register." in text
    assert "residence_register" not in text  # a query the platform does not know: no code
    assert "connection refused" not in text and "Ask again" not in text
    assert "evidence:" not in text and "/official/evidence/" not in text


def test_an_applicant_who_brings_the_evidence_reads_so(
    newborn_aid: ServiceVersion, citizen: User
) -> None:
    mine = submitted(newborn_aid, citizen, bring_evidence=True)
    text = page(signed_in(citizen), f"/cases/{mine.pk}/")
    assert text.count("You chose to bring this yourself.") == 2


def test_asking_again_from_the_page(case: Case, clerk: User) -> None:
    client = signed_in(clerk)
    response = client.post(url("ask_again", birth(case)))
    assert response.status_code == 302
    assert response["Location"] == f"/official/cases/{case.pk}/#evidence-title"
    assert birth(case).state == State.PENDING
    text = page(client, f"/official/cases/{case.pk}/")
    assert "The register will be asked again." in text
    assert "Ask again" not in text
    # Asking again twice (a page shown before the first) is refused with a message.
    again = client.post(url("ask_again", birth(case)), follow=True)
    assert "the page you saw was out of date" in html.unescape(again.content.decode())


def test_the_applicant_brings_it_from_the_page(case: Case, head: User, citizen: User) -> None:
    response = signed_in(head).post(url("brought", birth(case)))
    assert response.status_code == 302
    assert birth(case).state == State.BROUGHT
    own = page(signed_in(citizen), f"/cases/{case.pk}/")
    assert "You are asked to bring this yourself." in own
    assert "The child's birth record — the applicant brings it" in own  # on the timeline


def test_deciding_without_it_needs_a_reason(case: Case, clerk: User, citizen: User) -> None:
    client = signed_in(clerk)
    refused = client.post(url("without", birth(case)), {"reason": " "}, follow=True)
    assert "Write why the case can be decided without this evidence." in html.unescape(
        refused.content.decode()
    )
    assert birth(case).state == State.ESCALATED
    client.post(url("without", birth(case)), {"reason": "Извод је у нашој архиви."})
    assert birth(case).state == State.CANCELLED
    official = page(client, f"/official/cases/{case.pk}/")
    assert "Извод је у нашој архиви." in official  # the reason on the internal timeline
    own = page(signed_in(citizen), f"/cases/{case.pk}/")
    assert "No longer needed for your case." in own
    assert "Извод је у нашој архиви." not in own


@pytest.fixture
def stranger(system: Actor) -> User:
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


@pytest.mark.parametrize("action", ["ask_again", "brought", "without"])
def test_who_may_post_a_decision(
    action: str, case: Case, citizen: User, stranger: User, accountant: User
) -> None:
    target = url(action, birth(case))
    data = {"reason": "Зато."}
    anonymous = Client().post(target, data)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert signed_in(citizen).post(target, data).status_code == 403  # officials' pages only
    assert signed_in(stranger).post(target, data).status_code == 404  # never says it exists
    missing = reverse(f"evidence:{action}", args=[birth(case).pk + 1000])
    assert signed_in(stranger).post(missing, data).status_code == 404
    # An official of the authority without the role is told so, and nothing changes.
    client = signed_in(accountant)
    refused = client.post(target, data, follow=True)
    assert "Only a clerk or a head of unit" in html.unescape(refused.content.decode())
    assert birth(case).state == State.ESCALATED
    assert client.get(target).status_code == 405  # POST only
    assert not CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.EVIDENCE).exists()


def test_the_panel_takes_a_fixed_number_of_queries(
    case: Case, clerk: User, citizen: User, django_assert_max_num_queries: Any
) -> None:
    case = Case.objects.select_related("service_version", "authority").get(pk=case.pk)
    with django_assert_max_num_queries(3):  # the requests, the registers, the clerk's roles
        lines = panel(case, clerk, official=True)
    assert len(lines) == 2
    with django_assert_max_num_queries(2):
        assert len(panel(case, None, official=False)) == 2

    request = RequestFactory().get("/")
    request.user = clerk
    template = Template('{% include "exchange/evidence_panel.html" with official=True %}')

    def rendered() -> int:
        with CaptureQueriesContext(connection) as captured:
            template.render(Context({"case": case, "request": request, "csrf_token": "x"}))
        return len(captured)

    few = rendered()
    assert few <= 3
    for _n in range(5):  # more answers, more attempts, more timeline: the same cost
        worker.ask_due()
        EvidenceRequest.objects.filter(case=case).update(next_attempt_at=None)
    assert rendered() == few


def test_a_service_without_registers_costs_the_page_no_query(
    system: Actor, authority: Authority, clerk: User, django_assert_num_queries: Any
) -> None:
    from salter.cases.tests.conftest import OVERTIME_FORM
    from salter.catalog import pilots
    from salter.catalog import services as catalog

    version = catalog.offer_pilot(system, authority, pilots.OVERTIME)
    mine = cases.submit(act(clerk), version, OVERTIME_FORM)[0]
    with django_assert_num_queries(0):
        assert panel(mine, clerk, official=True) == []
