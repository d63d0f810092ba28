"""Public verification: the use cases behind ``/verify/`` and ``/api/v1/documents/verify``.

Anyone holding a document (or the code printed under its QR code) may ask what is registered
under the code, check the signatures and seals of the registered file, check a copy of their
own against it, and download the registered file. Only the download is written to the audit
chain: it hands out the content of the document, which is personal data; looking up the
code shows what the holder of the document already reads on it.

"The document registered under a code" is the highest-numbered version of the entry that is
not a draft (an act's drafts stay inside the authority: they are never shown or served here);
a copy identical to an older version is reported as such, not as the document.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from typing import IO, Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.core.context import Actor
from salter.documents import uploads
from salter.documents.models import Document, DocumentVersion
from salter.documents.services import normalise_code
from salter.documents.verification import Code, Report, verify_pdf

log = structlog.get_logger(__name__)

RATE_SCOPE = "documents.verify"
DEFAULT_RATE = "30/minute"
DEFAULT_CACHE_SECONDS = 600


def rate() -> str:
    """Lookups by code, downloads and uploads allowed per client IP (``SALTER_VERIFY_RATE``)."""
    return str(getattr(settings, "SALTER_VERIFY_RATE", DEFAULT_RATE))


def cache_seconds() -> int:
    """How long the report on a registered file is kept (``SALTER_VERIFY_CACHE_SECONDS``): a
    certificate revoked meanwhile shows after that long at most."""
    return int(getattr(settings, "SALTER_VERIFY_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))


# --- What is registered under a code ----------------------------------------------------------


@dataclass(frozen=True)
class Registered:
    document: Document
    versions: list[DocumentVersion]  # oldest first

    @property
    def current(self) -> DocumentVersion | None:
        """The registered version: the highest-numbered one that is not a draft."""
        return self.versions[-1] if self.versions else None

    @property
    def voided(self) -> bool:
        return self.document.voided_at is not None

    @property
    def downloadable(self) -> bool:
        current = self.current
        return current is not None and current.content_type == uploads.PDF


def find(typed: str) -> Registered | None:
    """The entry registered under ``typed`` (normalised first), or ``None``. Two queries."""
    code = normalise_code(typed)
    if not code:
        return None
    document = Document.objects.select_related("authority").filter(verification_code=code).first()
    if document is None:
        return None
    versions = list(
        DocumentVersion.objects.filter(document=document)
        .exclude(kind=DocumentVersion.Kind.DRAFT)
        .order_by("number")
    )
    return Registered(document, versions)


@dataclass(frozen=True)
class RegisteredCheck:
    """The signatures of the registered file, and whether the stored file is still the one
    registered (its SHA-256 unchanged)."""

    report: Report | None  # None: the registered file is not a PDF, or could not be read
    stored_intact: bool


def check_registered(registered: Registered) -> RegisteredCheck | None:
    """The report on the registered version, kept in the cache per version for
    :func:`cache_seconds` (a check costs about 80 ms). ``None`` when no file is registered."""
    version = registered.current
    if version is None:
        return None
    key = f"documents:verify:registered:{version.pk}:{version.sha256}"
    cached = cache.get(key)
    if isinstance(cached, RegisteredCheck):
        return cached
    try:
        with default_storage.open(str(version.file.name), "rb") as handle:
            data = handle.read()
    except OSError as exc:
        log.error("documents.verify.stored_file_missing", version=version.pk, error=str(exc))
        return RegisteredCheck(report=None, stored_intact=False)  # not cached: may come back
    intact = hashlib.sha256(data).hexdigest() == version.sha256
    if not intact:
        log.error("documents.verify.stored_file_changed", version=version.pk)
    report = _verify(data) if uploads.sniff(data) == uploads.PDF else None
    result = RegisteredCheck(report=report, stored_intact=intact)
    cache.set(key, result, cache_seconds())
    return result


# --- A copy checked against it ----------------------------------------------------------------


class Match(enum.StrEnum):
    """How an uploaded copy compares with what is registered under the code (byte for byte)."""

    CURRENT = "current"  # identical to the registered version
    EARLIER = "earlier"  # identical to an earlier version, not the registered one
    DIFFERENT = "different"  # identical to no version
    NO_FILE = "no_file"  # nothing registered to compare with


@dataclass(frozen=True)
class Comparison:
    result: Match
    version: DocumentVersion | None = None  # the version the copy is identical to

    @property
    def message(self) -> str:
        if self.result == Match.CURRENT:
            return _("This file is exactly the document registered under this code.")
        if self.result == Match.EARLIER:
            number = self.version.number if self.version is not None else 0
            return _(
                "This file is exactly an earlier version (version %(number)s) of the document "
                "registered under this code, not the current one."
            ) % {"number": number}
        if self.result == Match.NO_FILE:
            return _("No file is registered under this code to compare this file with.")
        return _("This file is not the document registered under this code: it differs from it.")


def compare(registered: Registered, sha256: str) -> Comparison:
    if not registered.versions:
        return Comparison(Match.NO_FILE)
    current = registered.current
    if current is not None and current.sha256 == sha256:
        return Comparison(Match.CURRENT, current)
    for version in reversed(registered.versions):
        if version.sha256 == sha256:
            return Comparison(Match.EARLIER, version)
    return Comparison(Match.DIFFERENT)


class Refused(Exception):
    """An upload that cannot be checked: a stable code, a message for the person, a status."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def read_pdf(upload: Any) -> uploads.CheckedFile:
    """An uploaded PDF after the checks of :mod:`salter.documents.uploads` (size before
    reading, type by content, opens, not encrypted, has pages); else :class:`Refused`."""
    _check_size(int(getattr(upload, "size", 0) or 0))
    data = upload.read(uploads.max_bytes() + 1)  # never more than the limit, whatever size said
    _check_size(len(data))
    if uploads.sniff(data) != uploads.PDF:
        raise Refused(
            "not_a_pdf", _("Only PDF documents can be checked here, and this file is not a PDF.")
        )
    try:
        return uploads.check(str(getattr(upload, "name", "") or ""), data)
    except ValidationError as exc:
        raise Refused("unreadable_pdf", _first(exc)) from exc


def _check_size(size: int) -> None:
    try:
        uploads.check_size(size)
    except ValidationError as exc:
        if size > 0:
            raise Refused("file_too_large", _first(exc), status=413) from exc
        raise Refused("empty_file", _first(exc)) from exc


def _first(exc: ValidationError) -> str:
    return next(iter(exc.message_dict.values()))[0]


@dataclass(frozen=True)
class UploadCheck:
    name: str
    size: int
    sha256: str
    report: Report
    registered: Registered | None = None
    comparison: Comparison | None = None


def check_upload(checked: uploads.CheckedFile, registered: Registered | None) -> UploadCheck:
    """The signatures of an uploaded PDF and, with a code, how it compares with the entry."""
    return UploadCheck(
        name=checked.name,
        size=checked.size,
        sha256=checked.sha256,
        report=_verify(checked.data),
        registered=registered,
        comparison=compare(registered, checked.sha256) if registered is not None else None,
    )


def _verify(data: bytes) -> Report:
    """``verify_pdf``, with a report instead of a server error for whatever a crafted file
    makes the PDF and ASN.1 parsers raise that verification itself does not expect."""
    try:
        return verify_pdf(data)
    except Exception:  # noqa: BLE001 - anyone may upload anything; logged with its traceback
        log.exception("documents.verify.crashed", size=len(data))
        return Report(verdict="invalid", codes=(Code.UNREADABLE,))


# --- The registered file itself ---------------------------------------------------------------


def open_for_download(registered: Registered) -> tuple[IO[bytes], DocumentVersion]:
    """The registered PDF, opened, and its version; the download is written to the audit
    chain (a public read of personal data), in one transaction with nothing else."""
    version = registered.current
    if version is None or not registered.downloadable:
        raise LookupError("no PDF is registered under this code")
    document = registered.document
    with transaction.atomic():
        handle = default_storage.open(str(version.file.name), "rb")
        try:
            audit.record(
                Actor.system("public"),
                "document.downloaded_by_code",
                document,
                authority_id=document.authority_id,
                payload={"version": version.number, "sha256": version.sha256},
            )
        except BaseException:
            handle.close()
            raise
    return handle, version
