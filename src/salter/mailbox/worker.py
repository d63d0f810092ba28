"""``salter notify_worker``: sends what the outbox holds, with retries, and survives being killed.

The loop
    1. **Claim** up to ``SALTER_OUTBOX_BATCH`` due rows (``state = pending`` and
       ``next_attempt_at <= now``) with a conditional UPDATE that writes a fresh claim token
       and a lease (``lease_until``, ``SALTER_OUTBOX_LEASE_SECONDS`` ahead).
       ``next_attempt_at`` moves to the end of the lease too, so a claimed row is simply not
       due while it is held, and becomes due again by itself when a dead worker's lease runs
       out. On PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED`` (workers never
       wait for each other); on SQLite the claim is one ``BEGIN IMMEDIATE`` transaction.
    2. **Send** each row through its channel's adapter (:mod:`salter.mailbox.channels`; one
       SMTP connection for the batch) and, as soon as the other side has accepted it, mark it
       sent **in its own commit** — ``UPDATE … WHERE id = … AND claim = <our token>``.
    3. On a temporary failure the row goes back to ``pending`` with exponential backoff and
       jitter (``SALTER_OUTBOX_BACKOFF`` × 2^(attempt−1), at most six hours, times a random
       0.5–1); after ``SALTER_OUTBOX_MAX_ATTEMPTS`` attempts, or at once on a permanent failure
       (a 5xx answer), it is ``failed`` and logged.
    4. Wait: on PostgreSQL ``LISTEN salter_outbox`` (:func:`salter.mailbox.outbox.notify` sends
       ``NOTIFY`` after each commit) with ``SALTER_OUTBOX_POLL_SECONDS`` as the timeout; on
       SQLite, poll every ``SALTER_OUTBOX_POLL_SECONDS``.

SIGTERM or SIGINT: the message being sent is finished and marked, the rest of the batch is
handed back at once (claim cleared, due now), and the worker exits.

What a kill can and cannot do
    The worker may die at any instant (SIGKILL, power loss). Rows it had claimed stay
    ``pending`` under its lease and are taken over by any worker when the lease runs out, so
    **nothing is lost**. Every kill point *before* the mail server accepts a message — while
    claiming, connecting, during ``MAIL``/``RCPT``/``DATA`` — leads to **exactly one**
    delivery after the restart: the server throws an SMTP transaction that did not finish
    away. Every kill point *after* our commit of ``sent`` leads to exactly one delivery too.

    One window remains, and no SMTP client can close it (RFC 1047, "Duplicate messages and
    SMTP"): between the server's ``250`` after the final dot and our commit. A kill there
    (or a lost connection, or a database outage) leaves a message the server has accepted
    recorded as not sent, and it is sent again. The repeat carries the same ``Message-ID``
    (``<notification-<id>@SALTER_MAIL_DOMAIN>``, :attr:`Notification.message_id`), so the
    receiving system or the reader's client can recognise and drop it. The window is one
    network round trip to the database wide; the tests kill the worker in it and check that
    the repeat has the same Message-ID, and kill it before acceptance and check that every
    message arrives exactly once.

    A lease must outlast one send: a worker renews its lease when half of it has passed, but a
    single SMTP exchange slower than half the lease (``EMAIL_TIMEOUT`` is 10 s, the lease 60 s)
    could let another worker take the row over and send it too. Workers on several machines
    compare leases with their own clocks, so keep the clocks synchronised (NTP).

    ``attempts`` counts sends that had an outcome (sent, refused, failed): one cut short by a
    kill is not counted, so the rows of a killed batch keep all their attempts.

    SMS and push adapters follow the same rules; the development adapter stores each message
    once whatever happens (its row is one-to-one with the notification).

Preferences are applied when a notification is queued (:mod:`salter.mailbox.outbox`), not here.
"""

from __future__ import annotations

import secrets
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

import structlog
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from salter.core.listener import Listener
from salter.mailbox import delivery as deliveries
from salter.mailbox.channels import Adapter, PermanentFailure, TemporaryFailure, adapter_for
from salter.mailbox.models import Notification
from salter.mailbox.outbox import CHANNEL

log = structlog.get_logger(__name__)

State = Notification.State
MAX_BACKOFF = timedelta(hours=6)
_random = secrets.SystemRandom()


def backoff(attempts: int, base: float | None = None) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: exponential, capped, with
    jitter (between half and all of it), so many failures do not come back at once."""
    base = settings.SALTER_OUTBOX_BACKOFF if base is None else base
    delay = min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF.total_seconds())
    return timedelta(seconds=delay * _random.uniform(0.5, 1.0))


@dataclass
class Batch:
    token: str
    until: datetime  # the end of our lease
    rows: list[Notification] = field(default_factory=list)


class Worker:
    def __init__(
        self,
        *,
        batch: int | None = None,
        lease: float | None = None,
        poll: float | None = None,
        max_attempts: int | None = None,
    ) -> None:
        self.batch = batch or settings.SALTER_OUTBOX_BATCH
        self.lease = timedelta(seconds=lease or settings.SALTER_OUTBOX_LEASE_SECONDS)
        self.poll = poll if poll is not None else settings.SALTER_OUTBOX_POLL_SECONDS
        self.max_attempts = max_attempts or settings.SALTER_OUTBOX_MAX_ATTEMPTS
        self.stopping = False
        self.counts: Counter[str] = Counter()
        self._listener = Listener(CHANNEL)

    # --- claiming ---------------------------------------------------------------------------

    def claim(self) -> Batch | None:
        """Take up to ``batch`` due rows under a fresh token and lease, or ``None``."""
        now = timezone.now()
        batch = Batch(token=uuid.uuid4().hex, until=now + self.lease)
        due = Notification.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
        with transaction.atomic():
            ids = list(
                due.order_by("next_attempt_at", "id")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[: self.batch]
            )
            if not ids:
                return None
            # The condition again: on SQLite nothing was locked (the transaction itself is
            # exclusive), and it keeps the claim correct whatever read the candidates.
            due.filter(pk__in=ids).update(
                claim=batch.token,
                lease_until=batch.until,
                next_attempt_at=batch.until,
            )
        batch.rows = list(Notification.objects.filter(pk__in=ids, claim=batch.token).order_by("id"))
        return batch

    def _renew(self, batch: Batch, rows: list[Notification]) -> list[Notification]:
        """Extend the lease of the rows still to send; drop any another worker took over."""
        until = timezone.now() + self.lease
        ids = [r.pk for r in rows]
        held = Notification.objects.filter(pk__in=ids, claim=batch.token, state=State.PENDING)
        renewed = held.update(lease_until=until, next_attempt_at=until)
        batch.until = until
        if renewed == len(rows):
            return rows
        still = set(held.values_list("pk", flat=True))
        for row in rows:
            if row.pk not in still:
                log.warning("notification.lease_lost", notification=row.pk)
        return [r for r in rows if r.pk in still]

    def _release(self, batch: Batch, rows: list[Notification]) -> None:
        """Hand rows we did not try back, due now."""
        Notification.objects.filter(
            pk__in=[r.pk for r in rows], claim=batch.token, state=State.PENDING
        ).update(claim="", lease_until=None, next_attempt_at=timezone.now())

    # --- sending ----------------------------------------------------------------------------

    def _mine(self, batch: Batch, row: Notification) -> Any:
        return Notification.objects.filter(pk=row.pk, claim=batch.token)

    def _sent(self, batch: Batch, row: Notification) -> None:
        now = timezone.now()
        mark = self._mine(batch, row)
        fields: dict[str, Any] = {
            "state": State.SENT,
            "sent_at": now,
            "attempts": F("attempts") + 1,
            "claim": "",
            "lease_until": None,
            "last_error": "",
        }
        if row.delivery_id is None:
            done = mark.update(**fields)  # one statement, its own commit
        else:
            with transaction.atomic():
                done = mark.update(**fields)
                if done:
                    self._evidence(row, now)
        if not done:
            log.warning("notification.sent_after_lease_lost", notification=row.pk)
        self.counts["sent"] += 1

    def _evidence(self, row: Notification, at: datetime) -> None:
        """The notice of a legal delivery was sent: the delivery's ``notified`` step, in the
        commit that marks the row sent. If recording it fails, the row is still marked (the
        message is out; sending it again would not help) and the failure is logged."""
        assert row.delivery_id is not None
        try:
            with transaction.atomic():
                deliveries.record_notified(
                    row.delivery_id, channel=row.channel, address=row.address, at=at
                )
        except Exception:  # noqa: BLE001 — the message is out whatever the evidence does
            log.exception("notification.evidence_failed", notification=row.pk)

    def _failed(self, batch: Batch, row: Notification, error: str) -> None:
        self._mine(batch, row).update(
            state=State.FAILED,
            attempts=F("attempts") + 1,
            claim="",
            lease_until=None,
            last_error=error[:500],
        )
        self.counts["failed"] += 1
        log.error(
            "notification.failed",
            notification=row.pk,
            channel=row.channel,
            kind=row.kind,
            attempts=row.attempts + 1,
            error=error[:500],
        )

    def _retry(self, batch: Batch, row: Notification, error: str) -> None:
        tried = row.attempts + 1
        if tried >= self.max_attempts:
            self._failed(batch, row, f"gave up after {tried} attempts: {error}")
            return
        wait = backoff(tried)
        self._mine(batch, row).update(
            attempts=F("attempts") + 1,
            next_attempt_at=timezone.now() + wait,
            claim="",
            lease_until=None,
            last_error=error[:500],
        )
        self.counts["retried"] += 1
        log.warning(
            "notification.retry",
            notification=row.pk,
            attempts=tried,
            in_seconds=round(wait.total_seconds(), 1),
            error=error[:200],
        )

    def send(self, batch: Batch) -> None:
        adapters: dict[str, Adapter] = {}
        rows = list(batch.rows)
        try:
            while rows:
                if self.stopping:
                    self._release(batch, rows)
                    return
                if timezone.now() >= batch.until - self.lease / 2:
                    rows = self._renew(batch, rows)
                    continue
                row = rows.pop(0)
                self._send_one(batch, row, adapters)
        finally:
            for adapter in adapters.values():
                adapter.close()

    def _send_one(self, batch: Batch, row: Notification, adapters: dict[str, Adapter]) -> None:
        try:
            adapter = adapters.get(row.channel)
            if adapter is None:
                adapter = adapters[row.channel] = adapter_for(row.channel)
                adapter.open()
            adapter.send(row)
        except TemporaryFailure as exc:
            self._retry(batch, row, str(exc))
        except PermanentFailure as exc:
            self._failed(batch, row, str(exc))
        except DatabaseError:
            raise
        except Exception as exc:  # noqa: BLE001 — an adapter's bug must not stop the outbox
            log.exception("notification.adapter_error", notification=row.pk)
            self._retry(batch, row, repr(exc))
        else:
            self._sent(batch, row)

    def drain(self) -> int:
        """Claim and send until nothing is due (or we are asked to stop); how many rows were
        handled."""
        handled = 0
        while not self.stopping:
            batch = self.claim()
            if batch is None:
                break
            self.send(batch)
            handled += len(batch.rows)
        return handled

    # --- waiting ----------------------------------------------------------------------------

    def wait(self) -> None:
        """Until a NOTIFY arrives (PostgreSQL), the poll interval passes, or a stop signal."""
        self._listener.wait(self.poll, lambda: self.stopping)

    # --- the loop ---------------------------------------------------------------------------

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        self.stopping = True

    def run(self, *, once: bool = False) -> Counter[str]:
        """Work until stopped (``once``: until nothing is due). Returns what was done."""
        restore = self._trap_signals()
        log.info(
            "notify_worker.started",
            batch=self.batch,
            lease=self.lease.total_seconds(),
            poll=self.poll,
            listen=connection.vendor == "postgresql" and not once,
        )
        try:
            while not self.stopping:
                try:
                    if not once:
                        self._listener.open()  # before the first look, so no commit goes unheard
                    self.drain()
                    if once:
                        break
                    self.wait()
                except DatabaseError as exc:
                    # The database went away: start again with fresh connections.
                    log.warning("notify_worker.database_error", error=repr(exc))
                    self._listener.close()
                    connection.close()
                    if once:
                        raise
                    time.sleep(self.poll)
        finally:
            self._listener.close()
            restore()
        log.info("notify_worker.stopped", **self.counts)
        return self.counts

    def _trap_signals(self) -> Any:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        before = {s: signal.signal(s, self.stop) for s in (signal.SIGTERM, signal.SIGINT)}

        def restore() -> None:
            for signum, handler in before.items():
                signal.signal(signum, handler)

        return restore
