"""Services and versions: drafts, publishing, retiring, permissions, audit."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from salter.audit.models import AuditEvent
from salter.authorities.models import Authority, OrgUnit
from salter.catalog import pilots, queries, services
from salter.catalog.definitions import InvalidDefinition
from salter.catalog.models import Service, ServiceVersion
from salter.core.context import Actor
from salter.identity import services as identity_services
from salter.identity.models import Role, User

pytestmark = pytest.mark.django_db


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def test_publish_records_and_retires_the_previous_version(
    published: ServiceVersion, system: Actor
) -> None:
    assert published.status == ServiceVersion.Status.PUBLISHED
    assert published.published_at is not None
    second = services.create_draft_version(system, published.service)
    assert second.number == 2
    assert second.definition == published.definition  # a copy of the latest
    services.publish_version(system, second)

    published.refresh_from_db()
    assert published.status == ServiceVersion.Status.RETIRED
    assert published.retired_at is not None
    assert queries.published_version("surdulica", "newborn-aid") == second
    assert actions()[-3:] == [
        "service.version_created",
        "service.version_retired",
        "service.version_published",
    ]


def test_a_published_definition_never_changes(published: ServiceVersion, system: Actor) -> None:
    with pytest.raises(services.VersionStateError, match="can no longer be changed"):
        services.update_draft(system, published, {"form": {}})
    published.refresh_from_db()
    assert published.definition == pilots.NEWBORN_AID.definition()


def test_only_a_draft_is_published_and_only_the_published_is_retired(
    published: ServiceVersion, system: Actor
) -> None:
    with pytest.raises(services.VersionStateError):
        services.publish_version(system, published)
    services.retire_version(system, published)
    assert queries.published_version("surdulica", "newborn-aid") is None
    with pytest.raises(services.VersionStateError):
        services.retire_version(system, published)
    with pytest.raises(services.VersionStateError):
        services.update_draft(system, published, {})


def test_an_invalid_draft_is_refused_with_every_error(service: Service, system: Actor) -> None:
    definition = pilots.NEWBORN_AID.definition()
    definition["workflow"]["transitions"][0]["roles"] = ["boss"]
    definition["form"]["ui"]["steps"][0]["fields"].remove("parent_email")
    draft = services.create_draft_version(system, service, definition)
    with pytest.raises(InvalidDefinition) as refused:
        services.publish_version(system, draft)
    assert {e.path for e in refused.value.errors} == {
        "/workflow/transitions/0/roles/0",
        "/form/schema/properties/parent_email",
    }
    draft.refresh_from_db()
    assert draft.status == ServiceVersion.Status.DRAFT

    definition["workflow"]["transitions"][0]["roles"] = ["clerk"]
    definition["form"]["ui"]["steps"][0]["fields"].append("parent_email")
    services.update_draft(system, draft, definition)
    assert services.publish_version(system, draft).status == ServiceVersion.Status.PUBLISHED


def test_import_and_export(published: ServiceVersion, system: Actor) -> None:
    exported = queries.export_definition(published)
    assert json.loads(exported) == published.definition
    assert "Подаци о родитељу" in exported  # readable, not \\u-escaped
    draft = services.import_definition(system, published.service, exported.encode())
    assert draft.number == 2 and draft.definition == published.definition
    with pytest.raises(InvalidDefinition, match="not valid JSON"):
        services.import_definition(system, published.service, b"{form:")
    with pytest.raises(InvalidDefinition, match="must be a JSON object"):
        services.import_definition(system, published.service, b"[]")


def test_at_most_one_published_version_in_the_database(published: ServiceVersion) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceVersion.objects.create(
            service=published.service, number=2, status=ServiceVersion.Status.PUBLISHED
        )


def test_the_level_of_assurance_is_1_to_3(authority: Authority, system: Actor) -> None:
    with pytest.raises(ValueError, match="level of assurance"):
        services.create_service(
            system, authority, code="x", name="Х", kind="internal", min_level_of_assurance=4
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Service.objects.create(
            authority=authority, code="y", name="У", kind="internal", min_level_of_assurance=0
        )


def test_only_administrators_manage_services(
    authority: Authority, unit: OrgUnit, official: User, system: Actor, service: Service
) -> None:
    clerk = Actor(user=official, via="test")
    with pytest.raises(PermissionDenied):
        services.create_service(clerk, authority, code="x", name="Х", kind="internal")
    with pytest.raises(PermissionDenied):
        services.create_draft_version(clerk, service)

    admin = identity_services.add_official(
        system,
        email="admin@surdulica.demo",
        full_name="Ненад Митић",
        unit=unit,
        role=Role.AUTHORITY_ADMIN,
        password="x-long-enough-password",
    ).user
    draft = services.create_draft_version(
        Actor(user=admin, via="test"), service, pilots.NEWBORN_AID.definition()
    )
    services.publish_version(Actor(user=admin, via="test"), draft)

    other = services_authority(system)
    with pytest.raises(PermissionDenied):
        services.create_service(Actor(user=admin, via="test"), other, code="x", name="Х",
                                kind="internal")  # fmt: skip


def services_authority(system: Actor) -> Authority:
    from salter.authorities import services as authority_services

    return authority_services.create_authority(
        system, code="apr", name="Агенција за привредне регистре", kind="agency"
    )
