"""/api/v1/documents/verify: the JSON shapes, stable codes beside messages in the request's
language, one error shape, no session or CSRF token needed, the rate limit."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.test import Client

from salter.audit.models import AuditEvent
from salter.core.context import Actor
from salter.documents import rendering, services, uploads
from salter.documents.models import Document

from .verify_helpers import (
    PNG,
    SUBJECT,
    changed_byte,
    signed_decision,
    spaced,
    upload,
)

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/documents/verify"
SIGNATURE_KEYS = {
    "field_name",
    "kind",
    "signer_name",
    "organisation",
    "signed_at",
    "timestamp_trusted",
    "intact",
    "unchanged_since",
    "trusted",
    "valid_then",
    "revoked_at",
    "verdict",
    "codes",
    "messages",
}


@pytest.fixture
def machine() -> Client:
    """A client without a session that would never have a CSRF token."""
    return Client(enforce_csrf_checks=True, headers={"accept-language": "en"})


def post(client: Client, data: bytes, code: str = "", name: str = "resenje.pdf") -> Any:
    fields: dict[str, Any] = {"file": upload(name, data)}
    if code:
        fields["code"] = code
    return client.post(VERIFY, fields)


def test_get_by_code_describes_the_registered_document(
    machine: Client, document: Document, signed: bytes
) -> None:
    code = document.verification_code
    response = machine.get(f"{VERIFY}/{spaced(code)}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {
        "verification_code",
        "authority",
        "registry_number",
        "registered_at",
        "subject",
        "direction",
        "voided",
        "voided_at",
        "void_reason",
        "verification_url",
        "version",
        "stored_file_intact",
        "report",
        "download_url",
    }
    assert body["verification_code"] == code
    assert body["authority"] == {"code": "surdulica", "name": "Municipality of Surdulica"}
    assert body["registry_number"] == document.registry_number
    assert (body["subject"], body["direction"]) == (SUBJECT, "outgoing")
    assert (body["voided"], body["voided_at"], body["void_reason"]) == (False, None, "")
    assert body["verification_url"] == rendering.verification_url(code)  # what the QR says
    assert body["download_url"] == rendering.verification_url(code) + "document.pdf"
    assert body["version"]["number"] == 1
    assert body["version"]["sha256"] == hashlib.sha256(signed).hexdigest()
    assert body["version"]["size"] == len(signed)
    assert body["stored_file_intact"] is True

    report = body["report"]
    assert set(report) == {"verdict", "codes", "messages", "signatures", "document_timestamps"}
    assert report["verdict"] == "valid" and report["codes"] == ["all_valid"]
    assert report["messages"] == ["Every signature and seal on this document is valid."]
    personal, seal = report["signatures"]
    assert set(personal) == SIGNATURE_KEYS
    assert (personal["kind"], personal["signer_name"]) == ("personal", "Petar Petrović")
    assert (seal["kind"], seal["organisation"]) == ("seal", "Opštinska uprava Surdulica")
    for sig in (personal, seal):
        assert sig["verdict"] == "valid" and sig["codes"] == ["valid"]
        assert sig["intact"] and sig["trusted"] and sig["valid_then"] and sig["timestamp_trusted"]
        assert sig["signed_at"] is not None and sig["revoked_at"] is None
    assert not AuditEvent.objects.filter(action="document.downloaded_by_code").exists()


def test_messages_come_in_the_request_language_codes_stay(document: Document) -> None:
    url = f"{VERIFY}/{document.verification_code}"
    serbian = Client(headers={"accept-language": "sr"}).get(url).json()["report"]
    latin = Client(headers={"accept-language": "sr-latn"}).get(url).json()["report"]
    assert serbian["codes"] == latin["codes"] == ["all_valid"]
    assert serbian["messages"] == [
        "Сви потписи и електронски печати на овом документу су исправни."
    ]
    assert latin["messages"] == ["Svi potpisi i elektronski pečati na ovom dokumentu su ispravni."]


def test_an_unknown_code_is_404_in_the_one_error_shape(machine: Client) -> None:
    for code in ("ZZZZ-ZZZZ-ZZZZ", "nonsense"):
        response = machine.get(f"{VERIFY}/{code}")
        assert response.status_code == 404
        assert response.json() == {
            "error": {
                "code": "unknown_code",
                "message": "No document is registered under this code.",
            }
        }
    response = post(machine, b"%PDF-1.7", code="ZZZZ-ZZZZ-ZZZZ")
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_code"


def test_post_the_identical_file_without_session_or_csrf(
    machine: Client, document: Document, signed: bytes
) -> None:
    response = post(machine, signed, code=spaced(document.verification_code))
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"name", "size", "sha256", "report", "registered", "match"}
    assert (body["name"], body["size"]) == ("resenje.pdf", len(signed))
    assert body["sha256"] == hashlib.sha256(signed).hexdigest()
    assert body["report"]["verdict"] == "valid"
    assert body["registered"]["registry_number"] == document.registry_number
    assert body["match"] == {
        "result": "current",
        "version": 1,
        "message": "This file is exactly the document registered under this code.",
    }


def test_post_a_file_without_a_code(machine: Client, signed: bytes) -> None:
    body = post(machine, signed).json()
    assert body["report"]["verdict"] == "valid"
    assert body["registered"] is None and body["match"] is None


def test_post_a_changed_file(machine: Client, document: Document, signed: bytes) -> None:
    body = post(machine, changed_byte(signed), code=document.verification_code).json()
    assert body["report"]["verdict"] == "invalid"
    assert body["report"]["codes"] == ["some_invalid", "changed"]
    assert all(s["codes"] == ["changed"] and not s["intact"] for s in body["report"]["signatures"])
    assert body["match"]["result"] == "different" and body["match"]["version"] is None


def test_post_an_earlier_version(machine: Client, document: Document, signed: bytes) -> None:
    newer = signed_decision("Ispravljeno rešenje")
    services.add_version(Actor.system("command"), document, uploads.check("v2.pdf", newer))
    body = post(machine, signed, code=document.verification_code).json()
    assert body["match"]["result"] == "earlier" and body["match"]["version"] == 1
    assert body["registered"]["version"]["number"] == 2


def test_a_voided_document_says_so(machine: Client, document: Document) -> None:
    services.void(Actor.system("command"), document, "Издато грешком.")
    body = machine.get(f"{VERIFY}/{document.verification_code}").json()
    assert body["voided"] is True and body["void_reason"] == "Издато грешком."
    assert body["voided_at"] is not None


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (PNG, 422, "not_a_pdf"),
        (b"<html><script>alert(1)</script>", 422, "not_a_pdf"),
        (b"%PDF-1.7\n garbage", 422, "unreadable_pdf"),
        (b"", 422, "empty_file"),
    ],
)
def test_refused_uploads(machine: Client, data: bytes, status: int, code: str) -> None:
    response = post(machine, data, name="scan.png")
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]


def test_a_file_over_the_limit_is_413(machine: Client, signed: bytes, settings: Any) -> None:
    settings.SALTER_UPLOAD_MAX_BYTES = 1024
    response = post(machine, signed)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"


def test_the_file_is_required(machine: Client) -> None:
    response = machine.post(VERIFY, {"code": "ZZZZ-ZZZZ-ZZZZ"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_rate_limited_with_retry_after(
    machine: Client, document: Document, signed: bytes, settings: Any
) -> None:
    settings.SALTER_VERIFY_RATE = "2/minute"
    assert machine.get(f"{VERIFY}/{document.verification_code}").status_code == 200
    assert post(machine, signed).status_code == 200
    for response in (machine.get(f"{VERIFY}/{document.verification_code}"), post(machine, signed)):
        assert response.status_code == 429
        assert 1 <= int(response["Retry-After"]) <= 60
        error = response.json()["error"]
        assert error["code"] == "rate_limited"
        assert error["details"]["retry_after"] == int(response["Retry-After"])


def test_the_endpoints_are_in_the_openapi_description(machine: Client) -> None:
    paths = machine.get("/api/v1/openapi.json").json()["paths"]
    assert "get" in paths["/api/v1/documents/verify/{code}"]
    upload = paths["/api/v1/documents/verify"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert not upload.get("security")  # public
