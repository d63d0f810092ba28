from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from salter.catalog import queries
from salter.catalog.models import ServiceVersion
from salter.core.errors import ApiError

router = Router(tags=["services"])


class ServiceOut(Schema):
    authority: str
    code: str
    name: str
    name_en: str
    kind: str
    min_level_of_assurance: int
    version: int


class DefinitionOut(Schema):
    authority: str
    code: str
    version: int
    published_at: str
    definition: dict[str, Any]


def _out(version: ServiceVersion) -> dict[str, Any]:
    service = version.service
    return {
        "authority": service.authority.code,
        "code": service.code,
        "name": service.name,
        "name_en": service.name_en,
        "kind": service.kind,
        "min_level_of_assurance": service.min_level_of_assurance,
        "version": version.number,
    }


@router.get(
    "", response=list[ServiceOut], auth=None, summary="Published services of all authorities"
)
def list_services(request: HttpRequest) -> list[dict[str, Any]]:
    return [_out(v) for v in queries.published_versions()]


@router.get(
    "/{authority}/{code}/definition",
    response=DefinitionOut,
    auth=None,
    summary="The published definition of a service",
)
def get_definition(request: HttpRequest, authority: str, code: str) -> dict[str, Any]:
    version = queries.published_version(authority, code)
    if version is None:
        raise ApiError(404, "not_found", "No such published service.")
    assert version.published_at is not None
    return {
        "authority": authority,
        "code": code,
        "version": version.number,
        "published_at": version.published_at.isoformat(),
        "definition": version.definition,
    }
