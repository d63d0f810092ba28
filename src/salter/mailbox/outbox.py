"""The notification outbox: what is to be sent, written in the transaction of its cause.

:func:`notify` renders a notification in the recipient's language and INSERTs one
:class:`~salter.mailbox.models.Notification` row per channel the recipient gets. It sends
nothing: ``salter notify_worker`` (:mod:`salter.mailbox.worker`) does, after the commit. So a
change and the notice of it are committed together or not at all — a rolled-back case step
never e-mails anybody, and a committed one is never left without its notice.

**Call it inside the transaction of the change that causes it** (it refuses to run outside
one, like ``audit.record``).

Templates are Django text templates (autoescape off). The first line that is not blank is the
subject, written ``Subject: …``; the rest is the body::

    {% load i18n %}Subject: {% blocktrans with number=case.registry_number %}Case {{ number }}…
    {% trans "Dear applicant," %}
    …

Serbian is rendered in Cyrillic and transliterated for ``sr-latn`` readers
(:func:`salter.core.translit.to_latin`), like every page of the site.

Channels: e-mail is on unless the user turned it off for that kind; SMS only if the user gave a
mobile number and turned it on; push only if turned on. ``mandatory=True`` (the notice of a
legal delivery) sends the e-mail whatever the preference. Preferences are read here, at enqueue
time: a notification already in the outbox is sent even if the user changes their mind a second
later, which is what they saw when it was written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.template import Context, engines
from django.template.backends.django import DjangoTemplates
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from salter.core.translit import to_latin
from salter.identity.models import User
from salter.mailbox.channels import CONTENT_LANGUAGE
from salter.mailbox.models import Notification, NotificationPreference

CHANNEL = "salter_outbox"  # PostgreSQL LISTEN/NOTIFY channel that wakes the worker


# What a notification is about; users turn each kind on or off per channel.
CASE = "case"
DELIVERY = "delivery"
MESSAGE = "message"
PAYMENT = "payment"
DIGEST = "digest"
KINDS = {
    CASE: _("Progress of my cases"),
    DELIVERY: _("A document delivered to my e-mailbox"),
    MESSAGE: _("Receipts and answers to my letters"),
    PAYMENT: _("Payments and fees"),
    DIGEST: _("Daily digest of my work queue"),
}


Channel = Notification.Channel

# The choice a user has not made yet: e-mail on, SMS and push off.
DEFAULTS: dict[str, bool] = {Channel.EMAIL: True, Channel.SMS: False, Channel.PUSH: False}
# (kind, channel) pairs a user cannot turn off: the law requires the notice of a delivery.
LOCKED: frozenset[tuple[str, str]] = frozenset({(DELIVERY, Channel.EMAIL)})
# The digest is a long list: e-mail only.
CHANNELS_OF: dict[str, tuple[str, ...]] = {
    kind: (Channel.EMAIL,) if kind == DIGEST else (Channel.EMAIL, Channel.SMS, Channel.PUSH)
    for kind in KINDS
}

_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n{3,}")


class TemplateFormatError(ValueError):
    """A notification template does not start with ``Subject: …``."""


def render(template: str, context: Mapping[str, Any], language: str) -> tuple[str, str]:
    """Subject and body of ``template`` in ``language`` ("sr", "sr-latn" or "en")."""
    latin = language == "sr-latn"
    engine = engines["django"]
    assert isinstance(engine, DjangoTemplates)
    with translation.override("sr" if latin else language):
        text = engine.engine.get_template(template).render(Context(context, autoescape=False))
    head, _sep, body = text.lstrip().partition("\n")
    if not head.startswith("Subject:"):
        raise TemplateFormatError(f"{template}: the first line must be 'Subject: …'")
    subject = " ".join(head.removeprefix("Subject:").split())
    # Template tags on lines of their own leave blank lines and trailing spaces behind.
    body = _BLANK_LINES.sub("\n\n", _TRAILING_SPACE.sub("", body)).strip() + "\n"
    if latin:
        subject, body = to_latin(subject), to_latin(body)
    return subject[:300], body


def _language(user: User) -> str:
    language = user.language or settings.LANGUAGE_CODE
    return language if language in CONTENT_LANGUAGE else settings.LANGUAGE_CODE


def _address(user: User, channel: str) -> str:
    if channel == Channel.EMAIL:
        return user.email
    if channel == Channel.SMS:
        return user.phone
    return f"user:{user.pk}"  # a push adapter finds the user's devices


def _channels(
    user: User, kind: str, chosen: Mapping[tuple[int, str], bool], mandatory: bool
) -> list[str]:
    found: list[str] = []
    for channel in CHANNELS_OF.get(kind, (Channel.EMAIL,)):
        locked = (mandatory and channel == Channel.EMAIL) or (kind, channel) in LOCKED
        on = locked or chosen.get((user.pk, channel), DEFAULTS[channel])
        if channel == Channel.SMS and not user.phone:
            on = False
        if on and (user.is_active or locked):
            found.append(channel)
    return found


def notify(
    recipient: User,
    kind: str,
    template: str,
    context: Mapping[str, Any],
    *,
    case: Any = None,
    delivery: Any = None,
    dedupe_key: str | None = None,
    mandatory: bool = False,
) -> list[Notification]:
    """Queue ``template`` for ``recipient``, one row per channel they get; return the rows
    written (none if they turned this kind off, or if ``dedupe_key`` was queued before).

    Must run inside the transaction of the change that causes it: it only INSERTs, and the
    worker sends after the commit. ``dedupe_key`` makes enqueuing idempotent per channel (a
    job run twice, a retried request): the same key adds nothing and leaves the caller's
    transaction usable.

    Every template also gets ``recipient`` (the user) and ``site_url`` (``SALTER_PUBLIC_URL``
    without the trailing slash, for links: ``{{ site_url }}{{ path }}``). ``context`` values
    may be callables: the template calls them while the recipient's language is active (e.g.
    the label of a state in the service's definition)."""
    return enqueue(
        [recipient],
        kind,
        template,
        context,
        case=case,
        delivery=delivery,
        dedupe_key=(lambda _user: dedupe_key) if dedupe_key else None,
        mandatory=mandatory,
    )


def enqueue(
    recipients: Iterable[User],
    kind: str,
    template: str,
    context: Mapping[str, Any],
    *,
    case: Any = None,
    delivery: Any = None,
    dedupe_key: Callable[[User], str | None] | None = None,
    mandatory: bool = False,
) -> list[Notification]:
    """:func:`notify` for several recipients at once: one query for their preferences and one
    INSERT for all rows. ``dedupe_key`` gives each recipient's key."""
    if not connection.in_atomic_block:
        raise RuntimeError("notify() must run inside the transaction of the change it announces")
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    users = {u.pk: u for u in recipients}
    if not users:
        return []
    chosen = {
        (user_id, channel): enabled
        for user_id, channel, enabled in NotificationPreference.objects.filter(
            user_id__in=list(users), kind=kind
        ).values_list("user_id", "channel", "enabled")
    }
    now = timezone.now()
    base = {"site_url": settings.SALTER_PUBLIC_URL.rstrip("/")}
    rows: list[Notification] = []
    for user in users.values():
        channels = _channels(user, kind, chosen, mandatory)
        if not channels:
            continue
        language = _language(user)
        subject, body = render(template, {**base, **context, "recipient": user}, language)
        key = dedupe_key(user) if dedupe_key else None
        for channel in channels:
            rows.append(
                Notification(
                    recipient=user,
                    channel=channel,
                    kind=kind,
                    address=_address(user, channel),
                    language=language,
                    subject=subject,
                    body=body,
                    case=case,
                    delivery=delivery,
                    dedupe_key=_channel_key(key, channel),
                    created_at=now,
                    next_attempt_at=now,
                )
            )
    written = _insert(rows, now)
    if written:
        _wake_worker_after_commit()
    return written


def _channel_key(key: str | None, channel: str) -> str | None:
    if key is None:
        return None
    full = f"{key}:{channel}"
    if len(full) > 200:
        raise ValueError(f"dedupe key too long: {full[:60]}…")
    return full


def _insert(rows: list[Notification], now: datetime) -> list[Notification]:
    keyed = [r for r in rows if r.dedupe_key is not None]
    if not keyed:
        return Notification.objects.bulk_create(rows)
    seen = set(
        Notification.objects.filter(dedupe_key__in=[r.dedupe_key for r in keyed]).values_list(
            "dedupe_key", flat=True
        )
    )
    rows = [r for r in rows if r.dedupe_key not in seen]
    if not rows:
        return []
    try:
        # A savepoint: if another transaction queued the same key since the look-up above,
        # the unique column refuses it here and only this INSERT is undone, not the caller's.
        with transaction.atomic():
            return Notification.objects.bulk_create(rows)
    except IntegrityError:
        pass
    written = []
    for row in rows:  # the rare race: one by one, each in its own savepoint
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            continue
        written.append(row)
    return written


def _wake() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"NOTIFY {CHANNEL}")


def _wake_worker_after_commit() -> None:
    """On PostgreSQL, tell a LISTENing worker that rows were committed (once per
    transaction); SQLite has no such signal and the worker polls."""
    if connection.vendor != "postgresql":
        return
    if any(entry[1] is _wake for entry in connection.run_on_commit):
        return
    # robust: the rows are committed; a failed wake-up only means the worker's next poll.
    transaction.on_commit(_wake, robust=True)
