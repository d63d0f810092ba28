"""Every route that returns a person's data is guarded and logged; every other route says why
it is not such a route. A new route that is in no list fails here, by name.

For each route in :data:`PERSONAL` a scenario makes data of citizen A and names the request that
reads it; then citizen B and an official of another authority are refused (403/404, none of A's
data in the answer, nothing logged), and a permitted reader (an official of the case's
authority with a role, or an API client by its token) gets 200 and the access log gains a
record of A's person with the expected action and that reader.

:data:`NOT_PERSONAL` names the routes that return no one else's personal data, and why (public
pages, the caller's own data, actions that redirect to a page whose read is logged there,
lists that show numbers and states). :data:`LOGGED_ELSEWHERE` names the routes that serve
personal data to machines the platform does not log itself. ``docs/data-tracker.md`` explains
each choice."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from salter.authorities import services as authorities
from salter.authorities.models import Authority, OrgUnit
from salter.cases import services as cases
from salter.cases.tests.conftest import NEWBORN_FORM, confirmed
from salter.catalog import pilots
from salter.catalog import services as catalog
from salter.core.accounts import make_account
from salter.core.api import api
from salter.core.context import Actor
from salter.documents import services as documents
from salter.documents.models import Document
from salter.documents.uploads import check
from salter.exchange.models import AccessRecord
from salter.exchange.tests.tracker_helpers import (
    World,
    citizen_client,
    official,
    signed_in,
    token,
    world,
)
from salter.identity.models import Role, User
from salter.mailbox.models import Delivery, Message
from salter.mailbox.services import give_consent, mailbox_of, send_letter
from salter.mailbox.tests.helpers import a_pdf
from salter.payments.models import PaymentOrder
from tests.test_route_authentication import PUBLIC, ROUTES

Action = AccessRecord.Action
CHILD_NAME = str(NEWBORN_FORM["child_name"])  # A's data, a refused answer must not carry it
CHILD_JMBG = str(NEWBORN_FORM["child_jmbg"])
PARENT_JMBG = str(NEWBORN_FORM["parent_jmbg"])


# --- the request of each scenario --------------------------------------------------------------


@dataclass
class Probe:
    """One read of A's data: the request, who may make it, what the log must then say."""

    url: str
    reader: User  # the permitted reader
    action: str
    method: str = "get"
    body: dict[str, Any] = field(default_factory=dict)
    json: bool = False  # the body is JSON (an API call)
    via_token: bool = False  # the permitted reader is an API client (a token of theirs)
    marker: str = ""  # a piece of A's data that a refused answer must not carry


def _act(user: User) -> Actor:
    return Actor(user=user, via="test")


def _head(w: World) -> User:
    return official(
        Actor.system("command"), w.unit, "sef@surdulica.demo", "Бранко Шефовић", Role.HEAD_OF_UNIT
    )


def _filed(w: World) -> Document:
    """A's application, as registered, with a file."""
    document = Document.objects.get(case=w.case, sub_number=0)
    documents.add_version(Actor.system("command"), document, check("zahtev.pdf", a_pdf()))
    return document


def _letter(w: World, *, files: bool = False) -> Message:
    return send_letter(
        _act(w.citizen),
        mailbox_of(w.citizen),
        w.authority,
        subject="Молба грађанина А",
        body="Поштовани, шаљем допуну.",
        files=[check("prilog.pdf", a_pdf())] if files else [],
    )[0]


def _delivery(w: World) -> Delivery:
    """A's decision, drafted, signed and delivered to A's e-mailbox."""
    head = _head(w)
    cases.take_transition(_act(w.clerk), w.case, "start_review")
    cases.take_transition(
        _act(w.clerk),
        w.case,
        "draft_decision",
        inputs={"decision_outcome": "granted", "decision_reasoning": "Услови су испуњени."},
    )
    cases.take_transition(
        _act(head), w.case, "approve_decision", opinion="Да.", confirmation=confirmed(head)
    )
    give_consent(_act(w.citizen), mailbox_of(w.citizen))
    cases.take_transition(_act(w.clerk), w.case, "deliver")
    return Delivery.objects.select_related("message__document").get(case=w.case)


def _order(w: World) -> PaymentOrder:
    """A fee of A's application for a property certificate."""
    system = Actor.system("command")
    authorities.set_fee_account(
        system, w.authority, account=make_account("840", "1003"), payment_code=103
    )
    version = catalog.offer_pilot(system, w.authority, pilots.PROPERTY_CERTIFICATE)
    form = {"jmbg": PARENT_JMBG, "purpose": "упис у школу", "copies": 1}
    case = cases.submit(_act(w.citizen), version, form)[0]
    return PaymentOrder.objects.filter(case=case).first() or pytest.fail("no fee")


def case_page(w: World) -> Probe:
    url = reverse("official:case", args=[w.case.pk])
    return Probe(url, w.clerk, Action.CASE_READ, marker=CHILD_NAME)


def case_document(w: World) -> Probe:
    document = _filed(w)
    url = reverse("official:case_document", args=[w.case.pk, document.pk, 1])
    return Probe(url, w.clerk, Action.DOCUMENT_READ)


def registry_entry(w: World) -> Probe:
    document = Document.objects.get(case=w.case, sub_number=0)
    url = reverse("official:registry_entry", args=[document.pk])
    return Probe(url, w.keeper, Action.DOCUMENT_READ, marker=w.citizen.full_name)


def registry_download(w: World) -> Probe:
    document = _filed(w)
    url = reverse("official:registry_download", args=[document.pk, 1])
    return Probe(url, w.keeper, Action.DOCUMENT_READ)


def letter(w: World) -> Probe:
    url = reverse("official:mailbox_letter", args=[_letter(w).pk])
    return Probe(url, w.keeper, Action.MESSAGE_READ, marker="Поштовани, шаљем допуну.")


def letter_file(w: World) -> Probe:
    url = reverse("official:mailbox_letter_file", args=[_letter(w, files=True).pk, 1])
    return Probe(url, w.keeper, Action.DOCUMENT_READ)


def delivery(w: World) -> Probe:
    url = reverse("official:mailbox_delivery", args=[_delivery(w).pk])
    return Probe(url, w.clerk, Action.MESSAGE_READ, marker=w.citizen.full_name)


def delivery_act(w: World) -> Probe:
    url = reverse("official:mailbox_delivery_act", args=[_delivery(w).pk])
    return Probe(url, w.clerk, Action.DOCUMENT_READ)


def delivery_evidence(w: World) -> Probe:
    url = reverse("official:mailbox_delivery_evidence", args=[_delivery(w).pk, 1, "json"])
    return Probe(url, w.clerk, Action.MESSAGE_READ)


def payment_order(w: World) -> Probe:
    url = reverse("official:payments_order", args=[_order(w).pk])
    return Probe(url, w.accountant, Action.CASE_READ, marker=w.citizen.full_name)


def api_case(w: World) -> Probe:
    url = f"/api/v1/cases/{w.case.pk}"
    return Probe(url, w.clerk, Action.API_READ, via_token=True, marker=CHILD_NAME)


def api_transition(w: World) -> Probe:
    url = f"/api/v1/cases/{w.case.pk}/transitions/start_review"
    return Probe(
        url,
        w.clerk,
        Action.API_READ,
        method="post",
        body={"inputs": {}},
        json=True,
        via_token=True,
        marker=CHILD_NAME,
    )


def api_order(w: World) -> Probe:
    url = f"/api/v1/payments/orders/{_order(w).pk}"
    return Probe(url, w.accountant, Action.API_READ, via_token=True, marker=w.citizen.full_name)


PERSONAL: dict[str, Callable[[World], Probe]] = {
    "official:case": case_page,
    "official:case_document": case_document,
    "official:registry_entry": registry_entry,
    "official:registry_download": registry_download,
    "official:mailbox_letter": letter,
    "official:mailbox_letter_file": letter_file,
    "official:mailbox_delivery": delivery,
    "official:mailbox_delivery_act": delivery_act,
    "official:mailbox_delivery_evidence": delivery_evidence,
    "official:payments_order": payment_order,
    "api:get_case": api_case,
    "api:take_transition": api_transition,
    "api:get_order": api_order,
}

OWN = "the caller's own data (their account, cases, mailbox or log): not logged, it is theirs"
ACTION = (
    "an action that answers with a redirect to the page it was taken on, whose read is logged "
    "there; a form shown again with errors is that page and is logged as it"
)
LIST = (
    "a list of numbers, states, dates and deadlines to work from: reading one item is what "
    "shows a person's data, and that is logged"
)
CATALOGUE = "the service catalogue and its definitions: no person's data"
SIGN_IN = "logging in, second factors and passkeys: the caller's own credentials"

NOT_PERSONAL: dict[str, str] = {
    **{name: f"public: {why}" for name, why in PUBLIC.items()},
    "passkey_authentication_complete": SIGN_IN,
    "passkey_registration_complete": SIGN_IN,
    "otp_webauthn:credential-authentication-begin": SIGN_IN,
    "otp_webauthn:credential-authentication-complete": SIGN_IN,
    "otp_webauthn:credential-registration-begin": SIGN_IN,
    "otp_webauthn:credential-registration-complete": SIGN_IN,
    "identity:login_verify": SIGN_IN,
    "identity:step_up": SIGN_IN,
    "identity:security": SIGN_IN,
    "identity:recovery_codes": SIGN_IN,
    "identity:remove_device": SIGN_IN,
    "identity:profile": OWN,
    "identity:act_for": OWN + " (choosing a mandate of theirs)",
    "identity:create_token": OWN,
    "identity:revoke_token": OWN,
    "identity:end_session": OWN,
    "notifications:preferences": OWN,
    "api:me": OWN,
    "api:list_tokens": OWN,
    "api:revoke_token": OWN,
    "exchange:access_log": OWN,
    "exchange:export_json": OWN + "; each download is audited",
    "exchange:export_pdf": OWN + "; each download is audited",
    "api:access_log": OWN,
    "api:my_data": OWN + "; each download is audited",
    "cases:apply": OWN + " (an application being filled in)",
    "cases:list": OWN,
    "cases:detail": OWN + " (officials of the authority get 404 here: theirs is official:case)",
    "cases:document": OWN,
    "cases:take": OWN,
    "cases:withdraw": OWN,
    "api:submit_case": OWN,
    "api:list_my_cases": OWN,
    "mailbox:inbox": OWN + " (and the mailboxes of companies they represent: no person's)",
    "mailbox:write": OWN,
    "mailbox:consent": OWN,
    "mailbox:consent_revoke": OWN,
    "mailbox:message": OWN,
    "mailbox:answer": OWN,
    "mailbox:document": OWN,
    "mailbox:document_version": OWN,
    "mailbox:evidence": OWN,
    "api:list_messages": OWN,
    "api:get_message": OWN,
    "api:get_file": OWN,
    "api:send_letter": OWN,
    "api:accept_delivery": OWN,
    "api:refuse_delivery": OWN,
    "api:list_consents": OWN,
    "api:give_consent": OWN,
    "api:revoke_consent": OWN,
    "payments:slip": OWN + " (only the applicant's own slip)",
    "payments:slip_pdf": OWN + " (only the applicant's own slip)",
    "payments:qr_png": OWN + " (only the applicant's own slip)",
    "api:list_orders": (
        "a case's fees by label, amount and state, without the payer: like the queue's number "
        "and state; the order with the payer (api:get_order) is logged"
    ),
    "official:dashboard": "the official's own work: counts of their queue",
    "official:delegations": "the official's own deputies and delegations: staff, not citizens",
    "official:delegation_revoke": "the official's own delegations: staff, not citizens",
    "official:case_queue": LIST,
    "official:case_escalated": LIST,
    "api:work_queue": LIST,
    "official:payments": LIST + " (fees due: case number, reference, amount)",
    "official:payments_unmatched": (
        "bank-statement payments that match no fee: the payer is a bank's free-text name that "
        "the platform cannot attribute to a person"
    ),
    "official:payments_import": "uploading a bank statement: the answer counts what matched",
    "official:registry": (
        "the registry book itself (number, date, sender as written, subject): the authority's "
        "statutory register of correspondence, kept by its registry office; opening an entry "
        "or its file is logged"
    ),
    "official:registry_export": (
        "the registry and archival books exported whole, by their keepers: the statutory "
        "registers, not a person's file; opening an entry is logged"
    ),
    "official:registry_new": "registering paper mail: the clerk writes what they hold",
    "official:registry_add_version": ACTION,
    "official:registry_void": ACTION,
    "official:mailbox_letters": LIST + " (who wrote and about what, as the registry book)",
    "official:mailbox_deliveries": LIST + " (to whom and in what state, as the registry book)",
    "official:mailbox_delivery_postal": ACTION,
    "official:case_take": ACTION,
    "official:case_claim": ACTION,
    "official:case_release": ACTION,
    "official:case_assign": ACTION,
    "official:case_comment": ACTION,
    "official:case_access": (
        "who may read the case (officials' grants) and its number and level: no citizen's data"
    ),
    "official:case_access_revoke": ACTION,
    "evidence:ask_again": ACTION,
    "evidence:brought": ACTION,
    "evidence:without": ACTION,
    "official:catalog_services": CATALOGUE,
    "official:catalog_service": CATALOGUE,
    "official:catalog_service_new": CATALOGUE,
    "official:catalog_version": CATALOGUE,
    "official:catalog_edit": CATALOGUE,
    "official:catalog_preview": CATALOGUE + " (a preview of the form, filled in by the author)",
    "official:catalog_publish": CATALOGUE,
    "official:catalog_new_draft": CATALOGUE,
    "official:catalog_import": CATALOGUE,
    "official:catalog_export": CATALOGUE,
    "official:catalog_diagram": CATALOGUE,
    "official:catalog_bpmn": CATALOGUE,
}

REGISTER = (
    "token-authenticated machine service of a register: it answers other authorities' "
    "systems with personal data, and each answer is logged by the register's own message log "
    "and by the asking platform's REGISTER_QUERY record"
)
LOGGED_ELSEWHERE: dict[str, str] = {
    "registers:civil_registry__birth_by_jmbg": REGISTER,
    "registers:residence_register__residence_by_jmbg": REGISTER,
    "registers:tax_records__tax_by_jmbg": REGISTER,
    "registers:unknown_query": REGISTER + " (answers that the query does not exist)",
}


# --- every route is classified ------------------------------------------------------------------


def _api_operations() -> set[str]:
    """Every operation of ``/api/v1/`` by its URL name (ninja names it after its function)."""
    return {
        f"api:{operation.view_func.__name__}"
        for _prefix, router in api._routers
        for view in router.path_operations.values()
        for operation in view.operations
    }


def _names() -> set[str]:
    urls = {name for name, route in ROUTES if not route.startswith("/static/")}
    return urls | _api_operations()


def test_every_route_and_api_operation_is_classified() -> None:
    lists = (set(PERSONAL), set(NOT_PERSONAL), set(LOGGED_ELSEWHERE))
    missing = _names() - set().union(*lists)
    assert not missing, (
        "Routes in no list: does each return someone's personal data? Add it to PERSONAL with "
        f"a scenario (and log its reads), or to NOT_PERSONAL with the reason: {sorted(missing)}"
    )
    assert not (lists[0] & lists[1]) and not (lists[0] & lists[2]) and not (lists[1] & lists[2])


def test_the_lists_name_only_real_routes() -> None:
    names = _names()
    for listed in (PERSONAL, NOT_PERSONAL, LOGGED_ELSEWHERE):
        assert set(listed) <= names, set(listed) - names


# --- every personal route is guarded and logged -------------------------------------------------


@pytest.fixture
def w(system: Actor, authority: Authority, unit: OrgUnit, citizen: User) -> World:
    return world(system, authority, unit, citizen)


def _call(client: Client, probe: Probe) -> Any:
    send = getattr(client, probe.method)
    if probe.json:
        return send(probe.url, probe.body, content_type="application/json")
    return send(probe.url, probe.body) if probe.body else send(probe.url)


def _text(response: Any) -> str:
    """The answer as text, JSON unescaped (``"\\u041b…"`` is A's name too)."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    text = bytes(response.content).decode(errors="replace")
    if response.get("Content-Type", "").startswith("application/json"):
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    return text


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PERSONAL))
def test_a_personal_route_refuses_strangers_and_logs_the_permitted_read(
    name: str, w: World
) -> None:
    probe = PERSONAL[name](w)
    before = AccessRecord.objects.count()

    refused = {
        "citizen B": citizen_client(w.other),
        "an official of another authority": signed_in(w.stranger),
    }
    for who, client in refused.items():
        response = _call(client, probe)
        assert response.status_code in (403, 404), f"{name}: {who} got {response.status_code}"
        if probe.marker:
            assert probe.marker not in _text(response), f"{name}: {who} saw A's data"
    assert AccessRecord.objects.count() == before, f"{name}: a refused read was logged"

    if probe.via_token:
        reader = Client(headers=token(probe.reader, "Канцеларијски софтвер"))
    else:
        reader = signed_in(probe.reader)
    started = timezone.now()
    response = _call(reader, probe)
    assert response.status_code == 200, f"{name}: the permitted reader got {response.status_code}"
    if probe.marker and not getattr(response, "streaming", False):
        assert probe.marker in _text(response), f"{name}: the answer lacks A's data"
    logged = AccessRecord.objects.filter(subject_id=w.person, reader=probe.reader, at__gte=started)
    assert logged.exists(), f"{name}: the read of A's data is not in the log"
    assert {r.action for r in logged} == {probe.action}, name
    assert all(r.authority_id == w.authority.pk for r in logged), name
    if probe.via_token:
        assert {r.reader_label for r in logged} == {"Канцеларијски софтвер"}, name


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(n for n in LOGGED_ELSEWHERE if "__" in n))
def test_a_register_answers_no_session(name: str, w: World) -> None:
    route = next(r for n, r in ROUTES if n == name)
    for client in (citizen_client(w.other), signed_in(w.stranger), Client()):
        response = client.post(route, {"jmbg": CHILD_JMBG})
        assert response.status_code in (401, 403, 404, 405), name
        assert CHILD_NAME not in _text(response)
