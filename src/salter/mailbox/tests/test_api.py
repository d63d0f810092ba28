"""``/api/v1/mailbox``: messages by cursor, reading one opens it, sending a letter (base64 files,
idempotent by header or body), accepting and refusing a delivery, consents; scopes; and that
nobody reaches another's mailbox."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from salter.authorities.models import Authority
from salter.cases.models import Case
from salter.identity.models import User
from salter.mailbox import evidence
from salter.mailbox.models import Consent, Message
from salter.mailbox.services import give_consent, mailbox_of

from .helpers import PNG, a_pdf, act, company_with_agent, deliver, token

pytestmark = pytest.mark.django_db

API = "/api/v1/mailbox"


ENGLISH = {"Accept-Language": "en"}  # the site's default is Serbian


def get(client: Client, url: str, headers: dict[str, str]) -> Any:
    return client.get(url, headers={**ENGLISH, **headers})


def post(client: Client, url: str, body: Any, headers: dict[str, str]) -> Any:
    return client.post(
        url, json.dumps(body), content_type="application/json", headers={**ENGLISH, **headers}
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def many(citizen: User, authority: Authority, n: int) -> None:
    base = timezone.now()
    box = mailbox_of(citizen)
    Message.objects.bulk_create(
        Message(
            mailbox=box,
            authority=authority,
            direction=Message.Direction.INBOUND,
            subject=f"Порука {i}",
            created_at=base + timedelta(seconds=i // 2),  # ties on the time: the id decides
        )
        for i in range(n)
    )


def test_messages_page_by_the_link_header_at_a_constant_cost(
    client: Client, citizen: User, authority: Authority
) -> None:
    headers = token(citizen, "read")
    many(citizen, authority, 3)
    get(client, f"{API}/messages", headers)

    def cost(url: str) -> tuple[int, Any]:
        with CaptureQueriesContext(connection) as captured:
            response = get(client, url, headers)
        assert response.status_code == 200
        return len(captured), response

    few, response = cost(f"{API}/messages?limit=2")
    assert response["X-Unread-Count"] == "3"
    many(citizen, authority, 40)
    seen: list[int] = []
    url = f"{API}/messages?limit=10"
    pages = 0
    while url:
        queries, response = cost(url)
        assert queries == few
        seen += [m["id"] for m in response.json()]
        link = response.get("Link", "")
        url = link[1 : link.index(">")] if link else ""
        pages += 1
    assert pages == 5 and len(seen) == len(set(seen)) == 43
    ordered = list(
        Message.objects.filter(mailbox__user=citizen)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
    )
    assert seen == ordered
    first = get(client, f"{API}/messages?limit=1", headers).json()[0]
    assert set(first) >= {"id", "authority", "subject", "registry_number", "delivery"}
    bad = get(client, f"{API}/messages?before=nope", headers)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "before"


def test_reading_a_delivery_opens_it_and_carries_its_sealed_steps(
    client: Client, approved: Case, citizen: User, clerk: User
) -> None:
    delivery = deliver(approved, clerk)
    headers = token(citizen, "read")
    listed = get(client, f"{API}/messages", headers).json()
    assert listed[0]["delivery"]["state"] == "delivered" and listed[0]["read_at"] is None
    response = get(client, f"{API}/messages/{delivery.message.pk}", headers)
    assert response.status_code == 200
    body = response.json()
    assert body["delivery"]["state"] == "opened" and body["delivery"]["opened_at"]
    assert body["delivery"]["state_label"].startswith("Opened ")
    assert [s["state"] for s in body["steps"]] == ["submitted", "delivered", "opened"]
    previous = ""
    for step in body["steps"]:
        assert step["sealed"] and step["intact"]
        check = evidence.verify(
            step["record"], base64.b64decode(step["seal"]), step["digest"], previous
        )
        assert check.valid
        previous = step["digest"]
    assert body["registry_number"] and body["files"]
    download = client.get(body["files"][-1]["url"], headers=headers)
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    approved.refresh_from_db()
    assert approved.state == "delivered"
    again = get(client, f"{API}/messages/{delivery.message.pk}", headers).json()
    assert len(again["steps"]) == 3


def test_a_letter_is_sent_with_files_once_per_idempotency_key(
    client: Client, approved: Case, citizen: User, authority: Authority
) -> None:
    headers = {**token(citizen, "read", "write"), "Idempotency-Key": "letter-0001"}
    body = {
        "authority": authority.code,
        "subject": "Допуна",
        "body": "Шаљем извод.",
        "case_id": approved.pk,
        "files": [
            {"name": "izvod.pdf", "content_base64": b64(a_pdf())},
            {"name": "slika.png", "content_base64": b64(PNG)},
        ],
    }
    response = post(client, f"{API}/messages", body, headers)
    assert response.status_code == 201, response.content
    sent = response.json()
    assert sent["direction"] == "outbound" and sent["case_id"] == approved.pk
    assert sent["registry_number"].startswith(approved.registry_number)
    assert sent["registered_at"] and [f["name"] for f in sent["files"]] == [
        "izvod.pdf",
        "slika.png",
    ]
    again = post(client, f"{API}/messages", body, headers)
    assert again.status_code == 200 and again.json()["id"] == sent["id"]
    assert Message.objects.filter(mailbox__user=citizen).count() == 1
    # The key may come in the body too; both must agree.
    in_body = {**body, "idempotency_key": "letter-0001"}
    plain = token(citizen)
    assert post(client, f"{API}/messages", in_body, plain).json()["id"] == sent["id"]
    clash = post(client, f"{API}/messages", {**body, "idempotency_key": "other"}, headers)
    assert clash.status_code == 422


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"authority": "nowhere"}, "authority"),
        ({"subject": "  "}, "subject"),
        ({"files": [{"name": "a.exe", "content_base64": b64(b"MZ\x90\x00")}]}, "files.0"),
        ({"files": [{"name": "a.pdf", "content_base64": "not base64!"}]}, "files.0"),
        ({"files": [{"name": "a.pdf", "content_base64": ""}]}, "files.0"),
        ({"case_id": 999999}, "case_id"),
        ({"body": "", "files": []}, "body"),
    ],
)
def test_a_letter_with_errors_is_refused_with_the_field(
    client: Client, citizen: User, authority: Authority, change: dict[str, Any], field: str
) -> None:
    body = {"authority": authority.code, "subject": "Писмо", "body": "Текст.", **change}
    response = post(client, f"{API}/messages", body, token(citizen))
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"] == field
    assert not Message.objects.exists()


def test_accepting_and_refusing(client: Client, approved: Case, citizen: User, clerk: User) -> None:
    delivery = deliver(approved, clerk)
    headers = token(citizen)
    refused = post(client, f"{API}/deliveries/{delivery.pk}/refuse", {"reason": ""}, headers)
    assert refused.status_code == 422
    accepted = post(client, f"{API}/deliveries/{delivery.pk}/accept", {}, headers)
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    again = post(client, f"{API}/deliveries/{delivery.pk}/refuse", {"reason": "Не."}, headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_refusing_records_the_reason(
    client: Client, approved: Case, citizen: User, clerk: User
) -> None:
    delivery = deliver(approved, clerk)
    response = post(
        client, f"{API}/deliveries/{delivery.pk}/refuse", {"reason": "Није моје."}, token(citizen)
    )
    assert response.status_code == 200 and response.json()["state"] == "refused"
    assert "Није моје." in delivery.events.get(state="refused").record


def test_consents(client: Client, citizen: User, authority: Authority) -> None:
    headers = token(citizen)
    assert get(client, f"{API}/consents", headers).json() == []
    general = post(client, f"{API}/consents", {"authority": None}, headers)
    assert general.status_code == 201 and general.json()["authority"] is None
    assert post(client, f"{API}/consents", {}, headers).status_code == 200  # already in force
    one = post(client, f"{API}/consents", {"authority": authority.code}, headers)
    assert one.status_code == 201 and one.json()["authority"]["code"] == authority.code
    listed = get(client, f"{API}/consents", headers).json()
    assert [c["authority"] for c in listed][0] is None and len(listed) == 2
    assert post(client, f"{API}/consents", {"authority": "x"}, headers).status_code == 422
    gone = client.delete(f"{API}/consents/{general.json()['id']}", headers=headers)
    assert gone.status_code == 204
    assert client.delete(f"{API}/consents/{general.json()['id']}", headers=headers).status_code == (
        404
    )
    assert len(get(client, f"{API}/consents", headers).json()) == 1


def test_a_business_mailbox_by_its_id(client: Client, citizen: User, authority: Authority) -> None:
    company = company_with_agent(citizen)
    headers = token(citizen)
    get(client, f"{API}/messages", headers)  # makes the business's mailbox
    company.refresh_from_db()
    box = mailbox_of(citizen)
    business = company.mailbox
    assert business.pk != box.pk
    body = {"authority": authority.code, "subject": "Од фирме", "body": "Текст."}
    sent = post(client, f"{API}/messages", {**body, "mailbox": business.pk}, headers)
    assert sent.status_code == 201 and sent.json()["mailbox"] == business.pk
    listed = get(client, f"{API}/messages?mailbox={business.pk}", headers).json()
    assert [m["subject"] for m in listed] == ["Од фирме"]
    consent = post(client, f"{API}/consents", {"mailbox": business.pk}, headers)
    assert consent.json()["mailbox"] == business.pk
    assert get(client, f"{API}/messages?mailbox=999999", headers).status_code == 404


def test_scopes_and_strangers(
    client: Client, approved: Case, citizen: User, clerk: User, authority: Authority
) -> None:
    delivery = deliver(approved, clerk)
    consent = Consent.objects.get(mailbox__user=citizen)
    message = delivery.message
    # Anonymous: 401 everywhere.
    for url in (f"{API}/messages", f"{API}/messages/{message.pk}", f"{API}/consents"):
        assert client.get(url).status_code == 401
    assert post(client, f"{API}/messages", {}, {}).status_code == 401
    assert client.delete(f"{API}/consents/{consent.pk}").status_code == 401
    # A read-only token reads, and writes nothing.
    reader = token(citizen, "read")
    assert get(client, f"{API}/messages", reader).status_code == 200
    body = {"authority": authority.code, "subject": "Писмо", "body": "Текст."}
    for url, data in (
        (f"{API}/messages", body),
        (f"{API}/deliveries/{delivery.pk}/accept", {}),
        (f"{API}/deliveries/{delivery.pk}/refuse", {"reason": "x"}),
        (f"{API}/consents", {}),
    ):
        refused = post(client, url, data, reader)
        assert refused.status_code == 403, url
        assert refused.json()["error"]["code"] == "insufficient_scope"
    assert client.delete(f"{API}/consents/{consent.pk}", headers=reader).status_code == 403
    # Someone else, and an official of the authority, find nothing of the citizen's.
    for user in (User.objects.create_user("x@example.rs", "x" * 20, full_name="Х"), clerk):
        headers = token(user)
        assert get(client, f"{API}/messages", headers).json() == []
        assert get(client, f"{API}/messages/{message.pk}", headers).status_code == 404
        url = f"{API}/messages/{message.pk}/files/1"
        assert get(client, url, headers).status_code == 404
        assert post(client, f"{API}/deliveries/{delivery.pk}/accept", {}, headers).status_code == (
            404
        )
        assert client.delete(f"{API}/consents/{consent.pk}", headers=headers).status_code == 404
    delivery.refresh_from_db()
    assert delivery.opened_at is None and delivery.answered_at is None
    give_consent(act(citizen), mailbox_of(citizen))  # still the citizen's to manage
    consent.refresh_from_db()
    assert consent.revoked_at is None


def test_the_schema_documents_the_mailbox(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/mailbox/messages",
        "/api/v1/mailbox/messages/{message_id}",
        "/api/v1/mailbox/deliveries/{delivery_id}/accept",
        "/api/v1/mailbox/deliveries/{delivery_id}/refuse",
        "/api/v1/mailbox/consents",
        "/api/v1/mailbox/consents/{consent_id}",
    ):
        assert path in paths, path
    parameters = paths["/api/v1/mailbox/messages"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in parameters)
