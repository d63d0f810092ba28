"""Checks on an uploaded file before anything is stored: its size, its type as its content
says (never its name), and for a PDF that it opens, is not encrypted and has pages. Each
refusal is a message the person who uploaded can act on.

Bytes in memory are checked by :func:`check`; an upload Django received (spooled to a temporary
file when large) by :func:`read`, which never reads it whole into memory: the type from its
first bytes, a PDF through its stream, the digest in chunks. The storage then copies the upload
in chunks, or moves its temporary file when both are on one disk (:meth:`CheckedFile.content`)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.utils.translation import gettext as _

from salter.core import body_limits, upload_limits

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
    data: bytes = b""  # the content, when it was checked in memory (check())
    upload: File | None = None  # or the upload itself, checked where it lies (read())

    def content(self) -> File:
        """What the storage saves: the upload from its start, else the bytes."""
        if self.upload is not None:
            self.upload.seek(0)
            return self.upload
        return ContentFile(self.data)


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
    """``SALTER_UPLOAD_MAX_BYTES``: 20 MB."""
    return upload_limits.max_file_bytes()


def check(name: str, data: bytes) -> CheckedFile:
    """The file if it may be stored; else a ``ValidationError`` saying why (field ``file``)."""
    check_size(len(data))
    kind = sniff(data)
    if not kind:
        raise _not_accepted()
    if kind == PDF:
        _check_pdf(io.BytesIO(data))
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
            _("The file is %(size)s; at most %(limit)s are accepted.")
            % {
                "size": body_limits.size_text(size, up=True),
                "limit": body_limits.size_text(limit),
            }
        )


def read(upload: Any) -> CheckedFile:
    """Check a Django ``UploadedFile`` where it lies: its size before reading it, then its
    first bytes, a PDF through its stream, and the digest in chunks. The result keeps the
    upload (``CheckedFile.upload``) for the storage to copy or move."""
    check_size(int(upload.size or 0))
    upload.seek(0)
    kind = sniff(upload.read(8))
    if not kind:
        raise _not_accepted()
    digest, size = hashlib.sha256(), 0
    for chunk in upload.chunks():
        digest.update(chunk)
        size += len(chunk)
    check_size(size)  # what arrived, whatever the upload said
    if kind == PDF:
        upload.seek(0)
        _check_pdf(upload)
    return CheckedFile(
        name=_clean_name(str(upload.name or "")) or f"document{ACCEPTED[kind]}",
        content_type=kind,
        size=size,
        sha256=digest.hexdigest(),
        upload=upload,
    )


def _check_pdf(stream: IO[bytes]) -> None:
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(stream, strict=False)
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


def _not_accepted() -> ValidationError:
    return _refused(_("Only PDF, PNG and JPEG files are accepted, and this file is none of them."))


def _refused(message: str) -> ValidationError:
    return ValidationError({"file": [message]})
