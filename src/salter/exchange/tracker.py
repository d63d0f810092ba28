"""Recording reads of personal data in the access log (the Data Tracker).

Every read of a person's data by someone else — an official opening a case, an API client, a
register query — calls :func:`record` (or :func:`record_case_read`, one ``INSERT … SELECT``
over the case's subjects), in the request that reads. The person reads the log on their "Who
accessed my data" page (:mod:`salter.exchange.queries`) and is told of new reads
(:func:`salter.exchange.notices.announce`). A person's reads of their own data are not logged.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from salter.core.context import current_request_id
from salter.exchange.models import AccessRecord

if TYPE_CHECKING:
    from django.utils.functional import Promise

    from salter.cases.models import Case
    from salter.identity.models import User

Action = AccessRecord.Action

# Purposes stored as codes and shown in the reader's language; any other purpose is stored and
# shown as written (a register query's purpose, say).
PURPOSES: dict[str, Promise] = {
    "case_processing": _("Handling the case"),
    "ex_officio_evidence": _("Evidence obtained ex officio (ZUP art. 9 and 103)"),
    "delivery": _("Delivering a document"),
    "applicant_letter": _("Registering the applicant's letter"),
    "payment_reconciliation": _("Matching a payment to its fee"),
    "register_answer": _("Answering another authority's query"),
}


def purpose_text(purpose: str) -> str:
    return str(PURPOSES.get(purpose, purpose))


_off: contextvars.ContextVar[bool] = contextvars.ContextVar("salter_access_log_off", default=False)


def enabled() -> bool:
    return bool(settings.SALTER_ACCESS_LOG) and not _off.get()


@contextlib.contextmanager
def switched_off() -> Iterator[None]:
    """Reads in this block are not logged: for the benchmark that measures the log's cost."""
    token = _off.set(True)
    try:
        yield
    finally:
        _off.reset(token)


@dataclass(frozen=True)
class Reader:
    """Who reads: an official (``user``) or a machine client (``user`` None, ``label`` its
    name), for an authority."""

    user: User | None
    label: str
    authority_id: int | None = None

    @classmethod
    def official(cls, user: User, authority_id: int | None) -> Reader:
        return cls(user=user, label=user.full_name or user.email, authority_id=authority_id)


def record(
    subject_ids: Iterable[int],
    *,
    reader: Reader,
    action: str,
    purpose: str,
    legal_basis: str = "",
    items: Iterable[str] = (),
    case_id: int | None = None,
    request_id: str = "",
    hidden_until: datetime | None = None,
    at: datetime | None = None,
) -> int:
    """Log one read of each subject's data; returns how many records were written."""
    if not enabled():
        return 0
    at = at or timezone.now()
    visible = max(at, hidden_until) if hidden_until else at
    rows = [
        AccessRecord(
            at=at,
            visible_at=visible,
            hidden_until=hidden_until,
            subject_id=subject,
            reader=reader.user,
            reader_label=reader.label[:200],
            authority_id=reader.authority_id,
            action=action,
            purpose=purpose[:300],
            legal_basis=legal_basis[:500],
            items=list(items),
            case_id=case_id,
            request_id=request_id or current_request_id(),
        )
        for subject in dict.fromkeys(subject_ids)
        if subject is not None
    ]
    AccessRecord.objects.bulk_create(rows)
    return len(rows)


_CASE_READ_SQL = """
INSERT INTO exchange_accessrecord
    (at, visible_at, hidden_until, subject_id, reader_id, reader_label, authority_id, action,
     purpose, legal_basis, items, case_id, request_id)
SELECT %s, %s, %s, person_id, %s, %s, %s, %s, %s, %s, {items}, case_id, %s
FROM exchange_casesubject WHERE case_id = %s{not_reader}
"""


def record_case_read(
    case: Case,
    *,
    reader: Reader,
    action: str = Action.CASE_READ,
    items: Iterable[str] | None = None,
    purpose: str = "case_processing",
    hidden_until: datetime | None = None,
    not_person: int | None = None,
) -> None:
    """Log a read of a case as a read of the data of each of its subjects, in one statement.
    ``items`` defaults to the fields of the case's form that hold data; ``not_person`` is the
    reader's own person, left out (reading one's own data is not logged)."""
    if not enabled():
        return
    at = timezone.now()
    visible = max(at, hidden_until) if hidden_until else at
    names = list(items) if items is not None else sorted(k for k, v in case.data.items() if v)
    legal_basis = case.service_version.service.legal_basis if case.service_version_id else ""
    cast = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cursor:
        cursor.execute(
            _CASE_READ_SQL.format(
                items=cast, not_reader=" AND person_id <> %s" if not_person is not None else ""
            ),
            [
                at,
                visible,
                hidden_until,
                reader.user.pk if reader.user else None,
                reader.label[:200],
                reader.authority_id,
                action,
                purpose,
                legal_basis[:500],
                json.dumps(names),
                current_request_id(),
                case.pk,
                *([not_person] if not_person is not None else []),
            ],
        )
