"""The platform's side of a query to a register, over HTTP (protocol: docs/exchange.md).

:func:`ask` sends one query and returns an :class:`Answer`, or raises :class:`RegisterError`
when there is no usable answer (the register is down, too slow, refuses, or answers something
unreadable). Either way the exchange is in the message log (:class:`ExchangeMessage`) with both
bodies, their hashes and the platform's seal, and a query about a person is in the access log.
Never call it inside a transaction that holds locks: it waits on the network."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.core import pii
from salter.exchange import tracker
from salter.exchange.models import AccessRecord, DataService, ExchangeMessage
from salter.identity.models import Person, User
from salter.mailbox import evidence

if TYPE_CHECKING:
    from salter.authorities.models import Authority
    from salter.cases.models import Case

SYSTEM = "salter"  # how the platform names itself to registers
REQUEST_HASH_HEADER = "X-Salter-Request-Hash"
EXCHANGE_HASH_HEADER = "X-Salter-Exchange-Hash"
_ANSWER_FIELDS = ("request_id", "query", "found", "data", "answered_at")
# An answer is a few kilobytes; a register sending more is misbehaving, and is not read on.
MAX_ANSWER_BYTES = 1_000_000

# How requests reach the registers: None is the network. Tests put an in-process transport
# here (httpx.WSGITransport over Django's WSGI application) so that the registers answer inside
# the test's transaction; nothing else sets it.
_transport: httpx.BaseTransport | None = None

Outcome = ExchangeMessage.Outcome


@dataclass(frozen=True)
class Answer:
    found: bool  # False: the register holds no record for these inputs
    data: dict[str, Any] | None
    message: ExchangeMessage


class RegisterError(Exception):
    """No usable answer. ``retry``: worth asking again later (down, slow, unreadable) rather
    than a refusal that will not change (no right to ask, unknown query, bad input)."""

    def __init__(self, text: str, *, retry: bool, message: ExchangeMessage | None = None):
        super().__init__(text)
        self.retry = retry
        self.message = message


def ask(
    service_code: str,
    inputs: dict[str, Any],
    *,
    authority: Authority,
    purpose: str,
    official: User | None = None,
    case: Case | None = None,
    legal_basis: str | None = None,
) -> Answer:
    service = DataService.objects.filter(code=service_code).first()
    if service is None:
        raise RegisterError(
            _("There is no data service %(code)s.") % {"code": service_code}, retry=False
        )
    request = {
        "request_id": str(uuid.uuid4()),
        "query": service.code,
        "input": inputs,
        "client": {"authority": authority.code, "system": SYSTEM},
        "official": {"id": official.pk, "name": official.full_name} if official else None,
        "case": case.registry_number if case is not None else None,
        "purpose": purpose,
        "legal_basis": legal_basis or service.legal_basis,
        "sent_at": timezone.now().isoformat(),
    }
    body = evidence.canonical(request).encode()
    refusal = _refusal(service, authority)
    if refusal:
        result = _Result(Outcome.REFUSED, error=refusal)
    else:
        result = _exchange(service, request, body)
    message = _save(service, request, body, result, authority, official, case)
    if result.outcome in (Outcome.ANSWERED, Outcome.NOT_FOUND):
        return Answer(found=result.outcome == Outcome.ANSWERED, data=result.data, message=message)
    raise RegisterError(result.error, retry=result.retry, message=message)


def _refusal(service: DataService, authority: Authority) -> str:
    """Why the platform does not even send the query ("" when it may)."""
    if not service.is_active:
        return _("The data service %(code)s is not in use.") % {"code": service.code}
    allowed = list(service.allowed.values_list("pk", flat=True))
    if allowed and authority.pk not in allowed:
        return _("%(authority)s may not ask %(code)s.") % {
            "authority": authority.name,
            "code": service.code,
        }
    return ""


# --- The exchange ----------------------------------------------------------------------------


@dataclass
class _Result:
    outcome: str
    error: str = ""
    retry: bool = False
    http_status: int | None = None
    answered_at: datetime | None = None
    body: bytes | None = None  # the response's bytes, when there was a response
    response: Any = None  # what is kept of it: its JSON, or its text when it is not JSON
    exchange_hash: str = ""  # as the register sent it
    hash_matches: bool | None = None
    data: dict[str, Any] | None = None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _did_not_answer(reason: str) -> str:
    return _("The register did not answer: %(reason)s") % {"reason": reason}


def _unreadable(reason: str) -> str:
    return _("The register's answer could not be read or verified: %(reason)s") % {"reason": reason}


def _exchange(service: DataService, request: dict[str, Any], body: bytes) -> _Result:
    timeout = service.timeout_seconds or settings.SALTER_REGISTER_TIMEOUT_SECONDS
    headers = {
        "Authorization": f"Bearer {service.token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    try:
        with (
            httpx.Client(transport=_transport, timeout=timeout) as http,
            http.stream("POST", service.url, content=body, headers=headers) as reply,
        ):
            content, complete = _read(reply)
    except httpx.TimeoutException:
        return _Result(
            Outcome.FAILED,
            error=_did_not_answer(_("no answer within %(seconds)g s.") % {"seconds": timeout}),
            retry=True,
        )
    except httpx.HTTPError as exc:
        return _Result(
            Outcome.FAILED, error=_did_not_answer(str(exc) or type(exc).__name__), retry=True
        )
    result = _Result(
        Outcome.INVALID,
        retry=True,
        http_status=reply.status_code,
        answered_at=timezone.now(),
        body=content if complete else None,  # the hash of a part would prove nothing
        exchange_hash=reply.headers.get(EXCHANGE_HASH_HEADER, "")[:64],
    )
    if not complete:
        result.response = {"unreadable": content.decode(errors="replace")[:2000]}
        result.error = _unreadable(
            _("it is longer than %(bytes)d bytes.") % {"bytes": MAX_ANSWER_BYTES}
        )
        return result
    try:
        result.response = json.loads(content.decode())
    except (UnicodeDecodeError, ValueError):
        result.response = {"unreadable": content.decode(errors="replace")[:2000]}
    request_hash_matches = reply.headers.get(REQUEST_HASH_HEADER) == _sha256(body)
    result.hash_matches = request_hash_matches and result.exchange_hash == _sha256(body + content)
    _classify(result, request, service)
    return result


def _read(reply: httpx.Response) -> tuple[bytes, bool]:
    """The response's bytes, up to :data:`MAX_ANSWER_BYTES`; and whether that was all."""
    chunks: list[bytes] = []
    size = 0
    for chunk in reply.iter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            return b"".join(chunks), False
        chunks.append(chunk)
    return b"".join(chunks), True


def _classify(result: _Result, request: dict[str, Any], service: DataService) -> None:
    status = result.http_status or 0
    if status >= 500 or status == 429:
        result.outcome, result.retry = Outcome.FAILED, True
        result.error = _did_not_answer(
            _("it reported an error (HTTP %(status)d).") % {"status": status}
        )
        return
    if 400 <= status < 500:
        result.outcome, result.retry = Outcome.REFUSED, False
        result.error = _("The register refused the query (HTTP %(status)d): %(text)s") % {
            "status": status,
            "text": _error_text(result.response),
        }
        return
    problem = _problem(result, request, service)
    if problem:
        result.error = _unreadable(problem)
        return
    answer = result.response
    result.outcome = Outcome.ANSWERED if answer["found"] else Outcome.NOT_FOUND
    result.data = answer["data"] if answer["found"] else None
    result.retry = False


def _error_text(response: Any) -> str:
    if isinstance(response, dict):
        error = response.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"][:500]
        if isinstance(response.get("unreadable"), str):
            return response["unreadable"][:200]
    return _("no reason given")


def _problem(result: _Result, request: dict[str, Any], service: DataService) -> str:
    """What is wrong with a 200 answer ("" when nothing is)."""
    if result.http_status != 200:
        return _("unexpected HTTP status %(status)d.") % {"status": result.http_status or 0}
    answer = result.response
    if not isinstance(answer, dict) or "unreadable" in answer:
        return _("it is not JSON.")
    missing = [name for name in _ANSWER_FIELDS if name not in answer]
    if missing:
        return _("it lacks %(fields)s.") % {"fields": ", ".join(missing)}
    if answer["request_id"] != request["request_id"] or answer["query"] != service.code:
        return _("it answers another request.")
    found, data = answer["found"], answer["data"]
    if not isinstance(found, bool) or (found and not isinstance(data, dict)):
        return _("it says neither what was found nor that nothing was.")
    if not result.hash_matches:
        return _("its hashes do not match what was sent and received.")
    return ""


# --- The record of it ------------------------------------------------------------------------


def _save(
    service: DataService,
    request: dict[str, Any],
    body: bytes,
    result: _Result,
    authority: Authority,
    official: User | None,
    case: Case | None,
) -> ExchangeMessage:
    """Write the sealed message and, for an answer, the access record, in one short
    transaction after the exchange (the seal is made before it: it takes a while)."""
    request_hash = _sha256(body)
    response_hash = _sha256(result.body) if result.body is not None else ""
    record = evidence.canonical(
        {
            "request_id": request["request_id"],
            "service": service.code,
            "url": service.url,
            "authority": authority.code,
            "system": SYSTEM,
            "official": official.pk if official else None,
            "case": request["case"],
            "purpose": request["purpose"],
            "legal_basis": request["legal_basis"],
            "sent_at": request["sent_at"],
            "answered_at": result.answered_at.isoformat() if result.answered_at else None,
            "http_status": result.http_status,
            "outcome": result.outcome,
            "request_hash": request_hash,
            "response_hash": response_hash,
            "exchange_hash": result.exchange_hash,
            "hash_matches": result.hash_matches,
            "error": result.error,
        }
    )
    signature = base64.b64encode(evidence.seal(record)).decode()
    with transaction.atomic():
        message = ExchangeMessage.objects.create(
            request_id=uuid.UUID(request["request_id"]),
            service=service,
            authority=authority,
            system=SYSTEM,
            official=official,
            case=case,
            purpose=request["purpose"][:300],
            legal_basis=request["legal_basis"][:500],
            request=request,
            request_hash=request_hash,
            sent_at=datetime.fromisoformat(request["sent_at"]),
            answered_at=result.answered_at,
            outcome=result.outcome,
            http_status=result.http_status,
            response=result.response,
            response_hash=response_hash,
            exchange_hash=result.exchange_hash,
            hash_matches=result.hash_matches,
            error=result.error,
            record=record,
            signature=signature,
        )
        if result.outcome in (Outcome.ANSWERED, Outcome.NOT_FOUND):
            _record_access(service, request, result, authority, official, case)
    return message


def _record_access(
    service: DataService,
    request: dict[str, Any],
    result: _Result,
    authority: Authority,
    official: User | None,
    case: Case | None,
) -> None:
    """The query is a read of the data of each person it names by personal number — found
    or not: the person may see that someone asked."""
    identifiers = list(dict.fromkeys(pii.identifiers_in(request["input"])))
    data = result.data or {}
    named = len(identifiers) == 1 and data.get("given_name") and data.get("family_name")
    defaults = (
        {"given_name": data["given_name"], "family_name": data["family_name"]} if named else {}
    )
    subjects = [Person.objects.get_or_create_jmbg(j, defaults)[0].pk for j in identifiers]
    reader = (
        tracker.Reader.official(official, authority.pk)
        if official is not None
        else tracker.Reader(
            user=None, label=f"{authority.name} — Šalter (ex officio)", authority_id=authority.pk
        )
    )
    tracker.record(
        subjects,
        reader=reader,
        action=AccessRecord.Action.REGISTER_QUERY,
        purpose=request["purpose"],
        legal_basis=request["legal_basis"],
        items=[field["name"] for field in service.outputs],
        case_id=case.pk if case is not None else None,
        request_id=request["request_id"],
    )
