"""Use cases that change authorities, units and registry books."""

from __future__ import annotations

from django.db import transaction

from salter.audit import services as audit
from salter.authorities.models import Authority, OrgUnit, RegistryBook
from salter.core.context import Actor
from salter.identity.permissions import require_platform_admin


@transaction.atomic
def create_authority(
    actor: Actor,
    *,
    code: str,
    name: str,
    kind: str,
    name_en: str = "",
    parent: Authority | None = None,
    pib: str = "",
    mb: str = "",
    address: str = "",
) -> Authority:
    require_platform_admin(actor)
    authority = Authority.objects.create(
        code=code,
        name=name,
        name_en=name_en,
        kind=kind,
        parent=parent,
        pib=pib,
        mb=mb,
        address=address,
    )
    RegistryBook.objects.create(
        authority=authority,
        code="01",
        name="Деловодник",
        name_en="Registry book",
        is_default=True,
    )
    audit.record(
        actor,
        "authority.created",
        authority,
        authority_id=authority.pk,
        payload={"code": code, "kind": kind},
    )
    return authority


@transaction.atomic
def create_unit(
    actor: Actor,
    authority: Authority,
    *,
    code: str,
    name: str,
    name_en: str = "",
    parent: OrgUnit | None = None,
) -> OrgUnit:
    require_platform_admin(actor, or_authority_admin_of=authority)
    unit = OrgUnit.objects.create(
        authority=authority, code=code, name=name, name_en=name_en, parent=parent
    )
    audit.record(actor, "unit.created", unit, authority_id=authority.pk, payload={"code": code})
    return unit
