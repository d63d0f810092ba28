"""Asking the registers for the evidence that is due (step 2 of :mod:`salter.exchange.evidence`).

:func:`ask_due` is run by ``salter exchange_worker``, by the task ``ask_evidence`` and by the
clock, in any number of processes at once. Each request is *claimed* in a short transaction
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL) by moving its ``next_attempt_at`` to the end of a
lease; the register is asked **outside any transaction**; the outcome is saved only if the
request is still pending under that lease. A failure is retried with an exponential backoff
until the register's legal deadline, then escalated to the case's clerks.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.cases import workflow
from salter.cases.access import officials_to_notify
from salter.core.context import Actor
from salter.exchange import client
from salter.exchange.evidence import events
from salter.exchange.evidence.items import (
    State,
    data_services,
    item_of,
    purpose_of,
    register_names,
)
from salter.exchange.models import DataService, EvidenceRequest
from salter.identity.models import Role
from salter.mailbox import outbox

log = structlog.get_logger(__name__)

MAX_BACKOFF = timedelta(hours=6)
CHANNEL = "salter_exchange"  # PostgreSQL LISTEN/NOTIFY channel that wakes the worker
WORKER = Actor.system("exchange")
ESCALATED_TEMPLATE = "exchange/evidence_escalated.txt"
_random = secrets.SystemRandom()


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
    return timedelta(seconds=2 * timeout + float(settings.SALTER_REGISTER_LEASE_MARGIN_SECONDS))


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
            services.update(data_services([code]))
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
    item = item_of(case.service_version.definition, request.code)
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
    names = register_names(service, request.service_code)
    events.record(request.case, request, state, names, actor=WORKER, internal=False)
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
    case = request.case
    names = register_names(service, request.service_code)
    days = float(settings.SALTER_REGISTER_ANSWER_DAYS)  # the legal period it was given
    why = {"refused": True} if refused else {"days": days}
    events.record(
        case,
        request,
        State.ESCALATED,
        names,
        actor=WORKER,
        internal=True,
        text=request.last_error,
        **why,
    )
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
    recipients = officials_to_notify(case, Role.CLERK) or officials_to_notify(
        case, Role.HEAD_OF_UNIT
    )
    outbox.enqueue(
        recipients,
        outbox.CASE,
        ESCALATED_TEMPLATE,
        {
            "case": case,
            "service": case.service_version.service,
            "authority": case.authority,
            # Called by the template while the recipient's language is active.
            "label": lambda: workflow.text(item.get("label")),
            "register": lambda: workflow.text(names),
            "outcome": lambda: events.escalation_text(names, **why),
            "reason": request.last_error,
            "path": reverse("official:case", args=[case.pk]),
        },
        case=case,
    )
    log.warning("evidence.escalated", evidence=request.pk, refused=refused)
