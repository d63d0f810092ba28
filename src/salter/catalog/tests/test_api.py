"""The public catalogue: /api/v1/services, the definitions, the meta-schema, the home page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from salter.authorities import services as authority_services
from salter.authorities.models import Authority
from salter.catalog import definitions, pilots, services
from salter.catalog.models import ServiceVersion
from salter.core.context import Actor

pytestmark = pytest.mark.django_db


def offer(system: Actor, authority: Authority, code: str, pilot: pilots.Pilot) -> ServiceVersion:
    service = services.create_service(
        system, authority, code=code, name=pilot.name, name_en=pilot.name_en, kind=pilot.kind
    )
    draft = services.create_draft_version(system, service, pilot.definition())
    return services.publish_version(system, draft)


def many_services(system: Actor, authority: Authority, count: int) -> None:
    for i in range(count):
        other = authority_services.create_authority(
            system, code=f"a{i}", name=f"Орган {i}", kind=Authority.Kind.AGENCY
        )
        offer(system, other, "overtime", pilots.OVERTIME)
    offer(system, authority, "newborn-aid", pilots.NEWBORN_AID)


def test_list_published_services_in_one_query(
    client: Client, authority: Authority, system: Actor, django_assert_num_queries: Any
) -> None:
    many_services(system, authority, 3)
    draft_only = services.create_service(system, authority, code="draft", name="Н", kind="internal")
    services.create_draft_version(system, draft_only, {})

    with django_assert_num_queries(1):
        response = client.get("/api/v1/services")

    assert response.status_code == 200
    body = response.json()
    assert len(body) == 4
    assert body[-1] == {
        "authority": "surdulica",
        "code": "newborn-aid",
        "name": "Једнократна новчана помоћ за новорођено дете",
        "name_en": "One-time financial aid for a newborn",
        "kind": "administrative",
        "min_level_of_assurance": 2,
        "version": 1,
    }


def test_get_the_published_definition(
    client: Client, authority: Authority, system: Actor, django_assert_num_queries: Any
) -> None:
    version = offer(system, authority, "newborn-aid", pilots.NEWBORN_AID)
    services.create_draft_version(system, version.service)  # a draft is never shown

    with django_assert_num_queries(1):
        response = client.get("/api/v1/services/surdulica/newborn-aid/definition")

    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 1
    assert body["definition"] == pilots.NEWBORN_AID.definition()

    missing = client.get("/api/v1/services/surdulica/nothing/definition")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_the_meta_schema_is_published_at_a_stable_url(client: Client) -> None:
    response = client.get("/schemas/service-definition/v1.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/schema+json"
    assert json.loads(response.content) == definitions.meta_schema()


def test_home_lists_offered_services_without_n_plus_1(
    client: Client,
    authority: Authority,
    system: Actor,
    django_assert_max_num_queries: Any,
) -> None:
    many_services(system, authority, 5)
    retired = offer(system, authority, "old", pilots.OVERTIME)
    services.retire_version(system, retired)

    with django_assert_max_num_queries(2):  # authorities, then their offered services
        response = client.get("/")

    html = response.content.decode()
    assert "Једнократна новчана помоћ за новорођено дете" in html
    assert html.count("Прековремени рад") == 5  # the retired one is not offered
