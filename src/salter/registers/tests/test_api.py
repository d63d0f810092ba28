"""The registers' HTTP API: answers with the exchange's hashes, refusals by status, the sealed
log of every exchange, and the OpenAPI description of each query."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from hypothesis import given
from hypothesis import strategies as st

from salter.registers import sealing, services
from salter.registers.catalogue import CIVIL_REGISTRY, QUERIES
from salter.registers.models import RegisterClient, RegisterLog
from salter.registers.seed import make_jmbg
from salter.registers.tests.conftest import Post
from salter.registers.tests.helpers import (
    BIRTH,
    IVANA,
    LUKA,
    NOBODY,
    RESIDENCE,
    TAX,
    body_of,
    envelope,
)

pytestmark = pytest.mark.django_db

Platform = tuple[RegisterClient, str]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def error_code(response: Any) -> str:
    body = json.loads(response.content)
    assert set(body) == {"error"} and body["error"]["message"]
    return str(body["error"]["code"])


def only_entry() -> RegisterLog:
    [entry] = RegisterLog.objects.all()
    return entry


# --- Answers --------------------------------------------------------------------------------


def test_an_answer_carries_the_hashes_of_the_exchange_and_is_logged_sealed(
    post: Post, platform: Platform, family: None
) -> None:
    client, token = platform
    request = envelope("civil_registry.birth_by_jmbg", LUKA)
    sent = body_of(request)

    response = post(BIRTH, sent, token)

    assert response.status_code == 200
    answer = json.loads(response.content)
    assert answer["request_id"] == request["request_id"]
    assert answer["query"] == "civil_registry.birth_by_jmbg"
    assert answer["found"] is True
    assert answer["data"]["given_name"] == "Лука"
    assert answer["data"]["birth_date"] == "2026-09-14"
    assert answer["data"]["mother_jmbg"] == IVANA
    assert set(answer["data"]) == {f.name for f in QUERIES[answer["query"]].outputs}
    assert response["X-Salter-Request-Hash"] == sha256(sent)
    assert response["X-Salter-Exchange-Hash"] == sha256(sent + response.content)

    entry = only_entry()
    assert entry.request_id == request["request_id"]
    assert entry.client == client
    assert (entry.status, entry.outcome) == (200, RegisterLog.Outcome.ANSWERED)
    assert entry.on_behalf_of == "surdulica"
    assert entry.request_hash == sha256(sent)
    assert entry.response_hash == sha256(response.content)
    assert entry.exchange_hash == response["X-Salter-Exchange-Hash"]
    record = json.loads(entry.record)
    assert record["purpose"] == "ex_officio_evidence"
    assert record["case"] == "01-553-12/2026"
    assert record["official"] == {"id": "7", "name": "Марко Петровић"}
    assert record["exchange_hash"] == entry.exchange_hash
    # The log names the person asked about only by keyed hash.
    assert LUKA not in entry.record and entry.subject_hash

    check = sealing.verify(entry.record, entry.signature)
    assert check.sealed and check.timestamped
    assert check.sealed_by == CIVIL_REGISTRY.seal_name
    assert not sealing.verify(
        entry.record.replace('"status":200', '"status":403'), entry.signature
    ).sealed


def test_no_record_is_an_answer_that_found_nothing(post: Post, platform: Platform) -> None:
    response = post(BIRTH, envelope("civil_registry.birth_by_jmbg", NOBODY), platform[1])

    assert response.status_code == 200
    answer = json.loads(response.content)
    assert (answer["found"], answer["data"]) == (False, None)
    assert only_entry().outcome == RegisterLog.Outcome.NOT_FOUND


def test_residence_and_the_latest_years_tax_are_answered_in_plain_strings(
    post: Post, platform: Platform, family: None
) -> None:
    residence = post(
        RESIDENCE, envelope("residence_register.residence_by_jmbg", IVANA), platform[1]
    )
    tax = post(TAX, envelope("tax_records.tax_by_jmbg", IVANA), platform[1])

    assert json.loads(residence.content)["data"] == {
        "address": "Српских владара 14",
        "place": "Сурдулица",
        "municipality": "Сурдулица",
        "since": "2019-06-10",
    }
    assert json.loads(tax.content)["data"] == {
        "municipality": "Сурдулица",
        "year": 2026,
        "assessed": "12900.00",
        "paid": "6450.00",
        "debt": "6450.00",
    }


def test_an_answer_takes_a_handful_of_queries(
    post: Post, platform: Platform, family: None, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(5):
        response = post(BIRTH, envelope("civil_registry.birth_by_jmbg", LUKA), platform[1])
    assert response.status_code == 200


# --- Refusals, each logged ------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [None, "", "wrong", "reg_00000000_nothing", "slt_00000000_a-platform-api-token"],
    ids=["no header", "empty", "not a token", "unknown prefix", "another kind of token"],
)
def test_without_a_valid_token_the_answer_is_401_and_logged(
    post: Post, platform: Platform, family: None, token: str | None
) -> None:
    request = envelope("civil_registry.birth_by_jmbg", LUKA)

    response = post(BIRTH, request, token)

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"
    assert LUKA.encode() not in response.content and "Лука" not in response.text
    entry = only_entry()
    assert (entry.status, entry.outcome, entry.client) == (401, "refused", None)
    assert entry.request_id == request["request_id"]
    assert entry.request_hash == response["X-Salter-Request-Hash"] == sha256(body_of(request))
    assert sealing.verify(entry.record, entry.signature).sealed


@pytest.mark.parametrize("path", [BIRTH, RESIDENCE, TAX])
def test_every_query_needs_a_token(post: Post, platform: Platform, path: str) -> None:
    code = path.removeprefix("/registers/").replace("/", ".")

    response = post(path, envelope(code, IVANA))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="registers"'
    assert response["Cache-Control"] == "no-store"
    assert only_entry().query == code


def test_a_wrong_secret_with_a_real_prefix_and_a_revoked_token_are_401(
    post: Post, platform: Platform
) -> None:
    client, token = platform
    forged = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    assert post(BIRTH, envelope("civil_registry.birth_by_jmbg", LUKA), forged).status_code == 401

    assert services.revoke_client(client.prefix)
    assert post(BIRTH, envelope("civil_registry.birth_by_jmbg", LUKA), token).status_code == 401
    assert list(RegisterLog.objects.values_list("status", flat=True)) == [401, 401]


def test_a_query_the_client_may_not_ask_is_403(post: Post, family: None) -> None:
    client, token = services.issue_client(
        name="Пореска", authority="surdulica", queries=["tax_records.tax_by_jmbg"]
    )

    response = post(BIRTH, envelope("civil_registry.birth_by_jmbg", LUKA), token)

    assert response.status_code == 403
    assert error_code(response) == "forbidden"
    entry = only_entry()
    assert (entry.status, entry.client) == (403, client)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html>not json</html>", "not JSON"),
        (b'["a", "list"]', "not an object"),
        (body_of({k: v for k, v in envelope("q", LUKA).items() if k != "request_id"}), "no id"),
        (body_of(envelope("civil_registry.birth_by_jmbg", LUKA, request_id="7")), "bad id"),
        (body_of(envelope("civil_registry.birth_by_jmbg", LUKA, purpose="")), "no purpose"),
        (body_of(envelope("civil_registry.birth_by_jmbg", LUKA, legal_basis=None)), "no basis"),
        (body_of(envelope("civil_registry.birth_by_jmbg", LUKA, client={"system": "x"})), "who"),
        (body_of(envelope("civil_registry.birth_by_jmbg", LUKA, client=None)), "no client"),
        (body_of(envelope("residence_register.residence_by_jmbg", LUKA)), "another query"),
        (body_of(envelope("civil_registry.birth_by_jmbg", LUKA, input=[LUKA])), "input list"),
    ],
)
def test_a_request_not_in_the_protocols_form_is_400(
    post: Post, platform: Platform, body: bytes, why: str
) -> None:
    response = post(BIRTH, body, platform[1])

    assert response.status_code == 400, why
    assert error_code(response) == "bad_request"
    entry = only_entry()
    assert (entry.status, entry.outcome) == (400, "refused")
    assert entry.request_hash == sha256(body)


@pytest.mark.parametrize(
    "given_input",
    [
        {"jmbg": "1409026740134"},  # wrong check digit
        {"jmbg": "3102026740133"},  # 31 February
        {"jmbg": "140902674013"},  # twelve digits
        {"jmbg": 1409026740133},  # a number, not text
        {"jmbg": LUKA, "name": "Лука"},  # not an input of the query
        {"personal_number": LUKA},  # the input misnamed
    ],
)
def test_an_invalid_input_is_422(
    post: Post, platform: Platform, family: None, given_input: dict[str, Any]
) -> None:
    request = envelope("civil_registry.birth_by_jmbg", LUKA, input=given_input)

    response = post(BIRTH, request, platform[1])

    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert "Лука" not in response.text
    assert only_entry().status == 422


def test_an_unknown_query_is_404_and_logged(post: Post, platform: Platform) -> None:
    response = post(
        "/registers/civil_registry/death_by_jmbg",
        envelope("civil_registry.death_by_jmbg", LUKA),
        platform[1],
    )

    assert response.status_code == 404
    assert error_code(response) == "unknown_query"
    entry = only_entry()
    assert (entry.query, entry.status) == ("civil_registry.death_by_jmbg", 404)
    # Sealed by the register whose path was asked; a path of no register by the service.
    assert sealing.verify(entry.record, entry.signature).sealed_by == CIVIL_REGISTRY.seal_name
    post("/registers/land/parcels", envelope("land.parcels", LUKA), platform[1])
    newest = RegisterLog.objects.order_by("-id").first()
    assert newest is not None
    assert sealing.verify(newest.record, newest.signature).sealed_by == sealing.SERVICE_SEAL[1]


# --- Input validation, for any personal number ----------------------------------------------


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2899, 12, 31)),
    region=st.integers(min_value=0, max_value=99),
    serial=st.integers(min_value=0, max_value=999),
)
def test_every_personal_number_made_is_accepted_and_any_other_check_digit_refused(
    born: date, region: int, serial: int
) -> None:
    jmbg = make_jmbg(born, region, serial)
    query = QUERIES["civil_registry.birth_by_jmbg"]
    if jmbg is None:
        return  # remainder 1: no number is ever given out so
    assert services._inputs({"input": {"jmbg": jmbg}}, query) == {"jmbg": jmbg}
    for digit in "0123456789":
        if digit != jmbg[-1]:
            with pytest.raises(services.Refused) as refused:
                services._inputs({"input": {"jmbg": jmbg[:-1] + digit}}, query)
            assert refused.value.status == 422


# --- The log is append-only -----------------------------------------------------------------


def test_the_log_is_never_changed_or_deleted(post: Post, platform: Platform) -> None:
    post(BIRTH, envelope("civil_registry.birth_by_jmbg", NOBODY), platform[1])
    entry = only_entry()

    for change in (entry.save, entry.delete, RegisterLog.objects.all().delete):
        with pytest.raises(ValueError, match="append-only"):
            change()
    with pytest.raises(ValueError, match="append-only"):
        RegisterLog.objects.update(status=200)
    assert RegisterLog.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_on_postgresql_the_database_refuses_update_and_delete(
    post: Post, platform: Platform
) -> None:
    post(BIRTH, envelope("civil_registry.birth_by_jmbg", NOBODY), platform[1])
    for statement in (
        "UPDATE registers_registerlog SET status = 200",
        "DELETE FROM registers_registerlog",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
    assert RegisterLog.objects.count() == 1


# --- The description ------------------------------------------------------------------------


def test_the_openapi_description_lists_each_query_with_its_legal_basis_and_askers(
    client: Any, platform: Platform
) -> None:
    response = client.get("/registers/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Šalter demo registers"
    assert set(schema["paths"]) == {BIRTH, RESIDENCE, TAX}
    assert set(schema["components"]["securitySchemes"]) == {"ClientToken"}
    for path, item in schema["paths"].items():
        operation = item["post"]
        query = QUERIES[operation["x-query"]]
        assert path == "/registers" + query.path
        assert operation["x-legal-basis"] == query.legal_basis
        assert "Закон о општем управном поступку, чл. 9 и 103" in operation["x-legal-basis"]
        assert f"**Legal basis:** {query.legal_basis}" in operation["description"]
        assert "**Who may ask:**" in operation["description"]
        assert operation["x-may-ask"]["en"] == query.may_ask_en
        assert operation["x-holder"]["name"] == query.register.holder
        assert operation["x-inputs"] == [f.as_dict() for f in query.inputs]
        assert operation["x-outputs"] == [f.as_dict() for f in query.outputs]
        assert operation["x-clients"] == [{"name": "Šalter", "authority": "ite"}]
        assert operation["security"] == [{"ClientToken": []}]
        request = operation["requestBody"]["content"]["application/json"]["schema"]
        assert set(request["required"]) == set(services.REQUIRED)
        assert set(request["properties"]["input"]["properties"]) == {"jmbg"}
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        outputs = answer["properties"]["data"]["anyOf"][0]["properties"]
        assert list(outputs) == [f.name for f in query.outputs]
        assert {"400", "401", "403", "422"} <= set(operation["responses"])
        assert "X-Salter-Exchange-Hash" in operation["responses"]["200"]["headers"]
    assert "Закон о матичним књигама" in schema["paths"][BIRTH]["post"]["x-legal-basis"]
    assert "Закон о пребивалишту" in schema["paths"][RESIDENCE]["post"]["x-legal-basis"]
    assert "Закон о порезима на имовину" in schema["paths"][TAX]["post"]["x-legal-basis"]
