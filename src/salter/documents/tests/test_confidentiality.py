"""Documents are as confidential as their case, and the registry shows each keeper only what
they read: number and date of every entry, the rest only within their clearance (and, for a
head of unit, of their unit's cases). The case's files follow the case's own rule."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from salter.authorities import services as authorities
from salter.authorities.models import Authority, OrgUnit
from salter.cases import grants
from salter.cases.models import Case
from salter.cases.services import submit
from salter.cases.tests.conftest import NEWBORN_FORM, act
from salter.cases.tests.test_confidentiality import handled_by
from salter.cases.tests.test_official_views import signed_in
from salter.core.context import Actor
from salter.documents import queries, services, uploads
from salter.documents.models import Document
from salter.identity import services as identity
from salter.identity.models import Role, User

from .test_registry import a_pdf

pytestmark = pytest.mark.django_db
BOOK = "/official/registry/"
SUBJECT = "Решење о помоћи Јовановић"


def member(
    system: Actor, unit: OrgUnit, email: str, role: str, clearance: str | None = None
) -> User:
    return identity.add_official(
        system,
        email=email,
        full_name=email.split("@")[0],
        unit=unit,
        role=role,
        password=None,
        clearance=clearance,
    ).user


@pytest.fixture
def general(authority: Authority, system: Actor) -> OrgUnit:
    return authorities.create_unit(system, authority, code="general", name="Општа управа")


def confidential_case(system: Actor, authority: Authority, unit: OrgUnit, citizen: User) -> Case:
    return submit(act(citizen), handled_by(system, authority, unit, "confidential"), NEWBORN_FORM)[
        0
    ]


def act_of(system: Actor, case: Case) -> Document:
    """A decision registered in the case, with its file."""
    return services.register(
        system,
        authority=case.authority,
        direction="outgoing",
        subject=SUBJECT,
        recipient="Јована Јовановић",
        case=case,
        upload=uploads.check("resenje.pdf", a_pdf()),
    )


def book(client: Any, **params: str) -> str:
    return client.get(BOOK, params).content.decode()


def test_a_case_document_takes_the_case_level(
    system: Actor, authority: Authority, unit: OrgUnit, citizen: User
) -> None:
    case = confidential_case(system, authority, unit, citizen)
    application = Document.objects.get(case=case, sub_number=0)
    assert application.confidentiality == "confidential"
    assert act_of(system, case).confidentiality == "confidential"
    letter = services.register(
        system, authority=authority, direction="incoming", subject="Допис", sender="АПР"
    )
    assert letter.confidentiality == "restricted"  # no case: the default


def test_the_registry_withholds_entries_above_the_clearance(
    system: Actor,
    authority: Authority,
    unit: OrgUnit,
    general: OrgUnit,
    citizen: User,
    django_assert_num_queries: Any,
) -> None:
    case = confidential_case(system, authority, unit, citizen)
    document = act_of(system, case)
    plain = services.register(
        system, authority=authority, direction="incoming", subject="Обичан допис", sender="АПР"
    )
    keeper = member(system, general, "pisarnica@surdulica.demo", Role.REGISTRY_CLERK)
    client = signed_in(keeper)

    page = book(client)
    assert document.registry_number in page and plain.registry_number in page
    assert "Обичан допис" in page
    assert SUBJECT not in page and "Јована Јовановић" not in page
    assert "Withheld: above your clearance" in page
    assert reverse("official:registry_entry", args=[document.pk]) not in page
    # A search never tells what a withheld entry is about.
    assert document.registry_number not in book(client, q="помоћи")
    entry = reverse("official:registry_entry", args=[document.pk])
    assert client.get(entry).status_code == 404
    assert (
        client.get(reverse("official:registry_download", args=[document.pk, 1])).status_code == 404
    )
    assert client.get(reverse("official:registry_entry", args=[plain.pk])).status_code == 200

    export = client.get(reverse("official:registry_export", args=["book", "csv"]))
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    withheld = next(r for r in rows if r[0] == document.registry_number)
    assert withheld[5] == "(withheld)" and withheld[4] == "" and withheld[8] == ""
    assert SUBJECT not in export.content.decode("utf-8-sig")

    # One query for a page of entries, whatever is withheld.
    within = queries.readable(keeper, authority.pk)
    registry_book = document.book
    with django_assert_num_queries(1):
        rows_ = queries.entries(registry_book, document.year, queries.Filters(), within=within)
    assert {d.pk: d.withheld for d in rows_}[document.pk] is True  # type: ignore[attr-defined]

    identity.set_clearance(system, keeper.memberships.get(), "confidential")
    page = book(client)
    assert SUBJECT in page and reverse("official:registry_entry", args=[document.pk]) in page
    assert document.registry_number in book(client, q="помоћи")
    assert client.get(entry).status_code == 200


def test_a_head_of_unit_keeps_the_book_of_their_unit_cases(
    system: Actor, authority: Authority, unit: OrgUnit, general: OrgUnit, citizen: User
) -> None:
    case = confidential_case(system, authority, unit, citizen)
    document = act_of(system, case)
    plain = services.register(
        system, authority=authority, direction="incoming", subject="Обичан допис", sender="АПР"
    )
    theirs = member(system, unit, "sef@surdulica.demo", Role.HEAD_OF_UNIT, "secret")
    other = member(system, general, "sef2@surdulica.demo", Role.HEAD_OF_UNIT, "secret")
    assert SUBJECT in book(signed_in(theirs))
    page = book(signed_in(other))
    assert SUBJECT not in page and "Обичан допис" in page
    assert (
        signed_in(other).get(reverse("official:registry_entry", args=[document.pk])).status_code
        == 404
    )
    assert (
        signed_in(other).get(reverse("official:registry_entry", args=[plain.pk])).status_code == 200
    )


def test_a_grant_to_the_case_opens_its_entries(
    system: Actor, authority: Authority, unit: OrgUnit, general: OrgUnit, citizen: User
) -> None:
    case = confidential_case(system, authority, unit, citizen)
    document = act_of(system, case)
    keeper = member(system, general, "pisarnica@surdulica.demo", Role.REGISTRY_CLERK)
    head = member(system, unit, "sef@surdulica.demo", Role.HEAD_OF_UNIT, "confidential")
    entry = reverse("official:registry_entry", args=[document.pk])
    assert signed_in(keeper).get(entry).status_code == 404
    grant = grants.grant_access(act(head), case, keeper, reason="Отпрема решења.")
    assert signed_in(keeper).get(entry).status_code == 200
    grants.revoke_access(act(head), grant)
    assert signed_in(keeper).get(entry).status_code == 404


def test_the_case_files_follow_the_case(
    system: Actor, authority: Authority, unit: OrgUnit, general: OrgUnit, citizen: User
) -> None:
    case = confidential_case(system, authority, unit, citizen)
    document = act_of(system, case)
    url = reverse("official:case_document", args=[case.pk, document.pk, 1])
    cleared = member(system, unit, "referent@surdulica.demo", Role.CLERK, "confidential")
    below = member(system, unit, "pripravnik@surdulica.demo", Role.CLERK)
    outsider = member(system, general, "opsta@surdulica.demo", Role.CLERK, "secret")
    assert signed_in(cleared).get(url).status_code == 200
    assert signed_in(below).get(url).status_code == 404
    assert signed_in(outsider).get(url).status_code == 404
    head = member(system, unit, "sef@surdulica.demo", Role.HEAD_OF_UNIT, "confidential")
    grants.grant_access(
        act(head), case, outsider, reason="Савет.", valid_until=timezone.now().replace(year=2100)
    )
    assert signed_in(outsider).get(url).status_code == 200
