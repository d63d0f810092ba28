"""The registers' use cases: issuing client tokens, and serving one query (protocol:
docs/exchange.md).

:func:`serve` takes the request's bytes as they arrived and returns the response's bytes as
they will leave, so the hashes it sends and logs are over exactly what crossed the wire. Every
exchange is logged — refusals too: a wrong token, a query the client may not ask, a malformed
request — and each log entry is sealed by the register that answered.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone

from salter.core import pii
from salter.identity.validators import jmbg_birth_date, jmbg_check_digit
from salter.mailbox.evidence import canonical
from salter.registers import sealing
from salter.registers.catalogue import QUERIES, Query
from salter.registers.models import RegisterClient, RegisterLog

log = structlog.get_logger(__name__)

TOKEN_PREFIX = "reg_"  # noqa: S105 — the tokens' prefix, not a secret
REQUEST_HASH_HEADER = "X-Salter-Request-Hash"
EXCHANGE_HASH_HEADER = "X-Salter-Exchange-Hash"
# The fields every request must carry (400 otherwise); the rest may be null.
REQUIRED = ("request_id", "query", "input", "client", "purpose", "legal_basis")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- Clients -----------------------------------------------------------------------------


def _digest(secret: str) -> str:
    return sha256(secret.encode())


@transaction.atomic
def issue_client(*, name: str, authority: str, queries: list[str]) -> tuple[RegisterClient, str]:
    """A new client allowed ``queries``; the returned token is never stored and cannot be
    shown again."""
    unknown = sorted(set(queries) - set(QUERIES))
    if unknown:
        raise ValueError(f"no such query: {', '.join(unknown)}")
    if not name.strip() or not authority.strip():
        raise ValueError("a client needs a name and the code of its authority")
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    client = RegisterClient.objects.create(
        name=name.strip(),
        authority=authority.strip(),
        prefix=prefix,
        digest=_digest(secret),
        queries=sorted(set(queries)),
        created_at=timezone.now(),
    )
    log.info("registers.client_issued", client=prefix, authority=client.authority)
    return client, secret


@transaction.atomic
def revoke_client(prefix: str) -> bool:
    revoked = RegisterClient.objects.filter(prefix=prefix, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    log.info("registers.client_revoked", client=prefix)
    return bool(revoked)


# A digest compared against when the prefix finds no client, so that a miss takes as long as
# a wrong secret.
_NO_CLIENT = "0" * 64


def authenticate(secret: str) -> RegisterClient | None:
    """The active client for ``secret``: one indexed query, a constant-time comparison."""
    prefix, _sep, _rest = secret.removeprefix(TOKEN_PREFIX).partition("_")
    client = None
    if secret.startswith(TOKEN_PREFIX) and len(prefix) == 8 and prefix.isalnum():
        found = RegisterClient.objects.filter(prefix=prefix, revoked_at__isnull=True)[:1]
        client = found[0] if found else None
    expected = client.digest if client is not None else _NO_CLIENT
    if not secrets.compare_digest(expected, _digest(secret)) or client is None:
        return None
    return client


def bearer(authorization: str) -> str:
    scheme, _sep, token = authorization.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


# --- Serving a query ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]
    entry: RegisterLog


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def _text(value: Any, limit: int = 500) -> str:
    """A text of the request, for the log: PostgreSQL stores no NUL, so one reads as U+FFFD."""
    return value[:limit].replace("\x00", "\ufffd") if isinstance(value, str) else ""


def _envelope(body: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(body.decode())
    except (UnicodeDecodeError, ValueError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _check_envelope(envelope: dict[str, Any] | None, query: Query) -> None:
    if envelope is None:
        raise Refused(400, "bad_request", "The body is not a JSON object.")
    missing = [name for name in REQUIRED if envelope.get(name) in (None, "", {})]
    if missing:
        raise Refused(
            400, "bad_request", f"The request lacks {', '.join(missing)}.", {"missing": missing}
        )
    try:
        uuid.UUID(str(envelope["request_id"]))
    except ValueError:
        raise Refused(400, "bad_request", "request_id is not a UUID.") from None
    if envelope["query"] != query.code:
        raise Refused(400, "bad_request", f"This address answers {query.code}, not another query.")
    client = envelope["client"]
    if not isinstance(client, dict) or not _text(client.get("authority")):
        raise Refused(400, "bad_request", "client.authority names the asking authority.")
    if not isinstance(envelope["input"], dict):
        raise Refused(400, "bad_request", "input is an object of the query's inputs.")
    for name in ("purpose", "legal_basis"):
        if not isinstance(envelope[name], str):
            raise Refused(400, "bad_request", f"{name} is a text.")


def valid_jmbg(value: str) -> bool:
    """Thirteen digits, a real date of birth, the right check digit."""
    if len(value) != 13 or not value.isdigit() or not value.isascii():
        return False
    return jmbg_birth_date(value) is not None and jmbg_check_digit(value[:12]) == int(value[12])


def _inputs(envelope: dict[str, Any], query: Query) -> dict[str, str]:
    given = envelope["input"]
    problems = []
    for name in sorted(set(given) - {f.name for f in query.inputs}):
        problems.append({"field": f"input.{name}", "message": "Not an input of this query."})
    for field in query.inputs:
        value = given.get(field.name)
        if not isinstance(value, str) or not value:
            problems.append({"field": f"input.{field.name}", "message": "Required, as text."})
        elif field.kind == "jmbg" and not valid_jmbg(value):
            problems.append({"field": f"input.{field.name}", "message": "Not a valid JMBG."})
    if problems:
        raise Refused(422, "validation_error", "Some inputs are not valid.", problems)
    return {field.name: given[field.name] for field in query.inputs}


def serve(register: str, name: str, body: bytes, authorization: str) -> Reply:
    """Answer one request for query ``register.name``; log and seal the exchange."""
    at = timezone.now()
    query = QUERIES.get(f"{register}.{name}")
    client = authenticate(bearer(authorization))
    envelope = _envelope(body)
    inputs: dict[str, str] = {}
    try:
        if client is None:
            raise Refused(
                401,
                "not_authenticated",
                "Send the client's token as 'Authorization: Bearer <token>'.",
            )
        if query is None:
            raise Refused(404, "unknown_query", f"There is no query {register}.{name}.")
        _check_envelope(envelope, query)
        assert envelope is not None
        if query.code not in client.queries:
            raise Refused(403, "forbidden", f"This client may not ask {query.code}.")
        inputs = _inputs(envelope, query)
        data = query.answer(inputs)
        status = 200
        outcome = (
            RegisterLog.Outcome.ANSWERED if data is not None else RegisterLog.Outcome.NOT_FOUND
        )
        payload: dict[str, Any] = {
            "request_id": envelope["request_id"],
            "query": query.code,
            "found": data is not None,
            "data": data,
            "answered_at": at.isoformat(),
        }
    except Refused as refusal:
        status, outcome, payload = refusal.status, RegisterLog.Outcome.REFUSED, refusal.body()
    response = canonical(payload).encode()
    entry = _log(
        at=at,
        register=register,
        asked=f"{register}.{name}",
        client=client,
        envelope=envelope or {},
        inputs=inputs,
        status=status,
        outcome=outcome,
        request=body,
        response=response,
    )
    headers = {
        "Content-Type": "application/json",
        "Cache-Control": "no-store",  # personal data: no proxy or browser keeps a copy
        REQUEST_HASH_HEADER: entry.request_hash,
        EXCHANGE_HASH_HEADER: entry.exchange_hash,
    }
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="registers"'
    return Reply(status=status, body=response, headers=headers, entry=entry)


def _log(
    *,
    at: datetime,
    register: str,
    asked: str,
    client: RegisterClient | None,
    envelope: dict[str, Any],
    inputs: dict[str, str],
    status: int,
    outcome: str,
    request: bytes,
    response: bytes,
) -> RegisterLog:
    asker: dict[str, Any] = envelope["client"] if isinstance(envelope.get("client"), dict) else {}
    official: dict[str, Any] | None = envelope.get("official")
    if not isinstance(official, dict):
        official = None
    jmbg = inputs.get("jmbg", "")
    request_hash, response_hash = sha256(request), sha256(response)
    exchange_hash = sha256(request + response)
    record: dict[str, Any] = {
        "at": at.isoformat(),
        "register": register,
        "query": asked,
        "request_id": _text(envelope.get("request_id"), 64),
        "client": (
            {"prefix": client.prefix, "name": client.name, "authority": client.authority}
            if client is not None
            else None
        ),
        "on_behalf_of": _text(asker.get("authority"), 50),
        "system": _text(asker.get("system"), 100),
        "official": (
            {"id": str(official.get("id", ""))[:64], "name": _text(official.get("name"), 200)}
            if official is not None
            else None
        ),
        "case": _text(envelope.get("case"), 100) or None,
        "purpose": _text(envelope.get("purpose"), 300),
        "legal_basis": _text(envelope.get("legal_basis"), 500),
        "status": status,
        "outcome": outcome,
        "request_hash": request_hash,
        "response_hash": response_hash,
        "exchange_hash": exchange_hash,
    }
    text = canonical(record)
    signature = sealing.seal(register, text)  # before the transaction: it takes a while
    with transaction.atomic():
        return RegisterLog.objects.create(
            at=at,
            request_id=record["request_id"],
            client=client,
            on_behalf_of=record["on_behalf_of"],
            query=asked[:100],
            status=status,
            outcome=outcome,
            subject_hash=pii.blind(jmbg) if jmbg else "",
            request_hash=request_hash,
            response_hash=response_hash,
            exchange_hash=exchange_hash,
            record=text,
            signature=signature,
        )
