"""Ex officio evidence from the demo registers themselves: the platform asks over HTTP (an
in-process transport to the registers' own service, so they answer inside the test's
transaction), stores the answer as evidence of the case, records the access and lets the
decision go ahead."""

# ruff: noqa: F811 — the case engine's fixtures are imported by name and used as arguments

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
from django.utils import translation

from salter.authorities.models import Authority
from salter.cases import services as cases
from salter.cases.errors import CaseError
from salter.cases.models import CaseEvent
from salter.cases.tests.conftest import (  # noqa: F401 — fixtures, registered by importing
    act,
    clerk,
    make_official,
    newborn_aid,
)
from salter.cases.tests.test_official_views import signed_in
from salter.catalog.models import ServiceVersion
from salter.core.context import Actor
from salter.exchange import services as exchange
from salter.exchange.evidence import services as evidence
from salter.exchange.evidence import worker
from salter.exchange.models import AccessRecord, EvidenceRequest, ExchangeMessage
from salter.exchange.tests.evidence_helpers import submitted
from salter.identity.models import Person, User
from salter.registers.catalogue import QUERIES
from salter.registers.tests.helpers import (
    IVANA,
    LUKA,
    NOBODY,
    add_family,
    in_process,
    platform_client,
)

State = EvidenceRequest.State
DRAFT = {"decision_outcome": "granted", "decision_reasoning": "Услови су испуњени."}


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def registers(system: Actor, authority: Authority) -> Iterator[None]:
    """The demo registers, filled with Luka's family and offered to the platform as data
    services, as ``make run`` does (held here by the municipality, for brevity)."""
    _client, token = platform_client()
    for query in QUERIES.values():
        exchange.register_data_service(
            system,
            code=query.code,
            authority=authority,
            name=query.title,
            name_en=query.title_en,
            url="http://127.0.0.1/registers" + query.path,
            openapi_url="http://127.0.0.1/registers/openapi.json",
            legal_basis=query.legal_basis,
            inputs=[f.as_dict() for f in query.inputs],
            outputs=[f.as_dict() for f in query.outputs],
            token=token,
        )
    add_family()
    with in_process():
        yield


def test_the_registers_answer_and_the_case_goes_on(
    registers: None, newborn_aid: ServiceVersion, citizen: User, clerk: User
) -> None:
    case = submitted(newborn_aid, citizen, child_jmbg=LUKA, parent_jmbg=IVANA)
    cases.take_transition(act(clerk), case, "start_review")
    with pytest.raises(CaseError, match="Waiting for the answer"):
        cases.take_transition(act(clerk), case, "draft_decision", inputs=DRAFT)

    assert worker.ask_due() == {"answered": 2}
    found = {r.code: r for r in EvidenceRequest.objects.filter(case=case)}
    birth, residence = found["birth_record"], found["residence"]
    assert birth.state == State.ANSWERED and birth.attempts == 0
    assert birth.answer is not None and birth.answer["entry_number"] == "154/2026"
    assert birth.answer["mother_jmbg"] == IVANA
    assert residence.answer is not None and residence.answer["place"] == "Сурдулица"
    message = birth.message
    assert message is not None
    assert message.case_id == case.pk and message.official is None
    assert message.purpose == "ex_officio_evidence" and message.hash_matches is True
    # The query is a read of the child's data, done by the platform for the municipality.
    child = Person.objects.by_jmbg(LUKA).get()
    read = AccessRecord.objects.get(subject=child, action=AccessRecord.Action.REGISTER_QUERY)
    assert read.case_id == case.pk and read.authority_id == case.authority_id
    assert read.request_id == str(message.request_id)
    # The applicant's timeline says the registers answered.
    events = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.EVIDENCE, internal=False)
    assert {e.payload["state"] for e in events} == {State.ANSWERED}

    assert worker.ask_due() == {}  # nothing asked twice
    moved = cases.take_transition(act(clerk), case, "draft_decision", inputs=DRAFT)
    assert moved.state == "decision_drafted"


def test_the_answer_shows_on_both_case_pages(
    registers: None, newborn_aid: ServiceVersion, citizen: User, clerk: User
) -> None:
    case = submitted(newborn_aid, citizen, child_jmbg=LUKA, parent_jmbg=IVANA)
    worker.ask_due()

    page = html.unescape(signed_in(clerk).get(f"/official/cases/{case.pk}/").content.decode())
    assert "Evidence from registers" in page
    assert "The child's birth record" in page and "Obtained from the register" in page
    assert "Birth record by personal number" in page  # the query asked
    assert "<dt>Entry number in the register</dt><dd><!--translit:off-->154/2026" in page
    assert "<dt>Date of birth</dt><dd><!--translit:off-->14.09.2026." in page
    assert page.index("<dt>Given name</dt>") < page.index("<dt>Family name</dt>")  # as listed
    assert "<dt>Resident since</dt><dd><!--translit:off-->10.06.2019." in page
    assert "Ask again" not in page  # nothing to decide
    # The timeline names the evidence obtained.
    assert "The child's birth record — obtained from Municipality of Surdulica" in page

    own = html.unescape(signed_in(citizen).get(f"/cases/{case.pk}/").content.decode())
    assert "The child's birth record" in own
    assert "Obtained from Municipality of Surdulica." in own
    # The applicant sees that the evidence was obtained, not the register's data: a birth
    # record names other people too.
    assert "154/2026" not in own and IVANA not in own
    assert "obtained from Municipality of Surdulica" in own  # the timeline


def test_a_register_without_a_record_leaves_the_decision_to_the_official(
    registers: None, newborn_aid: ServiceVersion, citizen: User, clerk: User
) -> None:
    case = submitted(newborn_aid, citizen, child_jmbg=NOBODY, parent_jmbg=IVANA)
    assert worker.ask_due() == {"answered": 1, "not_found": 1}
    birth = EvidenceRequest.objects.get(case=case, code="birth_record")
    assert birth.state == State.NOT_FOUND and birth.answer is None
    assert birth.message is not None and birth.message.outcome == "not_found"
    # Settled as far as the step is concerned: the official reads that nothing was found.
    cases.take_transition(act(clerk), case, "start_review")
    evidence.ask_again(act(clerk), birth.pk)
    assert worker.ask_due() == {"not_found": 1}  # asked again: still nobody
    # (The pages come last: a request of Django's test client reconnects the signal that
    # closes the database connection, which the in-process registers keep open.)
    page = signed_in(clerk).get(f"/official/cases/{case.pk}/").content.decode()
    assert "The register holds no record" in page and "Ask again" in page
    own = signed_in(citizen).get(f"/cases/{case.pk}/").content.decode()
    assert "holds no record of this" in own


def test_the_platform_asks_for_the_case_authority(
    registers: None, newborn_aid: ServiceVersion, citizen: User
) -> None:
    """The platform asks for the case's authority, whoever runs the worker."""
    case = submitted(newborn_aid, citizen, child_jmbg=LUKA, parent_jmbg=IVANA)
    worker.ask_due()
    authorities = set(
        ExchangeMessage.objects.filter(case=case).values_list("authority_id", flat=True)
    )
    assert authorities == {case.authority_id}
