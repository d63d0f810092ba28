"""Helpers for tests that talk to the registers (here and in salter.exchange): requests in the
protocol's form, a client with every query, a family in the registers."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import translation

from salter.exchange import client
from salter.mailbox.evidence import canonical
from salter.registers import services
from salter.registers.catalogue import QUERIES
from salter.registers.models import BirthRecord, RegisterClient, Residence, TaxRecord

LUKA = "1409026740133"
IVANA = "1505988715008"
MILOS = "2003986740003"
NOBODY = "0101990710008"  # valid, but in no register unless a test puts it there

BIRTH = "/registers/civil_registry/birth_by_jmbg"
RESIDENCE = "/registers/residence_register/residence_by_jmbg"
TAX = "/registers/tax_records/tax_by_jmbg"


def envelope(query: str, jmbg: str, **changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "request_id": str(uuid.uuid4()),
        "query": query,
        "input": {"jmbg": jmbg},
        "client": {"authority": "surdulica", "system": "salter"},
        "official": {"id": 7, "name": "Марко Петровић"},
        "case": "01-553-12/2026",
        "purpose": "ex_officio_evidence",
        "legal_basis": "Закон о матичним књигама; ЗУП чл. 9 и 103",
        "sent_at": "2026-11-23T10:00:00+00:00",
    }
    request.update(changes)
    return request


def body_of(request: dict[str, Any]) -> bytes:
    return canonical(request).encode()


def platform_client() -> tuple[RegisterClient, str]:
    """A client allowed every query, as the platform is."""
    return services.issue_client(name="Šalter", authority="ite", queries=list(QUERIES))


def add_family() -> None:
    """A newborn, his mother's residence and her property tax."""
    BirthRecord.objects.create(
        jmbg=LUKA,
        given_name="Лука",
        family_name="Марковић",
        sex="M",
        birth_date=date(2026, 9, 14),
        birth_place="Сурдулица",
        municipality="Сурдулица",
        mother_name="Ивана Марковић",
        mother_jmbg=IVANA,
        father_name="Милош Марковић",
        father_jmbg=MILOS,
        entry_number="154/2026",
    )
    Residence.objects.create(
        jmbg=IVANA,
        address="Српских владара 14",
        place="Сурдулица",
        municipality="Сурдулица",
        since=date(2019, 6, 10),
    )
    for year, assessed, paid in ((2025, "12300.00", "12300.00"), (2026, "12900.00", "6450.00")):
        TaxRecord.objects.create(
            jmbg=IVANA,
            municipality="Сурдулица",
            year=year,
            assessed=Decimal(assessed),
            paid=Decimal(paid),
            debt=Decimal(assessed) - Decimal(paid),
        )


@contextlib.contextmanager
def in_process() -> Iterator[None]:
    """The platform's client reaches the registers through Django's own WSGI application in
    this process and thread: real requests through every middleware, answered inside the
    test's transaction, with no socket.

    While it runs, a request's end does not close the database connection (Django's test
    client does the same), and the language the test had stays active afterwards."""
    application = get_wsgi_application()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        language = translation.get_language()
        result = application(environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            result.close()
            translation.activate(language)

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    saved = client._transport
    client._transport = httpx.WSGITransport(app=app)
    try:
        yield
    finally:
        client._transport = saved
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
