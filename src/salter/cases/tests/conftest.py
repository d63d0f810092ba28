from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import PASSWORD
from django.utils import timezone, translation

from salter.authorities.models import Authority, OrgUnit
from salter.catalog import pilots, services
from salter.catalog.models import ServiceVersion
from salter.core.context import Actor
from salter.identity import fresh
from salter.identity import services as identity
from salter.identity.models import Role, User

OVERTIME_FORM = {
    "date": "2026-12-01",
    "planned_hours": 3,
    "reason": "Годишњи извештај мора у понедељак.",
}
NEWBORN_FORM: dict[str, Any] = {
    "parent_name": "Јована Јовановић",
    "parent_jmbg": "0101990715018",
    "parent_address": "Српских владара 1, Сурдулица",
    "parent_email": "jovana@example.rs",
    "bank_account": "160-0000000012345-67",
    "child_name": "Лука Јовановић",
    "child_jmbg": "0111026710010",
    "child_birth_date": "2026-11-01",
    # The applicant brings the birth and residence records: the decision step, which waits for
    # evidence from registers, is not held up in tests that are not about the exchange (those
    # of salter.exchange untick it).
    "bring_evidence": True,
}


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def offer(system: Actor, authority: Authority, pilot: pilots.Pilot) -> ServiceVersion:
    return services.offer_pilot(system, authority, pilot)


@pytest.fixture
def overtime(authority: Authority, system: Actor) -> ServiceVersion:
    return offer(system, authority, pilots.OVERTIME)


@pytest.fixture
def newborn_aid(authority: Authority, system: Actor) -> ServiceVersion:
    return offer(system, authority, pilots.NEWBORN_AID)


MakeOfficial = Callable[..., User]


@pytest.fixture
def make_official(unit: OrgUnit, system: Actor) -> MakeOfficial:
    def make(email: str, full_name: str, role: str, in_unit: OrgUnit | None = None) -> User:
        membership = identity.add_official(
            system,
            email=email,
            full_name=full_name,
            unit=in_unit or unit,
            role=role,
            password=PASSWORD,
        )
        return membership.user

    return make


@pytest.fixture
def employee(make_official: MakeOfficial) -> User:
    return make_official("ana@surdulica.demo", "Ана Анић", Role.CLERK)


@pytest.fixture
def head(make_official: MakeOfficial) -> User:
    return make_official("sef@surdulica.demo", "Бранко Шефовић", Role.HEAD_OF_UNIT)


@pytest.fixture
def accountant(make_official: MakeOfficial) -> User:
    return make_official("racun@surdulica.demo", "Вера Рачуновић", Role.APPROVER)


@pytest.fixture
def clerk(make_official: MakeOfficial) -> User:
    return make_official("referent@surdulica.demo", "Драган Референтовић", Role.CLERK)


def act(user: User) -> Actor:
    return Actor(user=user, via="test")


def confirmed(user: User) -> fresh.Confirmation:
    """What the signing page hands the service after ``user`` typed a valid one-time code
    (the pages' and the API's tests type real codes)."""
    return fresh.Confirmation(user.pk, timezone.now(), "totpdevice")


def today() -> Any:
    return timezone.localdate()


@pytest.fixture
def secretary(make_official: MakeOfficial) -> User:
    return make_official("sekretar@surdulica.demo", "Сава Секретаревић", Role.APPROVER)
