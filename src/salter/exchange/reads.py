"""Logging the reads of the pages and the API in the access log, in one line each.

A view that shows a person's data calls one of these after its permission check succeeded:
who reads is taken from the request (an official in a browser session, or an API client known
by its token's name), whose data from what is read (a case's subjects, a mailbox's owner), and a
read made under an investigation grant stays hidden until the grant's date. The person's own
reads are never logged: the views call these only on the official's side, and the subjects of a
read leave out the reader's own person.

Which routes log what, and why the lists do not, is written in ``docs/data-tracker.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.http import HttpRequest

from salter.cases.models import Case
from salter.exchange import subjects, tracker
from salter.exchange.models import AccessRecord, CaseSubject
from salter.identity.models import User
from salter.mailbox.models import Mailbox, Message

Action = AccessRecord.Action


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def via_token(request: HttpRequest) -> bool:
    return getattr(request, "api_token", None) is not None


def reader(request: HttpRequest, authority_id: int | None) -> tracker.Reader:
    """The official of a browser session, or the API client by its token's name (the token's
    user stays on the record: who made the client answer for it)."""
    user = _user(request)
    token = getattr(request, "api_token", None)
    if token is not None:
        return tracker.Reader(user=user, label=token.name, authority_id=authority_id)
    return tracker.Reader.official(user, authority_id)


def action_of(request: HttpRequest, default: str) -> str:
    """What an API client does is an API read, whatever it reads."""
    return Action.API_READ if via_token(request) else default


def hidden_until(case: Any) -> datetime | None:
    """The date until which reads under the grant that let the reader see ``case`` stay
    hidden (an investigation), or None. ``visible_case`` leaves the grant on the case."""
    grant = getattr(case, "access_grant", None)
    return getattr(grant, "hidden_until", None)


def case_read(
    request: HttpRequest,
    case: Case,
    *,
    items: Iterable[str] | None = None,
    purpose: str = "case_processing",
) -> None:
    """An official (or an API client) read ``case``: one record per subject of the case."""
    tracker.record_case_read(
        case,
        reader=reader(request, case.authority_id),
        action=action_of(request, Action.CASE_READ),
        items=items,
        purpose=purpose,
        hidden_until=hidden_until(case),
        not_person=_user(request).person_id,
    )


def case_subjects(case_id: int | None, *, role: str | None = None) -> list[int]:
    """The persons whose data the case holds (one query); none without a case."""
    if case_id is None:
        return []
    rows = CaseSubject.objects.filter(case_id=case_id)
    if role is not None:
        rows = rows.filter(role=role)
    return list(rows.values_list("person_id", flat=True))


def owner(mailbox: Mailbox) -> list[int]:
    """The person whose mailbox it is; none for a business's mailbox (a company is not a
    person). The person is made for a user who registered without a personal number, so the
    read can be shown to them."""
    user = mailbox.user if mailbox.user_id is not None else None
    if user is None:
        return []
    return [subjects.person_of(user)]


def legal_basis_of(case_id: int | None) -> str:
    """The legal basis of the service of the case: what the authority processes its data
    under (one query)."""
    if case_id is None:
        return ""
    found = (
        Case.objects.filter(pk=case_id)
        .values_list("service_version__service__legal_basis", flat=True)
        .first()
    )
    return found or ""


def read(
    request: HttpRequest,
    subject_ids: Iterable[int],
    *,
    action: str,
    authority_id: int | None,
    items: Iterable[str],
    purpose: str = "case_processing",
    legal_basis: str = "",
    case_id: int | None = None,
    hidden: datetime | None = None,
) -> int:
    """Log a read of each subject's data but the reader's own; returns how many records."""
    own = _user(request).person_id
    wanted = [s for s in subject_ids if s != own]
    if not wanted:
        return 0
    return tracker.record(
        wanted,
        reader=reader(request, authority_id),
        action=action_of(request, action),
        purpose=purpose,
        legal_basis=legal_basis,
        items=items,
        case_id=case_id,
        hidden_until=hidden,
    )


def letter_senders(document_id: int) -> list[int]:
    """The persons whose letter, sent from their e-mailbox, this registry entry is (one
    query); a business's letter has none."""
    letters = Message.objects.filter(
        document_id=document_id, direction=Message.Direction.OUTBOUND
    ).select_related("mailbox__user")
    found: list[int] = []
    for letter in letters:
        found.extend(owner(letter.mailbox))
    return found


def document_read(
    request: HttpRequest,
    document: Any,
    *,
    case: Case | None = None,
    purpose: str = "case_processing",
) -> int:
    """An official opened a registry entry or downloaded its file: a read of the data of the
    case's subjects, or of the citizen whose letter it is. An entry naming nobody the platform
    knows (paper mail registered by hand: its sender is free text) is logged by no one."""
    case_id = document.case_id
    found = case_subjects(case_id) if case_id is not None else letter_senders(document.pk)
    if not found:
        return 0
    if case is not None and case.service_version_id:
        basis = case.service_version.service.legal_basis
    else:
        basis = legal_basis_of(case_id)
    return read(
        request,
        found,
        action=Action.DOCUMENT_READ,
        authority_id=document.authority_id,
        items=[f"document:{document.registry_number}"],
        purpose=purpose,
        legal_basis=basis,
        case_id=case_id,
        hidden=hidden_until(case),
    )


def message_read(
    request: HttpRequest,
    message: Any,
    *,
    items: Iterable[str],
    action: str = Action.MESSAGE_READ,
    purpose: str = "applicant_letter",
) -> int:
    """An official read a citizen's letter or a delivery to them (or downloaded its file): a
    read of the mailbox owner's data, and of the subjects of the case it belongs to."""
    found = owner(message.mailbox) + case_subjects(message.case_id)
    return read(
        request,
        found,
        action=action,
        authority_id=message.authority_id,
        items=items,
        purpose=purpose,
        legal_basis=legal_basis_of(message.case_id),
        case_id=message.case_id,
    )


def payment_read(request: HttpRequest, order: Any, *, items: Iterable[str]) -> int:
    """An official (or an API client) read a payment order of a case: a read of the data of
    the applicant, who pays it."""
    case = order.case
    return read(
        request,
        case_subjects(order.case_id, role=CaseSubject.Role.APPLICANT),
        action=Action.CASE_READ,
        authority_id=order.authority_id,
        items=[f"payment_order:{order.reference}", *items],
        purpose="payment_reconciliation",
        legal_basis=case.service_version.service.legal_basis,
        case_id=order.case_id,
        hidden=hidden_until(case),
    )
