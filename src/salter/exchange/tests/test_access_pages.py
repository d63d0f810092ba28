""" "Who accessed my data": the citizen's page and the API of the mobile app — newest first,
keyset pages, hidden reads left out until their date, only the caller's own reads, a fixed
number of queries."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from salter.authorities.models import Authority, OrgUnit
from salter.core.context import Actor
from salter.exchange import queries, tracker
from salter.exchange.models import AccessRecord
from salter.identity.models import Person, User

from .tracker_helpers import World, citizen_client, signed_in, token, world

pytestmark = pytest.mark.django_db

PAGE = reverse("exchange:access_log")
API = "/api/v1/access-log"
CARD = re.compile(r'<li class="card">(.*?)</li>', re.S)
NEXT = re.compile(r'<a href="(\?[^"]*)">Older reads</a>')


@pytest.fixture
def w(system: Actor, authority: Authority, unit: OrgUnit, citizen: User) -> World:
    return world(system, authority, unit, citizen)


def _read(
    person: int,
    *,
    minutes_ago: int,
    label: str = "Службеник",
    authority: Authority | None = None,
    hidden_for: timedelta | None = None,
    case_id: int | None = None,
    purpose: str = "case_processing",
) -> None:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    tracker.record(
        [person],
        reader=tracker.Reader(
            user=None, label=label, authority_id=authority.pk if authority else None
        ),
        action=AccessRecord.Action.CASE_READ,
        purpose=purpose,
        legal_basis="Закон о финансијској подршци породици са децом",
        items=["child_jmbg", "parent_address"],
        case_id=case_id,
        at=at,
        hidden_until=at + hidden_for if hidden_for else None,
    )


def test_the_page_lists_the_reads_of_my_data_newest_first_with_everything_said(
    w: World,
) -> None:
    signed_in(w.clerk).get(reverse("official:case", args=[w.case.pk]))  # a real read
    _read(w.person, minutes_ago=60, label="Старији читалац", authority=w.authority)
    body = citizen_client(w.citizen).get(PAGE).content.decode()
    cards = CARD.findall(body)
    assert len(cards) == 2
    newest, older = cards
    assert "Драган Референтовић" in newest and "Старији читалац" in older
    assert "Opened a case" in newest and "Handling the case" in newest
    assert "Municipality of Surdulica" in newest  # the reading authority, in English
    assert w.case.service_version.service.legal_basis in newest
    assert "child_jmbg" in newest
    # the case is mine: its number links to it
    assert f'href="{reverse("cases:detail", args=[w.case.pk])}"' in newest
    assert w.case.registry_number in newest
    assert reverse("exchange:export_pdf") in body and reverse("exchange:export_json") in body


def test_a_case_that_is_not_mine_is_named_but_not_linked(w: World) -> None:
    child = w.child  # named in A's application, registered later as a user of their own
    kid = User.objects.create_user("dete@example.rs", "x" * 20, full_name="Лука", person=child)
    signed_in(w.clerk).get(reverse("official:case", args=[w.case.pk]))
    body = citizen_client(kid).get(PAGE).content.decode()
    assert w.case.registry_number in body
    assert reverse("cases:detail", args=[w.case.pk]) not in body


def test_hidden_reads_appear_only_after_their_date(w: World) -> None:
    _read(w.person, minutes_ago=5, label="Истражитељ", hidden_for=timedelta(days=30))
    _read(w.person, minutes_ago=10, label="Видљиви читалац")
    body = citizen_client(w.citizen).get(PAGE).content.decode()
    assert "Видљиви читалац" in body and "Истражитељ" not in body
    assert len(queries.page(w.person).rows) == 1
    later = timezone.now() + timedelta(days=31)
    assert [r.reader_label for r in queries.page(w.person, now=later).rows] == [
        "Истражитељ",
        "Видљиви читалац",
    ]
    answer = Client(headers=token(w.citizen, "Телефон", "read")).get(API).json()
    assert [e["reader"] for e in answer] == ["Видљиви читалац"]


def test_nobody_sees_another_person_s_reads(w: World) -> None:
    signed_in(w.clerk).get(reverse("official:case", args=[w.case.pk]))
    other = citizen_client(w.other)
    body = other.get(PAGE).content.decode()
    assert "Драган Референтовић" not in body and "Nobody has read your data yet." in body
    assert other.get(API).json() == []
    # a cursor of A's page does not reach A's reads either
    cursor = queries.encode_cursor(AccessRecord.objects.filter(subject_id=w.person).first())  # type: ignore[arg-type]
    assert "Драган" not in other.get(f"{PAGE}?before={cursor}").content.decode()


def test_keyset_pages_walk_the_whole_log_once(w: World) -> None:
    for minute in range(45):
        _read(w.person, minutes_ago=minute, label=f"Читалац {minute:02d}")
    client = citizen_client(w.citizen)
    seen: list[str] = []
    url = PAGE
    pages = 0
    while url:
        body = client.get(url).content.decode()
        seen += re.findall(r"Читалац (\d\d)", body)
        found = NEXT.search(body)
        url = PAGE + found.group(1).replace("&amp;", "&") if found else ""
        pages += 1
    assert pages == 3
    assert seen == [f"{m:02d}" for m in range(45)]  # newest first, each once


def test_the_authority_filter(w: World, system: Actor) -> None:
    other = Authority.objects.exclude(pk=w.authority.pk).get()
    _read(w.person, minutes_ago=1, label="Из Сурдулице", authority=w.authority)
    _read(w.person, minutes_ago=2, label="Из Врања", authority=other)
    body = citizen_client(w.citizen).get(f"{PAGE}?authority={other.pk}").content.decode()
    assert "Из Врања" in body and "Из Сурдулице" not in body
    assert f'<option value="{other.pk}" selected>' in body
    answer = citizen_client(w.citizen).get(f"{API}?authority={w.authority.pk}").json()
    assert [e["reader"] for e in answer] == ["Из Сурдулице"]


def test_the_page_costs_the_same_for_one_read_or_a_hundred(
    w: World, django_assert_max_num_queries: Any
) -> None:
    client = citizen_client(w.citizen)
    _read(w.person, minutes_ago=1, case_id=w.case.pk, authority=w.authority)
    client.get(PAGE)
    # session, user, unread count (the menu), the authorities to filter by, the page's rows
    with django_assert_max_num_queries(5):
        assert client.get(PAGE).status_code == 200
    for minute in range(2, 100):
        _read(w.person, minutes_ago=minute, case_id=w.case.pk, authority=w.authority)
    with django_assert_max_num_queries(5):
        body = client.get(PAGE).content.decode()
    assert len(CARD.findall(body)) == queries.PAGE_SIZE


def test_a_user_without_a_person_has_an_empty_log(db: None) -> None:
    user = User.objects.create_user("nov@example.rs", "x" * 20, full_name="Нови Корисник")
    response = citizen_client(user).get(PAGE)
    assert response.status_code == 200
    assert "Nobody has read your data yet." in response.content.decode()
    assert not Person.objects.exists()  # looking at the page makes nobody a person


def test_the_api_pages_with_a_link_header_and_refuses_a_bad_cursor(w: World) -> None:
    for minute in range(5):
        _read(w.person, minutes_ago=minute, label=f"Читалац {minute}", case_id=w.case.pk)
    client = Client(headers=token(w.citizen, "Телефон", "read"))
    first = client.get(f"{API}?limit=3")
    assert first.status_code == 200
    rows = first.json()
    assert [r["reader"] for r in rows] == ["Читалац 0", "Читалац 1", "Читалац 2"]
    assert rows[0]["action"] == "case_read"
    assert rows[0]["purpose_text"] == "Поступање у предмету"  # the citizen's language
    assert rows[0]["case"] == {
        "id": w.case.pk,
        "registry_number": w.case.registry_number,
        "mine": True,
    }
    assert rows[0]["items"] == ["child_jmbg", "parent_address"]
    link = re.fullmatch(r'<([^>]+)>; rel="next"', first["Link"])
    assert link is not None
    second = client.get(link.group(1)).json()
    assert [r["reader"] for r in second] == ["Читалац 3", "Читалац 4"]
    assert client.get(f"{API}?after=garbage").status_code == 422
    assert Client().get(API).status_code == 401
    # reading the own log is not a read of someone else's data
    assert AccessRecord.objects.count() == 5
