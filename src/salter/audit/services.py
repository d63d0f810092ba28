"""Writing and verifying the audit chain."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from salter.audit import chain
from salter.audit.models import AuditEvent, ChainHead
from salter.core.context import Actor


def _object_ref(obj: models.Model | None) -> tuple[str, str]:
    if obj is None:
        return "", ""
    return obj._meta.label_lower, str(obj.pk)


def _lock_head() -> ChainHead:
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        ChainHead.objects.bulk_create([ChainHead(pk=1)], ignore_conflicts=True)
        head = ChainHead.objects.select_for_update().get(pk=1)
    return head


# The events of a deferred() block, appended to the chain together at its end.
_pending: ContextVar[list[AuditEvent] | None] = ContextVar("salter_audit_pending", default=None)


def record(
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    *,
    authority_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Must run inside the transaction of the change it describes.

    Inside a :func:`deferred` block the event is appended when the block ends (still in the
    transaction); the returned event is saved by then."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must run inside the transaction of the change")
    object_type, object_id = _object_ref(obj)
    payload = payload or {}
    user = actor.user
    event = AuditEvent(
        occurred_at=timezone.now().astimezone(UTC),
        actor_id=user.pk if user is not None else None,
        actor_label=(user.email if user is not None else f"system:{actor.via}")[:200],
        on_behalf_of=actor.on_behalf_of or "",
        mandate_id=actor.mandate_id,
        authority_id=authority_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        request_id=actor.request_id,
        ip=actor.ip,
        via=actor.via,
        payload=payload,
        payload_hash=chain.payload_hash(payload),
    )
    pending = _pending.get()
    if pending is not None:
        pending.append(event)
    else:
        _append([event])
    return event


@contextmanager
def deferred() -> Iterator[None]:
    """Collect the audit events recorded in the block and append them to the chain together
    when it ends without an error. Use it inside a transaction around a use case that does
    more after its first audit event: the chain head — one row for the whole platform — is
    then locked only from the end of the block to the commit, instead of over the whole use
    case (a submission allocates its number early and would hold the head meanwhile). A
    nested block leaves the appending to the outermost one."""
    if _pending.get() is not None:
        yield
        return
    events: list[AuditEvent] = []
    token = _pending.set(events)
    try:
        yield
    finally:
        _pending.reset(token)
    if events:  # reached only when the block raised nothing: a failure rolls back anyway
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("audit.deferred() must run inside the transaction of the change")
        _append(events)


def _append(events: list[AuditEvent]) -> None:
    head = _lock_head()
    for event in events:
        event.prev_hash = head.last_hash
        event.hash = _hash_of(event)
        event.save(force_insert=True)
        head.last_event_id = event.pk
        head.last_hash = event.hash
        head.count += 1
    head.save(update_fields=["last_event_id", "last_hash", "count"])


def _hash_of(event: AuditEvent) -> str:
    return chain.event_hash(
        prev_hash=event.prev_hash,
        occurred_at=event.occurred_at,
        actor_id=event.actor_id,
        on_behalf_of=event.on_behalf_of,
        mandate_id=event.mandate_id,
        authority_id=event.authority_id,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        request_id=event.request_id,
        ip=event.ip,
        via=event.via,
        payload_hash=event.payload_hash,
    )


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_at: int | None = None
    problem: str = ""


def _events() -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("id").iterator(chunk_size=5000)


def verify() -> ChainReport:
    """Walk the chain from the first event and report the first broken link.

    Caught: an edited event (its hash no longer matches its content, or its payload no longer
    matches the payload hash), a deleted or reordered event (the next event's link points
    elsewhere), and events cut off the end (the head no longer matches the last event).
    """
    prev = chain.GENESIS
    checked = 0
    last_id = 0
    for event in _events():
        if event.occurred_at.tzinfo is not None:
            event.occurred_at = event.occurred_at.astimezone(UTC)
        if chain.payload_hash(event.payload) != event.payload_hash:
            return ChainReport(False, checked, event.pk, "its payload was changed after writing")
        if event.prev_hash != prev:
            return ChainReport(
                False,
                checked,
                event.pk,
                "it does not follow the event before it: an event was deleted, inserted or "
                "reordered here",
            )
        if _hash_of(event) != event.hash:
            return ChainReport(False, checked, event.pk, "its content was changed after writing")
        prev = event.hash
        last_id = event.pk
        checked += 1
    head = ChainHead.objects.filter(pk=1).first()
    head_hash = head.last_hash if head else chain.GENESIS
    if head_hash != prev or (head is not None and head.count != checked):
        return ChainReport(
            False,
            checked,
            last_id or None,
            f"the chain ends at event #{last_id} but the head records event "
            f"#{head.last_event_id if head else 0}: events at the end were deleted",
        )
    return ChainReport(True, checked)
