"""Checks on an uploaded file before anything is stored: its size, its type as its content
says (never its name), and for a PDF that it opens, is not encrypted and has pages. Each
refusal is a message the person who uploaded can act on."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
ACCEPTED = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg"}


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    size: int
    sha256: str
    data: bytes


def sniff(data: bytes) -> str:
    """The type the first bytes say, or ``""``."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    return ""


def max_bytes() -> int:
    return int(getattr(settings, "SALTER_UPLOAD_MAX_BYTES", 20 * 1024 * 1024))


def check(name: str, data: bytes) -> CheckedFile:
    """The file if it may be stored; else a ``ValidationError`` saying why (field ``file``)."""
    check_size(len(data))
    kind = sniff(data)
    if not kind:
        raise _refused(
            _("Only PDF, PNG and JPEG files are accepted, and this file is none of them.")
        )
    if kind == PDF:
        _check_pdf(data)
    clean = _clean_name(name) or f"document{ACCEPTED[kind]}"
    return CheckedFile(
        name=clean,
        content_type=kind,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )


def check_size(size: int) -> None:
    """Refuse an empty file or one over the limit (before reading it, when the size is known)."""
    limit = max_bytes()
    if size <= 0:
        raise _refused(_("The file is empty."))
    if size > limit:
        raise _refused(
            _("The file is %(size)s MB; at most %(limit)s MB are accepted.")
            % {"size": _mb(size), "limit": _mb(limit)}
        )


def read(upload: Any) -> CheckedFile:
    """Check a Django ``UploadedFile``: its size before reading it, then its content."""
    check_size(int(upload.size or 0))
    return check(str(upload.name or ""), upload.read())


def _check_pdf(data: bytes) -> None:
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:
            raise _refused(
                _("The PDF is protected with a password; upload it without the protection.")
            )
        pages = int(reader.root["/Pages"]["/Count"])
    except ValidationError:
        raise
    except (PdfError, KeyError, TypeError, ValueError, IndexError, OSError) as exc:
        raise _refused(_("The PDF is damaged and cannot be opened.")) from exc
    if pages < 1:
        raise _refused(_("The PDF has no pages."))


def _clean_name(name: str) -> str:
    """The last part of the name, without control characters, at most 200 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isprintable()).strip()[:200]


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def _refused(message: str) -> ValidationError:
    return ValidationError({"file": [message]})
