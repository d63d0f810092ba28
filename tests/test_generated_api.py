"""Generated API tests: schemathesis reads the committed OpenAPI document (docs/openapi.json)
and sends every operation requests it generates — inputs that fit the description and inputs
that do not — as a citizen and as an official, each with an API token.

A call fails the test when the answer is a server error (5xx), has a status the document does
not list for that operation, a content type it does not describe, or a body that does not match
the described schema (errors included: ``{"error": {"code", "message"}}``). The runs are bounded
in examples per operation and in time, so ``make test`` stays quick; the failure names the
operation and the request that broke it. It runs in-process (WSGI) on the test database of the
run, SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from salter.authorities.models import Authority, OrgUnit
from salter.core.context import Actor
from salter.exchange.tests.tracker_helpers import World, token, world
from salter.identity.models import User

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
SCHEMA = schemathesis.openapi.from_path(DOCUMENT)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 6}  # per operation and caller
BUDGET_SECONDS = 90  # the whole walk; a slower machine checks fewer examples, never none


def _operations() -> list[Any]:
    """Every operation of the document; one the loader cannot read fails the run."""
    found = []
    for result in SCHEMA.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        found.append(result.ok())
    return found


OPERATIONS = _operations()

pytestmark = pytest.mark.django_db


@pytest.fixture
def app() -> Iterator[Any]:
    """Django's WSGI application, with the connection kept across requests as Django's test
    client keeps it: closing it at the end of a request would end the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def w(system: Actor, authority: Authority, unit: OrgUnit, citizen: User) -> World:
    return world(system, authority, unit, citizen)


def _explore(
    operation: Any, mode: GenerationMode, send: Callable[[Any], None], examples: int
) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests each run: a failure is reproducible
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is reported
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def explore(case: Any) -> None:
        send(case)

    try:
        explore()
    except Unsatisfiable:
        # An operation without parameters or body has no input that breaks its description.
        if mode is not GenerationMode.NEGATIVE:
            raise


def _sender(app: Any, headers: dict[str, str], note: str) -> Callable[[Any], None]:
    def send(case: Any) -> None:
        response = case.call(app=app, headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except Exception as exc:
            exc.add_note(note)
            raise

    return send


def test_every_operation_answers_as_documented(app: Any, w: World) -> None:
    callers = {"citizen": token(w.citizen), "official": token(w.clerk)}
    deadline = time.monotonic() + BUDGET_SECONDS
    for operation in OPERATIONS:
        for who, headers in callers.items():
            for mode, examples in EXAMPLES.items():
                budget = examples if time.monotonic() < deadline else 1
                send = _sender(app, headers, f"as the {who}, {mode.value} input")
                _explore(operation, mode, send, budget)
