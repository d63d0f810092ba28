"""Everything held about me: the JSON and the PDF hold the citizen's account, person, cases
with their data, mailbox and access log — and nothing of another citizen's; each download is
audited; only the logged-in user's own data is ever given."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from salter.audit.models import AuditEvent
from salter.authorities.models import Authority, OrgUnit
from salter.cases import services as cases
from salter.cases.tests.conftest import NEWBORN_FORM
from salter.core.context import Actor
from salter.exchange import export
from salter.exchange.models import AccessRecord
from salter.identity.models import Mandate, Person, User
from salter.mailbox.services import give_consent, mailbox_of, send_letter

from .tracker_helpers import World, citizen_client, signed_in, token, world

pytestmark = pytest.mark.django_db

PARENT_JMBG = str(NEWBORN_FORM["parent_jmbg"])
OTHER_CHILD = "Тајно Име Другог Детета"
OTHER_FORM = {
    **NEWBORN_FORM,
    "parent_name": "Друга Грађанка",
    "parent_jmbg": "0202985715000",
    "child_name": OTHER_CHILD,
    "child_jmbg": "0303026715000",
}


@pytest.fixture
def w(system: Actor, authority: Authority, unit: OrgUnit, citizen: User) -> World:
    # The citizen is the parent the application names: their person carries that JMBG.
    person = Person.objects.create(jmbg=PARENT_JMBG, given_name="Петар", family_name="Петровић")
    User.objects.filter(pk=citizen.pk).update(person=person)
    citizen.refresh_from_db()
    found = world(system, authority, unit, citizen)
    # citizen B's own case, read by the clerk: none of it may reach A's export
    version = found.case.service_version
    other_case = cases.submit(Actor(user=found.other, via="test"), version, OTHER_FORM)[0]
    signed_in(found.clerk).get(reverse("official:case", args=[other_case.pk]))
    signed_in(found.clerk).get(reverse("official:case", args=[found.case.pk]))
    give_consent(Actor(user=citizen, via="test"), mailbox_of(citizen))
    send_letter(
        Actor(user=citizen, via="test"),
        mailbox_of(citizen),
        authority,
        subject="Моје писмо општини",
        body="Текст.",
    )
    return found


def _json(client: Client) -> dict[str, Any]:
    response = client.get(reverse("exchange:export_json"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "private, no-store"
    loaded = json.loads(response.content)
    assert isinstance(loaded, dict)
    return loaded


def test_the_json_holds_my_data_and_nobody_else_s(w: World) -> None:
    data = _json(citizen_client(w.citizen))
    assert data["format"] == export.FORMAT
    assert data["account"]["email"] == w.citizen.email
    assert data["person"]["jmbg"] == NEWBORN_FORM["parent_jmbg"]  # their own, in clear

    (case,) = data["cases"]
    assert case["registry_number"] == w.case.registry_number
    assert case["form"]["child_name"] == NEWBORN_FORM["child_name"]
    assert case["form"]["child_jmbg"] == NEWBORN_FORM["child_jmbg"]
    assert any(row["value"] == NEWBORN_FORM["child_name"] for row in case["form_summary"])
    assert case["timeline"] and case["timeline"][0]["what"] == "Submitted"
    assert [d["registry_number"] for d in case["documents"]] == [w.case.registry_number]

    (read,) = data["access_log"]  # the clerk's read of my case, not of B's
    assert read["reader"] == "Драган Референтовић" and read["case"] == w.case.registry_number
    assert read["action"] == "case_read" and read["purpose"] == "Handling the case"

    messages = data["mailbox"]["messages"]
    assert [m["subject"] for m in messages] == ["Моје писмо општини"]
    assert len(data["mailbox"]["consents"]) == 1

    text = json.dumps(data, ensure_ascii=False)
    for secret in (OTHER_CHILD, "0303026715000", "Друга Грађанка"):
        assert secret not in text


def test_a_person_named_in_someone_else_s_application_sees_where_not_the_form(w: World) -> None:
    kid = User.objects.create_user("dete@example.rs", "x" * 20, full_name="Лука", person=w.child)
    data = _json(citizen_client(kid))
    assert data["cases"] == []
    (named,) = data["named_in_cases"]
    assert named["registry_number"] == w.case.registry_number
    assert named["fields"] == ["child_jmbg"]
    assert str(NEWBORN_FORM["parent_address"]) not in json.dumps(data, ensure_ascii=False)
    assert len(data["access_log"]) == 1  # the clerk read the case that names the child


def test_mandates_and_companies_are_listed(w: World) -> None:
    from salter.identity.models import Company

    company = Company.objects.create(pib="101134702", mb="07023014", name="Демо д.о.о.")
    Mandate.objects.create(kind="company", agent=w.citizen, company=company)
    Mandate.objects.create(
        kind="counter", agent=w.clerk, person_id=w.person, consent="Усмено, на шалтеру."
    )
    data = _json(citizen_client(w.citizen))
    assert [c["name"] for c in data["companies_represented"]] == ["Демо д.о.о."]
    assert [m["agent"] for m in data["mandates_given"]] == ["Драган Референтовић"]
    assert data["mandates_given"][0]["consent"] == "Усмено, на шалтеру."
    assert [m["for"] for m in data["mandates_held"]] == ["Демо д.о.о."]


def test_each_download_is_audited_and_writes_nothing_else(w: World) -> None:
    counts = (AccessRecord.objects.count(), Person.objects.count(), User.objects.count())
    client = citizen_client(w.citizen)
    _json(client)
    client.get(reverse("exchange:export_pdf"))
    events = AuditEvent.objects.filter(action="exchange.export").order_by("id")
    assert [e.payload["format"] for e in events] == ["json", "pdf"]
    assert {e.actor_id for e in events} == {w.citizen.pk}
    assert {e.object_id for e in events} == {str(w.citizen.pk)}
    assert (AccessRecord.objects.count(), Person.objects.count(), User.objects.count()) == counts


def test_the_pdf_is_a_readable_pdf_with_my_name_and_my_case(w: World) -> None:
    response = citizen_client(w.citizen).get(reverse("exchange:export_pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-", "-"],  # noqa: S607 — poppler-utils, a test requirement
        input=response.content,
        capture_output=True,
        check=True,
    ).stdout.decode()
    text = " ".join(text.split())  # table cells wrap their lines
    assert "Петар Петровић" in text
    assert w.case.registry_number in text
    assert PARENT_JMBG in text
    assert "Драган Референтовић" in text  # the access log
    assert OTHER_CHILD not in text


def test_the_api_gives_the_same_to_the_mobile_app_and_audits_it(w: World) -> None:
    client = Client(headers=token(w.citizen, "Телефон", "read"))
    response = client.get("/api/v1/my-data")
    assert response.status_code == 200
    data = response.json()
    assert data["account"]["email"] == w.citizen.email
    assert [c["registry_number"] for c in data["cases"]] == [w.case.registry_number]
    event = AuditEvent.objects.get(action="exchange.export")
    assert event.via == "api"
    assert Client().get("/api/v1/my-data").status_code == 401


def test_only_a_logged_in_user_downloads(db: None) -> None:
    for name in ("exchange:export_json", "exchange:export_pdf", "exchange:access_log"):
        response = Client().get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]
