"""``/api/v1/documents``: public verification for machines — what is registered under a
verification code, and an uploaded PDF checked (and compared with the registered document).

Public: no authentication and no session, so no CSRF token either (``auth=None``; django-ninja
checks CSRF only for cookie authentication). Rate limited per client IP like the pages.
Messages come in the request's language (``Accept-Language`` or the language cookie); the
``codes`` beside them are stable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, UploadedFile
from ninja.decorators import decorate_view

from salter.core import ratelimit, upload_limits
from salter.core.errors import ApiError
from salter.core.translit import to_latin
from salter.documents import public
from salter.documents.verification import Report, SignatureReport

router = Router(tags=["documents"])


# --- schemas --------------------------------------------------------------------------------


class SignatureOut(Schema):
    field_name: str
    kind: Literal["personal", "seal"]
    signer_name: str
    organisation: str
    signed_at: datetime | None
    timestamp_trusted: bool
    intact: bool
    unchanged_since: bool
    trusted: bool
    valid_then: bool
    revoked_at: datetime | None
    verdict: Literal["valid", "invalid", "indeterminate"]
    codes: list[str]
    messages: list[str]


class TimestampOut(Schema):
    field_name: str
    time: datetime | None
    valid: bool
    authority: str


class ReportOut(Schema):
    verdict: Literal["valid", "invalid", "indeterminate"]
    codes: list[str]
    messages: list[str]
    signatures: list[SignatureOut]
    document_timestamps: list[TimestampOut]


class AuthorityRefOut(Schema):
    code: str
    name: str


class VersionOut(Schema):
    number: int
    created_at: datetime
    content_type: str
    size: int
    sha256: str


class RegisteredOut(Schema):
    verification_code: str
    authority: AuthorityRefOut
    registry_number: str
    registered_at: datetime
    subject: str
    direction: str
    voided: bool
    voided_at: datetime | None
    void_reason: str
    verification_url: str
    version: VersionOut | None
    stored_file_intact: bool | None
    report: ReportOut | None
    download_url: str | None


class MatchOut(Schema):
    result: Literal["current", "earlier", "different", "no_file"]
    version: int | None
    message: str


class UploadCheckOut(Schema):
    name: str
    size: int
    sha256: str
    report: ReportOut
    registered: RegisteredOut | None
    match: MatchOut | None


# --- shaping --------------------------------------------------------------------------------


def _words(request: HttpRequest, messages: list[str]) -> list[str]:
    """Pages in sr-Latn are transliterated on the way out; JSON is not, so do it here."""
    if getattr(request, "latin_script", False):
        return [to_latin(m) for m in messages]
    return messages


def _signature(request: HttpRequest, sig: SignatureReport) -> dict[str, object]:
    return {
        "field_name": sig.field_name,
        "kind": sig.kind,
        "signer_name": sig.signer_name,
        "organisation": sig.organisation,
        "signed_at": sig.signed_at,
        "timestamp_trusted": sig.timestamp_valid,
        "intact": sig.intact,
        "unchanged_since": sig.unchanged_since,
        "trusted": sig.trusted,
        "valid_then": sig.valid_then,
        "revoked_at": sig.revoked_at,
        "verdict": sig.verdict,
        "codes": [code.value for code in sig.codes],
        "messages": _words(request, sig.messages),
    }


def _report(request: HttpRequest, report: Report) -> dict[str, object]:
    return {
        "verdict": report.verdict,
        "codes": [code.value for code in report.codes],
        "messages": _words(request, report.messages),
        "signatures": [_signature(request, s) for s in report.signatures],
        "document_timestamps": [
            {"field_name": t.field_name, "time": t.time, "valid": t.valid, "authority": t.authority}
            for t in report.document_timestamps
        ],
    }


def _registered(request: HttpRequest, registered: public.Registered) -> dict[str, object]:
    document = registered.document
    version = registered.current
    check = public.check_registered(registered)
    base = settings.SALTER_PUBLIC_URL.rstrip("/")  # the address printed in the QR codes
    code = document.verification_code
    download = None
    if registered.downloadable:
        download = base + reverse("verify:download", args=[code])
    return {
        "verification_code": code,
        "authority": {"code": document.authority.code, "name": document.authority.display_name},
        "registry_number": document.registry_number,
        "registered_at": document.registered_at,
        "subject": document.subject,
        "direction": document.direction,
        "voided": registered.voided,
        "voided_at": document.voided_at,
        "void_reason": document.void_reason,
        "verification_url": base + reverse("verify:code", args=[code]),
        "version": (
            {
                "number": version.number,
                "created_at": version.created_at,
                "content_type": version.content_type,
                "size": version.size,
                "sha256": version.sha256,
            }
            if version is not None
            else None
        ),
        "stored_file_intact": check.stored_intact if check is not None else None,
        "report": _report(request, check.report) if check and check.report else None,
        "download_url": download,
    }


def _limit(request: HttpRequest) -> None:
    decision = ratelimit.hit(public.RATE_SCOPE, ratelimit.client_of(request), public.rate())
    if not decision.allowed:
        raise ApiError(
            429,
            "rate_limited",
            _("Too many checks from your network; try again later."),
            details={"retry_after": decision.retry_after},
            headers={"Retry-After": str(decision.retry_after)},
        )


def _find(code: str) -> public.Registered:
    registered = public.find(code)
    if registered is None:
        raise ApiError(404, "unknown_code", _("No document is registered under this code."))
    return registered


# --- endpoints ------------------------------------------------------------------------------


@router.get(
    "/verify/{code}",
    response=RegisteredOut,
    auth=None,
    summary="What is registered under a verification code (public)",
    description=(
        "The code printed under a document's QR code, in any case and with or without dashes. "
        "Gives the entry, its registered (latest) version with its SHA-256 and the report on "
        "the signatures and seals of that file. 404 `unknown_code`; 429 `rate_limited` with "
        "`Retry-After`."
    ),
)
def verify_code(request: HttpRequest, code: str) -> dict[str, object]:
    _limit(request)
    return _registered(request, _find(code))


@router.post(
    "/verify",
    response=UploadCheckOut,
    auth=None,
    summary="Check a signed PDF, optionally against a verification code (public)",
    description=(
        "multipart/form-data: `file` (the PDF) and, optionally, `code`. Gives the report on "
        "the file's signatures and seals and, with a code, whether the file is byte for byte "
        "the registered version (`current`), an earlier version (`earlier`) or neither "
        "(`different`). 404 `unknown_code`; 413 `file_too_large` (a file over "
        "`SALTER_UPLOAD_MAX_BYTES`, 20 MB) or `request_too_large` (a body over that and "
        "2.5 MB more, refused before it is read); 422 `not_a_pdf`, `unreadable_pdf`, "
        "`empty_file`, `validation_error`; 429 `rate_limited`."
    ),
)
@decorate_view(upload_limits.limit_uploads(1))
def verify_upload(
    request: HttpRequest, file: File[UploadedFile], code: Form[str] = ""
) -> dict[str, object]:
    _limit(request)
    registered = _find(code) if code.strip() else None
    try:
        checked = public.read_pdf(file)
    except public.Refused as exc:
        raise ApiError(exc.status, exc.code, exc.message) from exc
    result = public.check_upload(checked, registered)
    comparison = result.comparison
    return {
        "name": result.name,
        "size": result.size,
        "sha256": result.sha256,
        "report": _report(request, result.report),
        "registered": _registered(request, registered) if registered is not None else None,
        "match": (
            {
                "result": comparison.result.value,
                "version": comparison.version.number if comparison.version else None,
                "message": _words(request, [comparison.message])[0],
            }
            if comparison is not None
            else None
        ),
    }
