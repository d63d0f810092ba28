"""The mailbox's use cases besides delivery (test_delivery.py): letters to authorities with
their receipt and registry number, idempotent; consent given and revoked; whose mailboxes a
user reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from salter.audit.models import AuditEvent
from salter.authorities import services as authorities
from salter.authorities.models import Authority
from salter.cases.models import Case, CaseEvent
from salter.core.context import Actor
from salter.documents.models import Document
from salter.documents.uploads import check
from salter.identity.models import Mandate, User
from salter.mailbox.models import Consent, Message, Notification
from salter.mailbox.services import (
    give_consent,
    mailbox_of,
    mailboxes_for,
    revoke_consent,
    send_letter,
)

from .helpers import PNG, a_pdf, act, company_with_agent

pytestmark = pytest.mark.django_db


def test_a_letter_is_registered_as_incoming_mail_with_its_files_and_a_receipt(
    citizen: User, authority: Authority
) -> None:
    box = mailbox_of(citizen)
    files = [check("molba.pdf", a_pdf()), check("slika.png", PNG)]
    message, created = send_letter(
        act(citizen), box, authority, subject=" Молба ", body="Текст молбе.", files=files
    )
    assert created and message.direction == "outbound" and message.read_at is not None
    document = message.document
    assert document is not None
    assert document.direction == Document.Direction.INCOMING and document.case is None
    assert document.sender == citizen.full_name and document.subject == "Молба"
    assert [v.original_name for v in document.versions.order_by("number")] == [
        "molba.pdf",
        "slika.png",
    ]
    audit = AuditEvent.objects.get(action="mailbox.letter_sent")
    assert audit.payload["registry_number"] == document.registry_number
    receipt = Notification.objects.get(recipient=citizen, kind="message")
    assert document.registry_number in receipt.body or document.registry_number in receipt.subject


def test_sending_again_with_the_same_key_registers_nothing_twice(
    citizen: User, authority: Authority
) -> None:
    box = mailbox_of(citizen)
    first, created = send_letter(
        act(citizen), box, authority, subject="Једном", body="Т.", idempotency_key="k-1"
    )
    again, created_again = send_letter(
        act(citizen), box, authority, subject="Друго", body="Т.", idempotency_key="k-1"
    )
    assert created and not created_again and again.pk == first.pk
    assert Document.objects.filter(direction="incoming", subject="Једном").count() == 1
    other, created = send_letter(
        act(citizen), box, authority, subject="Друго", body="Т.", idempotency_key="k-2"
    )
    assert created and other.pk != first.pk


def test_a_letter_in_a_case_takes_the_case_s_number_and_is_on_its_timeline(
    approved: Case, citizen: User, authority: Authority
) -> None:
    message, _ = send_letter(
        act(citizen), mailbox_of(citizen), authority, subject="Допуна", body="Т.", case=approved
    )
    document = message.document
    assert document is not None and document.case == approved
    assert document.registry_number.startswith(approved.registry_number + "-")
    event = CaseEvent.objects.get(case=approved, kind=CaseEvent.Kind.LETTER)
    assert event.payload["message"] == message.pk


@pytest.mark.parametrize(
    ("subject", "body", "field"),
    [("", "Т.", "subject"), ("x" * 301, "Т.", "subject"), ("Тема", "", "body")],
)
def test_a_letter_says_what_is_missing(
    citizen: User, authority: Authority, subject: str, body: str, field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        send_letter(act(citizen), mailbox_of(citizen), authority, subject=subject, body=body)
    assert field in raised.value.message_dict
    assert not Message.objects.exists()


def test_a_letter_goes_only_to_an_active_authority_and_only_about_my_own_case(
    approved: Case, citizen: User, authority: Authority, system: Actor
) -> None:
    other = authorities.create_authority(
        system, code="vranje", name="Град Врање", kind=Authority.Kind.LOCAL_GOVERNMENT
    )
    box = mailbox_of(citizen)
    with pytest.raises(ValidationError) as raised:
        send_letter(act(citizen), box, other, subject="Т", body="Т.", case=approved)
    assert "case" in raised.value.message_dict
    somebody = User.objects.create_user("s@example.rs", "x" * 20, full_name="Неко")
    with pytest.raises(ValidationError):
        send_letter(
            act(somebody), mailbox_of(somebody), authority, subject="Т", body="Т.", case=approved
        )
    Authority.objects.filter(pk=other.pk).update(is_active=False)
    other.refresh_from_db()
    with pytest.raises(ValidationError) as raised:
        send_letter(act(citizen), box, other, subject="Т", body="Т.")
    assert "authority" in raised.value.message_dict


def test_only_the_mailbox_s_readers_send_from_it(citizen: User, authority: Authority) -> None:
    somebody = User.objects.create_user("s@example.rs", "x" * 20, full_name="Неко")
    with pytest.raises(PermissionDenied):
        send_letter(act(somebody), mailbox_of(citizen), authority, subject="Т", body="Т.")
    with pytest.raises(PermissionDenied):
        give_consent(act(somebody), mailbox_of(citizen))


def test_consent_is_given_once_and_revoking_keeps_the_record(
    citizen: User, authority: Authority
) -> None:
    box = mailbox_of(citizen)
    general = give_consent(act(citizen), box)
    assert give_consent(act(citizen), box).pk == general.pk
    one = give_consent(act(citizen), box, authority)
    assert one.pk != general.pk and one.authority == authority
    revoked = revoke_consent(act(citizen), general)
    assert revoked.revoked_at is not None and revoked.revoked_by == citizen
    assert revoke_consent(act(citizen), general).revoked_at == revoked.revoked_at  # once
    assert Consent.objects.filter(mailbox=box).count() == 2  # never deleted
    assert give_consent(act(citizen), box).pk not in (general.pk, one.pk)
    actions = list(
        AuditEvent.objects.filter(action__startswith="mailbox.consent")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "mailbox.consent_given",
        "mailbox.consent_given",
        "mailbox.consent_revoked",
        "mailbox.consent_given",
    ]


def test_a_representative_reads_the_business_s_mailbox_while_the_mandate_is_valid(
    citizen: User,
) -> None:
    company = company_with_agent(citizen)
    boxes = mailboxes_for(citizen)
    assert [b.kind for b in boxes] == ["person", "business"]
    assert boxes[1].company == company
    assert mailboxes_for(citizen)[1].pk == boxes[1].pk  # made once
    Mandate.objects.filter(agent=citizen).update(valid_until=timezone.now() - timedelta(days=1))
    assert [b.kind for b in mailboxes_for(citizen)] == ["person"]
    Mandate.objects.filter(agent=citizen).update(valid_until=None, revoked_at=timezone.now())
    assert [b.kind for b in mailboxes_for(citizen)] == ["person"]


def test_every_user_has_one_mailbox_of_their_own(citizen: User) -> None:
    assert mailbox_of(citizen).pk == mailbox_of(citizen).pk
    assert mailbox_of(citizen).kind == "person"
