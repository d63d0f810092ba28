"""Everything the platform holds about a person, for them to download (the right of access):
JSON for machines and a readable PDF.

Read from the other apps' models, never written: the account and the person (their own JMBG
shown in clear — it is theirs), mandates given and held, companies represented, their cases
(form data, public timeline, registry entries, evidence from registers, fees), the cases that
name them, drafts, the e-mailbox (messages, deliveries, consents), notification preferences,
API tokens and login sessions (without their secrets), and the access log as they may see it.

A case that merely names the person (another applicant's application naming their JMBG) is
listed with the fields that name them, not with the other applicant's form: that is the
applicant's data. Internal comments and drafts of acts are the authority's working papers and
stay out, as on the case page; the registry entries of the case are listed by number, subject
and date.

Each export is written to the audit log (``exchange.export``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from salter.audit import services as audit
from salter.cases import workflow
from salter.cases.models import Case, CaseEvent, Draft
from salter.catalog.forms import ServiceForm
from salter.core import pii
from salter.core.context import Actor
from salter.core.translit import html_to_latin
from salter.documents.models import Document
from salter.documents.rendering import render_pdf
from salter.exchange import queries
from salter.exchange.models import CaseSubject, EvidenceRequest
from salter.identity.models import ApiToken, Mandate, User, UserSession
from salter.mailbox.models import Consent, Delivery, Message, NotificationPreference
from salter.payments.models import PaymentOrder

FORMAT = "salter.my-data/1"
# The PDF lists the newest reads; the JSON has them all (a person read by many authorities
# over years may have a hundred thousand).
PDF_ACCESS_ROWS = 500


def _when(at: datetime | None) -> datetime | None:
    return timezone.localtime(at) if at is not None else None


def _account(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "phone": user.phone,
        "language": user.language,
        "joined_at": _when(user.date_joined),
        "email_verified_at": _when(user.email_verified_at),
    }


def _person(user: User) -> dict[str, Any] | None:
    person = user.person if user.person_id is not None else None
    if person is None:
        return None
    return {
        "given_name": person.given_name,
        "family_name": person.family_name,
        "jmbg": person.jmbg or "",
        "birth_date": person.birth_date,
    }


def _mandate(mandate: Mandate) -> dict[str, Any]:
    return {
        "kind": mandate.kind,
        "kind_label": str(mandate.get_kind_display()),
        "agent": mandate.agent.full_name,
        "for": mandate.principal_label,
        "valid_from": _when(mandate.valid_from),
        "valid_until": _when(mandate.valid_until),
        "revoked_at": _when(mandate.revoked_at),
        "consent": mandate.consent,
    }


def _mandates(user: User) -> dict[str, list[dict[str, Any]]]:
    held = list(Mandate.objects.filter(agent=user).select_related("agent", "company", "person"))
    given = []
    if user.person_id is not None:
        given = list(
            Mandate.objects.filter(person_id=user.person_id).select_related(
                "agent", "company", "person"
            )
        )
    now = timezone.now()
    companies = [
        {
            "name": m.company.name,
            "pib": m.company.pib,
            "mb": m.company.mb,
            "address": m.company.address,
            "in_force": m.is_valid(now),
        }
        for m in held
        if m.company is not None
    ]
    return {
        "mandates_given": [_mandate(m) for m in given],
        "mandates_held": [_mandate(m) for m in held],
        "companies_represented": companies,
    }


def _event(event: CaseEvent, definition: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": _when(event.at),
        "what": str(event.get_kind_display()),
        "from": workflow.state_label(definition, event.from_state) if event.from_state else "",
        "to": workflow.state_label(definition, event.to_state) if event.to_state else "",
        "by": event.actor.full_name if event.actor is not None else "",
        "opinion": event.opinion,
    }


def _grouped(rows: Any) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        found[row.case_id].append(row)
    return found


def _cases(user: User) -> list[dict[str, Any]]:
    """The user's applications with their form, public timeline, registry entries, evidence
    and fees: five queries whatever their number."""
    cases = list(
        Case.objects.filter(applicant=user)
        .select_related("service_version__service__authority")
        .order_by("-submitted_at", "-id")
    )
    ids = [c.pk for c in cases]
    events = _grouped(
        CaseEvent.objects.filter(case_id__in=ids, internal=False)
        .select_related("actor")
        .order_by("id")
    )
    documents = _grouped(
        Document.objects.filter(case_id__in=ids)
        .defer("search_text")
        .order_by("number", "sub_number")
    )
    evidence = _grouped(EvidenceRequest.objects.filter(case_id__in=ids).order_by("id"))
    orders = _grouped(PaymentOrder.objects.filter(case_id__in=ids).order_by("id"))
    shown = []
    for case in cases:
        definition = case.service_version.definition
        service = case.service_version.service
        shown.append(
            {
                "registry_number": case.registry_number,
                "service": service.display_name,
                "authority": service.authority.display_name,
                "state": case.state,
                "state_label": workflow.state_label(definition, case.state),
                "submitted_at": _when(case.submitted_at),
                "closed_at": _when(case.closed_at),
                "deadline_at": case.deadline_at,
                "on_behalf_of": case.on_behalf_of,
                "form": case.data,
                "form_summary": [
                    {"label": label, "value": value}
                    for label, value in ServiceForm(definition).summary(case.data)
                ],
                "timeline": [_event(e, definition) for e in events[case.pk]],
                "documents": [
                    {
                        "registry_number": d.registry_number,
                        "subject": d.subject,
                        "direction": d.direction,
                        "registered_at": _when(d.registered_at),
                        "issued_at": _when(d.issued_at),
                        "voided_at": _when(d.voided_at),
                    }
                    for d in documents[case.pk]
                ],
                "evidence": [
                    {
                        "code": e.code,
                        "register_query": e.service_code,
                        "state": e.state,
                        "state_label": str(e.get_state_display()),
                        "answered_at": _when(e.answered_at),
                        "answer": e.answer,
                    }
                    for e in evidence[case.pk]
                ],
                "payment_orders": [
                    {
                        "fee": o.display_label,
                        "amount": o.amount,
                        "currency": o.currency,
                        "model": o.model,
                        "reference": o.reference,
                        "state": o.state,
                        "state_label": str(o.get_state_display()),
                        "created_at": _when(o.created_at),
                        "paid_at": _when(o.paid_at),
                    }
                    for o in orders[case.pk]
                ],
            }
        )
    return shown


def _named_in(user: User, jmbg: str) -> list[dict[str, Any]]:
    """Other applicants' cases that name the person: which case, and which fields name them."""
    if user.person_id is None:
        return []
    cases = (
        Case.objects.filter(
            pk__in=CaseSubject.objects.filter(person_id=user.person_id).values("case_id")
        )
        .exclude(applicant=user)
        .select_related("service_version__service__authority")
        .defer("service_version__definition", "inputs")
        .order_by("-submitted_at", "-id")
    )
    return [
        {
            "registry_number": case.registry_number,
            "service": case.service_version.service.display_name,
            "authority": case.service_version.service.authority.display_name,
            "submitted_at": _when(case.submitted_at),
            "fields": sorted(
                name
                for name, value in case.data.items()
                if jmbg and any(found == jmbg for found in pii.identifiers_in(value))
            ),
        }
        for case in cases
    ]


def _drafts(user: User) -> list[dict[str, Any]]:
    return [
        {
            "service": d.service.display_name,
            "updated_at": _when(d.updated_at),
            "form": d.data,
        }
        for d in Draft.objects.filter(applicant=user).select_related("service").order_by("id")
    ]


def _mailbox(user: User) -> dict[str, list[dict[str, Any]]]:
    messages = (
        Message.objects.filter(mailbox__user=user)
        .select_related("authority", "document", "case")
        .defer("document__search_text", "case__data", "case__inputs")
        .order_by("-created_at", "-id")
    )
    deliveries = {
        d.message_id: d for d in Delivery.objects.filter(message__mailbox__user=user).order_by()
    }
    consents = Consent.objects.filter(mailbox__user=user).select_related("authority").order_by("id")
    return {
        "messages": [
            {
                "subject": m.subject,
                "direction": m.direction,
                "authority": m.authority.display_name,
                "created_at": _when(m.created_at),
                "read_at": _when(m.read_at),
                "registry_number": m.document.registry_number if m.document else "",
                "case": m.case.registry_number if m.case else "",
                "delivery": (
                    {
                        "channel": deliveries[m.pk].channel,
                        "state": deliveries[m.pk].state,
                        "state_label": str(deliveries[m.pk].get_state_display()),
                        "effective_at": _when(deliveries[m.pk].effective_at),
                    }
                    if m.pk in deliveries
                    else None
                ),
            }
            for m in messages
        ],
        "consents": [
            {
                "authority": c.authority.display_name if c.authority else "",
                "given_at": _when(c.given_at),
                "revoked_at": _when(c.revoked_at),
            }
            for c in consents
        ],
    }


def _settings(user: User) -> dict[str, list[dict[str, Any]]]:
    return {
        "notification_preferences": [
            {"kind": p.kind, "channel": p.channel, "enabled": p.enabled}
            for p in NotificationPreference.objects.filter(user=user).order_by("kind", "channel")
        ],
        "api_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "scopes": t.scopes,
                "created_at": _when(t.created_at),
                "expires_at": _when(t.expires_at),
                "revoked_at": _when(t.revoked_at),
                "last_used_at": _when(t.last_used_at),
            }
            for t in ApiToken.objects.filter(user=user).order_by("id")
        ],
        "sessions": [
            {
                "started_at": _when(s.created_at),
                "last_seen_at": _when(s.last_seen_at),
                "ended_at": _when(s.ended_at),
                "ip": s.ip,
                "device": s.user_agent,
                "method": s.method,
            }
            for s in UserSession.objects.filter(user=user).order_by("-created_at")
        ],
    }


def access_entries(user: User, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The reads of the person's data they may see, newest first (the index's order)."""
    if user.person_id is None:
        return
    rows = (
        queries.visible(user.person_id)
        .select_related("authority", "case")
        .only(*queries.SHOWN)
        .order_by("-at", "-id")
    )
    if limit is not None:
        rows = rows[:limit]
    for record in rows.iterator(chunk_size=2000):
        e = queries.entry(record, user.pk)
        yield {
            "at": _when(e.at),
            "reader": e.reader,
            "authority": e.authority,
            "action": e.action,
            "action_label": e.action_label,
            "purpose": e.purpose_text,
            "legal_basis": e.legal_basis,
            "items": e.items,
            "case": e.case_number,
        }


def collect(user: User, *, access_limit: int | None = None) -> dict[str, Any]:
    """Everything held about ``user``, in the active language, as plain values (dates and
    amounts as Python objects: :func:`as_json` writes them)."""
    person = _person(user)
    return {
        "format": FORMAT,
        "generated_at": timezone.localtime(),
        "account": _account(user),
        "person": person,
        **_mandates(user),
        "cases": _cases(user),
        "named_in_cases": _named_in(user, person["jmbg"] if person else ""),
        "drafts": _drafts(user),
        "mailbox": _mailbox(user),
        **_settings(user),
        "access_log": list(access_entries(user, limit=access_limit)),
    }


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


def _html_lang(latin: bool) -> str:
    if latin:
        return "sr-Latn"
    return "en" if translation.get_language() == "en" else "sr-Cyrl"


def as_pdf(user: User, *, latin: bool = False) -> bytes:
    """The readable copy, A4, in the active language (``latin``: Serbian in Latin script);
    the access log's newest :data:`PDF_ACCESS_ROWS` reads (the JSON has all of them)."""
    data = collect(user, access_limit=PDF_ACCESS_ROWS + 1)
    reads = data["access_log"]
    html = render_to_string(
        "exchange/export_pdf.html",
        {
            "data": data,
            "reads": reads[:PDF_ACCESS_ROWS],
            "more_reads": len(reads) > PDF_ACCESS_ROWS,
            "html_lang": _html_lang(latin),
        },
    )
    return render_pdf(html_to_latin(html) if latin else html)


@transaction.atomic
def record_export(actor: Actor, fmt: str) -> None:
    """Write the export to the audit log: who downloaded their data, when, in which form."""
    audit.record(actor, "exchange.export", actor.user, payload={"format": fmt})
