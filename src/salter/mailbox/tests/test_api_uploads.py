"""Letters with files through ``POST /api/v1/mailbox/messages`` reach their documented limits,
in both forms: JSON with the files in base64, and multipart with the files streamed. Each
limit is refused with its own error naming it; the files are real PNGs and PDFs, and the
limits are lowered through settings so that no test moves 20 MB."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import zlib
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from salter.authorities.models import Authority
from salter.core import upload_limits
from salter.documents.models import DocumentVersion
from salter.identity.models import User
from salter.mailbox.models import Message

from .helpers import a_pdf, logged_in, token

pytestmark = pytest.mark.django_db

URL = "/api/v1/mailbox/messages"
MB = 1024 * 1024
ENGLISH = {"Accept-Language": "en"}


def a_png(size: int) -> bytes:
    """A valid PNG of exactly ``size`` bytes: grey pixels stored without compression (so the
    file is as large as its picture), padded to the byte with a text chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    width = 512 if size > 100_000 else 8
    row = b"\x00" + bytes(i % 256 for i in range(width * 3))  # filter byte, then RGB
    height = max(1, (size - 200) // (len(row) + 10))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    head = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    head += chunk(b"IDAT", zlib.compress(row * height, 0))
    tail = chunk(b"IEND", b"")
    padding = size - len(head) - len(tail) - 12 - len(b"Comment\0")
    assert padding >= 0, size
    png = head + chunk(b"tEXt", b"Comment\0" + b"x" * padding) + tail
    assert len(png) == size
    return png


def as_json(
    client: Client, letter: dict[str, Any], files: list[tuple[str, bytes]], **headers: str
) -> Any:
    body = {
        **letter,
        "files": [
            {"name": name, "content_base64": base64.b64encode(data).decode()}
            for name, data in files
        ],
    }
    return client.post(
        URL, json.dumps(body), content_type="application/json", headers={**ENGLISH, **headers}
    )


def as_multipart(
    client: Client, letter: dict[str, Any], files: list[tuple[str, bytes]], **headers: str
) -> Any:
    parts = [SimpleUploadedFile(name, data) for name, data in files]
    return client.post(URL, {**letter, "files": parts}, headers={**ENGLISH, **headers})


FORMS = {"json": as_json, "multipart": as_multipart}


@pytest.fixture
def letter(authority: Authority) -> dict[str, Any]:
    return {"authority": authority.code, "subject": "Допуна", "body": "Шаљем снимак."}


def stored(message_id: int) -> list[bytes]:
    document = Message.objects.get(pk=message_id).document
    versions = DocumentVersion.objects.filter(document=document).order_by("number")
    contents = []
    for version in versions:
        with default_storage.open(str(version.file.name), "rb") as handle:
            contents.append(handle.read())
    return contents


def test_a_3_mb_png_is_a_real_picture() -> None:
    png = a_png(3 * MB)
    picture = Image.open(io.BytesIO(png))
    picture.verify()
    assert picture.format == "PNG"


@pytest.mark.parametrize("form", FORMS)
def test_a_letter_with_a_3_mb_png_is_accepted_once_per_key(
    client: Client, citizen: User, letter: dict[str, Any], form: str
) -> None:
    """The reported letter: one 3 MB PNG, at the default limits (the JSON body is 4 MB)."""
    png = a_png(3 * MB)
    send = FORMS[form]
    headers = {**token(citizen), "Idempotency-Key": f"png-{form}"}
    response = send(client, letter, [("snimak.png", png)], **headers)
    assert response.status_code == 201, response.content[:500]
    sent = response.json()
    [file] = sent["files"]
    assert (file["name"], file["content_type"], file["size"]) == (
        "snimak.png",
        "image/png",
        len(png),
    )
    assert file["sha256"] == hashlib.sha256(png).hexdigest()
    assert stored(sent["id"]) == [png]
    again = send(client, letter, [("snimak.png", png)], **headers)
    assert again.status_code == 200 and again.json()["id"] == sent["id"]
    assert Message.objects.filter(mailbox__user=citizen).count() == 1


def test_multipart_takes_pdfs_and_the_key_in_a_field(
    client: Client, citizen: User, letter: dict[str, Any]
) -> None:
    pdf, png = a_pdf(), a_png(10_000)
    fields = {**letter, "idempotency_key": "form-key-1"}
    response = as_multipart(
        client, fields, [("izvod.pdf", pdf), ("slika.png", png)], **token(citizen)
    )
    assert response.status_code == 201, response.content
    assert [f["content_type"] for f in response.json()["files"]] == ["application/pdf", "image/png"]
    assert stored(response.json()["id"]) == [pdf, png]
    again = as_multipart(
        client, letter, [("izvod.pdf", pdf)], **token(citizen), **{"Idempotency-Key": "form-key-1"}
    )
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]


@pytest.mark.parametrize("form", FORMS)
def test_a_file_at_the_limit_is_accepted_one_byte_more_is_refused_naming_the_limit(
    client: Client, citizen: User, letter: dict[str, Any], settings: Any, form: str
) -> None:
    settings.SALTER_UPLOAD_MAX_BYTES = MB
    send, headers = FORMS[form], token(citizen)
    over = send(client, letter, [("a.png", a_png(10_000)), ("b.png", a_png(MB + 1))], **headers)
    assert over.status_code == 413, over.content
    error = over.json()["error"]
    assert error["code"] == "file_too_large"
    assert error["message"] == "The file is 1.1 MB; at most 1 MB are accepted."
    assert error["details"] == [{"field": "files.1", "message": error["message"]}]
    assert not Message.objects.exists()
    at = send(client, letter, [("a.png", a_png(MB))], **headers)
    assert at.status_code == 201, at.content[:500]


@pytest.mark.parametrize("form", FORMS)
def test_more_files_than_allowed_are_refused(
    client: Client, citizen: User, letter: dict[str, Any], form: str
) -> None:
    files = [(f"{n}.png", a_png(1000)) for n in range(6)]
    response = FORMS[form](client, letter, files, **token(citizen))
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"] == "files"
    assert not Message.objects.exists()


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"MZ\x90\x00 not a picture", "Only PDF, PNG and JPEG files are accepted"),
        (b"%PDF-1.7\nno pages, no trailer", "The PDF is damaged"),
    ],
)
def test_a_file_of_the_wrong_type_is_refused(
    client: Client, citizen: User, letter: dict[str, Any], form: str, data: bytes, message: str
) -> None:
    response = FORMS[form](client, letter, [("izvod.pdf", data)], **token(citizen))
    assert response.status_code == 422, response.content
    [detail] = response.json()["error"]["details"]
    assert detail["field"] == "files.0" and detail["message"].startswith(message)
    assert not Message.objects.exists()


def test_a_json_body_over_its_limit_is_413_before_it_is_read(
    client: Client, citizen: User, letter: dict[str, Any], settings: Any
) -> None:
    """The JSON limit admits one file at the per-file limit in base64: 3 MB for 1 MB."""
    settings.SALTER_UPLOAD_MAX_BYTES = MB
    assert upload_limits.json_max_bytes() == 3 * MB
    files = [("a.png", a_png(MB)), ("b.png", a_png(MB)), ("c.png", a_png(MB // 2))]
    response = as_json(client, letter, files, **token(citizen))
    assert response.status_code == 413, response.content
    error = response.json()["error"]
    assert error["code"] == "request_too_large"
    assert error["details"]["limit_bytes"] == 3 * MB  # refused by its Content-Length
    # The same files go through as multipart.
    assert as_multipart(client, letter, files, **token(citizen)).status_code == 201


def test_a_multipart_body_over_its_limit_is_413_before_it_is_read(
    client: Client, citizen: User, letter: dict[str, Any], settings: Any
) -> None:
    """5 files at the limit and the form's fields: 5 × 300 KB + 64 KB here."""
    settings.SALTER_UPLOAD_MAX_BYTES = 300 * 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    files = [(f"{n}.png", a_png(299 * 1024)) for n in range(6)]
    response = as_multipart(client, letter, files, **token(citizen))
    assert response.status_code == 413, response.content
    error = response.json()["error"]
    assert error["code"] == "request_too_large"
    assert "at most 1.5 MB are accepted here" in error["message"]
    assert "at most 5 files of at most 0.3 MB each" in error["message"]
    assert not Message.objects.exists()


def test_the_browser_session_is_held_to_the_same_limits(
    citizen: User, letter: dict[str, Any], settings: Any
) -> None:
    """The session's CSRF check reads the form before the route runs: the limits are in
    place by then, and a body over them is the same JSON 413."""
    settings.SALTER_UPLOAD_MAX_BYTES = 300 * 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    browser = logged_in(citizen)
    browser.handler.enforce_csrf_checks = True
    browser.cookies[settings.CSRF_COOKIE_NAME] = "a" * 32  # so the check goes on to the form
    files = [SimpleUploadedFile(f"{n}.png", a_png(299 * 1024)) for n in range(6)]
    response = browser.post(URL, {**letter, "files": files})
    assert response.status_code == 413, response.content
    assert response.json()["error"]["code"] == "request_too_large"


def test_files_in_a_part_of_another_name_are_refused(
    client: Client, citizen: User, letter: dict[str, Any]
) -> None:
    upload = SimpleUploadedFile("a.png", a_png(1000))
    response = client.post(URL, {**letter, "file": upload}, headers={**ENGLISH, **token(citizen)})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "file"


def test_the_schema_describes_both_forms(client: Client) -> None:
    operation = client.get("/api/v1/openapi.json").json()["paths"][URL]["post"]
    content = operation["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    files = content["multipart/form-data"]["schema"]["properties"]["files"]
    assert files["items"] == {"type": "string", "format": "binary"} and files["maxItems"] == 5
    json_files = content["application/json"]["schema"]["properties"]["files"]
    assert "content_base64" in json_files["items"]["properties"]
