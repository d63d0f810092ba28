"""Delivery of acts to the e-mailbox: the state machine, its sealed evidence, consent and the
postal fallback, deemed delivery, and the case moving on when delivery takes effect."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from salter.audit.models import AuditEvent
from salter.cases import services as cases
from salter.cases.models import Case, CaseEvent
from salter.catalog.models import ServiceVersion
from salter.documents import pki
from salter.identity.models import User
from salter.mailbox import delivery as deliveries
from salter.mailbox import evidence
from salter.mailbox.models import Delivery, DeliveryEvent, Message, Notification
from salter.mailbox.services import (
    answer,
    give_consent,
    mailbox_of,
    opened,
    record_postal,
    revoke_consent,
)

from .conftest import act, approved_case

pytestmark = pytest.mark.django_db


def deliver(case: Case, clerk: User) -> Delivery:
    cases.take_transition(act(clerk), case, "deliver")
    return Delivery.objects.get(case=case)


def states(delivery: Delivery) -> list[str]:
    return list(delivery.events.order_by("seq").values_list("state", flat=True))


def check_chain(delivery: Delivery) -> None:
    previous = ""
    for event in delivery.events.order_by("seq"):
        check = evidence.verify(event.record, bytes(event.signature), event.digest, previous)
        assert check.valid and check.timestamped, (event.seq, check)
        assert check.sealed_by == "Šalter"
        previous = event.digest


def test_with_consent_the_decision_goes_to_the_mailbox_and_the_recipient_is_told(
    approved: Case, citizen: User, clerk: User
) -> None:
    give_consent(act(citizen), mailbox_of(citizen))
    delivery = deliver(approved, clerk)
    approved.refresh_from_db()
    assert approved.state == "delivering"
    assert delivery.channel == "electronic" and delivery.ground.startswith("consent:")
    assert delivery.state == "delivered" and delivery.effective_at is None
    assert delivery.deemed_on == timezone.localdate() + timedelta(days=15)
    assert states(delivery) == ["submitted", "delivered"]
    check_chain(delivery)

    message = delivery.message
    assert message.mailbox == mailbox_of(citizen) and message.direction == "inbound"
    document = message.document
    assert document is not None and document.act_code == "decision" and document.issued_at
    record = message.delivery.events.get(seq=1).record
    assert document.registry_number in record
    assert deliveries.issued_version(document).sha256 in record  # type: ignore[union-attr]

    # The notice waits in the outbox, committed with the delivery; it cannot be turned off.
    notice = Notification.objects.get(delivery=delivery, channel="email")
    assert notice.recipient == citizen and notice.state == "pending"
    assert notice.dedupe_key is not None and notice.dedupe_key.startswith(f"delivery:{delivery.pk}")

    # Both sides see the steps on the case's timeline.
    assert approved.events.filter(kind=CaseEvent.Kind.DELIVERY).count() == 2
    assert AuditEvent.objects.filter(action="delivery.delivered").count() == 1


def test_opening_makes_the_delivery_take_effect_and_the_case_moves_on(
    approved: Case, citizen: User, clerk: User
) -> None:
    give_consent(act(citizen), mailbox_of(citizen))
    delivery = deliver(approved, clerk)
    message = opened(act(citizen), delivery.message)
    assert message.read_at is not None
    delivery.refresh_from_db()
    assert delivery.state == "opened" and delivery.effective_at == delivery.opened_at
    approved.refresh_from_db()
    assert approved.state == "delivered"
    last = approved.events.filter(kind=CaseEvent.Kind.TRANSITION).order_by("-id").first()
    assert last is not None and last.transition_id == "delivery_effective" and last.actor is None

    opened(act(citizen), delivery.message)  # opening again records nothing more
    assert states(delivery) == ["submitted", "delivered", "opened"]
    check_chain(delivery)

    # The recipient accepts; the step is evidence, the delivery had already taken effect.
    answer(act(citizen), delivery, accept=True)
    delivery.refresh_from_db()
    assert delivery.state == "accepted" and delivery.effective_at == delivery.opened_at
    with pytest.raises(ValidationError, match="already answered"):
        answer(act(citizen), delivery, accept=False, reason="Не.")


def test_a_refusal_needs_a_reason_and_counts_as_delivery(
    approved: Case, citizen: User, clerk: User
) -> None:
    give_consent(act(citizen), mailbox_of(citizen))
    delivery = deliver(approved, clerk)
    with pytest.raises(ValidationError) as error:
        answer(act(citizen), delivery, accept=False, reason="  ")
    assert "reason" in error.value.message_dict
    assert states(delivery) == ["submitted", "delivered"]  # nothing half-recorded

    answer(act(citizen), delivery, accept=False, reason="Решење није моје.")
    delivery.refresh_from_db()
    assert states(delivery) == ["submitted", "delivered", "opened", "refused"]
    assert delivery.state == "refused" and delivery.effective_at is not None
    assert "Решење није моје." in delivery.events.get(state="refused").record
    approved.refresh_from_db()
    assert approved.state == "delivered"
    check_chain(delivery)


def test_nobody_else_opens_or_answers(
    approved: Case, citizen: User, clerk: User, head: User, make_official: Any
) -> None:
    give_consent(act(citizen), mailbox_of(citizen))
    delivery = deliver(approved, clerk)
    other = User.objects.create_user(email="other@example.rs", password="x" * 12, full_name="O")
    for intruder in (other, clerk, head):
        with pytest.raises(PermissionDenied):
            opened(act(intruder), delivery.message)
        with pytest.raises(PermissionDenied):
            answer(act(intruder), delivery, accept=True)
    delivery.refresh_from_db()
    assert delivery.opened_at is None and states(delivery) == ["submitted", "delivered"]


def test_left_unopened_it_is_deemed_delivered_after_the_period(
    approved: Case, citizen: User, clerk: User
) -> None:
    give_consent(act(citizen), mailbox_of(citizen))
    delivery = deliver(approved, clerk)
    today = timezone.localdate()
    assert deliveries.deem_due(today + timedelta(days=14)) == 0
    assert deliveries.deem_due(today + timedelta(days=15)) == 1
    assert deliveries.deem_due(today + timedelta(days=16)) == 0  # once
    delivery.refresh_from_db()
    assert delivery.state == "deemed" and delivery.opened_at is None
    assert timezone.localdate(delivery.effective_at) == today + timedelta(days=15)
    approved.refresh_from_db()
    assert approved.state == "delivered"
    check_chain(delivery)

    # Opening it later is evidence too, but the delivery took effect on the deemed day.
    opened(act(citizen), delivery.message)
    delivery.refresh_from_db()
    assert delivery.state == "deemed" and delivery.opened_at is not None
    assert timezone.localdate(delivery.effective_at) == today + timedelta(days=15)


def test_the_period_is_configurable(
    approved: Case, citizen: User, clerk: User, settings: Any
) -> None:
    settings.SALTER_DEEMED_DELIVERY_DAYS = 8
    give_consent(act(citizen), mailbox_of(citizen))
    delivery = deliver(approved, clerk)
    assert delivery.deemed_on == timezone.localdate() + timedelta(days=8)


def test_without_consent_the_act_goes_by_post(approved: Case, citizen: User, clerk: User) -> None:
    box = mailbox_of(citizen)
    consent = give_consent(act(citizen), box)
    revoke_consent(act(citizen), consent)
    delivery = deliver(approved, clerk)
    assert delivery.channel == "postal" and delivery.ground == ""
    assert states(delivery) == ["submitted", "postal"]
    assert not Notification.objects.filter(delivery=delivery).exists()
    approved.refresh_from_db()
    assert approved.state == "delivering"

    with pytest.raises(ValidationError, match="between"):
        record_postal(act(clerk), delivery, timezone.localdate() + timedelta(days=1))
    with pytest.raises(PermissionDenied):
        record_postal(act(citizen), delivery, timezone.localdate())
    with pytest.raises(ValidationError, match="post"):
        answer(act(citizen), delivery, accept=True)
    record_postal(act(clerk), delivery, timezone.localdate())
    delivery.refresh_from_db()
    assert delivery.state == "postal_delivered" and delivery.effective_at is not None
    approved.refresh_from_db()
    assert approved.state == "delivered"
    check_chain(delivery)
    with pytest.raises(ValidationError, match="not waiting"):
        record_postal(act(clerk), delivery, timezone.localdate())


def test_a_legal_basis_in_the_definition_allows_electronic_delivery_without_consent(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User
) -> None:
    definition = dict(newborn_aid.definition)
    definition["delivery"] = {
        "legal_basis": {"sr": "Закон о раду, члан 1", "en": "Labour Law, article 1"}
    }
    ServiceVersion.objects.filter(pk=newborn_aid.pk).update(definition=definition)
    newborn_aid.refresh_from_db()
    case = approved_case(newborn_aid, citizen, clerk, head)
    delivery = deliver(case, clerk)
    assert delivery.channel == "electronic" and delivery.ground == "law:Labour Law, article 1"


def test_consent_to_one_authority_is_enough_and_consent_is_given_once(
    approved: Case, citizen: User, clerk: User
) -> None:
    box = mailbox_of(citizen)
    first = give_consent(act(citizen), box, approved.authority)
    assert give_consent(act(citizen), box, approved.authority) == first
    assert deliver(approved, clerk).ground == f"consent:{first.pk}"
    assert AuditEvent.objects.filter(action="mailbox.consent_given").count() == 1


def test_an_act_not_yet_issued_cannot_be_delivered(
    approved: Case, citizen: User, clerk: User
) -> None:
    deliver(approved, clerk)
    with pytest.raises(deliveries.DeliveryError, match="already been delivered"):
        deliveries.deliver_act(act(clerk), approved, "decision")
    with pytest.raises(deliveries.DeliveryError, match="not been issued"):
        deliveries.deliver_act(act(clerk), approved, "no_such_act")


def test_the_notice_is_recorded_once(approved: Case, citizen: User, clerk: User) -> None:
    give_consent(act(citizen), mailbox_of(citizen))
    delivery = deliver(approved, clerk)
    now = timezone.now()
    assert deliveries.record_notified(delivery.pk, channel="email", address=citizen.email, at=now)
    assert not deliveries.record_notified(delivery.pk, channel="sms", address="+381", at=now)
    delivery.refresh_from_db()
    assert delivery.state == "notified" and delivery.notified_at == now
    assert states(delivery) == ["submitted", "delivered", "notified"]
    assert citizen.email in delivery.events.get(state="notified").record


def test_tampered_evidence_is_detected(approved: Case, citizen: User, clerk: User) -> None:
    give_consent(act(citizen), mailbox_of(citizen))
    delivery = deliver(approved, clerk)
    first, second = delivery.events.order_by("seq")
    forged = first.record.replace('"state":"submitted"', '"state":"opened"')
    check = evidence.verify(forged, bytes(first.signature), first.digest, "")
    assert not check.intact and not check.sealed
    # A re-sealed forgery with a fresh digest still breaks the chain to the next step.
    check = evidence.verify(forged, evidence.seal(forged), evidence.digest(forged), "")
    assert check.sealed and check.intact
    assert not evidence.verify(
        second.record, bytes(second.signature), second.digest, evidence.digest(forged)
    ).intact
    # Steps cannot be dropped: the sequence is unique per delivery and chained.
    assert list(DeliveryEvent.objects.filter(delivery=delivery).values_list("seq", flat=True)) == [
        1,
        2,
    ]


def test_openssl_verifies_a_step_with_the_record_alone(
    approved: Case, citizen: User, clerk: User, tmp_path: Path
) -> None:
    give_consent(act(citizen), mailbox_of(citizen))
    step = deliver(approved, clerk).events.order_by("seq").first()
    assert step is not None
    record, seal, root = tmp_path / "step.json", tmp_path / "step.p7s", tmp_path / "root.pem"
    record.write_text(step.record, encoding="utf-8")
    seal.write_bytes(bytes(step.signature))
    root.write_bytes(pki.root_certificate().public_bytes(pki.serialization.Encoding.PEM))
    command = [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(seal),
        "-content", str(record), "-CAfile", str(root), "-purpose", "any", "-out", "/dev/null",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    record.write_text(step.record.replace("submitted", "delivered"), encoding="utf-8")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode != 0


def test_messages_of_a_delivery_are_in_the_right_mailbox(
    approved: Case, citizen: User, clerk: User
) -> None:
    give_consent(act(citizen), mailbox_of(citizen))
    deliver(approved, clerk)
    assert Message.objects.filter(mailbox__user=citizen, direction="inbound").count() == 1
