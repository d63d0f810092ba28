"""Use cases of the registry of documents: register a document, add a version of its file,
void an entry. Each runs in one transaction, checks permission and writes the audit event.

Numbers: a document of its own takes the next number of the authority's registry book for the
year (``authorities.services.allocate_number``, under the counter's lock, no gaps); an act of a
case takes the next **sub-number** of the case's number, allocated under the case row's lock
(``Case.last_sub_number``): ``01-7/2026-1``, ``01-7/2026-2``…
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.authorities.models import Authority, Category, RegistryBook
from salter.authorities.services import allocate_number
from salter.cases import services as cases
from salter.cases.models import Case
from salter.core.context import Actor
from salter.core.translit import to_latin
from salter.documents.models import Document, DocumentVersion
from salter.documents.uploads import ACCEPTED, CheckedFile
from salter.identity.models import Membership, Role

# Crockford's base32 without the letters people misread (I, L, O, U).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MAX_SUBJECT = 500


def new_verification_code() -> str:
    """Twelve characters in three groups, e.g. ``7KQ2-M9XD-4TRA`` (60 bits of randomness)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_code(typed: str) -> str:
    """A code as a person may type it (lower case, spaces, O for 0…) in its canonical form."""
    cleaned = "".join(c for c in typed.upper() if c.isalnum())
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(cleaned) != 12:
        return ""
    return f"{cleaned[:4]}-{cleaned[4:8]}-{cleaned[8:]}"


def fold(text: str) -> str:
    """Text as the registry search compares it: lower case, in both scripts."""
    lowered = text.casefold()
    latin = to_latin(lowered)
    return lowered if latin == lowered else f"{lowered} {latin}"


def search_text(*parts: str) -> str:
    return fold(" ".join(p.strip() for p in parts if p))


def may_register(actor: Actor, authority: Authority) -> bool:
    """The platform at the console, platform administrators, and officials of the authority
    (every role but the archivist's registers documents: the registry clerk the incoming
    mail, the clerks the acts of their cases)."""
    user = actor.user
    if user is None:
        return actor.via in {"seed", "command", "timer", "mailbox"}
    if user.is_platform_admin:
        return True
    return (
        Membership.objects.in_force()
        .filter(user=user, unit__authority=authority)
        .exclude(role=Role.ARCHIVIST)
        .exists()
    )


def _require(actor: Actor, authority: Authority) -> None:
    if not may_register(actor, authority):
        raise PermissionDenied(_("Only officials of the authority can register its documents."))


@transaction.atomic
def register(
    actor: Actor,
    *,
    authority: Authority,
    direction: str,
    subject: str,
    sender: str = "",
    recipient: str = "",
    category: Category | None = None,
    case: Case | None = None,
    upload: CheckedFile | None = None,
    book: RegistryBook | None = None,
    act_code: str = "",
) -> Document:
    """Register a document and, if given, its first file."""
    _require(actor, authority)
    errors: dict[str, str] = {}
    subject = subject.strip()
    if not subject:
        errors["subject"] = _("Write what the document is about.")
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = _("Enter at most %(n)s characters.") % {"n": MAX_SUBJECT}
    if direction not in Document.Direction.values:
        errors["direction"] = _("Choose incoming, outgoing or internal.")
    if direction == Document.Direction.INCOMING and not sender.strip():
        errors["sender"] = _("Write who sent the document.")
    if direction == Document.Direction.OUTGOING and not recipient.strip():
        errors["recipient"] = _("Write to whom the document goes.")
    if category is not None and category.category_list.authority_id != authority.pk:
        errors["category"] = _("This classification code is not in the authority's list.")
    if case is not None and case.authority_id != authority.pk:
        errors["case"] = _("The case belongs to another authority.")
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})

    now = timezone.now()
    extra: dict[str, str] = {}
    if case is not None:
        taken = cases.next_sub_number(case)
        locked = taken.case
        book_id, year, number = locked.book_id, locked.year, locked.number
        sub, formatted = taken.sub, taken.formatted
        # A case's act or letter is as confidential as the case.
        extra["confidentiality"] = locked.confidentiality
    else:
        book = book or RegistryBook.objects.get(authority=authority, is_default=True)
        if book.authority_id != authority.pk:
            raise ValidationError({"book": [_("The book belongs to another authority.")]})
        allocation = allocate_number(actor, book)
        book_id, year, number, sub = book.pk, allocation.year, allocation.number, 0
        formatted = allocation.formatted
    document = Document.objects.create(
        authority=authority,
        book_id=book_id,
        year=year,
        number=number,
        sub_number=sub,
        registry_number=formatted,
        case=case,
        act_code=act_code,
        direction=direction,
        registered_at=now,
        sender=sender.strip()[:300],
        recipient=recipient.strip()[:300],
        subject=subject,
        category=category,
        verification_code=new_verification_code(),
        search_text=search_text(formatted, subject, sender, recipient),
        created_by=actor.user,
        **extra,
    )
    audit.record(
        actor,
        "document.registered",
        document,
        authority_id=authority.pk,
        payload={
            "registry_number": formatted,
            "direction": direction,
            "case": case.pk if case is not None else None,
            "category": category.code if category is not None else "",
        },
    )
    if upload is not None:
        _store(actor, document, upload, number=1, note="")
    return document


def register_application(actor: Actor, case: Case) -> Document:
    """The application that opened ``case``, as the case's first entry in the registry book:
    incoming, under the case's own number (sub-number 0). Part of the submission's
    transaction, which has checked permission and records the audit event."""
    service = case.service_version.service
    sender = actor.user.full_name if actor.user is not None else ""
    return Document.objects.create(
        authority_id=case.authority_id,
        book_id=case.book_id,
        year=case.year,
        number=case.number,
        sub_number=0,
        registry_number=case.registry_number,
        case=case,
        direction=Document.Direction.INCOMING,
        registered_at=case.submitted_at,
        sender=sender[:300],
        subject=service.name[:MAX_SUBJECT],
        verification_code=new_verification_code(),
        search_text=search_text(case.registry_number, service.name, sender),
        created_by=actor.user,
        confidentiality=case.confidentiality,
    )


@transaction.atomic
def add_version(
    actor: Actor,
    document: Document,
    upload: CheckedFile,
    *,
    note: str = "",
    kind: str = DocumentVersion.Kind.FILE,
) -> DocumentVersion:
    """A new version of the document's file (a corrected draft, the signed PDF…)."""
    locked = Document.objects.select_for_update().select_related("authority").get(pk=document.pk)
    _require(actor, locked.authority)
    if locked.voided_at is not None:
        raise ValidationError({"file": [_("The entry is voided; it takes no more files.")]})
    last = locked.versions.aggregate(last=Max("number"))["last"] or 0
    return _store(actor, locked, upload, number=last + 1, note=note, kind=kind)


def _store(
    actor: Actor,
    document: Document,
    upload: CheckedFile,
    *,
    number: int,
    note: str,
    kind: str = DocumentVersion.Kind.FILE,
) -> DocumentVersion:
    """Write the file, then its row; if the row cannot be written the file is removed, so a
    failure leaves nothing half-stored."""
    extension = ACCEPTED[upload.content_type]
    name = f"documents/{document.authority_id}/{document.year}/{uuid.uuid4().hex}{extension}"
    path = default_storage.save(name, upload.content())  # in chunks, or moved, when uploaded
    try:
        with transaction.atomic():
            version = DocumentVersion.objects.create(
                document=document,
                number=number,
                kind=kind,
                file=path,
                original_name=upload.name,
                content_type=upload.content_type,
                size=upload.size,
                sha256=upload.sha256,
                note=note.strip()[:300],
                created_by=actor.user,
                created_at=timezone.now(),
            )
            audit.record(
                actor,
                "document.version_added",
                document,
                authority_id=document.authority_id,
                payload={
                    "version": number,
                    "kind": kind,
                    "sha256": upload.sha256,
                    "size": upload.size,
                },
            )
    except BaseException:
        default_storage.delete(path)
        raise
    return version


@transaction.atomic
def void(actor: Actor, document: Document, reason: str) -> Document:
    """Void an entry with a reason; it stays in the book, marked, and is never deleted."""
    locked = Document.objects.select_for_update().select_related("authority").get(pk=document.pk)
    _require(actor, locked.authority)
    reason = reason.strip()
    if len(reason) < 5:
        raise ValidationError({"reason": [_("Write why the entry is voided.")]})
    if locked.voided_at is not None:
        return locked
    locked.voided_at = timezone.now()
    locked.void_reason = reason[:500]
    locked.save(update_fields=["voided_at", "void_reason"])
    audit.record(
        actor,
        "document.voided",
        locked,
        authority_id=locked.authority_id,
        payload={"reason": locked.void_reason},
    )
    return locked


def verify_file(version: DocumentVersion) -> bool:
    """Whether the stored file still has the SHA-256 recorded when it was stored."""
    digest = hashlib.sha256()
    with default_storage.open(str(version.file.name), "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest() == version.sha256


def file_response(version: DocumentVersion) -> FileResponse:
    """A stored version as a download (never shown inline: a file is whatever was uploaded)."""
    handle = default_storage.open(str(version.file.name), "rb")
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=version.original_name,
        content_type=version.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def read_version(
    actor: Actor, document: Document, number: int, **context: object
) -> FileResponse | None:
    """Version ``number`` of ``document`` as a download, its read written to the audit log (a
    document is personal data); ``None`` if there is no such version."""
    version = DocumentVersion.objects.filter(document=document, number=number).first()
    if version is None:
        return None
    with transaction.atomic():
        audit.record(
            actor,
            "document.read",
            document,
            authority_id=document.authority_id,
            payload={"version": number, **context},
        )
    return file_response(version)
