"""The acts a case produces: drafts, and decisions signed by the approver and sealed.

A transition of a service definition may name a document of the definition and what the step
does with it (``"document": {"code": "decision", "action": …}``):

* ``draft`` — the drafter's step: the document is rendered from the case as it now stands,
  marked DRAFT, and registered as an act of the case (the next sub-number of the case's number)
  with the draft as a version. A draft returned for revision and drafted again becomes the next
  version of the same entry: the act keeps its number.
* ``sign`` — the approver's step (the last step of the transition's approval line, if it has
  one; the reviewers before record their opinions): the document is rendered final, signed with
  the approver's personal key — released only on a fresh second-factor confirmation
  (:mod:`salter.identity.fresh`) — and sealed with the authority's e-seal, each PAdES with a
  timestamp; kept long (a category kept permanently or for ten years and more) it gets a
  document timestamp too (B-LTA). The signed PDF becomes the act's version and the act is
  *issued*.
* ``seal`` — the same without a personal signature: the authority's seal alone (acts the
  platform issues by itself, e.g. on a timer).

All of it runs inside the step's transaction, after the case has moved: if rendering or signing
fails, the step is not taken and nothing is registered (a stored file the rollback orphaned is
removed by ``salter sweep_files``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import structlog
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.authorities.models import Category
from salter.authorities.services import current_categories
from salter.cases import timeline
from salter.cases.models import Case, CaseEvent
from salter.core.context import Actor
from salter.documents import rendering, services, signing
from salter.documents.models import Document, DocumentVersion
from salter.documents.uploads import CheckedFile
from salter.identity import fresh
from salter.identity.fresh import SecondFactorRequired
from salter.identity.models import User
from salter.identity.validators import jmbg_gender

log = structlog.get_logger(__name__)

DRAFT, SIGN, SEAL = "draft", "sign", "seal"
ACTIONS = (DRAFT, SIGN, SEAL)
# Kept this long or longer, an act gets a document timestamp (PAdES B-LTA) so its validation
# data stays provable after the certificates expire.
LONG_TERM_YEARS = 10


class ActError(Exception):
    """The act cannot be made (the signing certificate is revoked, the TSA does not answer…);
    the step is not taken."""


def action_of(transition: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(document code, action)`` of a transition that makes an act, else ``None``."""
    spec = transition.get("document")
    if not isinstance(spec, Mapping):
        return None
    return str(spec.get("code", "")), str(spec.get("action", ""))


def signs(transition: Mapping[str, Any]) -> bool:
    found = action_of(transition)
    return found is not None and found[1] == SIGN


def _language(case: Case) -> str:
    language = (getattr(case.applicant, "language", "") or "sr").lower()
    return language if language in rendering.LANGUAGES else "sr"


def _category(case: Case, entry: Mapping[str, Any]) -> Category | None:
    code = str(entry.get("category", ""))
    if not code:
        return None
    for category in current_categories(case.authority):
        if category.code == code:
            return category
    return None


def _long_term(category: Category | None) -> bool:
    if category is None:
        return False
    return category.permanent or (category.retention_years or 0) >= LONG_TERM_YEARS


def _gender(user: User | None) -> str:
    """The signer's grammatical gender from their JMBG, ``""`` when it is not known."""
    person = user.person if user is not None else None
    return jmbg_gender(person.jmbg) if person is not None else ""


def _current_act(case: Case, code: str) -> Document | None:
    """The case's act for document ``code`` that is still a draft (to be revised or signed)."""
    return (
        Document.objects.filter(case=case, act_code=code, voided_at__isnull=True)
        .filter(issued_at__isnull=True)
        .order_by("-sub_number")
        .first()
    )


def _pdf_file(code: str, document: Document, data: bytes, kind: str) -> CheckedFile:
    name = f"{document.registry_number.replace('/', '-')}-{code}-{kind}.pdf"
    return CheckedFile(
        name=name,
        content_type="application/pdf",
        data=data,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def make(
    actor: Actor,
    case: Case,
    transition: Mapping[str, Any],
    *,
    confirmation: fresh.Confirmation | None = None,
) -> Document | None:
    """Make the act ``transition`` names for ``case`` (locked, already moved). ``None`` if the
    transition makes none."""
    found = action_of(transition)
    if found is None:
        return None
    code, action = found
    if action == SIGN and not fresh.is_fresh(confirmation, actor.user):
        raise SecondFactorRequired(
            _("To sign, confirm it is you: enter a code from your authenticator app.")
        )
    entry = rendering.document_entry(case, code)
    label = entry.get("label", {})
    subject = str(label.get("sr") or label.get("en") or code)
    now = timezone.now()
    document = _current_act(case, code)
    category = _category(case, entry)
    if document is None:
        document = services.register(
            actor,
            authority=case.authority,
            direction=Document.Direction.OUTGOING,
            subject=subject,
            recipient=case.applicant.full_name or case.applicant.email,
            category=category,
            case=case,
            act_code=code,
        )
    signer: User | None = actor.user if action == SIGN else None
    pdf = rendering.render_document(
        case,
        code,
        language=_language(case),
        registry_number=document.registry_number,
        verification_code=document.verification_code,
        issued_at=now,
        draft=action == DRAFT,
        signer_name=signer.full_name if signer is not None else "",
        signer_gender=_gender(signer),
    )
    if action != DRAFT:
        pdf = _sign(actor, case, document, pdf, signer, confirmation, _long_term(category))
    kind = {
        DRAFT: DocumentVersion.Kind.DRAFT,
        SIGN: DocumentVersion.Kind.SIGNED,
        SEAL: DocumentVersion.Kind.SEALED,
    }[action]
    version = services.add_version(
        actor, document, _pdf_file(code, document, pdf, kind), note=str(kind.label), kind=kind
    )
    if action != DRAFT:
        document.issued_at = now
        document.issued_by = signer
        document.save(update_fields=["issued_at", "issued_by"])
    timeline.record(
        case,
        CaseEvent.Kind.DRAFTED if action == DRAFT else CaseEvent.Kind.DOCUMENT,
        actor,
        at=now,
        internal=action == DRAFT,
        payload={
            "document": document.pk,
            "registry_number": document.registry_number,
            "code": code,
            "label": dict(label),
            "version": version.number,
            "action": action,
        },
    )
    log.info("documents.act", case=case.pk, document=document.pk, action=action)
    return document


def _sign(
    actor: Actor,
    case: Case,
    document: Document,
    pdf: bytes,
    signer: User | None,
    confirmation: fresh.Confirmation | None,
    long_term: bool,
) -> bytes:
    authority = case.authority
    location = authority.name
    try:
        if signer is not None:
            assert confirmation is not None
            audit.record(
                actor,
                "signature.key_released",
                document,
                authority_id=authority.pk,
                payload={
                    "method": confirmation.method,
                    "confirmed_at": confirmation.at.isoformat(),
                },
            )
            pdf = signing.sign_pdf(
                pdf,
                signing.personal_signer(signer.pk, signer.full_name, signer.email),
                reason=_("Approved and signed"),
                location=location,
                field_name="Signature",
            )
        pdf = signing.sign_pdf(
            pdf,
            signing.seal_signer(authority.code, authority.name),
            reason=_("Issued under the e-seal of the authority"),
            location=location,
            field_name="Seal",
            long_term=long_term,
        )
    except signing.SigningRefused as exc:
        log.warning("documents.act.refused", document=document.pk, error=str(exc))
        raise ActError(
            _(
                "The document could not be signed: %(reason)s. Nothing was changed; tell the "
                "authority's administrator."
            )
            % {"reason": exc}
        ) from exc
    return pdf
