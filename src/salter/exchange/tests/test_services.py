"""An authority exposes a register's query as a data service: who may register, change and
withdraw it, what the audit keeps (never the token), and that registering again is a no-op."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import PASSWORD
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from salter.audit.models import AuditEvent
from salter.authorities import services as authorities
from salter.authorities.models import Authority, OrgUnit
from salter.core.context import Actor
from salter.exchange import services
from salter.exchange.models import DataService
from salter.identity import services as identity
from salter.identity.models import Role, User

pytestmark = pytest.mark.django_db

TOKEN = "reg_abcdef01_not-a-real-secret"


def describe(authority: Authority, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "code": "civil_registry.birth_by_jmbg",
        "authority": authority,
        "name": "Извод из матичне књиге рођених",
        "name_en": "Birth record by personal number",
        "url": "https://registers.example.rs/civil_registry/birth_by_jmbg",
        "openapi_url": "https://registers.example.rs/openapi.json",
        "legal_basis": "Закон о матичним књигама; ЗУП чл. 9 и 103",
        "inputs": [{"name": "jmbg", "label": "ЈМБГ", "label_en": "JMBG"}],
        "outputs": [
            {"name": "given_name", "label": "Име", "label_en": "Given name"},
            {"name": "birth_date", "label": "Датум рођења", "label_en": "Date of birth"},
        ],
        "token": TOKEN,
    }
    values.update(changes)
    return values


def admin_of(unit: OrgUnit, system: Actor, email: str) -> Actor:
    membership = identity.add_official(
        system,
        email=email,
        full_name="Ненад Митић",
        unit=unit,
        role=Role.AUTHORITY_ADMIN,
        password=PASSWORD,
    )
    return Actor(user=membership.user, via="test")


@pytest.fixture
def operator(db: None) -> Actor:
    user = User.objects.create_superuser("operator@salter.demo", PASSWORD, full_name="Оператор")
    return Actor(user=user, via="test")


@pytest.fixture
def other(system: Actor) -> Authority:
    return authorities.create_authority(
        system, code="mdulsu", name="Министарство државне управе", kind="ministry"
    )


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_the_operator_registers_a_data_service_audited_without_its_token(
    operator: Actor, authority: Authority
) -> None:
    service = services.register_data_service(operator, **describe(authority))

    assert service.is_active and service.token == TOKEN
    assert service.timeout_seconds == 10  # SALTER_REGISTER_TIMEOUT_SECONDS
    [event] = events("exchange.data_service_registered")
    assert event.object_id == str(service.pk) and event.authority_id == authority.pk
    assert event.payload["code"] == "civil_registry.birth_by_jmbg"
    assert event.payload["outputs"] == ["given_name", "birth_date"]
    assert event.payload["has_token"] is True
    assert TOKEN not in str(event.payload)
    # Stored encrypted.
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM exchange_dataservice WHERE id = %s", [service.pk])
        stored = cursor.fetchone()[0]
    assert TOKEN not in stored and stored.startswith("pii1:")


def test_registering_the_same_again_changes_nothing_and_a_change_is_audited(
    operator: Actor, authority: Authority
) -> None:
    first = services.register_data_service(operator, **describe(authority))
    again = services.register_data_service(operator, **describe(authority, token=None))

    assert again.pk == first.pk and again.token == TOKEN
    assert AuditEvent.objects.filter(action__startswith="exchange.").count() == 1

    services.deactivate(operator, again)
    changed = services.register_data_service(
        operator, **describe(authority, legal_basis="ЗУП чл. 103", token="reg_new")
    )

    assert changed.is_active and changed.token == "reg_new"
    [event] = events("exchange.data_service_updated")
    assert event.payload["changed"] == ["is_active", "legal_basis", "token"]
    assert "reg_new" not in str(event.payload)


def test_the_holders_administrator_may_register_and_others_may_not(
    authority: Authority, unit: OrgUnit, other: Authority, system: Actor, official: User
) -> None:
    holder_admin = admin_of(unit, system, "admin@surdulica.demo")
    other_unit = authorities.create_unit(system, other, code="it", name="ИТ", name_en="IT")
    stranger = admin_of(other_unit, system, "admin@mdulsu.demo")

    service = services.register_data_service(holder_admin, **describe(authority))

    for actor in (stranger, Actor(user=official, via="test"), Actor(user=None, via="web")):
        with pytest.raises(PermissionDenied):
            services.register_data_service(actor, **describe(authority))
        with pytest.raises(PermissionDenied):
            services.deactivate(actor, service)
        with pytest.raises(PermissionDenied):
            services.set_allowed(actor, service, [other])
    # Nor may another authority's administrator take the service over as its own.
    with pytest.raises(PermissionDenied):
        services.register_data_service(stranger, **describe(other))
    assert DataService.objects.get().authority == authority


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "birth_by_jmbg"}, "code"),
        ({"code": "Civil.Birth"}, "code"),
        ({"url": "ftp://registers.example.rs/x"}, "url"),
        ({"openapi_url": "/openapi.json"}, "openapi_url"),
        ({"legal_basis": " "}, "legal_basis"),
        ({"name": ""}, "name"),
        ({"inputs": [{"name": "jmbg"}, {"name": "jmbg"}]}, "inputs"),
        ({"outputs": [{"label": "Име"}]}, "outputs"),
        ({"outputs": "given_name"}, "outputs"),
        ({"timeout_seconds": 0.0001 - 1}, "timeout_seconds"),
    ],
)
def test_a_description_that_cannot_work_is_refused(
    operator: Actor, authority: Authority, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        services.register_data_service(operator, **describe(authority, **changes))
    assert field in refused.value.message_dict
    assert not DataService.objects.exists()


def test_who_may_ask_is_set_and_audited(
    operator: Actor, authority: Authority, other: Authority
) -> None:
    service = services.register_data_service(operator, **describe(authority))

    services.set_allowed(operator, service, [other, authority, other])

    assert sorted(service.allowed.values_list("code", flat=True)) == ["mdulsu", "surdulica"]
    [event] = events("exchange.data_service_allowed")
    assert event.payload == {"code": service.code, "allowed": ["mdulsu", "surdulica"]}

    services.set_allowed(operator, service, [])
    assert not service.allowed.exists()


def test_deactivating_is_audited_once(operator: Actor, authority: Authority) -> None:
    service = services.register_data_service(operator, **describe(authority))

    services.deactivate(operator, service)
    services.deactivate(operator, service)

    service.refresh_from_db()
    assert not service.is_active
    assert len(events("exchange.data_service_deactivated")) == 1
