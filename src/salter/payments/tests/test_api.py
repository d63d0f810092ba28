"""``/api/v1/payments``: a case's fees and one fee with its payment slip, for those who may
see the case; the QR payload in the answer parses back to the order."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from salter.cases import services as cases
from salter.catalog.models import ServiceVersion
from salter.core.context import Actor
from salter.identity import services as identity
from salter.identity.models import User
from salter.payments import ipsqr, services
from salter.payments.models import PaymentOrder

from .conftest import ACCOUNT, CERTIFICATE_FORM, act

pytestmark = pytest.mark.django_db
ORDERS = "/api/v1/payments/orders"


def token(user: User, *scopes: str) -> dict[str, str]:
    _token, secret = identity.create_api_token(
        Actor(user=user, via="test"), name="ci", scopes=list(scopes or ("read",)), days=1, loa=2
    )
    return {"Authorization": f"Bearer {secret}"}


def test_the_applicant_reads_the_fees_and_the_slip(
    client: Client, certificate: ServiceVersion, citizen: User
) -> None:
    case, _ = cases.submit(act(citizen), certificate, CERTIFICATE_FORM)
    fee, copies = PaymentOrder.objects.filter(case=case).order_by("id")
    mine = token(citizen)
    listed = client.get(ORDERS, {"case": case.pk}, headers=mine)
    assert listed.status_code == 200
    assert [(o["id"], o["amount"], o["state"]) for o in listed.json()] == [
        (fee.pk, "500.00", "due"),
        (copies.pk, "300.00", "due"),
    ]
    one = client.get(f"{ORDERS}/{fee.pk}", headers=mine).json()
    slip = one["slip"]
    assert (slip["payee_account"], slip["reference"], slip["model"]) == (
        ACCOUNT,
        fee.reference,
        "97",
    )
    read = ipsqr.parse(slip["qr_payload"])
    assert (read.amount, read.account, read.reference) == (
        Decimal("500.00"),
        ACCOUNT,
        fee.reference.replace("-", ""),
    )
    assert read == services.slip_payment(fee, citizen.full_name)


def test_a_settled_fee_has_no_slip(
    client: Client, certificate: ServiceVersion, citizen: User, accountant: User
) -> None:
    case, _ = cases.submit(act(citizen), certificate, CERTIFICATE_FORM)
    fee = PaymentOrder.objects.filter(case=case).order_by("id").first()
    assert fee is not None
    services.confirm_manually(act(accountant), fee, "500", timezone.localdate(), "признаница")
    body = client.get(f"{ORDERS}/{fee.pk}", headers=token(citizen)).json()
    assert body["state"] == "paid" and body["slip"] is None and body["paid_at"]


def test_others_get_404_and_officials_of_the_authority_read(
    client: Client,
    certificate: ServiceVersion,
    citizen: User,
    clerk: User,
    stranger: User,
) -> None:
    case, _ = cases.submit(act(citizen), certificate, CERTIFICATE_FORM)
    fee = PaymentOrder.objects.filter(case=case).first()
    assert fee is not None
    other = User.objects.create_user("drugi@example.rs", "x" * 12, full_name="Други")
    for outsider in (other, stranger):
        headers = token(outsider)
        assert client.get(f"{ORDERS}/{fee.pk}", headers=headers).status_code == 404
        assert client.get(ORDERS, {"case": case.pk}, headers=headers).status_code == 404
    assert client.get(f"{ORDERS}/{fee.pk}", headers=token(clerk)).status_code == 200
    assert client.get(f"{ORDERS}/{fee.pk}").status_code == 401
    assert client.get(ORDERS, {"case": case.pk}).status_code == 401
    assert client.get(ORDERS, headers=token(citizen)).status_code == 422  # which case?
    refused = client.get(f"{ORDERS}/{fee.pk}", headers=token(citizen, "write"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"


def test_the_routes_are_described(client: Client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/payments/orders", "/api/v1/payments/orders/{order_id}"} <= set(paths)
