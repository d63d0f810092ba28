"""Helpers of the access-log tests (the Data Tracker): a submitted newborn-aid case of one
citizen, the officials who read it, a second citizen and an official of another authority who
must not, and a look at the records written."""

from __future__ import annotations

from dataclasses import dataclass

from conftest import PASSWORD
from django.test import Client
from django.utils import timezone

from salter.authorities import services as authorities
from salter.authorities.models import Authority, OrgUnit
from salter.cases import services as cases
from salter.cases.models import Case
from salter.cases.tests.conftest import NEWBORN_FORM
from salter.cases.tests.test_official_views import signed_in
from salter.catalog import pilots
from salter.catalog import services as catalog
from salter.core.context import Actor
from salter.exchange.models import AccessRecord
from salter.identity import loa
from salter.identity import services as identity
from salter.identity.models import Person, Role, User

__all__ = ["CITIZEN_B", "World", "citizen_client", "records", "signed_in", "token", "world"]

CITIZEN_B = "druga@example.rs"


def act(user: User | None) -> Actor:
    return Actor(user=user, via="test")


def official(system: Actor, unit: OrgUnit, email: str, name: str, role: str) -> User:
    return identity.add_official(
        system, email=email, full_name=name, unit=unit, role=role, password=PASSWORD
    ).user


def citizen_client(user: User) -> Client:
    """A citizen's browser after a password login (level 1), in English."""
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    session = client.session
    session[loa.SESSION_KEY] = loa.PASSWORD
    session.save()
    return client


def token(user: User, name: str = "Мобилна апликација", *scopes: str) -> dict[str, str]:
    _token, secret = identity.create_api_token(
        act(user), name=name, scopes=list(scopes or ("read", "write")), days=1, loa=2
    )
    return {"Authorization": f"Bearer {secret}"}


@dataclass
class World:
    authority: Authority
    unit: OrgUnit
    citizen: User  # citizen A: applied for newborn aid
    other: User  # citizen B: must never see A's data
    clerk: User  # a clerk of A's authority: reads A's case
    keeper: User  # the registry clerk of A's authority
    accountant: User  # handles the authority's fees
    stranger: User  # the head of unit of another authority: must not read it
    case: Case

    @property
    def person(self) -> int:
        person_id = User.objects.values_list("person_id", flat=True).get(pk=self.citizen.pk)
        assert person_id is not None
        return person_id

    @property
    def child(self) -> Person:
        return Person.objects.by_jmbg(str(NEWBORN_FORM["child_jmbg"])).get()


def world(system: Actor, authority: Authority, unit: OrgUnit, citizen: User) -> World:
    version = catalog.offer_pilot(system, authority, pilots.NEWBORN_AID)
    clerk = official(system, unit, "referent@surdulica.demo", "Драган Референтовић", Role.CLERK)
    keeper = official(
        system, unit, "pisarnica@surdulica.demo", "Писар Писаревић", Role.REGISTRY_CLERK
    )
    accountant = official(system, unit, "racun@surdulica.demo", "Вера Рачуновић", Role.APPROVER)
    other_authority = authorities.create_authority(
        system, code="vranje", name="Град Врање", kind=Authority.Kind.LOCAL_GOVERNMENT
    )
    stranger = official(
        system,
        authorities.create_unit(system, other_authority, code="social", name="Друштвене"),
        "sef@vranje.demo",
        "Други Шеф",
        Role.HEAD_OF_UNIT,
    )
    other = User.objects.create_user(
        CITIZEN_B, PASSWORD, full_name="Друга Грађанка", email_verified_at=timezone.now()
    )
    case = cases.submit(act(citizen), version, NEWBORN_FORM)[0]
    return World(authority, unit, citizen, other, clerk, keeper, accountant, stranger, case)


def records(person_id: int, **match: object) -> list[AccessRecord]:
    return list(AccessRecord.objects.filter(subject_id=person_id, **match).order_by("id"))
