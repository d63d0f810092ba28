"""/api/v1/cases: the overtime pilot in one call per step, errors, visibility, query counts."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import add_totp, totp_code
from django.test import Client

from salter.cases import services
from salter.cases.models import Case, Task
from salter.catalog.forms import ServiceForm
from salter.catalog.models import ServiceVersion
from salter.core.context import Actor
from salter.identity import services as identity
from salter.identity.models import User

from .conftest import NEWBORN_FORM, OVERTIME_FORM, act

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases"


def token(user: User, *scopes: str) -> dict[str, str]:
    _token, secret = identity.create_api_token(
        Actor(user=user, via="test"),
        name="ci",
        scopes=list(scopes or ("read", "write")),
        days=1,
        loa=2,
    )
    return {"Authorization": f"Bearer {secret}"}


def step(client: Client, user: User, case_id: int, transition: str, **body: Any) -> Any:
    return client.post(
        f"{CASES}/{case_id}/transitions/{transition}",
        body,
        content_type="application/json",
        headers=token(user),
    )


def test_overtime_through_the_api(
    client: Client, overtime: ServiceVersion, employee: User, head: User, accountant: User
) -> None:
    mine = token(employee)
    submission = {
        "service": "surdulica/overtime",
        "data": OVERTIME_FORM,
        "idempotency_key": "ot-2026-12-01",
    }
    created = client.post(CASES, submission, content_type="application/json", headers=mine)
    assert created.status_code == 201, created.json()
    case = created.json()
    assert case["registry_number"].startswith("01-1/")
    assert case["state"] == "submitted"
    assert case["task"]["roles"] == ["head_of_unit"]
    assert [s["id"] for s in case["next_steps"]] == ["approve", "reject", "withdraw"]

    retried = client.post(CASES, submission, content_type="application/json", headers=mine)
    assert retried.status_code == 200
    assert retried.json()["id"] == case["id"]

    approved = step(
        client, head, case["id"], "approve", opinion="Одобрено.", expected_state="submitted"
    )
    assert approved.status_code == 200, approved.json()
    assert approved.json()["state"] == "approved"

    late = step(client, head, case["id"], "approve", opinion="Опет.", expected_state="submitted")
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "already_done"
    assert late.json()["error"]["message"].startswith("Већ је урадио/ла Бранко Шефовић у ")

    reported = step(
        client,
        employee,
        case["id"],
        "report",
        inputs={"actual_hours": 4, "work_done": "Попис имовине."},
    )
    assert reported.status_code == 200
    assert step(client, head, case["id"], "confirm").status_code == 200
    # Issuing the pay slip signs it: the signer's key needs a fresh second factor.
    unconfirmed = step(
        client, accountant, case["id"], "issue_pay_slip", inputs={"hourly_base_pay": 1000.5}
    )
    assert unconfirmed.status_code == 401
    assert unconfirmed.json()["error"]["code"] == "insufficient_user_authentication"
    assert unconfirmed.json()["error"]["details"]["max_age"] == 120
    assert 'max_age="120"' in unconfirmed.headers["WWW-Authenticate"]
    device = add_totp(accountant)
    paid = step(
        client,
        accountant,
        case["id"],
        "issue_pay_slip",
        inputs={"hourly_base_pay": 1000.5},
        second_factor_code=totp_code(device),
    )
    assert paid.status_code == 200
    body = paid.json()
    assert body["state"] == "closed" and body["closed_at"] and body["task"] is None
    assert body["inputs"]["overtime_pay"] == "5042.52"  # 4 × 1000.5 × 1.26, no trailing zero
    kinds = [e["kind"] for e in body["timeline"]]
    assert kinds == ["submitted"] + ["transition"] * 4 + ["document"]
    assert body["timeline"][1]["actor"] == "Бранко Шефовић"
    assert body["timeline"][1]["opinion"] == "Одобрено."
    assert body["timeline"][1]["unit"] == "Одељење за друштвене делатности"

    listed = client.get(CASES, headers=mine).json()
    assert [c["id"] for c in listed] == [case["id"]]


def test_errors(
    client: Client, newborn_aid: ServiceVersion, citizen: User, clerk: User, head: User
) -> None:
    headers = token(citizen)
    missing = client.post(
        CASES,
        {"service": "surdulica/nothing", "data": {}, "idempotency_key": "abcdefgh"},
        content_type="application/json",
        headers=headers,
    )
    assert missing.status_code == 404
    invalid = client.post(
        CASES,
        {
            "service": "surdulica/newborn-aid",
            "data": {**NEWBORN_FORM, "child_jmbg": "12"},
            "idempotency_key": "abcdefgh",
        },
        content_type="application/json",
        headers=headers,
    )
    assert invalid.status_code == 422
    assert invalid.json()["error"]["details"] == [
        {"field": "child_jmbg", "message": "Вредност није у очекиваном облику."}
    ]
    # A JMBG of the right shape with a wrong check digit: refused as the form refuses it.
    wrong_digit = client.post(
        CASES,
        {
            "service": "surdulica/newborn-aid",
            "data": {**NEWBORN_FORM, "parent_jmbg": "1203985711235"},
            "idempotency_key": "abcdefgi",
        },
        content_type="application/json",
        headers=headers,
    )
    assert wrong_digit.status_code == 422
    [problem] = wrong_digit.json()["error"]["details"]
    assert problem["field"] == "parent_jmbg"
    assert (
        problem["message"]
        == ServiceForm(newborn_aid.definition)
        .validate({**NEWBORN_FORM, "parent_jmbg": "1203985711235"})
        .errors["parent_jmbg"]
    )
    assert not Case.objects.exists()
    case, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    wrong_role = step(client, head, case.pk, "start_review")
    assert wrong_role.status_code == 403
    assert wrong_role.json()["error"]["code"] == "forbidden"
    read_only = client.post(
        f"{CASES}/{case.pk}/transitions/start_review",
        {},
        content_type="application/json",
        headers=token(clerk, "read"),
    )
    assert read_only.status_code == 403
    assert read_only.json()["error"]["code"] == "insufficient_scope"


def test_someone_elses_case_is_not_found(
    client: Client, newborn_aid: ServiceVersion, citizen: User, clerk: User
) -> None:
    case, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    services.comment(act(clerk), case, "Интерно.")
    neighbour = User.objects.create_user("komsija@example.rs", "x", full_name="Комшија")
    assert client.get(f"{CASES}/{case.pk}", headers=token(neighbour)).status_code == 404
    assert step(client, neighbour, case.pk, "withdraw").status_code == 404
    own = client.get(f"{CASES}/{case.pk}", headers=token(citizen)).json()
    assert [e["kind"] for e in own["timeline"]] == ["submitted"]
    official = client.get(f"{CASES}/{case.pk}", headers=token(clerk)).json()
    assert [e["kind"] for e in official["timeline"]] == ["submitted", "comment"]


def test_hot_reads_take_a_constant_number_of_queries(
    client: Client,
    newborn_aid: ServiceVersion,
    citizen: User,
    clerk: User,
    django_assert_num_queries: Any,
) -> None:
    mine, theirs = token(citizen, "read"), token(clerk, "read")
    first, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    for headers in (mine, theirs):  # tokens are remembered for a few seconds after first use
        client.get("/api/v1/me", headers=headers)

    def costs() -> list[int]:
        found = []
        for url, headers in (
            (CASES, mine),
            (f"{CASES}/{first.pk}", mine),
            (f"{CASES}/{first.pk}", theirs),
            (f"{CASES}/queue", theirs),
        ):
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as captured:
                assert client.get(url, headers=headers).status_code == 200
            found.append(len(captured))
        return found

    before = costs()
    for i in range(6):
        services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
        services.comment(act(clerk), first, f"Белешка {i}", internal=i % 2 == 0)
    # the official's read of the case is logged: one INSERT into the access log
    assert costs() == before == [2, 2, 4, 3]


def test_the_queue_and_the_schema(
    client: Client, newborn_aid: ServiceVersion, citizen: User, clerk: User
) -> None:
    case, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    queue = client.get(f"{CASES}/queue?state=submitted", headers=token(clerk)).json()
    assert [(i["case_id"], i["overdue"], i["near_deadline"]) for i in queue] == [
        (case.pk, False, False)
    ]
    assert client.get(f"{CASES}/queue", headers=token(citizen)).json() == []
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {
        "/api/v1/cases",
        "/api/v1/cases/queue",
        "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/transitions/{transition_id}",
    } <= set(paths)
    assert set(paths["/api/v1/cases"]["post"]["responses"]) >= {"200", "201"}


def test_the_queue_pages_by_cursor_at_a_constant_cost(
    client: Client, newborn_aid: ServiceVersion, citizen: User, clerk: User
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cases = [services.submit(act(citizen), newborn_aid, NEWBORN_FORM)[0] for _ in range(7)]
    Task.objects.filter(case__in=cases[:3]).update(due_at=None)  # sorted last
    theirs = token(clerk, "read")
    client.get("/api/v1/me", headers=theirs)  # the token is remembered after its first use
    url: str | None = f"{CASES}/queue?limit=2&state=submitted"
    seen, costs = [], []
    for _page in range(10):
        if url is None:
            break
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url, headers=theirs)
        assert page.status_code == 200, page.json()
        costs.append(len(captured))
        seen.append([item["case_id"] for item in page.json()])
        link = page.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
        assert link is None or link.endswith('>; rel="next"') and "state=submitted" in link
    ids = [c.pk for c in cases]  # 3–6 due in 30 days, then 0–2 without a deadline
    assert seen == [ids[3:5], ids[5:7], ids[0:2], ids[2:3]]
    assert costs == [3] * 4
    bad = client.get(f"{CASES}/queue?after=nope", headers=theirs)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "after"


def test_submitting_needs_the_services_level_of_assurance(
    client: Client, newborn_aid: ServiceVersion, citizen: User
) -> None:
    _token, secret = identity.create_api_token(
        Actor(user=citizen, via="test"), name="weak", scopes=["read", "write"], days=1, loa=1
    )
    refused = client.post(
        CASES,
        {"service": "surdulica/newborn-aid", "data": NEWBORN_FORM, "idempotency_key": "abcdefgh"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "insufficient_user_authentication"
    assert not Case.objects.exists()
