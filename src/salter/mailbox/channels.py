"""How a notification leaves the platform: one adapter per channel.

An adapter has ``send(notification)``, and ``open()``/``close()`` around a batch (so e-mail
reuses one SMTP connection for the whole batch). ``send`` returns when the other side has
accepted the message, or raises :class:`TemporaryFailure` (try again later: a server down, a
4xx answer) or :class:`PermanentFailure` (never again: a 5xx answer such as "no such user").

* :class:`EmailAdapter` — Django's configured e-mail backend (SMTP in production and tests),
  with a stable ``Message-ID`` per notification so a receiver can drop a repeat.
* :class:`StoringAdapter` — the development SMS and push adapter: it writes a
  :class:`~salter.mailbox.models.StoredMessage` instead of calling a provider.

SMS and push adapters are chosen by dotted path (``SALTER_SMS_ADAPTER``,
``SALTER_PUSH_ADAPTER``); a production adapter subclasses :class:`Adapter` and calls its
provider's API in ``send``, raising the two failures the same way.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from django.utils.module_loading import import_string

from salter.mailbox.models import Notification, StoredMessage

CONTENT_LANGUAGE = {"sr": "sr-Cyrl", "sr-latn": "sr-Latn", "en": "en"}


class TemporaryFailure(Exception):
    """Try again later."""


class PermanentFailure(Exception):
    """Trying again cannot help."""


class Adapter:
    """A channel's way out. Subclasses implement :meth:`send`."""

    def open(self) -> None:
        """Before a batch."""

    def send(self, notification: Notification) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """After a batch, also after a failure."""


def _smtp_code(exc: smtplib.SMTPException) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        return min(codes) if codes else None
    if isinstance(exc, smtplib.SMTPResponseException):
        return int(exc.smtp_code)
    return None


class EmailAdapter(Adapter):
    """E-mail through Django's backend, one connection for the batch.

    A 5xx answer to the sender, the recipient or the data is permanent; a 4xx answer, a
    refused or broken connection, a timeout — and anything that goes wrong while connecting or
    logging in, which is the operator's to fix, not the message's — is temporary."""

    def __init__(self) -> None:
        self.backend: BaseEmailBackend | None = None

    def _connected(self) -> BaseEmailBackend:
        if self.backend is None:
            backend = get_connection(fail_silently=False)
            try:
                backend.open()
            except (smtplib.SMTPException, OSError) as exc:
                raise TemporaryFailure(f"cannot connect: {exc!r}") from exc
            self.backend = backend
        return self.backend

    def message(self, notification: Notification) -> EmailMessage:
        return EmailMessage(
            subject=notification.subject,
            body=notification.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.address],
            headers={
                "Message-ID": notification.message_id,
                "Content-Language": CONTENT_LANGUAGE.get(notification.language, "sr-Cyrl"),
                "Auto-Submitted": "auto-generated",  # RFC 3834: no vacation replies, please
            },
        )

    def send(self, notification: Notification) -> None:
        backend = self._connected()
        try:
            sent = backend.send_messages([self.message(notification)])
        except smtplib.SMTPException as exc:
            code = _smtp_code(exc)
            if code is not None and 500 <= code < 600:
                raise PermanentFailure(f"{code}: {exc}") from exc
            self.close()  # the connection may be broken: the next message opens a new one
            raise TemporaryFailure(repr(exc)) from exc
        except OSError as exc:
            self.close()
            raise TemporaryFailure(repr(exc)) from exc
        if not sent:
            raise PermanentFailure("the backend sent nothing (no recipient address)")

    def close(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            try:
                backend.close()
            except (smtplib.SMTPException, OSError):
                pass  # already gone


class StoringAdapter(Adapter):
    """Development SMS and push: store what would have been sent. Sending the same
    notification twice stores it once (the one-to-one to the notification)."""

    def send(self, notification: Notification) -> None:
        StoredMessage.objects.get_or_create(
            notification=notification,
            defaults={
                "channel": notification.channel,
                "address": notification.address,
                "text": f"{notification.subject}\n\n{notification.body}",
                "created_at": timezone.now(),
            },
        )


def adapter_for(channel: str) -> Adapter:
    """A new adapter for ``channel`` (one per batch)."""
    if channel == Notification.Channel.EMAIL:
        return EmailAdapter()
    paths: dict[str, str] = {
        Notification.Channel.SMS: settings.SALTER_SMS_ADAPTER,
        Notification.Channel.PUSH: settings.SALTER_PUSH_ADAPTER,
    }
    path = paths.get(channel)
    if path is None:
        raise PermanentFailure(f"no adapter for channel {channel!r}")
    adapter: Adapter = import_string(path)()
    return adapter
