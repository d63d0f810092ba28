"""Use cases that change the data services: an authority exposes one of its registers' queries
to the platform, says who may ask it, and withdraws it.

A data service is the platform's description of a query a register answers over HTTP
(:class:`~salter.exchange.models.DataService`; protocol: docs/exchange.md). The platform
operator or the register holder's administrator registers it; the token the register issued
to the platform is stored encrypted and never leaves in an audit event.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.authorities.models import Authority
from salter.core.context import Actor
from salter.exchange.models import DataService
from salter.identity.permissions import require_platform_admin

_CODE = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _fields(value: Any, label: str) -> list[dict[str, str]]:
    """Inputs or outputs as ``[{"name", "label", "label_en"}]``, names unique."""
    if not isinstance(value, list):
        raise ValidationError({label: _("A list of fields, each with a name and labels.")})
    fields: list[dict[str, str]] = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
            raise ValidationError(
                {label: _("Each field needs a name of small letters, digits and underscores.")}
            )
        fields.append(
            {
                "name": name,
                "label": str(item.get("label") or name),
                "label_en": str(item.get("label_en") or item.get("label") or name),
            }
        )
    if len({f["name"] for f in fields}) != len(fields):
        raise ValidationError({label: _("Two fields have the same name.")})
    return fields


def _check_url(value: str, label: str) -> str:
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise ValidationError({label: _("Enter the full http(s) address.")}) from None
    return value


@transaction.atomic
def register_data_service(
    actor: Actor,
    *,
    code: str,
    authority: Authority,
    name: str,
    url: str,
    openapi_url: str,
    legal_basis: str,
    inputs: list[dict[str, str]],
    outputs: list[dict[str, str]],
    name_en: str = "",
    description: str = "",
    token: str | None = None,
    timeout_seconds: float | None = None,
) -> DataService:
    """Expose ``authority``'s register query ``code`` (``register.query``) to the platform, or
    bring an existing one up to date (and active again). ``token`` None keeps the stored
    token; ``timeout_seconds`` None uses ``SALTER_REGISTER_TIMEOUT_SECONDS``. Registering the
    same description again changes nothing and records nothing."""
    require_platform_admin(actor, or_authority_admin_of=authority)
    if not _CODE.fullmatch(code):
        raise ValidationError({"code": _("Write the code as register.query (small letters).")})
    if not name.strip():
        raise ValidationError({"name": _("Name the data service.")})
    if not legal_basis.strip():
        raise ValidationError({"legal_basis": _("Name the law that allows the query.")})
    timeout = (
        settings.SALTER_REGISTER_TIMEOUT_SECONDS if timeout_seconds is None else timeout_seconds
    )
    if not 0 < timeout <= 300:
        raise ValidationError({"timeout_seconds": _("Between a fraction of a second and 300.")})
    values: dict[str, Any] = {
        "authority": authority,
        "name": name.strip(),
        "name_en": name_en.strip(),
        "description": description.strip(),
        "url": _check_url(url, "url"),
        "openapi_url": _check_url(openapi_url, "openapi_url"),
        "legal_basis": legal_basis.strip(),
        "inputs": _fields(inputs, "inputs"),
        "outputs": _fields(outputs, "outputs"),
        "timeout_seconds": float(timeout),
        "is_active": True,
    }
    if token is not None:
        values["token"] = token
    service = DataService.objects.select_for_update().filter(code=code).first()
    if service is None:
        service = DataService.objects.create(code=code, **values)
        audit.record(
            actor,
            "exchange.data_service_registered",
            service,
            authority_id=authority.pk,
            payload=_described(service),
        )
        return service
    if service.authority_id != authority.pk:
        # Moving a service to another holder needs the right over the present holder too.
        require_platform_admin(actor, or_authority_admin_of=service.authority)
    changed = sorted(f for f, v in values.items() if f != "authority" and getattr(service, f) != v)
    if service.authority_id != authority.pk:
        changed.append("authority")
    if not changed:
        return service
    for field, value in values.items():
        setattr(service, field, value)
    service.save()
    audit.record(
        actor,
        "exchange.data_service_updated",
        service,
        authority_id=authority.pk,
        payload={**_described(service), "changed": changed},
    )
    return service


def _described(service: DataService) -> dict[str, Any]:
    """What the audit keeps of a data service: never its token."""
    return {
        "code": service.code,
        "url": service.url,
        "legal_basis": service.legal_basis,
        "inputs": [f["name"] for f in service.inputs],
        "outputs": [f["name"] for f in service.outputs],
        "has_token": bool(service.token),
    }


@transaction.atomic
def set_allowed(
    actor: Actor, service: DataService, authorities: Iterable[Authority]
) -> DataService:
    """Who may ask: only ``authorities``, or every authority on the platform when empty."""
    require_platform_admin(actor, or_authority_admin_of=service.authority)
    chosen = sorted(set(authorities), key=lambda a: a.code)
    service.allowed.set(chosen)
    audit.record(
        actor,
        "exchange.data_service_allowed",
        service,
        authority_id=service.authority_id,
        payload={"code": service.code, "allowed": [a.code for a in chosen]},
    )
    return service


@transaction.atomic
def deactivate(actor: Actor, service: DataService) -> DataService:
    """Stop asking the service: queries are refused before anything is sent. Its messages
    stay; registering it again makes it active."""
    require_platform_admin(actor, or_authority_admin_of=service.authority)
    if not service.is_active:
        return service
    service.is_active = False
    service.save(update_fields=["is_active"])
    audit.record(
        actor,
        "exchange.data_service_deactivated",
        service,
        authority_id=service.authority_id,
        payload={"code": service.code},
    )
    return service
