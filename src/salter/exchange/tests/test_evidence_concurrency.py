"""Two workers asking at once never ask a register the same thing twice: each claims its own
requests (PostgreSQL ``FOR UPDATE SKIP LOCKED`` and a lease), so they share the work without
waiting for each other."""

# ruff: noqa: F811 — the case engine's fixtures are imported by name and used as arguments

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection

from salter.authorities.models import Authority
from salter.cases.tests.conftest import newborn_aid  # noqa: F401 — a fixture
from salter.catalog.models import ServiceVersion
from salter.exchange.evidence import worker
from salter.exchange.models import EvidenceRequest, ExchangeMessage
from salter.exchange.tests.evidence_helpers import (
    BIRTH,
    RESIDENCE,
    Register,
    point,
    running,
    submitted,
)
from salter.identity.models import User

CASES = 6


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_ask_each_request_once(
    newborn_aid: ServiceVersion, citizen: User, authority: Authority, settings: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks from two connections; SQLite serialises whole transactions")
    settings.SALTER_REGISTER_TIMEOUT_SECONDS = 2
    # A busy register, a little slow: both workers are in the middle of asking at once.
    with running(Register(status=503, body=b'{"error": "busy"}', delay=0.05)) as register:
        point(BIRTH, authority, register.url, timeout=2)
        point(RESIDENCE, authority, register.url, timeout=2)
        cases = [submitted(newborn_aid, citizen) for _n in range(CASES)]
        barrier = threading.Barrier(2)
        results: list[Counter[str]] = []
        errors: list[BaseException] = []

        def work() -> None:
            from django.db import connection as own

            try:
                barrier.wait()
                results.append(worker.ask_due(limit=50))
            except BaseException as exc:  # noqa: BLE001 — reported by the main thread
                errors.append(exc)
            finally:
                own.close()

        threads = [threading.Thread(target=work) for _n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    total = 2 * CASES
    assert register.count() == total  # every request asked, none twice
    assert sum(results, Counter()) == Counter({"retried": total})  # nothing lost or failed
    assert all(sum(r.values()) > 0 for r in results), results  # the work was shared
    assert set(EvidenceRequest.objects.values_list("attempts", flat=True)) == {1}
    pairs = Counter(ExchangeMessage.objects.values_list("case_id", "service__code"))
    assert set(pairs.values()) == {1} and len(pairs) == total
    assert {c.pk for c in cases} == {case_id for case_id, _code in pairs}
