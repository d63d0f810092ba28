"""An upload Django received is checked where it lies and stored from there, never read whole
into memory: a temporary file's type from its first bytes, a PDF through its stream, the
digest in chunks; the storage moves or copies the file itself."""

from __future__ import annotations

import hashlib
from functools import cache

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import TemporaryUploadedFile

from salter.authorities.models import Authority
from salter.core.context import Actor
from salter.core.upload_limits import OversizedUpload
from salter.documents import services, uploads
from salter.documents.models import Document

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@cache
def a_pdf() -> bytes:
    from weasyprint import HTML

    return bytes(HTML(string="<h1>Допуна</h1><p>Три, четири.</p>").write_pdf())


def spooled(name: str, data: bytes) -> TemporaryUploadedFile:
    """An upload as Django hands over a large one: in a temporary file on disk."""
    upload = TemporaryUploadedFile(name, "application/octet-stream", len(data), None)
    upload.write(data)
    upload.flush()
    upload.seek(0)
    return upload


def test_a_spooled_upload_is_checked_and_stored_from_its_file(
    authority: Authority, system: Actor
) -> None:
    pdf = a_pdf()
    upload = spooled("zahtev.pdf", pdf)
    checked = uploads.read(upload)
    assert checked.data == b"" and checked.upload is upload  # nothing copied into memory
    assert (checked.name, checked.content_type, checked.size) == (
        "zahtev.pdf",
        uploads.PDF,
        len(pdf),
    )
    assert checked.sha256 == hashlib.sha256(pdf).hexdigest()
    document = services.register(
        system,
        authority=authority,
        direction=Document.Direction.INCOMING,
        subject="Захтев",
        sender="Петар Петровић",
        upload=checked,
    )
    version = document.versions.get()
    with default_storage.open(str(version.file.name), "rb") as handle:
        assert handle.read() == pdf
    assert services.verify_file(version)
    upload.close()  # as Django does at the end of a request: the file was moved, not copied


def test_an_upload_over_the_limit_is_refused_by_its_size_naming_the_limit() -> None:
    oversized = OversizedUpload("big.png", "image/png", 20 * MB + 1, None, None)
    with pytest.raises(ValidationError) as refused:
        uploads.read(oversized)
    assert refused.value.message_dict["file"] == [
        "The file is 20.1 MB; at most 20 MB are accepted."
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"GIF89a not accepted", "Only PDF, PNG and JPEG files are accepted"),
        (b"%PDF-1.7\n garbage without objects", "The PDF is damaged"),
    ],
)
def test_a_spooled_upload_is_refused_for_what_its_content_is(data: bytes, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        uploads.read(spooled("x.pdf", data))
    assert refused.value.message_dict["file"][0].startswith(message)


def test_a_cut_pdf_is_refused_through_its_stream() -> None:
    pdf = a_pdf()
    with pytest.raises(ValidationError, match="damaged"):
        uploads.read(spooled("cut.pdf", pdf[: len(pdf) // 3]))
