"""The platform asks registers over HTTP: the demo registers in process (through Django's own
WSGI application) and over a real socket (live server), and registers that are down, slow or
answer garbage (real servers on 127.0.0.1). Each exchange is logged on both sides with
matching hashes and a seal that verifies; a query about a person is in the access log."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conftest import free_port
from django.conf import settings
from django.db import connection
from django.utils import translation

from salter.authorities import services as authorities
from salter.authorities.models import Authority
from salter.core.context import Actor
from salter.exchange import client, services
from salter.exchange.client import RegisterError
from salter.exchange.models import AccessRecord, DataService, ExchangeMessage
from salter.identity.models import Person, User
from salter.mailbox import evidence
from salter.registers import sealing
from salter.registers import services as register_services
from salter.registers.catalogue import CIVIL_REGISTRY, QUERIES
from salter.registers.models import RegisterLog
from salter.registers.tests.helpers import (
    IVANA,
    LUKA,
    MILOS,
    NOBODY,
    add_family,
    in_process,
    platform_client,
)

Outcome = ExchangeMessage.Outcome
BIRTH = "civil_registry.birth_by_jmbg"
RESIDENCE = "residence_register.residence_by_jmbg"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def holder(system: Actor, db: None) -> Authority:
    return authorities.create_authority(
        system,
        code="mdulsu",
        name="Министарство државне управе и локалне самоуправе",
        kind="ministry",
    )


def offer(system: Actor, holder: Authority, base: str, token: str) -> list[DataService]:
    """Every query of the demo registers, served at ``base``, as the platform's data services."""
    return [
        services.register_data_service(
            system,
            code=query.code,
            authority=holder,
            name=query.title,
            url=base.rstrip("/") + query.path,
            openapi_url=base.rstrip("/") + "/openapi.json",
            legal_basis=query.legal_basis,
            inputs=[f.as_dict() for f in query.inputs],
            outputs=[f.as_dict() for f in query.outputs],
            token=token,
        )
        for query in QUERIES.values()
    ]


@pytest.fixture
def registers(system: Actor, holder: Authority) -> Iterator[str]:
    """The demo registers, reached in process, with Luka's family in them; yields the token."""
    _client, token = platform_client()
    offer(system, holder, settings.SALTER_REGISTERS_URL, token)
    add_family()
    with in_process():
        yield token


def ask(authority: Authority, code: str = BIRTH, jmbg: str = LUKA, **kwargs: Any) -> Any:
    return client.ask(
        code, {"jmbg": jmbg}, authority=authority, purpose="ex_officio_evidence", **kwargs
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sent_bytes(message: ExchangeMessage) -> bytes:
    return evidence.canonical(message.request).encode()


def platform_seal(message: ExchangeMessage) -> evidence.Check:
    return evidence.verify(
        message.record, base64.b64decode(message.signature), evidence.digest(message.record), ""
    )


def register_entry(message: ExchangeMessage) -> RegisterLog:
    return RegisterLog.objects.get(request_id=str(message.request_id))


# --- Answers --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_answer_is_logged_on_both_sides_with_matching_hashes_and_seals(
    registers: str, authority: Authority, official: User
) -> None:
    answer = ask(authority, official=official)

    assert answer.found is True
    assert answer.data is not None
    assert (answer.data["given_name"], answer.data["mother_jmbg"]) == ("Лука", IVANA)
    message = answer.message
    assert message.outcome == Outcome.ANSWERED and message.http_status == 200
    assert message.request["client"] == {"authority": "surdulica", "system": "salter"}
    assert message.request["official"] == {"id": official.pk, "name": official.full_name}
    assert message.request["legal_basis"] == QUERIES[BIRTH].legal_basis
    assert message.request_hash == sha256(sent_bytes(message))
    assert message.hash_matches is True

    entry = register_entry(message)
    assert entry.request_hash == message.request_hash
    assert entry.response_hash == message.response_hash
    assert entry.exchange_hash == message.exchange_hash
    assert (entry.status, entry.outcome, entry.on_behalf_of) == (200, "answered", "surdulica")

    mine = platform_seal(message)
    assert mine.valid and mine.timestamped and mine.sealed_by == settings.SALTER_PLATFORM_NAME
    theirs = sealing.verify(entry.record, entry.signature)
    assert theirs.sealed and theirs.sealed_by == CIVIL_REGISTRY.seal_name
    record = json.loads(message.record)
    assert record["request_hash"] == entry.request_hash
    assert record["exchange_hash"] == entry.exchange_hash
    assert record["outcome"] == "answered" and record["hash_matches"] is True

    # The personal numbers in both bodies are stored encrypted.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT request, response FROM exchange_exchangemessage WHERE id = %s", [message.pk]
        )
        stored = str(cursor.fetchone())
    assert LUKA not in stored and IVANA not in stored and "pii1:" in stored


@pytest.mark.django_db
def test_a_tampered_record_no_longer_verifies(registers: str, authority: Authority) -> None:
    message = ask(authority).message
    ExchangeMessage.objects.filter(pk=message.pk).update(
        record=message.record.replace('"outcome":"answered"', '"outcome":"not_found"')
    )
    message.refresh_from_db()
    entry = register_entry(message)

    assert not platform_seal(message).valid
    assert not sealing.verify(
        entry.record.replace('"status":200', '"status":201'), entry.signature
    ).sealed
    assert not sealing.verify(entry.record, message.signature).sealed  # the other's seal


@pytest.mark.django_db
def test_the_access_log_has_the_query(registers: str, authority: Authority, official: User) -> None:
    machine = ask(authority).message
    by_hand = ask(authority, official=official).message

    person = Person.objects.by_jmbg(LUKA).get()
    assert (person.given_name, person.family_name) == ("Лука", "Марковић")
    records = list(AccessRecord.objects.filter(subject=person).order_by("id"))
    assert [r.request_id for r in records] == [str(machine.request_id), str(by_hand.request_id)]
    for record in records:
        assert record.action == AccessRecord.Action.REGISTER_QUERY
        assert record.authority_id == authority.pk
        assert record.purpose == "ex_officio_evidence"
        assert record.legal_basis == QUERIES[BIRTH].legal_basis
        assert record.items == [f.name for f in QUERIES[BIRTH].outputs]
    assert records[0].reader_id is None
    assert records[0].reader_label == "Општина Сурдулица — Šalter (ex officio)"
    assert (records[1].reader_id, records[1].reader_label) == (official.pk, "Марко Петровић")
    # The mother named in the answer was not asked about: no record of her.
    assert not Person.objects.by_jmbg(IVANA).exists()


@pytest.mark.django_db
def test_no_record_is_an_answer_and_still_a_logged_query(
    registers: str, authority: Authority
) -> None:
    answer = ask(authority, jmbg=NOBODY)

    assert (answer.found, answer.data) == (False, None)
    assert answer.message.outcome == Outcome.NOT_FOUND and answer.message.hash_matches
    assert register_entry(answer.message).outcome == "not_found"
    person = Person.objects.by_jmbg(NOBODY).get()
    assert AccessRecord.objects.filter(subject=person).count() == 1


# --- Refusals -------------------------------------------------------------------------------


def refusal(call: Callable[[], Any]) -> RegisterError:
    with pytest.raises(RegisterError) as refused:
        call()
    return refused.value


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["", "reg_00000000_wrong"], ids=["no token", "wrong token"])
def test_without_a_valid_token_the_register_refuses_with_401_and_logs_it(
    registers: str, authority: Authority, token: str
) -> None:
    DataService.objects.filter(code=BIRTH).update(token=token)

    error = refusal(lambda: ask(authority))

    assert error.retry is False and error.message is not None
    assert "HTTP 401" in str(error) and "Bearer" in str(error)
    assert (error.message.outcome, error.message.http_status) == (Outcome.REFUSED, 401)
    entry = register_entry(error.message)
    assert (entry.status, entry.client) == (401, None)
    assert entry.request_hash == error.message.request_hash
    assert error.message.hash_matches is True
    assert not AccessRecord.objects.exists()


@pytest.mark.django_db
def test_a_query_the_client_may_not_ask_is_refused_with_403(
    registers: str, authority: Authority
) -> None:
    _client, token = register_services.issue_client(
        name="Пореска", authority="surdulica", queries=["tax_records.tax_by_jmbg"]
    )
    DataService.objects.filter(code=RESIDENCE).update(token=token)

    error = refusal(lambda: ask(authority, RESIDENCE, IVANA))

    assert error.retry is False
    assert "HTTP 403" in str(error) and "may not ask" in str(error)
    assert error.message is not None and register_entry(error.message).status == 403


@pytest.mark.django_db
def test_an_invalid_personal_number_is_refused_with_422(
    registers: str, authority: Authority
) -> None:
    error = refusal(lambda: ask(authority, jmbg=LUKA[:-1] + "9"))

    assert error.retry is False and "HTTP 422" in str(error)
    assert error.message is not None and error.message.outcome == Outcome.REFUSED


@pytest.mark.django_db
def test_the_platform_refuses_before_sending_for_an_inactive_service_or_another_authority(
    registers: str, authority: Authority, holder: Authority, system: Actor
) -> None:
    birth = DataService.objects.get(code=BIRTH)
    services.set_allowed(system, birth, [holder])
    not_allowed = refusal(lambda: ask(authority))
    services.deactivate(system, DataService.objects.get(code=RESIDENCE))
    inactive = refusal(lambda: ask(holder, RESIDENCE, IVANA))
    unknown = refusal(lambda: ask(authority, "land_registry.parcels"))

    assert "may not ask" in str(not_allowed) and "not in use" in str(inactive)
    for error in (not_allowed, inactive):
        assert error.retry is False and error.message is not None
        assert (error.message.outcome, error.message.http_status) == (Outcome.REFUSED, None)
        assert platform_seal(error.message).valid
    assert unknown.retry is False and unknown.message is None
    assert not RegisterLog.objects.exists()  # nothing was sent
    assert ask(holder).found  # the allowed authority still may


# --- Registers that do not answer properly (real servers on 127.0.0.1) --------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] | None = None


Respond = Callable[[bytes], Reply]


@pytest.fixture
def fake_register() -> Iterator[Callable[[Respond], str]]:
    """Start an HTTP server on 127.0.0.1 that answers each request with ``respond(body)``;
    returns its address."""
    servers: list[ThreadingHTTPServer] = []

    def start(respond: Respond) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                received = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reply = respond(received)
                self.send_response(reply.status)
                for name, value in (reply.headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/registers"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def answering(**changes: Any) -> Respond:
    """A register that answers in the protocol's form, with ``changes`` to the answer; hashes
    correct unless a change names them."""

    def respond(received: bytes) -> Reply:
        request = json.loads(received)
        answer = {
            "request_id": request["request_id"],
            "query": request["query"],
            "found": True,
            "data": {"given_name": "Лука"},
            "answered_at": "2026-11-23T10:00:00+00:00",
        }
        answer.update({k: v for k, v in changes.items() if not k.startswith("x_")})
        body = json.dumps(answer).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Salter-Request-Hash": changes.get("x_request_hash", sha256(received)),
            "X-Salter-Exchange-Hash": changes.get("x_exchange_hash", sha256(received + body)),
        }
        return Reply(200, body, headers)

    return respond


@pytest.fixture
def offered(system: Actor, holder: Authority) -> Callable[[str], None]:
    def point(base: str) -> None:
        offer(system, holder, base, "reg_00000000_irrelevant")

    return point


@pytest.mark.django_db
def test_a_register_in_the_protocols_form_is_answered_correctly(
    fake_register: Callable[[Respond], str],
    offered: Callable[[str], None],
    authority: Authority,
) -> None:
    offered(fake_register(answering()))

    answer = ask(authority)

    assert answer.found and answer.data == {"given_name": "Лука"}
    assert answer.message.hash_matches is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("respond", "why"),
    [
        (lambda _r: Reply(200, b"<html><body>Service Unavailable</body></html>"), "not JSON"),
        (answering(x_exchange_hash="0" * 64), "hashes"),
        (answering(x_request_hash=sha256(b"another request")), "hashes"),
        (answering(request_id="4f1c4b43-0000-4000-8000-000000000000"), "another request"),
        (answering(found="yes"), "neither"),
        (answering(data=None), "neither"),
        (lambda _r: Reply(200, b'{"found": true}'), "lacks"),
        (lambda _r: Reply(200, b"[" + b"0," * 600_000 + b"0]"), "longer than"),
    ],
    ids=["html", "exchange hash", "request hash", "request id", "found", "data", "fields", "huge"],
)
def test_an_answer_that_cannot_be_read_or_verified_is_invalid_and_retried(
    fake_register: Callable[[Respond], str],
    offered: Callable[[str], None],
    authority: Authority,
    respond: Respond,
    why: str,
) -> None:
    offered(fake_register(respond))

    error = refusal(lambda: ask(authority))

    assert error.retry is True
    assert "could not be read or verified" in str(error) and why in str(error)
    assert error.message is not None
    assert (error.message.outcome, error.message.http_status) == (Outcome.INVALID, 200)
    # Only an answer read whole has a hash: a part of one proves nothing.
    assert bool(error.message.response_hash) is (why != "longer than")
    assert platform_seal(error.message).valid
    assert not AccessRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "outcome", "retry"),
    [(503, Outcome.FAILED, True), (500, Outcome.FAILED, True), (404, Outcome.REFUSED, False)],
)
def test_an_error_status_is_a_failure_or_a_refusal(
    fake_register: Callable[[Respond], str],
    offered: Callable[[str], None],
    authority: Authority,
    status: int,
    outcome: str,
    retry: bool,
) -> None:
    offered(fake_register(lambda _r: Reply(status, b"<h1>Nope</h1>")))

    error = refusal(lambda: ask(authority))

    assert error.retry is retry
    assert error.message is not None and error.message.outcome == outcome
    assert error.message.response == {"unreadable": "<h1>Nope</h1>"}
    if retry:
        assert str(error).startswith("The register did not answer")


@pytest.mark.django_db
def test_a_register_that_is_down_is_retried(
    offered: Callable[[str], None], authority: Authority
) -> None:
    offered(f"http://127.0.0.1:{free_port()}/registers")  # nobody listens there

    error = refusal(lambda: ask(authority))

    assert error.retry is True and str(error).startswith("The register did not answer")
    assert error.message is not None
    assert (error.message.outcome, error.message.http_status) == (Outcome.FAILED, None)
    assert error.message.response is None and error.message.hash_matches is None
    assert platform_seal(error.message).valid


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()
    accepted: list[socket.socket] = []

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                peer, _address = listener.accept()
            except TimeoutError:
                continue
            accepted.append(peer)  # held open, unanswered

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/registers"
    stop.set()
    thread.join()
    for peer in accepted:
        peer.close()
    listener.close()


@pytest.mark.django_db
def test_a_register_slower_than_the_timeout_is_given_up_on_and_retried(
    silent_server: str, offered: Callable[[str], None], authority: Authority
) -> None:
    offered(silent_server)
    DataService.objects.update(timeout_seconds=0.3)

    started = time.monotonic()
    error = refusal(lambda: ask(authority))

    assert time.monotonic() - started < 3
    assert error.retry is True and "no answer within 0.3 s" in str(error)
    assert error.message is not None and error.message.outcome == Outcome.FAILED


# --- Over a real socket ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_over_a_real_socket_the_live_registers_answer_and_both_logs_agree(
    live_server: Any, system: Actor, holder: Authority, authority: Authority
) -> None:
    _client, token = platform_client()
    offer(system, holder, live_server.url + "/registers", token)
    add_family()

    answer = ask(authority, RESIDENCE, IVANA)
    father = ask(authority, BIRTH, MILOS)

    assert answer.found and answer.data is not None
    assert answer.data["address"] == "Српских владара 14"
    assert (father.found, father.message.hash_matches) == (False, True)
    for message in (answer.message, father.message):
        entry = register_entry(message)
        assert entry.exchange_hash == message.exchange_hash
        assert entry.request_hash == message.request_hash == sha256(sent_bytes(message))
        assert sealing.verify(entry.record, entry.signature).sealed
        assert platform_seal(message).valid
