"""The citizen's e-mailbox pages: the list, a message (opening a delivery, accepting or refusing
it, its sealed timeline and the proof to keep), downloads, writing to an authority, consent,
a business's mailbox, and who may see what."""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from salter.audit.models import AuditEvent
from salter.authorities.models import Authority
from salter.cases.models import Case
from salter.core.context import Actor
from salter.documents import pki
from salter.identity.models import User
from salter.mailbox import evidence
from salter.mailbox.models import Consent, Delivery, Message
from salter.mailbox.services import give_consent, mailbox_of, send_letter

from .helpers import PNG, a_pdf, act, company_with_agent, deliver, inbound, logged_in, signed_in

pytestmark = pytest.mark.django_db

INBOX = "/mailbox/"
WRITE = "/mailbox/write/"
CONSENT = "/mailbox/consent/"


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def message_url(message: Message) -> str:
    return reverse("mailbox:message", args=[message.pk])


# --- the list --------------------------------------------------------------------------------


def test_the_mailbox_lists_received_and_sent_messages_newest_first(
    approved: Case, citizen: User, clerk: User, authority: Authority
) -> None:
    delivery = deliver(approved, clerk)
    letter, _ = send_letter(
        act(citizen), mailbox_of(citizen), authority, subject="Питање о року", body="Када?"
    )
    client = logged_in(citizen)
    text = page(client, INBOX)
    assert "Write to an authority" in text and reverse("mailbox:write") in text
    # Newest first: the letter, then the decision, which is new and not opened yet.
    assert text.index("Питање о року") < text.index(html.escape(delivery.message.subject))
    assert "New:" in text and text.count("New:") == 1
    deemed = delivery.deemed_on.strftime("%d.%m.%Y.")  # type: ignore[union-attr]
    assert f"Not opened yet; deemed delivered on {deemed}" in text
    assert letter.document.registry_number in text  # type: ignore[union-attr]
    assert "(Sent)" in text and "(Received)" in text
    # The site navigation links the mailbox with the unread count.
    assert 'href="/mailbox/">E-mailbox (1<span class="visually-hidden"> unread</span>)' in text


def test_the_list_pages_by_cursor_at_a_constant_cost(citizen: User, authority: Authority) -> None:
    for n in range(3):
        inbound(citizen, authority, f"Порука {n}")
    client = logged_in(citizen)
    page(client, INBOX)  # the first request makes the mailbox and stamps the session

    def cost(url: str) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            text = page(client, url)
        return len(captured), text

    few, _text = cost(INBOX)
    for n in range(3, 45):
        inbound(citizen, authority, f"Порука {n}")
    many, first = cost(INBOX)
    assert many == few
    assert first.count('class="card"') == 20 and "Порука 44" in first
    older = html.unescape(re.search(r'<a href="(\?[^"]*)">Older messages', first).group(1))  # type: ignore[union-attr]
    deep, second = cost(INBOX + older)
    assert deep == few
    assert "Порука 24" in second and "Порука 25" not in second and "Newest messages" in second
    older = html.unescape(re.search(r'<a href="(\?[^"]*)">Older messages', second).group(1))  # type: ignore[union-attr]
    third = page(client, INBOX + older)
    assert third.count('class="card"') == 5 and "Older messages" not in third
    # A cursor that is not one (typed by hand) is a 400 that says so (salter.core.params).
    refused = client.get(INBOX + "?before=zz!")
    assert refused.status_code == 400 and "Start again from the first page" in refused.text


def test_an_empty_mailbox_says_what_will_arrive(citizen: User) -> None:
    text = page(logged_in(citizen), INBOX)
    assert "Your mailbox is empty" in text


# --- one message: opening, the timeline, accepting or refusing --------------------------------


def test_opening_a_delivery_records_the_opened_step_once(
    approved: Case, citizen: User, clerk: User
) -> None:
    delivery = deliver(approved, clerk)
    client = logged_in(citizen)
    text = page(client, message_url(delivery.message))
    delivery.refresh_from_db()
    assert delivery.state == "opened" and delivery.opened_at is not None
    assert delivery.message.document is not None
    assert delivery.message.document.registry_number in text
    assert "Opened " + timezone.localtime(delivery.opened_at).strftime("%d.%m.%Y. %H:%M") in text
    # The timeline: every step sealed by the platform and checked.
    assert text.count('Sealed <span aria-hidden="true">✓</span>') == 3
    for state in ("Submitted for delivery", "Delivered to the e-mailbox", "Opened"):
        assert state in text
    assert "Accept or refuse the delivery" in text
    approved.refresh_from_db()
    assert approved.state == "delivered"  # delivery took effect: the case moved on
    page(client, message_url(delivery.message))  # opening again adds nothing
    assert delivery.events.count() == 3
    assert "New:" not in page(client, INBOX)


def test_the_document_downloads_and_each_read_is_audited(
    approved: Case, citizen: User, clerk: User
) -> None:
    delivery = deliver(approved, clerk)
    client = logged_in(citizen)
    text = page(client, message_url(delivery.message))
    link = re.search(r'href="(/mailbox/\d+/document/\d+/)"', text)
    assert link is not None
    response = client.get(link.group(1))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")  # type: ignore[attr-defined]
    assert response["Content-Disposition"].startswith("attachment")
    # The short address gives the issued act too.
    assert client.get(reverse("mailbox:document", args=[delivery.message.pk])).status_code == 200
    reads = AuditEvent.objects.filter(action="document.read", actor_id=citizen.pk)
    assert reads.count() == 2
    # The authority's drafts are not the recipient's: only issued versions are served.
    drafts = delivery.message.document.versions.exclude(kind__in=("signed", "sealed"))  # type: ignore[union-attr]
    for draft in drafts:
        url = reverse("mailbox:document_version", args=[delivery.message.pk, draft.number])
        assert client.get(url).status_code == 404


def test_a_step_s_record_and_seal_download_and_verify(
    approved: Case, citizen: User, clerk: User, tmp_path: Path
) -> None:
    delivery = deliver(approved, clerk)
    client = logged_in(citizen)
    message = delivery.message
    record = client.get(reverse("mailbox:evidence", args=[message.pk, 2, "json"]))
    seal = client.get(reverse("mailbox:evidence", args=[message.pk, 2, "p7s"]))
    assert record.status_code == 200 and seal.status_code == 200
    assert record["Content-Type"] == "application/json"
    assert seal["Content-Type"] == "application/pkcs7-signature"
    assert f"delivery-{delivery.pk}-step-2.json" in record["Content-Disposition"]
    first = delivery.events.get(seq=1)
    text = record.content.decode()
    check = evidence.verify(text, seal.content, evidence.digest(text), first.digest)
    assert check.valid
    # The check docs/mailbox.md describes, on the downloaded files as the citizen keeps them.
    (tmp_path / "step.json").write_bytes(record.content)
    (tmp_path / "step.p7s").write_bytes(seal.content)
    root = tmp_path / "root.pem"
    root.write_bytes(pki.root_certificate().public_bytes(pki.serialization.Encoding.PEM))
    command = [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "step.p7s"),
        "-content", str(tmp_path / "step.json"), "-CAfile", str(root), "-purpose", "any",
        "-out", "/dev/null",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    assert result.returncode == 0, result.stderr
    assert client.get(reverse("mailbox:evidence", args=[message.pk, 9, "json"])).status_code == 404
    assert client.get(reverse("mailbox:evidence", args=[message.pk, 1, "txt"])).status_code == 404


def test_the_recipient_accepts_once(approved: Case, citizen: User, clerk: User) -> None:
    delivery = deliver(approved, clerk)
    client = logged_in(citizen)
    url = reverse("mailbox:answer", args=[delivery.message.pk])
    response = client.post(url, {"action": "accept"})
    assert response.status_code == 302 and response["Location"] == message_url(delivery.message)
    delivery.refresh_from_db()
    assert delivery.state == "accepted" and delivery.answered_at is not None
    text = page(client, message_url(delivery.message))
    assert "You accepted the document." in text
    assert "Accept or refuse the delivery" not in text and "Accepted " in text
    response = client.post(url, {"action": "refuse", "reason": "Касно."}, follow=True)
    assert "You have already answered this delivery." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.state == "accepted"


def test_refusing_needs_a_reason_which_is_kept(approved: Case, citizen: User, clerk: User) -> None:
    delivery = deliver(approved, clerk)
    client = logged_in(citizen)
    url = reverse("mailbox:answer", args=[delivery.message.pk])
    response = client.post(url, {"action": "refuse", "reason": "  "})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    response = client.post(url, {"action": "refuse", "reason": "Није моје решење."})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == "refused"
    text = page(client, message_url(delivery.message))
    assert "Your refusal is on record." in text and "Није моје решење." in text


def test_a_postal_delivery_is_shown_but_not_answerable(
    approved: Case, citizen: User, clerk: User
) -> None:
    delivery = deliver(approved, clerk, consent=False)
    text = page(logged_in(citizen), message_url(delivery.message))
    assert "To be delivered by post" in text
    assert "Accept or refuse the delivery" not in text
    delivery.refresh_from_db()
    assert delivery.opened_at is None  # only an electronic delivery is opened in the mailbox


# --- writing to an authority -----------------------------------------------------------------


def test_a_letter_with_attachments_is_registered_once_and_the_receipt_shown(
    citizen: User, authority: Authority
) -> None:
    client = logged_in(citizen)
    form = page(client, WRITE)
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', form)
    assert key is not None
    assert 'type="file"' in form and "multiple" in form
    data = {
        "box": mailbox_of(citizen).pk,
        "authority": authority.pk,
        "subject": "Захтев за увид у списе",
        "body": "Молим увид у списе предмета.",
        "idempotency_key": key.group(1),
    }
    files = [
        SimpleUploadedFile("dopuna.pdf", a_pdf(), content_type="application/pdf"),
        SimpleUploadedFile("slika.png", PNG, content_type="image/png"),
    ]
    response = client.post(WRITE, {**data, "attachments": files})
    message = Message.objects.get(mailbox__user=citizen)
    assert response.status_code == 302 and response["Location"] == message_url(message)
    assert message.document is not None and message.document.versions.count() == 2
    # A double submit registers nothing twice: the same letter.
    again = client.post(WRITE, {**data, "attachments": [SimpleUploadedFile("x.png", PNG)]})
    assert again["Location"] == message_url(message)
    assert Message.objects.filter(mailbox__user=citizen).count() == 1
    text = page(client, message_url(message))
    number = message.document.registry_number
    assert f"registered your letter under number <!--translit:off-->{number}" in text
    assert f"Your letter has been registered under number {number}." in text
    assert "dopuna.pdf" in text and "slika.png" in text
    download = client.get(reverse("mailbox:document_version", args=[message.pk, 2]))
    assert download.status_code == 200 and download["Content-Type"] == "image/png"


def test_errors_are_shown_beside_the_fields_and_nothing_typed_is_lost(
    citizen: User, authority: Authority
) -> None:
    client = logged_in(citizen)
    data = {
        "authority": authority.pk,
        "subject": "",
        "body": "Текст који не сме да нестане.",
        "idempotency_key": "a" * 32,
    }
    bad = SimpleUploadedFile("virus.exe", b"MZ\x90\x00", content_type="application/pdf")
    response = client.post(WRITE, {**data, "attachments": [bad]})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Текст који не сме да нестане." in text
    assert "virus.exe: Only PDF, PNG and JPEG files are accepted" in text
    assert 'id="id_subject_error"' in text and "Please correct the following" in text
    assert f'<option value="{authority.pk}" selected>' in text
    assert 'value="' + "a" * 32 + '"' in text  # the same key: a resubmit still registers once
    too_many = [SimpleUploadedFile(f"{n}.png", PNG) for n in range(6)]
    response = client.post(WRITE, {**data, "subject": "Шест", "attachments": too_many})
    assert response.status_code == 400 and "Attach at most 5 files." in response.content.decode()
    # An empty letter is told at once, with the other errors, not on the next try.
    response = client.post(WRITE, {**data, "subject": "", "body": ""})
    text = response.content.decode()
    assert response.status_code == 400 and "Write the letter or attach a document." in text
    assert 'id="id_subject_error"' in text
    assert not Message.objects.exists()


def test_a_letter_about_one_of_my_cases_takes_the_case_number(
    approved: Case, citizen: User, authority: Authority, system: Actor
) -> None:
    client = logged_in(citizen)
    form = page(client, f"{WRITE}?case={approved.pk}")
    assert f'<option value="{approved.pk}" selected>{approved.registry_number}' in form
    response = client.post(
        WRITE,
        {
            "authority": authority.pk,
            "case": approved.pk,
            "subject": "Допуна",
            "body": "Шаљем допуну.",
            "idempotency_key": "b" * 32,
        },
    )
    message = Message.objects.get(mailbox__user=citizen)
    assert response["Location"] == message_url(message)
    assert message.case == approved and message.document is not None
    assert message.document.registry_number.startswith(approved.registry_number)
    # The case page links the letter's case; a case at another authority is refused.
    from salter.authorities import services as authorities

    other = authorities.create_authority(
        system, code="vranje", name="Град Врање", kind=Authority.Kind.LOCAL_GOVERNMENT
    )
    response = client.post(
        WRITE,
        {
            "authority": other.pk,
            "case": approved.pk,
            "subject": "Погрешно",
            "idempotency_key": "c" * 32,
        },
    )
    assert response.status_code == 400
    assert "This case is at another authority" in response.content.decode()


# --- consent ---------------------------------------------------------------------------------


def test_consent_is_given_listed_and_revoked(citizen: User, authority: Authority) -> None:
    client = logged_in(citizen)
    text = page(client, CONSENT)
    assert "article 57" in text and "You have not consented" in text
    response = client.post(CONSENT, {"authority": ""}, follow=True)
    text = response.content.decode()
    assert "from every authority" in text
    assert "Revoke the consent for every authority" in text
    client.post(CONSENT, {"authority": authority.pk})
    consents = Consent.objects.filter(mailbox__user=citizen, revoked_at__isnull=True)
    assert consents.count() == 2
    text = page(client, CONSENT)
    assert "Revoke the consent for Municipality of Surdulica" in text
    general = consents.get(authority__isnull=True)
    response = client.post(reverse("mailbox:consent_revoke", args=[general.pk]))
    assert response.status_code == 302
    general.refresh_from_db()
    assert general.revoked_at is not None and general.revoked_by == citizen
    # Revoked once is revoked: a second POST finds nothing to revoke.
    assert client.post(reverse("mailbox:consent_revoke", args=[general.pk])).status_code == 404
    assert client.post(CONSENT, {"authority": "999999"}).status_code == 400


# --- a business's mailbox --------------------------------------------------------------------


def test_a_representative_reads_and_writes_from_the_business_mailbox(
    citizen: User, authority: Authority
) -> None:
    company = company_with_agent(citizen)
    client = logged_in(citizen)
    text = page(client, INBOX)
    assert "Mailboxes you read" in text and "Демо д.о.о." in text
    business = company.mailbox
    Message.objects.create(
        mailbox=business,
        authority=authority,
        direction=Message.Direction.INBOUND,
        subject="Решење за фирму",
        created_at=timezone.now(),
    )
    text = page(client, INBOX)
    assert "Решење за фирму" not in text and "1 unread" in text  # own mailbox first
    text = page(client, f"{INBOX}?box={business.pk}")
    assert "Решење за фирму" in text
    response = client.post(
        WRITE,
        {
            "box": business.pk,
            "authority": authority.pk,
            "subject": "Писмо фирме",
            "body": "Текст.",
            "idempotency_key": "d" * 32,
        },
    )
    assert response.status_code == 302
    letter = Message.objects.get(subject="Писмо фирме")
    assert letter.mailbox == business
    assert letter.document is not None and "Демо д.о.о." in letter.document.sender
    give_consent(act(citizen), business)
    assert "Every authority" in page(client, f"{CONSENT}?box={business.pk}")


# --- who may see what ------------------------------------------------------------------------


def test_anonymous_callers_log_in_and_others_get_not_found(
    approved: Case, citizen: User, clerk: User
) -> None:
    delivery = deliver(approved, clerk)
    message = delivery.message
    consent = Consent.objects.get(mailbox__user=citizen)
    gets = [
        INBOX,
        WRITE,
        CONSENT,
        message_url(message),
        reverse("mailbox:document", args=[message.pk]),
        reverse("mailbox:document_version", args=[message.pk, 1]),
        reverse("mailbox:evidence", args=[message.pk, 1, "json"]),
    ]
    posts = [
        reverse("mailbox:answer", args=[message.pk]),
        reverse("mailbox:consent_revoke", args=[consent.pk]),
        WRITE,
        CONSENT,
    ]
    anonymous = Client()
    for url in gets:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    for url in posts:
        response = anonymous.post(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url

    other = User.objects.create_user("druga@example.rs", "x" * 20, full_name="Друга Особа")
    stranger = logged_in(other)
    for url in gets[3:]:
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(posts[0], {"action": "accept"}).status_code == 404
    assert stranger.post(posts[1]).status_code == 404
    assert message.subject not in page(stranger, INBOX)
    # An official of the authority is not the recipient either; they have a mailbox of their own.
    official = signed_in(clerk)
    assert official.get(message_url(message)).status_code == 404
    assert message.subject not in page(official, INBOX)
    assert "Your mailbox is empty" in page(official, INBOX)
    delivery.refresh_from_db()
    assert delivery.opened_at is None and delivery.answered_at is None
    consent.refresh_from_db()
    assert consent.revoked_at is None


def test_the_case_page_links_its_delivery_in_the_mailbox(
    approved: Case, citizen: User, clerk: User
) -> None:
    delivery = deliver(approved, clerk)
    text = page(logged_in(citizen), reverse("cases:detail", args=[approved.pk]))
    assert message_url(delivery.message) in text and "Deliveries" in text
    assert "Not opened yet" in text


def test_the_delivery_state_words(approved: Case, clerk: User) -> None:
    from salter.mailbox.queries import words

    delivery = deliver(approved, clerk)
    assert words(delivery).startswith("Not opened yet; deemed delivered on ")
    Delivery.objects.filter(pk=delivery.pk).update(state="submitted")
    delivery.refresh_from_db()
    assert words(delivery) == "Being delivered"
