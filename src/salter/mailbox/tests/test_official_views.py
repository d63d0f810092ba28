"""The officials' e-mailbox pages: letters received, deliveries (those waiting for the post),
one delivery with its sealed timeline, printing the act and recording the postal delivery; the
deliveries on the official's case page; and that only officials of the authority see them."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from salter.audit.models import AuditEvent
from salter.authorities import services as authorities
from salter.authorities.models import Authority
from salter.cases.models import Case
from salter.core.context import Actor
from salter.documents.uploads import CheckedFile, check
from salter.identity import services as identity
from salter.identity.models import Role, User
from salter.mailbox.models import Delivery, Message
from salter.mailbox.services import mailbox_of, opened, send_letter

from .helpers import PNG, a_pdf, act, deliver, logged_in, signed_in

pytestmark = pytest.mark.django_db

LETTERS = "/official/mailbox/"
DELIVERIES = "/official/mailbox/deliveries/"


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def delivery_url(delivery: Delivery) -> str:
    return reverse("official:mailbox_delivery", args=[delivery.pk])


def letter(
    citizen: User,
    authority: Authority,
    subject: str,
    *,
    files: Sequence[CheckedFile] = (),
    case: Case | None = None,
) -> Message:
    box = mailbox_of(citizen)
    return send_letter(
        act(citizen), box, authority, subject=subject, body="Текст.", files=files, case=case
    )[0]


def stranger(system: Actor) -> User:
    """The head of unit of another authority."""
    other = authorities.create_authority(
        system, code="vranje", name="Град Врање", kind=Authority.Kind.LOCAL_GOVERNMENT
    )
    return identity.add_official(
        system,
        email="sef@vranje.demo",
        full_name="Други Шеф",
        unit=authorities.create_unit(system, other, code="it", name="ИТ"),
        role=Role.HEAD_OF_UNIT,
        password="x" * 20,
    ).user


# --- letters ---------------------------------------------------------------------------------


def test_the_authority_s_letters_newest_first_with_links_and_a_filter(
    approved: Case, citizen: User, clerk: User, authority: Authority
) -> None:
    new = letter(
        citizen,
        authority,
        "Нова молба",
        files=[check("molba.pdf", a_pdf()), check("slika.png", PNG)],
    )
    about_case = letter(citizen, authority, "Допуна у предмету", case=approved)
    client = signed_in(clerk)
    text = page(client, LETTERS)
    assert text.index("Допуна у предмету") < text.index("Нова молба")
    assert reverse("official:case", args=[approved.pk]) in text
    assert citizen.full_name in text
    assert new.document is not None and new.document.registry_number in text
    only_new = page(client, LETTERS + "?kind=new")
    assert "Нова молба" in only_new and "Допуна у предмету" not in only_new
    only_case = page(client, LETTERS + "?kind=case")
    assert "Нова молба" not in only_case and "Допуна у предмету" in only_case

    detail = page(client, reverse("official:mailbox_letter", args=[new.pk]))
    assert "Текст." in detail and "molba.pdf" in detail and "slika.png" in detail
    file_url = reverse("official:mailbox_letter_file", args=[new.pk, 1])
    assert file_url in detail
    response = client.get(file_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(action="document.read", actor_id=clerk.pk).count() == 1
    assert client.get(reverse("official:mailbox_letter_file", args=[new.pk, 9])).status_code == 404
    assert about_case.pk  # listed above


def test_the_letters_page_pages_by_cursor_at_a_constant_cost(
    citizen: User, clerk: User, authority: Authority
) -> None:
    client = signed_in(clerk)
    letter(citizen, authority, "Писмо 0")
    page(client, LETTERS)

    def cost(url: str) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            text = page(client, url)
        return len(captured), text

    few, _text = cost(LETTERS)
    base = timezone.now()
    box = mailbox_of(citizen)
    Message.objects.bulk_create(
        Message(
            mailbox=box,
            authority=authority,
            direction=Message.Direction.OUTBOUND,
            subject=f"Писмо {n}",
            created_at=base + timedelta(seconds=n),
        )
        for n in range(1, 60)
    )
    many, first = cost(LETTERS)
    assert many == few
    assert first.count("<tr>") == 50 + 1
    older = re.search(r'<a href="(\?[^"]*)">Older</a>', first)
    assert older is not None
    deep, second = cost(LETTERS + html.unescape(older.group(1)))
    assert deep == few and second.count("<tr>") == 10 + 1 and "Писмо 0" in second


# --- deliveries ------------------------------------------------------------------------------


def test_a_postal_delivery_is_printed_and_recorded(
    approved: Case, citizen: User, clerk: User
) -> None:
    delivery = deliver(approved, clerk, consent=False)
    client = signed_in(clerk)
    waiting = page(client, DELIVERIES + "?state=postal")
    assert delivery_url(delivery) in waiting and "To be delivered by post" in waiting
    assert citizen.full_name in waiting
    text = page(client, delivery_url(delivery))
    assert "Record the postal delivery" in text and "Download the act to print" in text
    assert text.count('Sealed <span aria-hidden="true">✓</span>') == 2
    act_pdf = client.get(reverse("official:mailbox_delivery_act", args=[delivery.pk]))
    assert act_pdf.status_code == 200 and act_pdf["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(action="document.read", actor_id=clerk.pk).exists()
    evidence = client.get(
        reverse("official:mailbox_delivery_evidence", args=[delivery.pk, 1, "json"])
    )
    assert evidence.status_code == 200 and b'"state":"submitted"' in evidence.content

    postal = reverse("official:mailbox_delivery_postal", args=[delivery.pk])
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(postal, {"delivered_on": tomorrow.isoformat()})
    assert response.status_code == 400
    assert "The day must be between the sending and today." in response.content.decode()
    response = client.post(postal, {"delivered_on": "not a day"})
    assert response.status_code == 400
    today = timezone.localdate()
    response = client.post(postal, {"delivered_on": today.isoformat()})
    assert response.status_code == 302 and response["Location"] == delivery_url(delivery)
    delivery.refresh_from_db()
    assert delivery.state == "postal_delivered" and delivery.effective_at is not None
    approved.refresh_from_db()
    assert approved.state == "delivered"
    text = page(client, delivery_url(delivery))
    assert "The postal delivery is recorded." in text
    assert "Delivered by post on " + today.strftime("%d.%m.%Y.") in text
    assert "Record the postal delivery" not in text
    assert delivery_url(delivery) not in page(client, DELIVERIES + "?state=postal")


def test_the_official_sees_when_the_recipient_opened_it(
    approved: Case, citizen: User, clerk: User
) -> None:
    delivery = deliver(approved, clerk)
    client = signed_in(clerk)
    case_url = reverse("official:case", args=[approved.pk])
    text = page(client, case_url)
    assert "Deliveries" in text and delivery_url(delivery) in text
    assert "Not opened yet; deemed delivered on" in text
    assert "Record the postal delivery" not in page(client, delivery_url(delivery))
    opened(act(citizen), delivery.message)
    delivery.refresh_from_db()
    assert delivery.opened_at is not None
    at = timezone.localtime(delivery.opened_at).strftime("%d.%m.%Y. %H:%M")
    assert f"Opened {at}" in page(client, case_url)
    assert f"Opened {at}" in page(client, DELIVERIES)
    assert delivery_url(delivery) in page(client, DELIVERIES + "?state=opened")
    assert delivery_url(delivery) not in page(client, DELIVERIES + "?state=waiting")


def test_the_case_page_costs_the_same_with_or_without_deliveries(
    approved: Case, citizen: User, clerk: User
) -> None:
    client = signed_in(clerk)
    case_url = reverse("official:case", args=[approved.pk])
    page(client, case_url)

    def cost() -> int:
        with CaptureQueriesContext(connection) as captured:
            page(client, case_url)
        return len(captured)

    before = cost()
    deliver(approved, clerk)
    assert cost() == before  # the deliveries' query runs with or without deliveries


# --- who may see what ------------------------------------------------------------------------


def test_only_officials_of_the_authority_see_its_mailbox(
    approved: Case, citizen: User, clerk: User, authority: Authority, system: Actor
) -> None:
    delivery = deliver(approved, clerk, consent=False)
    sent = letter(citizen, authority, "Писмо", files=[check("a.png", PNG)])
    gets = [
        LETTERS,
        DELIVERIES,
        reverse("official:mailbox_letter", args=[sent.pk]),
        reverse("official:mailbox_letter_file", args=[sent.pk, 1]),
        delivery_url(delivery),
        reverse("official:mailbox_delivery_act", args=[delivery.pk]),
        reverse("official:mailbox_delivery_evidence", args=[delivery.pk, 1, "p7s"]),
    ]
    postal = reverse("official:mailbox_delivery_postal", args=[delivery.pk])
    for url in gets:
        response = Client().get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    response = Client().post(postal)
    assert response.status_code == 302 and "/login/" in response["Location"]
    # A citizen (even the recipient) is not an official.
    for url in gets:
        assert signed_in(citizen).get(url).status_code == 403, url
    assert logged_in(citizen).post(postal).status_code == 403
    # An official of another authority: nothing of this one exists for them.
    other = signed_in(stranger(system))
    assert "Писмо" not in page(other, LETTERS)
    assert delivery_url(delivery) not in page(other, DELIVERIES)
    for url in gets[2:]:
        assert other.get(url).status_code == 404, url
    today = timezone.localdate().isoformat()
    assert other.post(postal, {"delivered_on": today}).status_code == 404
    delivery.refresh_from_db()
    assert delivery.effective_at is None
    # An official who is not logged in with two factors is asked for the second one.
    half = Client()
    half.force_login(clerk)
    response = half.get(LETTERS)
    assert response.status_code == 302 and "/login/" not in response["Location"]
