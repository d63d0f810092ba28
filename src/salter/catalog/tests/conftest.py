from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from salter.authorities.models import Authority
from salter.catalog import pilots, services
from salter.catalog.models import Service, ServiceVersion
from salter.core.context import Actor


@pytest.fixture
def service(authority: Authority, system: Actor) -> Service:
    return services.create_service(
        system,
        authority,
        code=pilots.NEWBORN_AID.code,
        name=pilots.NEWBORN_AID.name,
        name_en=pilots.NEWBORN_AID.name_en,
        kind=Service.Kind.ADMINISTRATIVE,
    )


@pytest.fixture
def published(service: Service, system: Actor) -> ServiceVersion:
    draft = services.create_draft_version(system, service, pilots.NEWBORN_AID.definition())
    return services.publish_version(system, draft)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are asserted in English (one test checks the Serbian catalogue)."""
    with translation.override("en"):
        yield
