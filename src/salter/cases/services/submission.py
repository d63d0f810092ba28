"""Submission: an application becomes a case — validated, numbered, on the timeline, with
its first task — and the apps that take part in it hear of it (:class:`listeners.Submitted`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.authorities.models import RegistryBook
from salter.authorities.services import allocate_number
from salter.cases import listeners, timeline, workflow
from salter.cases.errors import CaseError
from salter.cases.models import Case, CaseEvent, Draft
from salter.cases.services.common import (
    invalid,
    log,
    official_roles,
    open_task,
    set_deadline,
)
from salter.catalog.forms import ServiceForm
from salter.catalog.models import Service, ServiceVersion
from salter.core import confidentiality
from salter.core.context import Actor
from salter.identity.permissions import require_user


def submit(
    actor: Actor,
    service_version: ServiceVersion,
    data: Mapping[str, Any],
    *,
    idempotency_key: str | None = None,
) -> tuple[Case, bool]:
    """Register an application: ``(case, True)``, or ``(case, False)`` for a retry.

    A retry is a submission with an ``idempotency_key`` the applicant used before: it returns
    the case of the first attempt and takes no second registry number. Two attempts racing
    with one key both allocate under the counter lock, but the second one's insert hits the
    unique (applicant, key) constraint, its savepoint rolls back — number included, so the
    book has no gap — and it returns the first attempt's case.
    """
    require_user(actor)
    assert actor.user is not None
    key = idempotency_key or None
    if key is not None:
        existing = _existing(actor, service_version, key)
        if existing is not None:
            return existing, False
    try:
        # The audit events (the number, the submission) join the chain together at the end,
        # so the platform-wide chain head is not locked while the case is written.
        with transaction.atomic(), audit.deferred():
            return _register(actor, service_version, data, key), True
    except IntegrityError:
        existing = _existing(actor, service_version, key) if key is not None else None
        if existing is None:
            raise
        return existing, False


def _existing(actor: Actor, version: ServiceVersion, key: str) -> Case | None:
    case = (
        Case.objects.select_related("service_version__service__authority")
        .defer("service_version__definition")
        .filter(applicant=actor.user, idempotency_key=key)
        .first()
    )
    if case is not None and case.service_version.service_id != version.service_id:
        raise CaseError(
            _("This idempotency key was already used for another application; use a new one.")
        )
    return case


def _checked(definition: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The data the case will hold, checked as the applicant's form checks it, whichever way
    it came (the pages or the API): the schema (unknown names refused), then the form's own
    rules — identifiers by their check digits, required fields that a condition shows — and
    fields hidden by their condition dropped."""
    errors = workflow.field_errors(definition["form"]["schema"], data)
    if errors:
        raise invalid(errors)
    form = ServiceForm(definition)
    errors = form.validate(data).errors
    if errors:
        raise invalid(errors)
    return {
        name: value
        for name, value in data.items()
        if name not in form.specs or form.visible(name, data)
    }


def _register(
    actor: Actor, service_version: ServiceVersion, data: Mapping[str, Any], key: str | None
) -> Case:
    # The status is read again in this transaction; the definition of a published version
    # never changes, so the caller's copy is used when it has one.
    version = (
        ServiceVersion.objects.select_related("service__authority")
        .defer("definition")
        .get(pk=service_version.pk)
    )
    if "definition" in service_version.__dict__:
        version.definition = service_version.definition
    service = version.service
    authority = service.authority
    if version.status != ServiceVersion.Status.PUBLISHED or not authority.is_active:
        raise CaseError(_("This service is not offered at the moment."))
    if service.kind == Service.Kind.INTERNAL and not official_roles(actor, authority.pk):
        raise PermissionDenied(
            _("This is an internal procedure: only the staff of %(authority)s can apply.")
            % {"authority": authority.display_name}
        )
    definition = version.definition
    data = _checked(definition, data)
    book = RegistryBook.objects.get(authority=authority, is_default=True)
    allocation = allocate_number(actor, book)
    now = timezone.now()
    case = Case(
        service_version=version,
        authority=authority,
        applicant=actor.user,
        on_behalf_of=actor.on_behalf_of or "",
        registry_number=allocation.formatted,
        book=book,
        year=allocation.year,
        number=allocation.number,
        state=definition["workflow"]["initial"],
        data=data,
        submitted_at=now,
        state_entered_at=now,
        idempotency_key=key,
        unit_id=service.unit_id,
        confidentiality=definition.get("confidentiality", confidentiality.DEFAULT_CASE_LEVEL),
    )
    set_deadline(case)
    if workflow.waits_for_applicant(definition, case.state):  # e.g. waiting for the fee
        case.paused_at = now
    case.save(force_insert=True)
    # The draft the application was filled in is done with, in the same transaction.
    Draft.objects.filter(applicant=actor.user, service=service).delete()
    timeline.record(
        case,
        CaseEvent.Kind.SUBMITTED,
        actor,
        at=now,
        role=workflow.APPLICANT,
        to_state=case.state,
        payload={"registry_number": case.registry_number},
    )
    open_task(case, now, new=True)
    # The case's subjects are recorded, the application registered, fees ordered, the receipt
    # queued, evidence asked for — by the apps that handle them, in this transaction.
    listeners.announce(listeners.Submitted(actor, case))
    audit.record(
        actor,
        "case.submitted",
        case,
        authority_id=authority.pk,
        payload={
            "service": service.code,
            "version": version.number,
            "registry_number": case.registry_number,
            "state": case.state,
        },
    )
    log.info("case.submitted", case=case.pk, registry_number=case.registry_number)
    return case
