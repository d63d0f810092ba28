"""Use cases of the e-mailbox: letters from citizens to authorities, consent to electronic
communication, opening and answering deliveries (:mod:`salter.mailbox.delivery`).

A letter (a supplement, an appeal, a new submission) is registered in the authority's registry
book the moment it is sent — under the case's number with the next sub-number when it belongs
to one of the sender's cases, else under a new number — and the sender gets a receipt with that
registry number, in the mailbox and by e-mail. Sending is idempotent: the same key returns the
first letter and registers nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.authorities.models import Authority
from salter.cases import timeline
from salter.cases.models import Case, CaseEvent
from salter.core.context import Actor
from salter.documents import services as registry
from salter.documents.models import Document
from salter.documents.uploads import CheckedFile
from salter.identity.models import Mandate
from salter.identity.permissions import require_user
from salter.mailbox import outbox
from salter.mailbox.delivery import answer, mailbox_of, may_read, opened, record_postal
from salter.mailbox.models import Consent, Mailbox, Message

log = structlog.get_logger(__name__)

__all__ = [
    "answer",
    "give_consent",
    "mailbox_of",
    "may_read",
    "opened",
    "record_postal",
    "revoke_consent",
    "send_letter",
]

MAX_SUBJECT = 300
MAX_BODY = 20000
MAX_FILES = 5
REGISTRY = "mailbox"  # Actor.via under which the platform registers a received letter


def _owned(actor: Actor, mailbox: Mailbox) -> None:
    require_user(actor)
    assert actor.user is not None
    if not may_read(actor.user, mailbox):
        raise PermissionDenied(_("This is not your mailbox."))


# --- letters ---------------------------------------------------------------------------------


def send_letter(
    actor: Actor,
    mailbox: Mailbox,
    authority: Authority,
    *,
    subject: str,
    body: str,
    files: Sequence[CheckedFile] = (),
    case: Case | None = None,
    idempotency_key: str | None = None,
) -> tuple[Message, bool]:
    """Send a letter to ``authority``: ``(message, True)``, or the first letter and False for a
    retry with the same ``idempotency_key``."""
    _owned(actor, mailbox)
    key = (idempotency_key or "").strip()[:100] or None
    if key is not None:
        existing = Message.objects.filter(mailbox=mailbox, idempotency_key=key).first()
        if existing is not None:
            return existing, False
    subject, body = subject.strip(), body.strip()
    errors: dict[str, str] = {}
    if not subject:
        errors["subject"] = _("Write what the letter is about.")
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = _("Enter at most %(n)s characters.") % {"n": MAX_SUBJECT}
    if not body and not files:
        errors["body"] = _("Write the letter or attach a document.")
    elif len(body) > MAX_BODY:
        errors["body"] = _("Enter at most %(n)s characters.") % {"n": MAX_BODY}
    if len(files) > MAX_FILES:
        errors["files"] = _("Attach at most %(n)s files.") % {"n": MAX_FILES}
    if not authority.is_active:
        errors["authority"] = _("This authority does not receive letters here at the moment.")
    if case is not None and (case.authority_id != authority.pk or not _case_of(mailbox, case)):
        errors["case"] = _("Choose one of your cases at this authority.")
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    try:
        with transaction.atomic():
            return _send(actor, mailbox, authority, subject, body, files, case, key), True
    except IntegrityError:
        existing = (
            Message.objects.filter(mailbox=mailbox, idempotency_key=key).first() if key else None
        )
        if existing is None:
            raise
        return existing, False


def _case_of(mailbox: Mailbox, case: Case) -> bool:
    return mailbox.user_id is not None and case.applicant_id == mailbox.user_id


def _send(
    actor: Actor,
    mailbox: Mailbox,
    authority: Authority,
    subject: str,
    body: str,
    files: Sequence[CheckedFile],
    case: Case | None,
    key: str | None,
) -> Message:
    assert actor.user is not None
    now = timezone.now()
    sender = actor.user.full_name
    if mailbox.company_id is not None:
        sender = f"{mailbox.company} ({sender})"
    platform = Actor.system(REGISTRY)
    document = registry.register(
        platform,
        authority=authority,
        direction=Document.Direction.INCOMING,
        subject=subject,
        sender=sender,
        case=case,
    )
    for upload in files:
        registry.add_version(platform, document, upload)
    message = Message.objects.create(
        mailbox=mailbox,
        authority=authority,
        direction=Message.Direction.OUTBOUND,
        case=case,
        document=document,
        subject=subject,
        body=body,
        sent_by=actor.user,
        created_at=now,
        read_at=now,
        idempotency_key=key,
    )
    if case is not None:
        timeline.record(
            case,
            CaseEvent.Kind.LETTER,
            actor,
            at=now,
            role="applicant",
            payload={"message": message.pk, "registry_number": document.registry_number},
        )
    audit.record(
        actor,
        "mailbox.letter_sent",
        message,
        authority_id=authority.pk,
        payload={
            "registry_number": document.registry_number,
            "case": case.pk if case is not None else None,
            "files": [f.sha256 for f in files],
        },
    )
    outbox.notify(
        actor.user,
        outbox.MESSAGE,
        "mailbox/notifications/receipt.txt",
        {
            "subject": subject,
            "authority": authority,
            "registry_number": document.registry_number,
            "registered_at": document.registered_at,
            "path": f"/mailbox/{message.pk}/",
        },
        case=case,
        dedupe_key=f"receipt:{message.pk}",
    )
    log.info("mailbox.letter_sent", message=message.pk, registry_number=document.registry_number)
    return message


# --- consent ---------------------------------------------------------------------------------


@transaction.atomic
def give_consent(actor: Actor, mailbox: Mailbox, authority: Authority | None = None) -> Consent:
    """Consent to receive documents electronically, from ``authority`` or (None) from every
    authority. Giving it again while one is in force returns that one."""
    _owned(actor, mailbox)
    existing = Consent.objects.filter(
        mailbox=mailbox, authority=authority, revoked_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    assert actor.user is not None  # _owned() required a user
    consent = Consent.objects.create(
        mailbox=mailbox, authority=authority, given_at=timezone.now(), given_by=actor.user
    )
    audit.record(
        actor,
        "mailbox.consent_given",
        consent,
        authority_id=authority.pk if authority is not None else None,
        payload={"mailbox": mailbox.pk, "authority": authority.code if authority else "*"},
    )
    return consent


@transaction.atomic
def revoke_consent(actor: Actor, consent: Consent) -> Consent:
    """Revoke a consent; documents delivered from now on go by post (unless a law allows
    electronic delivery). Deliveries already made stand."""
    locked = Consent.objects.select_for_update().select_related("mailbox").get(pk=consent.pk)
    _owned(actor, locked.mailbox)
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = timezone.now()
    locked.revoked_by = actor.user
    locked.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(
        actor,
        "mailbox.consent_revoked",
        locked,
        authority_id=locked.authority_id,
        payload={"mailbox": locked.mailbox_id},
    )
    return locked


def mailboxes_for(user: Any) -> list[Mailbox]:
    """The mailboxes ``user`` reads: their own, and those of the businesses they represent."""
    own = mailbox_of(user)
    now = timezone.now()
    companies = [
        m.company_id
        for m in Mandate.objects.filter(agent=user, kind="company", revoked_at__isnull=True)
        if m.is_valid(now) and m.company_id is not None
    ]
    boxes = [own]
    for company_id in companies:
        box, _created = Mailbox.objects.get_or_create(
            company_id=company_id,
            defaults={"kind": Mailbox.Kind.BUSINESS, "created_at": now},
        )
        boxes.append(box)
    return boxes
