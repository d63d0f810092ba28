"""Reads of the e-mailbox: a mailbox's page of messages, unread counts, the letters and
deliveries of an authority for its officials, the deliveries of a case, a delivery's timeline
with the check of each step's seal.

Every list is keyset-paginated on ``(created_at, id)``, newest first: the cursor of the next
page is the position of the last row shown, so a deep page costs what the first one does (the
index ``message_mailbox_idx`` — mailbox, created_at desc, id desc — for a mailbox,
``message_auth_idx`` for an authority).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Count, F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from salter.authorities.models import Authority
from salter.cases.models import Case
from salter.core import cursors
from salter.documents.models import DocumentVersion
from salter.documents.queries import ISSUED_KINDS
from salter.identity.models import Membership, User
from salter.mailbox import evidence
from salter.mailbox.models import (
    Consent,
    Delivery,
    DeliveryEvent,
    Mailbox,
    Message,
    Notification,
)

PAGE_SIZE = 20
OFFICIAL_PAGE_SIZE = 50
# A step's seal is checked once and remembered: the record and its signature never change
# (the check is a CMS signature validation, tens of milliseconds).
SEAL_CACHE_SECONDS = 24 * 3600

Position = tuple[datetime, int]


# --- cursors ---------------------------------------------------------------------------------


def encode_cursor(message: Message) -> str:
    """An opaque, URL-safe cursor: the position of ``message`` (clients pass it back)."""
    return cursors.BY_TIMESTAMP.encode((message.created_at, message.pk))


def decode_cursor(cursor: str | None) -> Position | None:
    """The position in a cursor made by :func:`encode_cursor`; ``None`` if it is not one."""
    return cursors.BY_TIMESTAMP.decode(cursor)


def _before(rows: QuerySet[Any], before: Position | None) -> QuerySet[Any]:
    """The rows after ``before`` in the order newest first: ``(created_at, id) < before``."""
    if before is None:
        return rows
    return rows.filter(TupleLessThan(Tuple(F("created_at"), F("id")), before))


@dataclass(frozen=True)
class Page:
    rows: list[Message]
    next_cursor: str  # "" on the last page


def _page(rows: QuerySet[Message], limit: int) -> Page:
    found = list(rows.order_by("-created_at", "-id")[: limit + 1])
    shown = found[:limit]
    return Page(shown, encode_cursor(shown[-1]) if len(found) > limit else "")


# --- a mailbox -------------------------------------------------------------------------------


def _messages() -> QuerySet[Message]:
    return Message.objects.select_related("authority", "delivery", "document").defer(
        "body", "document__search_text", "document__void_reason"
    )


def page(mailbox: Mailbox, before: Position | None = None, limit: int = PAGE_SIZE) -> Page:
    """The messages of ``mailbox``, received and sent, newest first: ``limit`` of them after the
    position ``before``, with their authority, delivery and registry entry. One query."""
    return _page(_before(_messages().filter(mailbox=mailbox), before), limit)


def message_in(mailboxes: Sequence[Mailbox], message_id: int) -> Message | None:
    """The message if it is in one of ``mailboxes`` (those the caller reads), else ``None``."""
    return (
        Message.objects.select_related("authority", "delivery", "document", "case", "mailbox")
        .filter(pk=message_id, mailbox__in=[m.pk for m in mailboxes])
        .first()
    )


def unread_count(mailbox: Mailbox) -> int:
    return Message.objects.filter(mailbox=mailbox, read_at__isnull=True).count()


def unread_counts(mailboxes: Iterable[Mailbox]) -> dict[int, int]:
    """Unread messages per mailbox, in one query (the switcher between mailboxes)."""
    ids = [m.pk for m in mailboxes]
    rows = (
        Message.objects.filter(mailbox_id__in=ids, read_at__isnull=True)
        .values("mailbox_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = dict.fromkeys(ids, 0)
    counts.update({r["mailbox_id"]: r["n"] for r in rows})
    return counts


def unread_of_user(user: Any) -> int:
    """Unread messages in the user's own mailbox: one query (the site navigation)."""
    return Message.objects.filter(mailbox__user=user, read_at__isnull=True).count()


def consents(mailbox: Mailbox) -> list[Consent]:
    """The consents in force, the general one first."""
    return list(
        Consent.objects.filter(mailbox=mailbox, revoked_at__isnull=True)
        .select_related("authority")
        .order_by(F("authority").asc(nulls_first=True), "-given_at")
    )


def open_cases(user: Any) -> list[Case]:
    """The user's open cases, with their authority and service, for the letter's case select."""
    return list(
        Case.objects.filter(applicant=user, closed_at__isnull=True)
        .select_related("authority", "service_version__service")
        .only(
            "id",
            "registry_number",
            "authority_id",
            "authority__name",
            "authority__name_en",
            "service_version__service__name",
            "service_version__service__name_en",
        )
        .order_by("-submitted_at")[:200]
    )


def attachments(message: Message) -> list[DocumentVersion]:
    """The files of the message's registry entry the mailbox's readers may download: the
    act as issued (its last signed or sealed version) of a delivery; every file the sender
    attached to a letter. One query."""
    if message.document_id is None:
        return []
    versions = DocumentVersion.objects.filter(document_id=message.document_id).defer("file")
    if message.direction == Message.Direction.INBOUND:
        return list(versions.filter(kind__in=ISSUED_KINDS).order_by("-number")[:1])
    return list(versions.order_by("number"))


# --- a delivery in words ---------------------------------------------------------------------


def when(at: datetime | None) -> str:
    """A moment as the pages write it: 22.11.2026. 10:14 (local time)."""
    if at is None:
        return ""
    return formats.date_format(timezone.localtime(at), "d.m.Y. H:i")


def day(at: datetime | None) -> str:
    return formats.date_format(timezone.localtime(at), "d.m.Y.") if at is not None else ""


def words(delivery: Delivery) -> str:
    """Where a delivery stands, in words, with the time of its last step ("Opened 22.11.2026.
    10:14"); for one not yet opened, the day it will be deemed delivered."""
    state = Delivery.State
    if delivery.state == state.SUBMITTED:
        return _("Being delivered")
    if delivery.state == state.POSTAL:
        return _("To be delivered by post (no consent to electronic delivery)")
    if delivery.state == state.POSTAL_DELIVERED:
        return _("Delivered by post on %(day)s") % {"day": day(delivery.effective_at)}
    if delivery.state in (state.DELIVERED, state.NOTIFIED):
        if delivery.deemed_on is None:  # pragma: no cover — an electronic delivery has the day
            return _("Not opened yet")
        return _("Not opened yet; deemed delivered on %(day)s") % {
            "day": formats.date_format(delivery.deemed_on, "d.m.Y.")
        }
    if delivery.state == state.OPENED:
        return _("Opened %(at)s") % {"at": when(delivery.opened_at)}
    if delivery.state == state.ACCEPTED:
        return _("Accepted %(at)s") % {"at": when(delivery.answered_at)}
    if delivery.state == state.REFUSED:
        return _("Refused %(at)s") % {"at": when(delivery.answered_at)}
    if delivery.state == state.DEEMED:
        return _("Deemed delivered on %(day)s") % {"day": day(delivery.effective_at)}
    return str(delivery.get_state_display())  # pragma: no cover


# --- a delivery's evidence -------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    event: DeliveryEvent
    check: evidence.Check
    reason: str = ""  # why the recipient refused
    notice: str = ""  # the channel a notice went by


def _step(event: DeliveryEvent, previous: str) -> Step:
    try:
        record = json.loads(event.record)
    except ValueError:
        record = {}
    channel = str(record.get("notice_channel", ""))
    return Step(
        event,
        _check(event, previous),
        reason=str(record.get("reason", "")),
        notice=(  # the channel's name, in the reader's language
            str(Notification.Channel(channel).label)
            if channel in Notification.Channel.values
            else channel
        ),
    )


def _check(event: DeliveryEvent, previous: str) -> evidence.Check:
    # Keyed on everything checked, so a record or seal changed in the database is checked anew.
    signature = bytes(event.signature)
    seen = hashlib.sha256(
        b"\0".join([event.record.encode(), signature, event.digest.encode(), previous.encode()])
    ).hexdigest()
    key = f"mailbox:seal:{seen}"
    found = cache.get(key)
    if isinstance(found, evidence.Check):
        return found
    result = evidence.verify(event.record, signature, event.digest, previous)
    if result.valid:  # only a good answer is remembered: a failure is checked again
        cache.set(key, result, SEAL_CACHE_SECONDS)
    return result


def timeline(delivery: Delivery) -> list[Step]:
    """The delivery's steps in order, each with the check of its digest, its place in the
    chain and its seal. One query (and the seal checks, remembered once good)."""
    events = list(DeliveryEvent.objects.filter(delivery=delivery).order_by("seq"))
    steps, previous = [], ""
    for event in events:
        steps.append(_step(event, previous))
        previous = event.digest
    return steps


def event(delivery: Delivery, seq: int) -> DeliveryEvent | None:
    return DeliveryEvent.objects.filter(delivery=delivery, seq=seq).first()


def case_deliveries(case: Case | int) -> list[Delivery]:
    """The deliveries of a case with their message and act, oldest first. One query."""
    return list(
        Delivery.objects.filter(case=case)
        .select_related("message__document")
        .defer("message__body", "message__document__search_text")
        .order_by("submitted_at", "id")
    )


def case_lines(case: Case) -> list[tuple[Delivery, str]]:
    """The case's deliveries with where each stands in words, for the case pages: one query,
    none for a service whose workflow delivers nothing."""
    transitions = case.service_version.definition.get("workflow", {}).get("transitions", [])
    if not any("deliver" in t for t in transitions):
        return []
    return [(d, words(d)) for d in case_deliveries(case)]


# --- an authority's officials ----------------------------------------------------------------


def official_authorities(user: User) -> list[Authority]:
    """The authorities where ``user`` is an official today."""
    ids = Membership.objects.in_force().filter(user=user).values("unit__authority_id")
    return list(Authority.objects.filter(pk__in=ids).order_by("name"))


LETTER_KINDS = ("case", "new")  # a letter in one of the sender's cases; a new submission


def letters(
    authority: Authority,
    *,
    kind: str = "",
    before: Position | None = None,
    limit: int = OFFICIAL_PAGE_SIZE,
) -> Page:
    """Letters the authority received through the e-mailbox, newest first (``kind`` "case":
    only those in a case; "new": only those that are not). One query."""
    rows = (
        Message.objects.filter(authority=authority, direction=Message.Direction.OUTBOUND)
        .select_related("document", "case", "mailbox__user", "mailbox__company")
        .defer("body", "document__search_text", "case__data", "case__inputs")
    )
    if kind == "case":
        rows = rows.filter(case__isnull=False)
    elif kind == "new":
        rows = rows.filter(case__isnull=True)
    return _page(_before(rows, before), limit)


def authority_deliveries(
    authority: Authority,
    *,
    state: str = "",
    before: Position | None = None,
    limit: int = OFFICIAL_PAGE_SIZE,
) -> Page:
    """The authority's deliveries, newest first, as their messages (each with its delivery,
    act and case). One query; ``state`` "waiting" is every delivery not yet in effect, "postal"
    those waiting for the post."""
    rows = (
        Message.objects.filter(
            authority=authority, direction=Message.Direction.INBOUND, delivery__isnull=False
        )
        .select_related("delivery", "document", "case", "mailbox__user", "mailbox__company")
        .defer("body", "document__search_text", "case__data", "case__inputs")
    )
    if state == "waiting":  # mostly the newest: found early in the authority's history
        rows = rows.filter(delivery__effective_at__isnull=True)
    elif state == Delivery.State.POSTAL:
        # Few deliveries wait for the post, and maybe none of the last thousands: read them from
        # their partial index, then their messages, rather than the authority's whole history.
        waiting = Delivery.objects.filter(effective_at__isnull=True, state=state)
        rows = rows.filter(pk__in=waiting.values("message_id"))
    elif state in Delivery.State.values:
        rows = rows.filter(delivery__state=state)
    return _page(_before(rows, before), limit)


def official_delivery(authority_ids: Iterable[int], delivery_id: int) -> Delivery | None:
    return (
        Delivery.objects.select_related(
            "message__authority",
            "message__document",
            "message__mailbox__user",
            "message__mailbox__company",
            "case",
        )
        .defer("case__data", "case__inputs")
        .filter(pk=delivery_id, message__authority_id__in=list(authority_ids))
        .first()
    )


def official_letter(authority_ids: Iterable[int], message_id: int) -> Message | None:
    return (
        Message.objects.select_related(
            "authority", "document", "case", "mailbox__user", "mailbox__company", "sent_by"
        )
        .defer("case__data", "case__inputs")
        .filter(
            pk=message_id,
            direction=Message.Direction.OUTBOUND,
            authority_id__in=list(authority_ids),
        )
        .first()
    )


def recipient(mailbox: Mailbox) -> str:
    """Whose mailbox it is, for the officials' lists."""
    if mailbox.company_id is not None and mailbox.company is not None:
        return str(mailbox.company)
    return mailbox.user.full_name if mailbox.user is not None else ""
