"""Reads of personal data are logged where they happen: an official opening a case, its
documents, a citizen's letter or delivery, a payment order; an API client reading a case; and
never the person's own reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from salter.authorities.models import Authority, OrgUnit
from salter.cases.tests.conftest import NEWBORN_FORM
from salter.core.context import Actor
from salter.documents import services as documents
from salter.documents.models import Document
from salter.documents.uploads import check
from salter.exchange import tracker
from salter.exchange.models import AccessRecord, CaseSubject
from salter.identity.models import Person, User
from salter.mailbox.services import mailbox_of, send_letter
from salter.mailbox.tests.helpers import a_pdf

from .tracker_helpers import World, citizen_client, records, signed_in, token, world

pytestmark = pytest.mark.django_db

Action = AccessRecord.Action


@pytest.fixture
def w(system: Actor, authority: Authority, unit: OrgUnit, citizen: User) -> World:
    return world(system, authority, unit, citizen)


def _subjects(w: World) -> set[int]:
    return set(CaseSubject.objects.filter(case=w.case).values_list("person_id", flat=True))


def test_the_official_case_page_logs_a_read_of_each_person_the_case_names(w: World) -> None:
    assert len(_subjects(w)) == 3  # the applicant, the parent and the child named by JMBG
    before = timezone.now()
    response = signed_in(w.clerk).get(reverse("official:case", args=[w.case.pk]))
    assert response.status_code == 200

    written = list(AccessRecord.objects.order_by("subject_id"))
    assert {r.subject_id for r in written} == _subjects(w)
    for r in written:
        assert r.action == Action.CASE_READ
        assert r.reader_id == w.clerk.pk and r.reader_label == "Драган Референтовић"
        assert r.authority_id == w.authority.pk and r.case_id == w.case.pk
        assert r.purpose == "case_processing"
        assert r.legal_basis == w.case.service_version.service.legal_basis
        assert "child_jmbg" in r.items and "parent_name" in r.items
        assert r.visible_at == r.at >= before and r.hidden_until is None
        assert r.request_id  # the request that read, as in the audit log


def test_the_applicant_reading_their_own_case_is_not_logged(w: World) -> None:
    client = citizen_client(w.citizen)
    assert client.get(reverse("cases:detail", args=[w.case.pk])).status_code == 200
    assert client.get(f"/api/v1/cases/{w.case.pk}").status_code == 200
    assert not AccessRecord.objects.exists()


def test_refused_readers_leave_no_record(w: World) -> None:
    for user in (w.stranger, w.other):
        client = signed_in(user) if user.is_official else citizen_client(user)
        assert client.get(f"/api/v1/cases/{w.case.pk}").status_code == 404
    assert signed_in(w.stranger).get(reverse("official:case", args=[w.case.pk])).status_code == 404
    assert not AccessRecord.objects.exists()


def test_the_api_logs_an_official_s_read_and_an_api_client_s_by_its_name(w: World) -> None:
    session = signed_in(w.clerk)
    assert session.get(f"/api/v1/cases/{w.case.pk}").status_code == 200
    assert {r.action for r in records(w.person)} == {Action.CASE_READ}

    client = Client(headers=token(w.clerk, "Канцеларијски софтвер", "read"))
    assert client.get(f"/api/v1/cases/{w.case.pk}").status_code == 200
    latest = records(w.person)[-1]
    assert latest.action == Action.API_READ
    assert latest.reader_label == "Канцеларијски софтвер" and latest.reader_id == w.clerk.pk
    assert latest.authority_id == w.authority.pk
    assert AccessRecord.objects.filter(action=Action.API_READ).count() == 3  # each subject


def test_a_read_under_an_investigation_grant_is_hidden_until_its_date(
    w: World, system: Actor, unit: OrgUnit
) -> None:
    from salter.cases import grants

    from .tracker_helpers import official

    head = official(system, unit, "sef@surdulica.demo", "Бранко Шефовић", "head_of_unit")
    until = timezone.now() + timedelta(days=30)
    grants.grant_access(
        Actor(user=head, via="test"),
        w.case,
        w.stranger,
        reason="Инспекцијски надзор.",
        hidden_until=until,
    )
    response = signed_in(w.stranger).get(reverse("official:case", args=[w.case.pk]))
    assert response.status_code == 200
    record = records(w.person)[-1]
    assert record.reader_id == w.stranger.pk
    assert record.hidden_until == until and record.visible_at == until


def test_logging_costs_the_case_page_one_statement(w: World) -> None:
    client = signed_in(w.clerk)
    url = reverse("official:case", args=[w.case.pk])
    client.get(url)  # warm: sessions, caches
    with tracker.switched_off(), CaptureQueriesContext(connection) as off:
        client.get(url)
    with CaptureQueriesContext(connection) as on:
        client.get(url)
    extra = [q["sql"] for q in on.captured_queries[len(off.captured_queries) :]]
    assert len(on.captured_queries) == len(off.captured_queries) + 1, extra
    assert any("INSERT INTO exchange_accessrecord" in q["sql"] for q in on.captured_queries)


def _with_file(w: World) -> Document:
    document = Document.objects.get(case=w.case, sub_number=0)
    documents.add_version(Actor.system("command"), document, check("prilog.pdf", a_pdf()))
    return document


def test_an_official_opening_a_document_of_the_case_is_logged(w: World) -> None:
    document = _with_file(w)
    url = reverse("official:case_document", args=[w.case.pk, document.pk, 1])
    response = signed_in(w.clerk).get(url)
    assert response.status_code == 200
    written = records(w.person, action=Action.DOCUMENT_READ)
    assert len(written) == 1
    assert written[0].items == [f"document:{document.registry_number}"]
    assert written[0].case_id == w.case.pk
    assert AccessRecord.objects.filter(action=Action.DOCUMENT_READ).count() == 3

    keeper = signed_in(w.keeper)
    assert keeper.get(reverse("official:registry_entry", args=[document.pk])).status_code == 200
    assert (
        keeper.get(reverse("official:registry_download", args=[document.pk, 1])).status_code == 200
    )
    assert len(records(w.person, action=Action.DOCUMENT_READ, reader=w.keeper)) == 2


def test_paper_mail_registered_by_hand_names_nobody_and_logs_nothing(w: World) -> None:
    document = documents.register(
        Actor.system("command"),
        authority=w.authority,
        direction=Document.Direction.INCOMING,
        subject="Допис",
        sender="Неко на папиру",
    )
    response = signed_in(w.keeper).get(reverse("official:registry_entry", args=[document.pk]))
    assert response.status_code == 200
    assert not AccessRecord.objects.exists()


def test_an_official_reading_a_citizen_s_letter_is_logged(w: World) -> None:
    message = send_letter(
        Actor(user=w.other, via="test"),
        mailbox_of(w.other),
        w.authority,
        subject="Питање",
        body="Текст писма.",
    )[0]
    page = signed_in(w.keeper).get(reverse("official:mailbox_letter", args=[message.pk]))
    assert page.status_code == 200
    # B registered without a personal number: the read made her a person to attribute it to
    person = User.objects.get(pk=w.other.pk).person_id
    assert person is not None
    (record,) = records(person)
    assert record.action == Action.MESSAGE_READ and record.purpose == "applicant_letter"
    assert record.reader_id == w.keeper.pk and record.case_id is None
    # the letter's own registry entry, opened by the registry clerk, is the same person's data
    assert message.document is not None
    signed_in(w.keeper).get(reverse("official:registry_entry", args=[message.document.pk]))
    assert records(person)[-1].action == Action.DOCUMENT_READ


def test_an_official_reading_the_case_queue_logs_nothing(w: World) -> None:
    response = signed_in(w.clerk).get(reverse("official:case_queue"))
    assert w.case.registry_number in response.content.decode()
    assert not AccessRecord.objects.exists()


def test_reads_are_not_logged_when_the_log_is_off(w: World, settings: Any) -> None:
    settings.SALTER_ACCESS_LOG = False
    signed_in(w.clerk).get(reverse("official:case", args=[w.case.pk]))
    assert not AccessRecord.objects.exists()
    assert NEWBORN_FORM["child_jmbg"]  # the form that named the child


def test_an_official_named_in_the_case_is_not_logged_reading_their_own_data(w: World) -> None:
    parent = Person.objects.by_jmbg(str(NEWBORN_FORM["parent_jmbg"])).get()
    User.objects.filter(pk=w.clerk.pk).update(person=parent)
    signed_in(w.clerk).get(reverse("official:case", args=[w.case.pk]))
    read = set(AccessRecord.objects.values_list("subject_id", flat=True))
    assert read == _subjects(w) - {parent.pk} and len(read) == 2
