"""The case timeline's one writer.

Every :class:`~salter.cases.models.CaseEvent` row is written here — by the engine's use cases
and by the apps that take part in a case (an act issued, a letter received, a delivery step,
a piece of evidence), always inside the transaction of the change it tells, so the timeline
and the change commit together. Rows are appended, never changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from salter.cases.models import Case, CaseEvent
from salter.core.context import Actor

# Events that move a case: the last one says who moved it first.
MOVES = [
    CaseEvent.Kind.SUBMITTED,
    CaseEvent.Kind.TRANSITION,
    CaseEvent.Kind.WITHDRAWN,
    CaseEvent.Kind.SUPPLEMENT_REQUESTED,
    CaseEvent.Kind.SUPPLEMENT_ANSWERED,
    CaseEvent.Kind.APPROVAL,
]


def record(
    case: Case | int,
    kind: str,
    actor: Actor | None = None,
    *,
    at: datetime,
    role: str = "",
    unit_id: int | None = None,
    internal: bool = False,
    payload: dict[str, Any] | None = None,
    transition_id: str = "",
    from_state: str = "",
    to_state: str = "",
    opinion: str = "",
) -> CaseEvent:
    """Append one event to the case's timeline. ``actor`` None or a system actor (no user):
    the platform did it."""
    return CaseEvent.objects.create(
        case_id=case if isinstance(case, int) else case.pk,
        at=at,
        kind=kind,
        actor=actor.user if actor is not None else None,
        actor_role=role,
        unit_id=unit_id,
        internal=internal,
        payload=payload if payload is not None else {},
        transition_id=transition_id,
        from_state=from_state,
        to_state=to_state,
        opinion=opinion,
    )
