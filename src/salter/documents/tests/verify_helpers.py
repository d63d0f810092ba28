"""Shared by the public verification tests (pages, API, browser): a signed decision registered
under a verification code, a copy changed by one byte, a file that is not a PDF."""

from __future__ import annotations

import io

from salter.authorities.models import Authority
from salter.core.context import Actor
from salter.documents import services, uploads
from salter.documents.models import Document
from salter.documents.tests.signing_helpers import sign_and_seal, small_pdf

SUBJECT = "Решење о једнократној помоћи"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def signed_decision(text: str = "Rešenje o jednokratnoj pomoći") -> bytes:
    """A decision signed by an official and sealed by the authority (PAdES B-LT); needs an
    active development PKI (``signing_helpers.dev_pki``)."""
    return sign_and_seal(small_pdf(text))


def register_signed(system: Actor, authority: Authority, pdf: bytes) -> Document:
    """An outgoing document registered with ``pdf`` as its only version."""
    return services.register(
        system,
        authority=authority,
        direction=Document.Direction.OUTGOING,
        subject=SUBJECT,
        recipient="Петар Петровић",
        upload=uploads.check("resenje.pdf", pdf),
    )


def changed_byte(pdf: bytes) -> bytes:
    """``pdf`` with one byte changed inside the first revision, which both signatures cover."""
    at = pdf.index(b"/Producer") + 12
    changed = bytearray(pdf)
    changed[at] ^= 0x01
    return bytes(changed)


def upload(name: str, data: bytes) -> io.BytesIO:
    """A file for the test client's multipart POST."""
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def spaced(code: str) -> str:
    """A code as a person may type it: lower case, spaces instead of dashes."""
    return code.lower().replace("-", " ")
