"""Reads of the catalogue: published services, their definitions, export; the services an
administrator defines in the generator."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from salter.authorities.models import Authority
from salter.catalog.models import Service, ServiceVersion
from salter.identity.models import Membership, Role, User


def published_versions() -> QuerySet[ServiceVersion]:
    """The published version of every offered service of an active authority, with its service
    and authority, in one query."""
    return (
        ServiceVersion.objects.filter(
            status=ServiceVersion.Status.PUBLISHED, service__authority__is_active=True
        )
        .select_related("service__authority")
        .order_by("service__authority__code", "service__code")
    )


def published_version(authority_code: str, service_code: str) -> ServiceVersion | None:
    return (
        published_versions()
        .filter(service__authority__code=authority_code, service__code=service_code)
        .first()
    )


def offered_services() -> QuerySet[Service]:
    """Services that have a published version."""
    published = ServiceVersion.objects.filter(
        service=OuterRef("pk"), status=ServiceVersion.Status.PUBLISHED
    )
    return Service.objects.filter(Exists(published)).order_by("name")


def offered_services_prefetch() -> Prefetch[Any]:
    """For a list of authorities: ``authority.offered_services`` in one more query."""
    return Prefetch("services", queryset=offered_services(), to_attr="offered_services")


def export_definition(version: ServiceVersion) -> str:
    """The definition file of a version: the definition JSON itself, readable and stable."""
    return json.dumps(version.definition, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


# --- the generator ------------------------------------------------------------------------------


def administered(user: User) -> QuerySet[Authority]:
    """The authorities whose services ``user`` may define."""
    if user.is_platform_admin:
        return Authority.objects.order_by("name")
    admin_of = (
        Membership.objects.in_force()
        .filter(user=user, role=Role.AUTHORITY_ADMIN)
        .values("unit__authority_id")
    )
    return Authority.objects.filter(pk__in=admin_of).order_by("name")


def with_services(authorities: QuerySet[Authority]) -> QuerySet[Authority]:
    """``authorities``, each with its services by name and their versions, newest first
    (definitions left out): two more queries for the whole list."""
    return authorities.prefetch_related(
        Prefetch(
            "services",
            queryset=Service.objects.order_by("name").prefetch_related(
                Prefetch(
                    "versions",
                    queryset=ServiceVersion.objects.defer("definition").order_by("-number"),
                )
            ),
        )
    )


def versions_of(service: Service) -> QuerySet[ServiceVersion]:
    """The service's versions, newest first, without their definitions."""
    return service.versions.defer("definition").order_by("-number")
