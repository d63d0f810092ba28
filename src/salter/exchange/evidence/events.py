"""A piece of evidence on the case's timeline: the event written when something became of it,
what the event says, and what the gate of a step that requires evidence says."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from salter.cases import timeline, workflow
from salter.cases.models import Case, CaseEvent
from salter.core.context import Actor
from salter.exchange.evidence.items import (
    UNSETTLED,
    State,
    data_services,
    item_of,
    register_names,
)
from salter.exchange.models import EvidenceRequest


def record(
    case: Case,
    request: EvidenceRequest,
    state: str,
    register: Mapping[str, str],
    *,
    actor: Actor,
    internal: bool,
    role: str = "",
    unit_id: int | None = None,
    text: str = "",
    **why: Any,
) -> None:
    """A timeline event of a piece of evidence. It carries the item's label and the register's
    names, so the timeline shows it in the reader's language without a query
    (:func:`salter.cases.steps.act_text`); ``text`` (an error, a reason) is for officials."""
    item = item_of(case.service_version.definition, request.code)
    payload: dict[str, Any] = {
        "evidence": request.pk,
        "code": request.code,
        "label": item.get("label"),
        "register": dict(register),
        "state": str(state),
    }
    if text:
        payload["text"] = text
    payload.update(why)  # why it was escalated: days, refused or missing
    timeline.record(
        case,
        CaseEvent.Kind.EVIDENCE,
        actor,
        at=timezone.now(),
        role=role,
        unit_id=unit_id,
        internal=internal,
        payload=payload,
    )


def escalation_text(
    register: Mapping[str, str], days: float = 0, *, refused: bool = False, missing: bool = False
) -> str:
    """What an escalation tells the official, in the active language: the register did not
    answer within ``days``, or it ``refused`` the query, or the query could not be asked
    because the application is ``missing`` a value it needs."""
    name = workflow.text(register)
    if missing:
        return _(
            "%(register)s cannot be asked: the application lacks a value the query needs. "
            "Decide how to obtain the evidence."
        ) % {"register": name}
    if refused or days <= 0:
        return _("%(register)s refused the query: decide how to obtain the evidence.") % {
            "register": name
        }
    count = round(days) if days >= 1 else days
    shown = f"{count:g}" if isinstance(count, float) else str(count)
    return ngettext(
        "%(register)s did not answer within %(days)s day: decide how to obtain the evidence.",
        "%(register)s did not answer within %(days)s days: decide how to obtain the evidence.",
        max(int(count), 1) if count >= 1 else 2,
    ) % {"register": name, "days": shown}


OUTCOMES = {
    State.PENDING: gettext_lazy("asked %(register)s again"),
    State.ANSWERED: gettext_lazy("obtained from %(register)s"),
    State.NOT_FOUND: gettext_lazy("%(register)s holds no record"),
    State.BROUGHT: gettext_lazy("the applicant brings it"),
    State.CANCELLED: gettext_lazy("decided without it"),
}


def event_text(payload: Mapping[str, Any]) -> str:
    """A timeline event of a piece of evidence in words: the item and what became of it."""
    label = workflow.text(payload.get("label")) or str(payload.get("code", ""))
    register = payload.get("register") or {}
    state = str(payload.get("state", ""))
    if state == State.ESCALATED:
        outcome = escalation_text(
            register,
            float(payload.get("days") or 0),
            refused=bool(payload.get("refused")),
            missing=bool(payload.get("missing")),
        )
    elif state in OUTCOMES:
        outcome = str(OUTCOMES[State(state)]) % {"register": workflow.text(register)}
    else:
        outcome = state
    return f"{label} — {outcome}"


def awaited(case: Case) -> str:
    """Why a step that requires evidence must wait, or "" when every piece is settled. One
    query (two when something is awaited: the registers' names)."""
    waiting = list(EvidenceRequest.objects.filter(case=case, state__in=UNSETTLED).order_by("id"))
    if not waiting:
        return ""
    services = data_services(r.service_code for r in waiting)
    definition = case.service_version.definition
    now = timezone.now()
    parts = []
    for request in waiting:
        label = workflow.text(item_of(definition, request.code).get("label"))
        register = workflow.text(
            register_names(services.get(request.service_code), request.service_code)
        )
        if request.state == State.PENDING and now - request.created_at < timedelta(minutes=1):
            parts.append(
                _("Waiting for the answer of %(register)s about: %(label)s (asked just now).")
                % {"register": register, "label": label}
            )
        elif request.state == State.PENDING:
            parts.append(
                _("Waiting for the answer of %(register)s about: %(label)s (asked %(ago)s ago).")
                % {
                    "register": register,
                    "label": label,
                    "ago": timesince(request.created_at, now, depth=1),
                }
            )
        else:
            parts.append(
                _(
                    "%(register)s did not answer about: %(label)s. Decide first how to obtain "
                    "it: ask again, let the applicant bring it, or decide without it."
                )
                % {"register": register, "label": label}
            )
    return " ".join(parts)
