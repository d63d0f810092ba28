"""Delivery of an authority's act to the recipient's e-mailbox, with evidence at every step.

A step of a service's workflow may deliver an act of the case (``"deliver": {"document":
"decision"}``): the act's issued (signed or sealed) PDF goes to the applicant's e-mailbox as a
:class:`~salter.mailbox.models.Message` with a :class:`~salter.mailbox.models.Delivery`, whose
steps are:

``submitted`` → ``delivered`` (placed in the mailbox) → ``notified`` (the notice left the
platform) → ``opened`` → ``accepted`` or ``refused``; an electronic delivery nobody opens is
``deemed`` delivered ``SALTER_DEEMED_DELIVERY_DAYS`` (15) days after it reached the mailbox.

Electronic delivery needs a ground (ZUP art. 57): the recipient's consent to electronic
communication (for every authority or this one) or a legal basis named by the service's
definition (``"delivery": {"legal_basis": …}``). Without one the act is prepared for delivery by
post (state ``postal``): the registry clerk prints it and records the day of postal delivery.

Delivery takes legal effect (``effective_at``) when the recipient opens, accepts or refuses
it, when it is deemed delivered, or on the day of postal delivery; then the platform takes the
case's step that waits for it (``"auto": "delivered"``), e.g. into the appeal period after which
the decision becomes final.

Every step is one :class:`~salter.mailbox.models.DeliveryEvent`: a canonical record chained to
the step before and sealed by the platform (:mod:`salter.mailbox.evidence`), and an event on the
case's timeline, which both the applicant and the officials see.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.cases import services as cases
from salter.cases import timeline
from salter.cases.models import Case, CaseEvent
from salter.core.context import Actor
from salter.documents.models import Document, DocumentVersion
from salter.documents.queries import ISSUED_KINDS
from salter.documents.services import may_register
from salter.identity.models import Mandate
from salter.mailbox import evidence, outbox
from salter.mailbox.models import Consent, Delivery, DeliveryEvent, Mailbox, Message

log = structlog.get_logger(__name__)

DEEMING = "deemed_delivery"  # Actor.via of the job that deems unopened deliveries delivered
State = Delivery.State
# How far along a delivery is: its state only moves forward (a notice sent after the recipient
# already opened the message is evidence, but the delivery stays "opened").
RANK = {
    State.SUBMITTED: 0,
    State.POSTAL: 1,
    State.DELIVERED: 1,
    State.NOTIFIED: 2,
    State.OPENED: 3,
    State.DEEMED: 4,
    State.POSTAL_DELIVERED: 4,
    State.ACCEPTED: 5,
    State.REFUSED: 5,
}
EFFECTIVE = {State.OPENED, State.ACCEPTED, State.REFUSED, State.DEEMED, State.POSTAL_DELIVERED}


class DeliveryError(Exception):
    """The act cannot be delivered (none issued, no recipient)."""


# --- mailboxes and consent -------------------------------------------------------------------


def mailbox_of(user: Any) -> Mailbox:
    """The citizen's own mailbox, made on first use (every citizen has one)."""
    box, _created = Mailbox.objects.get_or_create(
        user=user, defaults={"kind": Mailbox.Kind.PERSON, "created_at": timezone.now()}
    )
    return box


def consent_for(mailbox: Mailbox, authority_id: int) -> Consent | None:
    """The consent in force for electronic communication with the authority: one given to it,
    else one given to every authority; not revoked."""
    return (
        Consent.objects.filter(mailbox=mailbox, revoked_at__isnull=True)
        .filter(Q(authority_id=authority_id) | Q(authority__isnull=True))
        .order_by(F("authority_id").asc(nulls_last=True), "-given_at")
        .first()
    )


def deemed_day(delivered_at: datetime) -> date:
    return timezone.localdate(delivered_at) + timedelta(days=settings.SALTER_DEEMED_DELIVERY_DAYS)


# --- delivering an act -----------------------------------------------------------------------


def issued_version(document: Document) -> DocumentVersion | None:
    return (
        DocumentVersion.objects.filter(document=document, kind__in=ISSUED_KINDS)
        .order_by("-number")
        .first()
    )


def deliver_act(actor: Actor, case: Case, document_code: str) -> Delivery:
    """Deliver the case's issued act ``document_code`` to the applicant. Part of the step's
    transaction (:func:`salter.cases.services.take_transition`), which checked permission."""
    document = (
        Document.objects.filter(case=case, act_code=document_code, voided_at__isnull=True)
        .exclude(issued_at=None)
        .order_by("-sub_number")
        .first()
    )
    if document is None:
        raise DeliveryError(
            _("The act “%(code)s” has not been issued yet: sign or seal it first.")
            % {"code": document_code}
        )
    version = issued_version(document)
    if version is None:  # pragma: no cover — an issued act always has its issued version
        raise DeliveryError(_("The issued act has no signed file."))
    if Delivery.objects.filter(message__document=document).exists():
        raise DeliveryError(_("This act has already been delivered."))
    return deliver(actor, case, document, version)


def deliver(actor: Actor, case: Case, document: Document, version: DocumentVersion) -> Delivery:
    definition = case.service_version.definition
    box = mailbox_of(case.applicant)
    legal_basis = definition.get("delivery", {}).get("legal_basis")
    consent = consent_for(box, case.authority_id)
    if consent is not None:
        ground = f"consent:{consent.pk}"
    elif legal_basis:
        ground = "law:" + legal_basis["en"][:290]
    else:
        ground = ""
    now = timezone.now()
    message = Message.objects.create(
        mailbox=box,
        authority_id=case.authority_id,
        direction=Message.Direction.INBOUND,
        case=case,
        document=document,
        subject=document.subject[:300],
        sent_by=actor.user,
        created_at=now,
    )
    delivery = Delivery.objects.create(
        message=message,
        case=case,
        channel=Delivery.Channel.ELECTRONIC if ground else Delivery.Channel.POSTAL,
        ground=ground,
        state=State.SUBMITTED,
        submitted_at=now,
    )
    file_hash = version.sha256
    _step(delivery, State.SUBMITTED, actor, now, document=document, sha256=file_hash)
    if not ground:
        _step(delivery, State.POSTAL, actor, now, document=document, sha256=file_hash)
        log.info("delivery.postal", delivery=delivery.pk, case=case.pk)
        return delivery
    delivery.deemed_on = deemed_day(now)
    _step(delivery, State.DELIVERED, actor, now, document=document, sha256=file_hash)
    _notify(delivery, message, case)
    log.info("delivery.delivered", delivery=delivery.pk, case=case.pk, ground=ground)
    return delivery


def _notify(delivery: Delivery, message: Message, case: Case) -> None:
    outbox.notify(
        case.applicant,
        outbox.DELIVERY,
        "mailbox/notifications/delivery.txt",
        {
            "subject": message.subject,
            "authority": case.authority,
            "registry_number": case.registry_number,
            "deemed_on": delivery.deemed_on,
            "path": f"/mailbox/{message.pk}/",
        },
        case=case,
        delivery=delivery,
        dedupe_key=f"delivery:{delivery.pk}",
        mandatory=True,
    )


# --- the steps -------------------------------------------------------------------------------


def _lock(delivery: Delivery | int) -> Delivery:
    pk = delivery if isinstance(delivery, int) else delivery.pk
    return (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("message__document", "case")
        .get(pk=pk)
    )


def _step(
    delivery: Delivery,
    state: str,
    actor: Actor | None,
    at: datetime,
    *,
    document: Document | None = None,
    sha256: str = "",
    **extra: Any,
) -> DeliveryEvent:
    """Record step ``state`` of a (locked) delivery: the sealed evidence record, the case's
    timeline, the audit log; move the delivery's state forward."""
    previous = (
        DeliveryEvent.objects.filter(delivery=delivery).order_by("-seq").values("digest").first()
    )
    document = document or delivery.message.document
    record = {
        "type": "salter.delivery-step/1",
        "delivery": delivery.pk,
        "seq": delivery.last_seq + 1,
        "state": str(state),
        "at": at.isoformat(),
        "channel": delivery.channel,
        "ground": delivery.ground,
        "message": delivery.message_id,
        "mailbox": delivery.message.mailbox_id,
        "authority": delivery.message.authority_id,
        "registry_number": document.registry_number if document is not None else "",
        "document_sha256": sha256 or (_sha_of(document) if document is not None else ""),
        "actor": actor.user.pk if actor is not None and actor.user is not None else None,
        "via": actor.via if actor is not None else "platform",
        "prev": previous["digest"] if previous else "",
        **{k: v for k, v in extra.items() if v is not None},
    }
    text = evidence.canonical(record)
    event = DeliveryEvent.objects.create(
        delivery=delivery,
        seq=record["seq"],
        state=state,
        at=at,
        actor=actor.user if actor is not None else None,
        record=text,
        digest=evidence.digest(text),
        signature=evidence.seal(text),
    )
    delivery.last_seq = event.seq
    updates = {"last_seq"}
    if RANK[State(state)] > RANK[State(delivery.state)]:
        delivery.state = state
        updates.add("state")
    stamp = {
        State.DELIVERED: "delivered_at",
        State.NOTIFIED: "notified_at",
        State.OPENED: "opened_at",
        State.ACCEPTED: "answered_at",
        State.REFUSED: "answered_at",
    }.get(State(state))
    if stamp and getattr(delivery, stamp) is None:
        setattr(delivery, stamp, at)
        updates.add(stamp)
    if delivery.deemed_on is not None:
        updates.add("deemed_on")
    became_effective = state in EFFECTIVE and delivery.effective_at is None
    if became_effective:
        delivery.effective_at = at
        updates.add("effective_at")
    delivery.save(update_fields=sorted(updates))
    if delivery.case_id is not None:
        timeline.record(
            delivery.case_id,
            CaseEvent.Kind.DELIVERY,
            actor,
            at=at,
            payload={
                "delivery": delivery.pk,
                "state": str(state),
                "registry_number": record["registry_number"],
            },
        )
    audit.record(
        actor or Actor.system("platform"),
        f"delivery.{state}",
        delivery,
        authority_id=delivery.message.authority_id,
        payload={"seq": event.seq, "digest": event.digest, "case": delivery.case_id},
    )
    if became_effective and delivery.case_id is not None:
        cases.take_automatic_step(delivery.case_id, "delivered")
    return event


def _sha_of(document: Document) -> str:
    version = issued_version(document)
    return version.sha256 if version is not None else ""


@transaction.atomic
def record_notified(delivery_id: int, *, channel: str, address: str, at: datetime) -> bool:
    """The outbox worker sent a delivery notice: the ``notified`` step, once per delivery
    (a second notice — SMS after the e-mail — adds nothing). True if recorded now."""
    delivery = _lock(delivery_id)
    if delivery.notified_at is not None:
        return False
    _step(delivery, State.NOTIFIED, None, at, notice_channel=channel, notice_address=address)
    return True


def may_read(user: Any, mailbox: Mailbox) -> bool:
    """The owner of a citizen's mailbox; for a business, a person holding a valid mandate."""
    if mailbox.user_id is not None:
        return bool(mailbox.user_id == user.pk)
    now = timezone.now()
    return any(
        m.is_valid(now)
        for m in Mandate.objects.filter(
            agent=user, company_id=mailbox.company_id or 0, kind="company"
        )
    )


@transaction.atomic
def opened(actor: Actor, message: Message) -> Message:
    """The recipient opened a message in the mailbox: ``read_at`` once; for a delivery the
    ``opened`` step (which makes the delivery take effect)."""
    assert actor.user is not None
    message = (
        Message.objects.select_for_update(of=("self",)).select_related("mailbox").get(pk=message.pk)
    )
    if not may_read(actor.user, message.mailbox):
        raise PermissionDenied(_("This message is not in your mailbox."))
    now = timezone.now()
    if message.read_at is None:
        message.read_at = now
        message.save(update_fields=["read_at"])
    delivery = Delivery.objects.filter(message=message).values_list("pk", flat=True).first()
    if delivery is not None:
        locked = _lock(delivery)
        if locked.opened_at is None and locked.channel == Delivery.Channel.ELECTRONIC:
            _step(locked, State.OPENED, actor, now)
    return message


@transaction.atomic
def answer(actor: Actor, delivery: Delivery | int, *, accept: bool, reason: str = "") -> Delivery:
    """The recipient accepts or refuses the delivery (once). Refusing does not undo it: a
    refused delivery counts as delivered (ZUP), and the refusal and its reason are on record."""
    assert actor.user is not None
    locked = _lock(delivery)
    if not may_read(actor.user, locked.message.mailbox):
        raise PermissionDenied(_("This message is not in your mailbox."))
    if locked.channel != Delivery.Channel.ELECTRONIC:
        raise ValidationError(_("This document is delivered by post."))
    if locked.answered_at is not None:
        raise ValidationError(_("You have already answered this delivery."))
    reason = reason.strip()
    if not accept and not reason:
        raise ValidationError({"reason": [_("Write why you refuse the delivery.")]})
    now = timezone.now()
    if locked.opened_at is None:
        _step(locked, State.OPENED, actor, now)
    _step(
        locked,
        State.ACCEPTED if accept else State.REFUSED,
        actor,
        now,
        reason=reason[:1000] or None,
    )
    return locked


@transaction.atomic
def record_postal(actor: Actor, delivery: Delivery | int, delivered_on: date) -> Delivery:
    """The registry clerk records the day the post delivered the printed act."""
    locked = _lock(delivery)
    if actor.user is None or not may_register(actor, locked.message.authority):
        raise PermissionDenied(_("Only officials of the authority record postal delivery."))
    if locked.channel != Delivery.Channel.POSTAL or locked.effective_at is not None:
        raise ValidationError(_("This delivery is not waiting for the post."))
    if delivered_on > timezone.localdate() or delivered_on < timezone.localdate(
        locked.submitted_at
    ):
        raise ValidationError(
            {"delivered_on": [_("The day must be between the sending and today.")]}
        )
    at = timezone.make_aware(datetime.combine(delivered_on, datetime.min.time()))
    _step(locked, State.POSTAL_DELIVERED, actor, max(at, locked.submitted_at))
    return locked


def deem_due(today: date | None = None) -> int:
    """Deem delivered every electronic delivery left unopened for the legal period: the
    ``deemed`` step, dated the day the period ended. Idempotent; one transaction each."""
    today = today or timezone.localdate()
    due = list(
        Delivery.objects.filter(
            effective_at__isnull=True, channel=Delivery.Channel.ELECTRONIC, deemed_on__lte=today
        )
        .order_by("deemed_on", "id")
        .values_list("pk", flat=True)
    )
    done = 0
    for pk in due:
        if _deem(pk, today):
            done += 1
    if done:
        log.info("delivery.deemed", count=done)
    return done


@transaction.atomic
def _deem(pk: int, today: date) -> bool:
    locked = _lock(pk)
    if locked.effective_at is not None or locked.deemed_on is None or locked.deemed_on > today:
        return False
    at = timezone.make_aware(datetime.combine(locked.deemed_on, datetime.min.time()))
    _step(locked, State.DEEMED, Actor.system(DEEMING), max(at, locked.submitted_at))
    return True
