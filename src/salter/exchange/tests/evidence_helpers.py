"""Helpers of the evidence tests: registers that misbehave (real HTTP servers on 127.0.0.1, in
threads), the data services that point at them, and a newborn-aid case that asks for its
evidence ex officio."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from salter.authorities.models import Authority
from salter.cases import services as cases
from salter.cases.models import Case
from salter.cases.tests.conftest import NEWBORN_FORM, act
from salter.catalog.models import ServiceVersion
from salter.exchange.models import DataService
from salter.identity.models import User

BIRTH = "civil_registry.birth_by_jmbg"
RESIDENCE = "residence_register.residence_by_jmbg"
# The applicant leaves the box unticked: the municipality obtains both records ex officio.
EX_OFFICIO_FORM = {**NEWBORN_FORM, "bring_evidence": False}


def submitted(version: ServiceVersion, applicant: User, **form: Any) -> Case:
    return cases.submit(act(applicant), version, {**EX_OFFICIO_FORM, **form})[0]


@dataclass
class Register:
    """A register that answers every request the same way: ``status`` and ``body`` after
    ``delay`` seconds. ``seen`` holds the JSON bodies it received."""

    status: int = 200
    body: bytes = b""
    delay: float = 0.0
    content_type: str = "application/json"
    seen: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def received(self, raw: bytes) -> None:
        try:
            parsed: Any = json.loads(raw or b"null")
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
        with self.lock:
            self.seen.append(parsed)

    def count(self) -> int:
        with self.lock:
            return len(self.seen)


def _handler(register: Register) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            register.received(self.rfile.read(length) if length else b"")
            if register.delay:
                time.sleep(register.delay)
            try:
                self.send_response(register.status)
                self.send_header("Content-Type", register.content_type)
                self.send_header("Content-Length", str(len(register.body)))
                self.end_headers()
                self.wfile.write(register.body)
            except OSError:  # the client gave up waiting (the slow register's test)
                pass

        do_GET = do_POST = _answer  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


@contextmanager
def running(register: Register) -> Iterator[Register]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(register))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    register.url = f"http://127.0.0.1:{server.server_address[1]}/query"
    try:
        yield register
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """An address where nothing listens: the port was free a moment ago and is closed now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/query"


def point(code: str, holder: Authority, url: str, *, timeout: float = 0.5) -> DataService:
    """The data service ``code`` of ``holder`` served at ``url`` (made, or moved there)."""
    service, _made = DataService.objects.update_or_create(
        code=code,
        defaults={
            "authority": holder,
            "name": "Матична књига рођених" if code == BIRTH else "Регистар пребивалишта",
            "name_en": "Civil registry of births" if code == BIRTH else "Residence register",
            "url": url,
            "openapi_url": url.rsplit("/", 1)[0] + "/openapi.json",
            "inputs": [{"name": "jmbg", "label": "ЈМБГ", "label_en": "Personal number"}],
            "outputs": [
                {"name": "given_name", "label": "Име", "label_en": "Given name"},
                {"name": "born_on", "label": "Датум рођења", "label_en": "Date of birth"},
            ],
            "legal_basis": "Закон о општем управном поступку, чл. 9 и 103",
            "token": "test-token",
            "timeout_seconds": timeout,
            "is_active": True,
        },
    )
    return service
