"""Evidence a case needs from registers, obtained ex officio (ZUP art. 9 and 103).

The life of one piece of evidence (:class:`~salter.exchange.models.EvidenceRequest`):

1. **Submission** (:func:`on_submitted`, in the submission's transaction): one request per
   evidence item of the definition that names a ``register_query``. The applicant who ticked
   the item's ``bring_field`` brings it personally (``brought``, nothing is asked); otherwise the
   request is ``pending``, due now, with the query's inputs taken from the form and the legal
   deadline of the register's answer (``SALTER_REGISTER_ANSWER_DAYS``, 15 days by law). After
   the commit the worker is nudged: a task is enqueued (and, on PostgreSQL, ``NOTIFY
   salter_exchange`` wakes ``salter exchange_worker``); the worker also polls.
2. **Asking** (:func:`ask_due`, run by ``salter exchange_worker``, the task and the clock):
   a due request is *claimed* in a short transaction — on PostgreSQL read ``FOR UPDATE SKIP
   LOCKED``, so concurrent workers never wait for each other — by moving its
   ``next_attempt_at`` to the end of a lease that outlasts one query. The register is asked
   **outside any transaction** (:func:`salter.exchange.client.ask`, which waits on the
   network). The outcome is saved in a second transaction by a conditional UPDATE that still
   expects the lease it claimed: a worker whose lease ran out, or a request an official
   settled meanwhile, saves nothing.

   * an answer: ``answered`` (the data in ``answer``) or ``not_found``, with the exchange
     message linked, a timeline event the applicant sees and an audit event;
   * no answer worth waiting for (down, slow, unreadable: ``RegisterError(retry=True)``):
     attempts + 1, the error kept in ``last_error``, asked again after an exponential backoff
     from ``SALTER_REGISTER_RETRY_SECONDS`` (at most six hours, never past the deadline); once
     the deadline has passed, ``escalated``: an internal timeline event and a notification to
     the case's clerks, who decide how to obtain the evidence;
   * a refusal that will not change (``RegisterError(retry=False)``): ``escalated`` at once.

   **Nothing is lost.** The request row holds everything the query needs. A worker that dies
   between the register's answer and the save leaves the request ``pending`` under its lease;
   when the lease runs out any worker asks again. The register then sees the same query twice,
   each with a request id of its own (every attempt is a new exchange message with a new
   ``request_id``): registers answer queries, they change nothing, so a repeat is harmless,
   and both exchanges are in both sides' message logs.
3. **The official decides** (:func:`ask_again`, :func:`applicant_brings`,
   :func:`decide_without`): a clerk or head of unit of the case's authority settles an
   escalated (or unfound) piece of evidence.

A workflow step with ``"requires_evidence": true`` is refused while any request of the case is
``pending`` or ``escalated`` (:func:`awaited`, called by ``take_transition``).
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from salter.audit import services as audit
from salter.cases import timeline
from salter.core.context import Actor
from salter.exchange import client
from salter.exchange.models import DataService, EvidenceRequest

if TYPE_CHECKING:
    from salter.cases.models import Case
    from salter.identity.models import User

log = structlog.get_logger(__name__)

State = EvidenceRequest.State
# Not settled yet: a workflow step that requires evidence waits for these.
UNSETTLED = (State.PENDING, State.ESCALATED)
MAX_BACKOFF = timedelta(hours=6)
CHANNEL = "salter_exchange"  # PostgreSQL LISTEN/NOTIFY channel that wakes the worker
WORKER = Actor.system("exchange")
ESCALATED_TEMPLATE = "exchange/evidence_escalated.txt"
_random = secrets.SystemRandom()
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class EvidenceError(Exception):
    """An official's action on a piece of evidence cannot be taken; the message says why."""


# --- the definition's evidence --------------------------------------------------------------


def register_items(definition: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The evidence items the platform obtains from a register (they name a query)."""
    return [item for item in definition.get("evidence", []) if item.get("register_query")]


def _item(definition: Mapping[str, Any], code: str) -> dict[str, Any]:
    for item in definition.get("evidence", []):
        if item.get("code") == code:
            return dict(item)
    return {"code": code, "label": {"sr": code, "en": code}}


def _text(value: object) -> str:
    from salter.cases import workflow  # the exchange builds on cases

    return workflow.text(value)


def purpose_of(item: Mapping[str, Any]) -> str:
    """The purpose sent to the register and kept in both message logs and in the access log:
    the item's own purpose in the official language (Serbian), else the access log's code for
    evidence obtained ex officio (shown to each reader in their language)."""
    purpose = item.get("purpose")
    if isinstance(purpose, Mapping) and (purpose.get("sr") or purpose.get("en")):
        return str(purpose.get("sr") or purpose.get("en"))
    return "ex_officio_evidence"


def _names(service: DataService | None, code: str) -> dict[str, str]:
    """Who answers — the authority that keeps the register — in both languages, kept in
    timeline events so that showing them costs no query; the query's code when the platform
    knows no such data service."""
    if service is None:
        return {"sr": code, "en": code}
    holder = service.authority
    return {"sr": holder.name, "en": holder.name_en or holder.name}


def _query_name(service: DataService | None, code: str) -> str:
    if service is None:
        return code
    return _text({"sr": service.name, "en": service.name_en or service.name})


def _services(codes: Iterable[str]) -> dict[str, DataService]:
    wanted = set(codes)
    if not wanted:
        return {}
    found = DataService.objects.filter(code__in=wanted).select_related("authority")
    return {s.code: s for s in found}


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
    services = _services(code for _row, code in missing)
    for row, code in missing:
        _event(
            case,
            row,
            State.ESCALATED,
            _names(services.get(code), code),
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
    from salter.exchange import tasks

    tasks.ask_evidence.enqueue()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {CHANNEL}")


# --- asking ---------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: exponential from
    ``SALTER_REGISTER_RETRY_SECONDS``, at most six hours, with jitter (half to all of it) so
    that the requests a register outage left behind do not all come back at once."""
    base = float(settings.SALTER_REGISTER_RETRY_SECONDS)
    delay = min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF.total_seconds())
    return timedelta(seconds=delay * _random.uniform(0.5, 1.0))


def _lease(service: DataService | None) -> timedelta:
    """Long enough for one query to time out and its outcome to be saved."""
    timeout = float(settings.SALTER_REGISTER_TIMEOUT_SECONDS)
    if service is not None:
        timeout = max(timeout, float(service.timeout_seconds))
    return timedelta(seconds=2 * timeout + 30)


@dataclass(frozen=True)
class Claim:
    request: EvidenceRequest
    lease: datetime  # the request's next_attempt_at while we hold it: our token


def claim(services: dict[str, DataService] | None = None) -> Claim | None:
    """Take the next due request under a lease, or ``None`` when nothing is due."""
    services = {} if services is None else services
    now = timezone.now()
    due = EvidenceRequest.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
    with transaction.atomic():
        found = (
            due.order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("pk", "service_code")
            .first()
        )
        if found is None:
            return None
        pk, code = found
        if code not in services:
            services.update(_services([code]))
        lease = now + _lease(services.get(code))
        # The condition again: on SQLite nothing was locked (the IMMEDIATE transaction is
        # exclusive), and it keeps the claim correct whoever read the candidate.
        if not due.filter(pk=pk).update(next_attempt_at=lease):
            return None
    request = EvidenceRequest.objects.select_related(
        "case__authority", "case__service_version"
    ).get(pk=pk)
    return Claim(request, lease)


def ask_due(limit: int = 50) -> Counter[str]:
    """Ask the registers for up to ``limit`` due requests, one at a time; what came of them
    (answered, not_found, retried, escalated, lost). Safe to run in any number of workers."""
    counts: Counter[str] = Counter()
    services: dict[str, DataService] = {}
    for _n in range(limit):
        claimed = claim(services)
        if claimed is None:
            break
        try:
            counts[ask(claimed, services.get(claimed.request.service_code))] += 1
        except Exception:  # noqa: BLE001 — one request's failure must not stop the others
            # Not saved: the request stays pending under its lease and is asked again when
            # the lease runs out.
            log.exception("evidence.ask_failed", evidence=claimed.request.pk)
            counts["failed"] += 1
    return counts


def ask(claimed: Claim, service: DataService | None) -> str:
    """Ask the register for one claimed request (no transaction may be open: the query waits
    on the network) and save what came of it."""
    request = claimed.request
    case = request.case
    item = _item(case.service_version.definition, request.code)
    try:
        answer = client.ask(
            request.service_code,
            dict(request.inputs),
            authority=case.authority,
            purpose=purpose_of(item),
            official=None,  # the platform asks ex officio, not an official
            case=case,
            legal_basis=service.legal_basis if service is not None else None,
        )
    except client.RegisterError as exc:
        return settle_failure(
            claimed, service, item, str(exc), retry=exc.retry, message=exc.message
        )
    except Exception as exc:  # noqa: BLE001 — the client's bug is one more reason to retry
        log.exception("evidence.client_error", evidence=request.pk)
        text = _("The platform could not send the query: %(error)s") % {"error": repr(exc)}
        return settle_failure(claimed, service, item, text, retry=True, message=None)
    return settle_answer(claimed, service, item, answer)


def _mine(claimed: Claim) -> Any:
    """The request, if it is still ours: pending under the lease we claimed it with."""
    return EvidenceRequest.objects.filter(
        pk=claimed.request.pk, state=State.PENDING, next_attempt_at=claimed.lease
    )


@transaction.atomic
def settle_answer(
    claimed: Claim, service: DataService | None, item: Mapping[str, Any], answer: client.Answer
) -> str:
    request = claimed.request
    now = timezone.now()
    state = State.ANSWERED if answer.found else State.NOT_FOUND
    saved = _mine(claimed).update(
        state=state,
        answer=dict(answer.data or {}) if answer.found else None,
        answered_at=now,
        message=answer.message,
        next_attempt_at=None,
        last_error="",
    )
    if not saved:
        log.warning("evidence.lease_lost", evidence=request.pk)
        return "lost"
    # The applicant sees that the register answered, not what it said: a birth record names
    # other people too, and the applicant's own data is theirs to download from the portal.
    _event(request.case, request, state, _names(service, request.service_code), internal=False)
    audit.record(
        WORKER,
        f"evidence.{state}",
        request,
        authority_id=request.case.authority_id,
        payload={
            "case": request.case_id,
            "code": request.code,
            "service": request.service_code,
            "message": answer.message.pk,
        },
    )
    log.info("evidence.answered", evidence=request.pk, found=answer.found)
    return str(state)


@transaction.atomic
def settle_failure(
    claimed: Claim,
    service: DataService | None,
    item: Mapping[str, Any],
    error: str,
    *,
    retry: bool,
    message: Any,
) -> str:
    request = claimed.request
    now = timezone.now()
    attempts = request.attempts + 1
    fields: dict[str, Any] = {"attempts": attempts, "last_error": error[:2000]}
    if message is not None:
        fields["message"] = message
    late = now >= request.due_at
    if retry and not late:
        fields["next_attempt_at"] = min(now + backoff(attempts), request.due_at)
        if not _mine(claimed).update(**fields):
            log.warning("evidence.lease_lost", evidence=request.pk)
            return "lost"
        log.warning("evidence.retry", evidence=request.pk, attempts=attempts, error=error[:200])
        return "retried"
    fields.update(state=State.ESCALATED, escalated_at=now, next_attempt_at=None)
    if not _mine(claimed).update(**fields):
        log.warning("evidence.lease_lost", evidence=request.pk)
        return "lost"
    request.attempts, request.last_error = attempts, error
    _escalate(request, service, item, refused=not retry)
    return "escalated"


def _escalate(
    request: EvidenceRequest, service: DataService | None, item: Mapping[str, Any], *, refused: bool
) -> None:
    """The register did not answer in time (or refused): the case's clerks decide."""
    from salter.identity.models import Role
    from salter.mailbox import outbox
    from salter.mailbox.case_notifications import _officials  # the mailbox builds on cases

    case = request.case
    names = _names(service, request.service_code)
    days = float(settings.SALTER_REGISTER_ANSWER_DAYS)  # the legal period it was given
    why = {"refused": True} if refused else {"days": days}
    _event(case, request, State.ESCALATED, names, internal=True, text=request.last_error, **why)
    audit.record(
        WORKER,
        "evidence.escalated",
        request,
        authority_id=case.authority_id,
        payload={
            "case": case.pk,
            "code": request.code,
            "service": request.service_code,
            "attempts": request.attempts,
            "refused": refused,
        },
    )
    recipients = _officials(case, Role.CLERK) or _officials(case, Role.HEAD_OF_UNIT)
    outbox.enqueue(
        recipients,
        outbox.CASE,
        ESCALATED_TEMPLATE,
        {
            "case": case,
            "service": case.service_version.service,
            "authority": case.authority,
            # Called by the template while the recipient's language is active.
            "label": lambda: _text(item.get("label")),
            "register": lambda: _text(names),
            "outcome": lambda: escalation_text(names, **why),
            "reason": request.last_error,
            "path": reverse("official:case", args=[case.pk]),
        },
        case=case,
    )
    log.warning("evidence.escalated", evidence=request.pk, refused=refused)


def escalation_text(
    register: Mapping[str, str], days: float = 0, *, refused: bool = False, missing: bool = False
) -> str:
    """What an escalation tells the official, in the active language: the register did not
    answer within ``days``, or it ``refused`` the query, or the query could not be asked
    because the application is ``missing`` a value it needs."""
    name = _text(register)
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


def _event(
    case: Case,
    request: EvidenceRequest,
    state: str,
    register: Mapping[str, str],
    *,
    internal: bool,
    actor: Actor = WORKER,
    role: str = "",
    unit_id: int | None = None,
    text: str = "",
    **why: Any,
) -> None:
    """A timeline event of a piece of evidence. It carries the item's label and the register's
    names, so the timeline shows it in the reader's language without a query
    (:func:`salter.cases.steps.act_text`); ``text`` (an error, a reason) is for officials."""
    from salter.cases.models import CaseEvent

    item = _item(case.service_version.definition, request.code)
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


# --- what a timeline event and the gate of a step say ---------------------------------------

OUTCOMES = {
    State.PENDING: gettext_lazy("asked %(register)s again"),
    State.ANSWERED: gettext_lazy("obtained from %(register)s"),
    State.NOT_FOUND: gettext_lazy("%(register)s holds no record"),
    State.BROUGHT: gettext_lazy("the applicant brings it"),
    State.CANCELLED: gettext_lazy("decided without it"),
}


def event_text(payload: Mapping[str, Any]) -> str:
    """A timeline event of a piece of evidence in words: the item and what became of it."""
    label = _text(payload.get("label")) or str(payload.get("code", ""))
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
        outcome = str(OUTCOMES[State(state)]) % {"register": _text(register)}
    else:
        outcome = state
    return f"{label} — {outcome}"


def awaited(case: Case) -> str:
    """Why a step that requires evidence must wait, or "" when every piece is settled. One
    query (two when something is awaited: the registers' names)."""
    waiting = list(EvidenceRequest.objects.filter(case=case, state__in=UNSETTLED).order_by("id"))
    if not waiting:
        return ""
    services = _services(r.service_code for r in waiting)
    definition = case.service_version.definition
    now = timezone.now()
    parts = []
    for request in waiting:
        label = _text(_item(definition, request.code).get("label"))
        register = _text(_names(services.get(request.service_code), request.service_code))
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


# --- the official decides -------------------------------------------------------------------

OFFICIAL_ROLES = ("clerk", "head_of_unit")


def _locked(actor: Actor, evidence_id: int) -> tuple[EvidenceRequest, Case, str, int]:
    """The request and its case, both locked (one decision at a time per case, and none while
    a step of the case is being taken), and the role and unit the actor decides in."""
    from salter.cases.models import Case

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
    from salter.cases.access import case_roles

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
    services = _services([request.service_code])
    _event(
        case,
        request,
        request.state,
        _names(services.get(request.service_code), request.service_code),
        internal=internal,
        actor=actor,
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


MAX_REASON = 1000


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


# --- the case pages' panel ------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One piece of evidence as a case page shows it."""

    request: EvidenceRequest
    label: str
    register: str  # who keeps it: the register's authority
    query: str  # the data service asked
    state: str  # in words for the reader: plain language for the applicant
    answer: tuple[tuple[str, str], ...] = ()  # (label, value) of the register's data
    error: str = ""
    may_ask_again: bool = False
    may_settle: bool = False  # "the applicant brings it" and "decide without it"


def _applicant_state(request: EvidenceRequest, authority: str, register: str) -> str:
    words = {"authority": authority, "register": register}
    if request.state == State.PENDING:
        return _("%(authority)s is obtaining this from %(register)s.") % words
    if request.state == State.ESCALATED:
        return (
            _(
                "%(register)s has not answered yet; the official handling your case will decide "
                "how to obtain this."
            )
            % words
        )
    if request.state == State.ANSWERED:
        return _("Obtained from %(register)s.") % words
    if request.state == State.NOT_FOUND:
        return (
            _(
                "%(register)s holds no record of this; the official handling your case will tell "
                "you what is needed."
            )
            % words
        )
    if request.state == State.BROUGHT:
        if request.due_at <= request.created_at:
            return _("You chose to bring this yourself.")
        return _("You are asked to bring this yourself.")
    return _("No longer needed for your case.")


def _shown(value: Any) -> str:
    """A value of a register's answer as people read it: dates as 14.09.2026."""
    if value in (None, ""):
        return "—"
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value).strftime("%d.%m.%Y.")
        except ValueError:
            return value
    return str(value)


def _answer_rows(service: DataService | None, answer: Any) -> tuple[tuple[str, str], ...]:
    """The register's data labelled by the data service's outputs, in their order (anything
    else the register sent after them, by name)."""
    if not isinstance(answer, Mapping):
        return ()
    english = translation.get_language() == "en"
    labels: dict[str, str] = {}
    for output in service.outputs if service is not None else []:
        name = str(output.get("name"))
        labels[name] = str(
            (output.get("label_en") if english else None) or output.get("label") or name
        )
    names = [n for n in labels if n in answer] + [n for n in answer if n not in labels]
    return tuple((labels.get(n, str(n)), _shown(answer[n])) for n in names)


def panel(case: Case, user: User | None, *, official: bool) -> list[Line]:
    """The case's evidence for its page: none and no query for a service that asks no
    register; else one query for the requests, one for the registers' names and outputs, and
    (for an official) one for the roles that may decide."""

    if not register_items(case.service_version.definition):
        return []
    requests = list(EvidenceRequest.objects.filter(case=case).order_by("id"))
    if not requests:
        return []
    services = _services(r.service_code for r in requests)
    definition = case.service_version.definition
    decides = False
    if official and user is not None and case.closed_at is None:
        from salter.cases.access import case_roles

        decides = bool(set(case_roles(case, user)[0]) & set(OFFICIAL_ROLES))
    authority = case.authority.display_name
    lines = []
    for request in requests:
        service = services.get(request.service_code)
        register = _text(_names(service, request.service_code))
        query = _query_name(service, request.service_code)
        label = _text(_item(definition, request.code).get("label"))
        if not official:
            # A query the platform does not know yet is named by its code: not for applicants.
            holder = register if service is not None else _("the register")
            state = _applicant_state(request, authority, holder)
            lines.append(Line(request, label, register, query, state))
            continue
        lines.append(
            Line(
                request,
                label,
                register,
                query,
                request.get_state_display(),
                answer=_answer_rows(service, request.answer)
                if request.state == State.ANSWERED
                else (),
                error=request.last_error,
                may_ask_again=decides and request.state in (State.ESCALATED, State.NOT_FOUND),
                may_settle=decides
                and request.state in (State.PENDING, State.ESCALATED, State.NOT_FOUND),
            )
        )
    return lines


def waiting_steps(case: Case, lines: list[Line]) -> list[str]:
    """The labels of the steps leaving the case's state that wait for the evidence."""
    from salter.cases import workflow

    if case.closed_at is not None or not any(line.request.state in UNSETTLED for line in lines):
        return []
    return [
        _text(t.get("label")) or t["id"]
        for t in workflow.leaving(case.service_version.definition, case.state)
        if t.get("requires_evidence")
    ]
