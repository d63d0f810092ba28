"""What a case page shows of its evidence: for the official, each piece's state, the register's
data and the decisions they may take; for the applicant, the same pieces in plain words."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.utils import translation
from django.utils.translation import gettext as _

from salter.cases import workflow
from salter.cases.access import case_roles
from salter.cases.models import Case
from salter.exchange.evidence.items import (
    UNSETTLED,
    State,
    data_services,
    item_of,
    query_name,
    register_items,
    register_names,
)
from salter.exchange.evidence.services import OFFICIAL_ROLES
from salter.exchange.models import DataService, EvidenceRequest

if TYPE_CHECKING:
    from salter.identity.models import User

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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
    services = data_services(r.service_code for r in requests)
    definition = case.service_version.definition
    decides = False
    if official and user is not None and case.closed_at is None:
        decides = bool(set(case_roles(case, user)[0]) & set(OFFICIAL_ROLES))
    authority = case.authority.display_name
    lines = []
    for request in requests:
        service = services.get(request.service_code)
        register = workflow.text(register_names(service, request.service_code))
        query = query_name(service, request.service_code)
        label = workflow.text(item_of(definition, request.code).get("label"))
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
    if case.closed_at is not None or not any(line.request.state in UNSETTLED for line in lines):
        return []
    return [
        workflow.text(t.get("label")) or t["id"]
        for t in workflow.leaving(case.service_version.definition, case.state)
        if t.get("requires_evidence")
    ]
