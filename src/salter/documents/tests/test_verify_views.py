"""The public verification pages: a code leads to what is registered under it, an uploaded
copy is checked and compared byte for byte, downloads are audited, lookups rate limited."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from salter.audit import services as audit
from salter.audit.models import AuditEvent
from salter.authorities.models import Authority
from salter.core.context import Actor
from salter.documents import public, services, uploads
from salter.documents.models import Document, DocumentVersion

from .verify_helpers import (
    PNG,
    SUBJECT,
    changed_byte,
    signed_decision,
    spaced,
    upload,
)

pytestmark = pytest.mark.django_db

IDENTICAL = "This file is exactly the document registered under this code."
ALL_VALID = "Every signature and seal on this document is valid."
CHANGED = "The document was changed after it was signed."


@pytest.fixture
def client() -> Client:
    return Client(headers={"accept-language": "en"})


def page_of(document: Document) -> str:
    return f"/verify/{document.verification_code}/"


def text_of(response: Any) -> str:
    return str(response.content.decode())


def test_the_code_page_shows_what_is_registered_and_its_signatures(
    client: Client, document: Document, signed: bytes
) -> None:
    response = client.get(page_of(document))
    page = text_of(response)
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    for expected in (
        "Municipality of Surdulica",  # the authority, in the page's language
        document.registry_number,
        SUBJECT,
        hashlib.sha256(signed).hexdigest(),
        "Registered, not voided",
        ALL_VALID,
        "Personal signature",
        "Petar Petrović",
        "Electronic seal",
        "Opštinska uprava Surdulica",
        "Confirmed by a trusted timestamp.",
        f"/verify/{document.verification_code}/document.pdf",
    ):
        assert expected in page, expected
    assert "Not valid" not in page


def test_the_report_on_the_registered_file_is_cached_per_version(
    client: Client, document: Document, monkeypatch: pytest.MonkeyPatch, signed: bytes
) -> None:
    calls: list[int] = []
    real = public.verify_pdf

    def counting(data: bytes) -> Any:
        calls.append(len(data))
        return real(data)

    monkeypatch.setattr(public, "verify_pdf", counting)
    assert client.get(page_of(document)).status_code == 200
    assert client.get(page_of(document)).status_code == 200
    assert calls == [len(signed)]

    # A new version is a new report: the old one is not shown for it.
    services.add_version(
        Actor.system("command"), document, uploads.check("again.pdf", changed_byte(signed))
    )
    page = text_of(client.get(page_of(document)))
    assert len(calls) == 2
    assert "Version 2 of" in page and CHANGED in page


def test_a_repeated_visit_reads_the_database_twice_and_writes_nothing(
    client: Client, document: Document, django_assert_max_num_queries: Any
) -> None:
    client.get(page_of(document))
    events = AuditEvent.objects.count()
    with django_assert_max_num_queries(2):  # the entry and its versions; the report is cached
        assert client.get(page_of(document)).status_code == 200
    assert AuditEvent.objects.count() == events  # a page view is not audited


def test_a_code_typed_in_lower_case_with_spaces_finds_the_document(
    client: Client, document: Document
) -> None:
    code = document.verification_code
    typed = spaced(code)
    response = client.get(f"/verify/{quote(typed)}/")
    assert response.status_code == 302 and response["Location"] == f"/verify/{code}/"
    response = client.get("/verify/", {"code": f"  {typed.replace('0', 'o')} "})
    assert response.status_code == 302 and response["Location"] == f"/verify/{code}/"
    # The form posted with only a code leads to the code's page too.
    response = client.post("/verify/", {"code": typed})
    assert response.status_code == 302 and response["Location"] == f"/verify/{code}/"
    assert SUBJECT in text_of(client.get(response["Location"]))


@pytest.mark.parametrize("code", ["ZZZZ-ZZZZ-ZZZZ", "not-a-code"])
def test_an_unknown_code_is_a_friendly_404_with_the_form(
    client: Client, document: Document, code: str
) -> None:
    response = client.get(f"/verify/{code}/")
    page = text_of(response)
    assert response.status_code == 404
    assert "No document with this code" in page
    assert 'name="code"' in page and 'type="file"' in page and 'action="/verify/"' in page
    assert f'value="{code}"' in page  # to correct, not to type again
    assert SUBJECT not in page
    assert client.get(f"/verify/{code}/document.pdf").status_code == 404


def test_the_identical_file_is_intact_and_matches(
    client: Client, document: Document, signed: bytes
) -> None:
    response = client.post(page_of(document), {"file": upload("moje-resenje.pdf", signed)})
    page = text_of(response)
    assert response.status_code == 200
    assert "Identical" in page and IDENTICAL in page
    assert ALL_VALID in page and "Petar Petrović" in page
    assert hashlib.sha256(signed).hexdigest() in page
    assert "moje-resenje.pdf" in page

    # The same from the start page, with the code typed as a person would.
    response = client.post(
        "/verify/", {"code": spaced(document.verification_code), "file": upload("x.pdf", signed)}
    )
    assert response.status_code == 200 and IDENTICAL in text_of(response)


def test_a_file_changed_by_one_byte_is_reported_changed(
    client: Client, document: Document, signed: bytes
) -> None:
    response = client.post(page_of(document), {"file": upload("x.pdf", changed_byte(signed))})
    page = text_of(response)
    assert response.status_code == 200
    assert CHANGED in page
    assert "Different" in page
    assert "This file is not the document registered under this code" in page
    assert "Not valid" in page and IDENTICAL not in page


def test_a_file_alone_is_checked_without_a_comparison(client: Client, signed: bytes) -> None:
    response = client.post("/verify/", {"file": upload("x.pdf", signed)})
    page = text_of(response)
    assert response.status_code == 200
    assert ALL_VALID in page and "Compared with the registered document" not in page


def test_an_earlier_version_is_named_as_such(
    client: Client, document: Document, signed: bytes, pki_dir: Path
) -> None:
    newer = signed_decision("Ispravljeno rešenje")
    services.add_version(Actor.system("command"), document, uploads.check("v2.pdf", newer))
    page = text_of(client.post(page_of(document), {"file": upload("old.pdf", signed)}))
    assert "An earlier version" in page and "(version 1)" in page
    assert IDENTICAL not in page
    assert IDENTICAL in text_of(client.post(page_of(document), {"file": upload("n.pdf", newer)}))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (PNG, "Only PDF documents can be checked here, and this file is not a PDF."),
        (b"MZ\x90\x00 an executable", "Only PDF documents can be checked here"),
        (b"%PDF-1.7\n garbage", "The PDF is damaged and cannot be opened."),
        (b"", "The file is empty."),
    ],
)
def test_a_file_that_is_not_a_readable_pdf_is_refused_clearly(
    client: Client, document: Document, data: bytes, message: str
) -> None:
    for url in (page_of(document), "/verify/"):
        response = client.post(url, {"file": upload("scan.png", data)})
        page = text_of(response)
        assert response.status_code == 400, url
        assert message in page, url
        assert 'href="#verify-file"' in page and 'aria-invalid="true"' in page


def test_uploads_over_the_limit_are_refused(
    client: Client, document: Document, signed: bytes, settings: Any
) -> None:
    settings.SALTER_UPLOAD_MAX_BYTES = 1024
    response = client.post(page_of(document), {"file": upload("big.pdf", signed)})
    assert response.status_code == 400
    assert "at most 1 kB are accepted" in text_of(response)


def test_the_start_form_asks_for_something(client: Client) -> None:
    page = client.get("/verify/")
    assert page.status_code == 200 and 'name="csrfmiddlewaretoken"' in text_of(page)
    empty = client.post("/verify/", {})
    assert empty.status_code == 400
    assert "Type the code printed under the QR code" in text_of(empty)
    wrong = client.post("/verify/", {"code": "12345"})
    assert wrong.status_code == 400 and "This is not a verification code" in text_of(wrong)
    assert 'href="#verify-code"' in text_of(wrong)


def test_an_unknown_code_with_a_file_is_a_field_error(client: Client, signed: bytes) -> None:
    response = client.post("/verify/", {"code": "ZZZZ-ZZZZ-ZZZZ", "file": upload("x.pdf", signed)})
    assert response.status_code == 400
    assert "No document is registered under this code." in text_of(response)


def test_the_form_needs_its_csrf_token(document: Document, signed: bytes) -> None:
    browser = Client(enforce_csrf_checks=True, headers={"accept-language": "en"})
    refused = browser.post(page_of(document), {"file": upload("x.pdf", signed)})
    assert refused.status_code == 403
    browser.get(page_of(document))
    token = browser.cookies["salter_csrf"].value
    accepted = browser.post(
        page_of(document), {"file": upload("x.pdf", signed), "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 200 and IDENTICAL in text_of(accepted)


def test_a_voided_document_is_shown_as_voided(
    client: Client, document: Document, signed: bytes
) -> None:
    services.void(Actor.system("command"), document, "Издато грешком, замењено новим.")
    page = text_of(client.get(page_of(document)))
    assert "This document was voided on" in page
    assert "Издато грешком, замењено новим." in page
    assert "Registered, not voided" not in page
    result = text_of(client.post(page_of(document), {"file": upload("x.pdf", signed)}))
    assert IDENTICAL in result and "This document was voided on" in result


def test_a_download_is_the_registered_pdf_and_is_audited(
    client: Client, document: Document, signed: bytes
) -> None:
    response = client.get(f"/verify/{spaced(document.verification_code)}/document.pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == signed  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert "resenje.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"

    event = AuditEvent.objects.get(action="document.downloaded_by_code")
    assert (event.object_type, event.object_id) == ("documents.document", str(document.pk))
    assert event.authority_id == document.authority_id
    assert event.actor_id is None and event.actor_label == "system:public"
    assert event.ip == "127.0.0.1"
    assert event.payload == {"version": 1, "sha256": hashlib.sha256(signed).hexdigest()}
    assert audit.verify().ok


def test_lookups_uploads_and_downloads_are_rate_limited_per_client(
    client: Client, document: Document, signed: bytes, settings: Any
) -> None:
    settings.SALTER_VERIFY_RATE = "3/minute"
    assert client.get(page_of(document)).status_code == 200
    assert client.post(page_of(document), {"file": upload("x.pdf", signed)}).status_code == 200
    assert client.get(page_of(document) + "document.pdf").status_code == 200
    for response in (
        client.get(page_of(document)),
        client.post("/verify/", {"file": upload("x.pdf", signed)}),
        client.get(page_of(document) + "document.pdf"),
    ):
        assert response.status_code == 429
        assert 1 <= int(response["Retry-After"]) <= 60
        assert "Too many checks" in text_of(response)
    assert AuditEvent.objects.filter(action="document.downloaded_by_code").count() == 1
    assert client.get("/verify/").status_code == 200  # the empty form costs nothing
    other = Client(REMOTE_ADDR="10.1.2.3", headers={"accept-language": "en"})
    assert other.get(page_of(document)).status_code == 200  # another client, its own count


def test_a_stored_file_changed_behind_the_registry_is_not_vouched_for(
    client: Client, document: Document, signed: bytes
) -> None:
    version = document.versions.get()
    path = default_storage.path(str(version.file.name))
    Path(path).write_bytes(changed_byte(signed))
    response = client.get(page_of(document))
    page = text_of(response)
    assert response.status_code == 200
    assert "The stored file does not match the fingerprint recorded" in page
    body = Client().get(f"/api/v1/documents/verify/{document.verification_code}").json()
    assert body["stored_file_intact"] is False


def test_a_draft_is_never_shown_or_served_by_its_code(
    client: Client, system: Actor, authority: Authority, signed: bytes
) -> None:
    """An act's draft carries the act's code (printed on the draft under review), but it stays
    inside the authority until the act is signed."""
    draft = services.register(
        system,
        authority=authority,
        direction=Document.Direction.OUTGOING,
        subject=SUBJECT,
        recipient="Петар Петровић",
    )
    services.add_version(
        system, draft, uploads.check("nacrt.pdf", signed), kind=DocumentVersion.Kind.DRAFT
    )
    page = text_of(client.get(page_of(draft)))
    assert "document.pdf" not in page and "nacrt" not in page
    assert client.get(f"{page_of(draft)}document.pdf").status_code == 404
    assert not AuditEvent.objects.filter(action="document.downloaded_by_code").exists()
