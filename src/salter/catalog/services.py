"""Use cases that change services and their definitions.

A published definition never changes — a case pins the version it started on — so every edit
goes into a draft, and publishing a draft retires the version published before it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.authorities.models import Authority, OrgUnit
from salter.catalog import definitions, editor, pilots
from salter.catalog.definitions import DefinitionError, InvalidDefinition
from salter.catalog.models import Service, ServiceVersion
from salter.core.context import Actor
from salter.identity.permissions import require_platform_admin

__all__ = [
    "InvalidDefinition",
    "StaleDraft",
    "VersionStateError",
    "create_draft_version",
    "create_service",
    "create_service_with_draft",
    "import_definition",
    "publish_version",
    "retire_version",
    "set_unit",
    "update_draft",
]


class VersionStateError(ValueError):
    """The version is not in a state that allows this (e.g. editing a published version)."""


class StaleDraft(VersionStateError):
    """The draft was changed by someone else since the editor read it."""


@transaction.atomic
def create_service(
    actor: Actor,
    authority: Authority,
    *,
    code: str,
    name: str,
    kind: str,
    name_en: str = "",
    description: str = "",
    description_en: str = "",
    legal_basis: str = "",
    min_level_of_assurance: int = 2,
    classification_code: str = "",
    unit: OrgUnit | None = None,
) -> Service:
    require_platform_admin(actor, or_authority_admin_of=authority)
    if kind not in Service.Kind.values:
        raise ValueError(f"unknown kind of service: {kind}")
    if not 1 <= min_level_of_assurance <= 3:
        raise ValueError("the minimum level of assurance is 1, 2 or 3")
    if unit is not None and unit.authority_id != authority.pk:
        raise ValueError("the handling unit belongs to another authority")
    service = Service.objects.create(
        authority=authority,
        code=code,
        name=name,
        name_en=name_en,
        description=description,
        description_en=description_en,
        legal_basis=legal_basis,
        kind=kind,
        min_level_of_assurance=min_level_of_assurance,
        classification_code=classification_code,
        unit=unit,
    )
    audit.record(
        actor,
        "service.created",
        service,
        authority_id=authority.pk,
        payload={"code": code, "kind": kind, "unit": unit.code if unit is not None else None},
    )
    return service


@transaction.atomic
def create_service_with_draft(actor: Actor, authority: Authority, **fields: Any) -> ServiceVersion:
    """A new service from the generator (``fields`` as :func:`create_service` takes them) and
    its first draft to edit, :func:`salter.catalog.editor.starter_definition`: both or neither."""
    service = create_service(actor, authority, **fields)
    return create_draft_version(actor, service, editor.starter_definition())


@transaction.atomic
def set_unit(actor: Actor, service: Service, unit: OrgUnit | None) -> Service:
    """Give the service's cases to ``unit`` (None: the whole authority). Cases take their unit
    when they are submitted, so the change applies to new cases only."""
    service = _lock(service)
    require_platform_admin(actor, or_authority_admin_of=service.authority)
    if unit is not None and unit.authority_id != service.authority_id:
        raise ValueError("the handling unit belongs to another authority")
    if service.unit_id == (unit.pk if unit is not None else None):
        return service
    previous = service.unit_id
    service.unit = unit
    service.save(update_fields=["unit"])
    audit.record(
        actor,
        "service.unit_changed",
        service,
        authority_id=service.authority_id,
        payload={"from": previous, "to": unit.pk if unit is not None else None},
    )
    return service


def _lock(service: Service) -> Service:
    """Lock the service row: versions of one service are numbered and published one at a time."""
    return Service.objects.select_for_update().select_related("authority").get(pk=service.pk)


@transaction.atomic
def create_draft_version(
    actor: Actor, service: Service, definition: dict[str, Any] | None = None
) -> ServiceVersion:
    """A new draft: a copy of ``definition`` if given, else of the latest version (empty for a
    new service). The draft is validated when it is published, not before, so an
    administrator can save work in progress."""
    service = _lock(service)
    require_platform_admin(actor, or_authority_admin_of=service.authority)
    if definition is None:
        latest = service.versions.order_by("-number").first()
        definition = latest.definition if latest is not None else {}
    if not isinstance(definition, dict):
        raise InvalidDefinition([DefinitionError("", _("The definition must be a JSON object."))])
    number = (service.versions.aggregate(last=Max("number"))["last"] or 0) + 1
    version = ServiceVersion.objects.create(
        service=service,
        number=number,
        definition=copy.deepcopy(definition),
        created_by=actor.user,
    )
    audit.record(
        actor,
        "service.version_created",
        version,
        authority_id=service.authority_id,
        payload={"service": service.code, "number": number},
    )
    return version


def _lock_version(version: ServiceVersion) -> ServiceVersion:
    return (
        ServiceVersion.objects.select_for_update()
        .select_related("service__authority")
        .get(pk=version.pk)
    )


@transaction.atomic
def update_draft(
    actor: Actor,
    version: ServiceVersion,
    definition: dict[str, Any],
    *,
    revision: str | None = None,
    change: str = "",
) -> ServiceVersion:
    """Replace the definition of a draft. A published or retired version is never changed:
    cases pinned to it must keep behaving as they started. The definition is not validated
    (work in progress may be saved; it is validated when published).

    ``revision`` (:func:`definitions.revision` of what the editor started from), if given, must
    still be the draft's: a change saved meanwhile by someone else is refused, not overwritten.
    ``change`` says what was edited (e.g. ``field.added``), for the audit log."""
    version = _lock_version(version)
    require_platform_admin(actor, or_authority_admin_of=version.service.authority)
    if version.status != ServiceVersion.Status.DRAFT:
        raise VersionStateError(
            _("Version %(number)s is %(status)s and can no longer be changed; create a new draft.")
            % {"number": version.number, "status": version.get_status_display()}
        )
    if not isinstance(definition, dict):
        raise InvalidDefinition([DefinitionError("", _("The definition must be a JSON object."))])
    if revision is not None and revision != definitions.revision(version.definition):
        raise StaleDraft(
            _(
                "Someone else changed this draft meanwhile; your change was not saved. Look at "
                "the draft as it is now and make your change again."
            )
        )
    version.definition = copy.deepcopy(definition)
    version.save(update_fields=["definition"])
    payload: dict[str, Any] = {"service": version.service.code, "number": version.number}
    if change:
        payload["change"] = change
    audit.record(
        actor,
        "service.version_updated",
        version,
        authority_id=version.service.authority_id,
        payload=payload,
    )
    return version


@transaction.atomic
def publish_version(actor: Actor, version: ServiceVersion) -> ServiceVersion:
    """Publish a draft after validating it (all problems are reported at once, as
    :class:`InvalidDefinition`); the version published before it is retired."""
    _lock(version.service)
    version = _lock_version(version)
    service = version.service
    require_platform_admin(actor, or_authority_admin_of=service.authority)
    if version.status != ServiceVersion.Status.DRAFT:
        raise VersionStateError(
            _("Only a draft can be published; version %(number)s is %(status)s.")
            % {"number": version.number, "status": version.get_status_display()}
        )
    definitions.check(version.definition)
    previous = service.versions.filter(status=ServiceVersion.Status.PUBLISHED).first()
    if previous is not None:
        _retire(actor, previous)
    version.status = ServiceVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_at"])
    audit.record(
        actor,
        "service.version_published",
        version,
        authority_id=service.authority_id,
        payload={
            "service": service.code,
            "number": version.number,
            "replaces": previous.number if previous is not None else None,
        },
    )
    return version


@transaction.atomic
def retire_version(actor: Actor, version: ServiceVersion) -> ServiceVersion:
    """Withdraw a published version: no new case can start on it (running cases go on).
    The service is then not offered until another version is published."""
    _lock(version.service)
    version = _lock_version(version)
    require_platform_admin(actor, or_authority_admin_of=version.service.authority)
    if version.status != ServiceVersion.Status.PUBLISHED:
        raise VersionStateError(
            _("Only the published version can be retired; version %(number)s is %(status)s.")
            % {"number": version.number, "status": version.get_status_display()}
        )
    _retire(actor, version)
    return version


def _retire(actor: Actor, version: ServiceVersion) -> None:
    version.status = ServiceVersion.Status.RETIRED
    version.retired_at = timezone.now()
    version.save(update_fields=["status", "retired_at"])
    audit.record(
        actor,
        "service.version_retired",
        version,
        authority_id=version.service.authority_id,
        payload={"service": version.service.code, "number": version.number},
    )


def import_definition(actor: Actor, service: Service, raw: bytes | str) -> ServiceVersion:
    """A new draft from an uploaded definition file (JSON). Only its syntax is checked here;
    the whole definition is validated when the draft is published."""
    try:
        definition = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidDefinition(
            [
                DefinitionError(
                    "", _("The file is not valid JSON: %(problem)s") % {"problem": str(exc)}
                )
            ]
        ) from exc
    return create_draft_version(actor, service, definition)


def offer_pilot(actor: Actor, authority: Authority, pilot: pilots.Pilot) -> ServiceVersion:
    """Offer a shipped pilot procedure at ``authority``: create the service and publish the
    pilot's definition as its first version. Safe to run again: returns what is published."""
    service = Service.objects.filter(authority=authority, code=pilot.code).first()
    if service is None:
        service = create_service(
            actor,
            authority,
            code=pilot.code,
            name=pilot.name,
            name_en=pilot.name_en,
            description=pilot.description,
            description_en=pilot.description_en,
            legal_basis=pilot.legal_basis,
            kind=pilot.kind,
            min_level_of_assurance=pilot.min_level_of_assurance,
            classification_code=pilot.classification_code,
        )
    published = service.versions.filter(status=ServiceVersion.Status.PUBLISHED).first()
    if published is not None:
        return published
    draft = service.versions.filter(status=ServiceVersion.Status.DRAFT).order_by("number").last()
    if draft is None:
        draft = create_draft_version(actor, service, pilot.definition())
    return publish_version(actor, draft)
