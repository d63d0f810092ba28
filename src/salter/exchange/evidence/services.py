"""The use cases of evidence (steps 1 and 3 of :mod:`salter.exchange.evidence`): the requests a
submission records, and the official's decisions about evidence a register did not give — ask
again, the applicant brings it, decide without it. Each decision is one transaction that locks
the case, checks the official's role and writes a timeline event and an audit event.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.cases.access import case_roles
from salter.cases.models import Case
from salter.core.context import Actor
from salter.exchange import tasks
from salter.exchange.evidence import events
from salter.exchange.evidence.items import (
    UNSETTLED,
    State,
    data_services,
    register_items,
    register_names,
)
from salter.exchange.evidence.worker import CHANNEL, WORKER
from salter.exchange.models import EvidenceRequest

OFFICIAL_ROLES = ("clerk", "head_of_unit")
MAX_REASON = 1000


class EvidenceError(Exception):
    """An official's action on a piece of evidence cannot be taken; the message says why."""


# --- submission -----------------------------------------------------------------------------


def on_submitted(case: Case) -> list[EvidenceRequest]:
    """Record the evidence the case needs, in the submission's transaction (one INSERT, none
    for a service that asks no register), and nudge the worker after the commit."""
    items = register_items(case.service_version.definition)
    if not items:
        return []
    now = timezone.now()
    due = now + timedelta(days=float(settings.SALTER_REGISTER_ANSWER_DAYS))
    rows: list[EvidenceRequest] = []
    missing: list[tuple[EvidenceRequest, str]] = []
    for item in items:
        row = EvidenceRequest(
            case=case, code=item["code"], service_code=item["register_query"], created_at=now
        )
        bring = item.get("bring_field")
        if item.get("applicant_may_bring") and bring and case.data.get(bring) is True:
            # Chosen on the form: nothing is ever due (due_at = created_at says so).
            row.state, row.due_at = State.BROUGHT, now
        else:
            inputs = {name: case.data.get(field) for name, field in item.get("inputs", {}).items()}
            row.inputs = inputs
            row.due_at = due
            empty = [item["inputs"][name] for name, value in inputs.items() if value in (None, "")]
            if empty:
                # A field the query needs was left empty (a field shown only on a condition):
                # no register can answer, so the official decides at once.
                row.state, row.escalated_at = State.ESCALATED, now
                row.last_error = _("The application does not give “%(field)s”.") % {
                    "field": ", ".join(empty)
                }
                missing.append((row, item["register_query"]))
            else:
                row.next_attempt_at = now
        rows.append(row)
    EvidenceRequest.objects.bulk_create(rows)
    services = data_services(code for _row, code in missing)
    for row, code in missing:
        events.record(
            case,
            row,
            State.ESCALATED,
            register_names(services.get(code), code),
            actor=WORKER,
            internal=True,
            text=row.last_error,
            missing=True,
        )
    if any(r.state == State.PENDING for r in rows):
        nudge_after_commit()
    return rows


def nudge_after_commit() -> None:
    """Once per transaction: after the commit, enqueue the asking task and wake a LISTENing
    ``exchange_worker`` (PostgreSQL). A failed nudge only means the worker's next poll."""
    if any(entry[1] is _nudge for entry in connection.run_on_commit):
        return
    transaction.on_commit(_nudge, robust=True)


def _nudge() -> None:
    tasks.ask_evidence.enqueue()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {CHANNEL}")


# --- the official decides -------------------------------------------------------------------


def _locked(actor: Actor, evidence_id: int) -> tuple[EvidenceRequest, Case, str, int]:
    """The request and its case, both locked (one decision at a time per case, and none while
    a step of the case is being taken), and the role and unit the actor decides in."""
    if actor.user is None:
        raise PermissionDenied(_("Only an official can decide about evidence."))
    case_id = (
        EvidenceRequest.objects.filter(pk=evidence_id).values_list("case_id", flat=True).first()
    )
    if case_id is None:
        raise EvidenceError(_("There is no such evidence."))
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("service_version__service", "authority")
        .get(pk=case_id)
    )
    # Only roles held where the case is reached (its unit, up to the clearance) count: a grant
    # lets an official read the case, not decide about its evidence.
    own, _standing = case_roles(case, actor.user)
    held = {role: unit for role, unit in own.items() if role in OFFICIAL_ROLES}
    if not held:
        raise PermissionDenied(
            _("Only a clerk or a head of unit of %(authority)s can decide about evidence.")
            % {"authority": case.authority.display_name}
        )
    if case.closed_at is not None:
        raise EvidenceError(_("The case is closed."))
    request = EvidenceRequest.objects.select_for_update().get(pk=evidence_id)
    request.case = case
    role = "head_of_unit" if "head_of_unit" in held else "clerk"
    return request, case, role, held[role]


def _refuse(request: EvidenceRequest) -> EvidenceError:
    return EvidenceError(
        _("This evidence is now “%(state)s”; the page you saw was out of date.")
        % {"state": request.get_state_display()}
    )


def _decided(
    actor: Actor,
    request: EvidenceRequest,
    case: Case,
    role: str,
    unit_id: int,
    *,
    action: str,
    internal: bool,
    text: str = "",
) -> None:
    services = data_services([request.service_code])
    events.record(
        case,
        request,
        request.state,
        register_names(services.get(request.service_code), request.service_code),
        actor=actor,
        internal=internal,
        role=role,
        unit_id=unit_id,
        text=text,
    )
    audit.record(
        actor,
        f"evidence.{action}",
        request,
        authority_id=case.authority_id,
        payload={"case": case.pk, "code": request.code, **({"reason": text} if text else {})},
    )


@transaction.atomic
def ask_again(actor: Actor, evidence_id: int) -> EvidenceRequest:
    """Ask the register again, with a new deadline for its answer: after an escalation (the
    register is back) or when it held no record (it may hold one now)."""
    request, case, role, unit_id = _locked(actor, evidence_id)
    if request.state not in (State.ESCALATED, State.NOT_FOUND):
        raise _refuse(request)
    now = timezone.now()
    request.state = State.PENDING
    request.attempts = 0
    request.last_error = ""
    request.escalated_at = None
    request.next_attempt_at = now
    request.due_at = now + timedelta(days=float(settings.SALTER_REGISTER_ANSWER_DAYS))
    request.save(
        update_fields=[
            "state",
            "attempts",
            "last_error",
            "escalated_at",
            "next_attempt_at",
            "due_at",
        ]
    )
    _decided(actor, request, case, role, unit_id, action="asked_again", internal=True)
    nudge_after_commit()
    return request


@transaction.atomic
def applicant_brings(actor: Actor, evidence_id: int) -> EvidenceRequest:
    """The applicant will bring the evidence personally (the official asks for it, e.g. by a
    supplement request): it no longer holds up the case."""
    request, case, role, unit_id = _locked(actor, evidence_id)
    if request.state not in (*UNSETTLED, State.NOT_FOUND):
        raise _refuse(request)
    request.state = State.BROUGHT
    request.next_attempt_at = None
    request.save(update_fields=["state", "next_attempt_at"])
    _decided(actor, request, case, role, unit_id, action="brought", internal=False)
    return request


@transaction.atomic
def decide_without(actor: Actor, evidence_id: int, reason: str) -> EvidenceRequest:
    """The case is decided without this evidence; the reason is kept on the (internal)
    timeline and in the audit log."""
    reason = reason.strip()
    if not reason:
        raise EvidenceError(_("Write why the case can be decided without this evidence."))
    if len(reason) > MAX_REASON:
        raise EvidenceError(_("Enter at most %(n)s characters.") % {"n": MAX_REASON})
    request, case, role, unit_id = _locked(actor, evidence_id)
    if request.state not in (*UNSETTLED, State.NOT_FOUND):
        raise _refuse(request)
    request.state = State.CANCELLED
    request.next_attempt_at = None
    request.save(update_fields=["state", "next_attempt_at"])
    _decided(actor, request, case, role, unit_id, action="cancelled", internal=True, text=reason)
    return request
