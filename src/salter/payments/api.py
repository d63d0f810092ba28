"""``/api/v1/payments``: the payment orders (fees) of a case and one order with everything its
payment slip carries, the NBS IPS QR payload included, so an app can show the slip or hand
the payment to a banking app. Read-only: payments are recorded by the authority."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from salter.core.errors import ApiError
from salter.core.params import Id
from salter.exchange import reads
from salter.identity import auth
from salter.identity.models import User
from salter.payments import queries, slips
from salter.payments.models import PaymentOrder

router = Router(tags=["payments"], auth=auth.AUTH)


class OrderOut(Schema):
    id: int
    case_id: int
    fee_code: str
    label: str
    amount: Decimal = Field(description="In the currency, two decimal places.")
    currency: str
    state: str = Field(description="`due`, `paid` or `cancelled`.")
    created_at: datetime
    paid_at: datetime | None


class SlipOut(Schema):
    payer: str
    payee: str
    payee_account: str = Field(description="18 digits, as in the QR code.")
    payee_account_formatted: str = Field(description="Written in full: bank-account-control.")
    payment_code: str = Field(description="Šifra plaćanja.")
    purpose: str
    model: str
    reference: str = Field(description="As written on the slip, with dashes.")
    qr_payload: str = Field(description="The NBS IPS QR payload (`K:PR|V:01|C:1|…`).")


class OrderDetailOut(OrderOut):
    slip: SlipOut | None = Field(description="While the order is due; null once settled.")


class CaseFilter(Schema):
    case: Id = Field(description="The case whose orders are listed.")


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _order(order: PaymentOrder) -> dict[str, Any]:
    return {
        "id": order.pk,
        "case_id": order.case_id,
        "fee_code": order.fee_code,
        "label": order.display_label,
        "amount": order.amount,
        "currency": order.currency,
        "state": order.state,
        "created_at": order.created_at,
        "paid_at": order.paid_at,
    }


def _slip(order: PaymentOrder) -> dict[str, Any] | None:
    if order.state != PaymentOrder.State.DUE:
        return None
    shown = slips.slip(order)
    return {
        "payer": shown.payer,
        "payee": shown.payee,
        "payee_account": shown.payment.account,
        "payee_account_formatted": shown.account,
        "payment_code": shown.payment_code,
        "purpose": shown.purpose,
        "model": shown.model,
        "reference": shown.reference,
        "qr_payload": shown.payload,
    }


@router.get("/orders", response=list[OrderOut], summary="The fees of a case")
def list_orders(request: HttpRequest, filters: Query[CaseFilter]) -> list[dict[str, Any]]:
    """For the applicant and the officials of the case's authority; 404 for anyone else."""
    auth.require_scope(request, "read")
    orders = queries.visible_case_orders(filters.case, _user(request))
    if orders is None:
        raise ApiError(404, "not_found", "No such case.")
    return [_order(o) for o in orders]


@router.get("/orders/{order_id}", response=OrderDetailOut, summary="A fee with its payment slip")
def get_order(request: HttpRequest, order_id: Id) -> dict[str, Any]:
    """The order and, while it is due, its payment slip with the QR payload."""
    auth.require_scope(request, "read")
    order = queries.visible_order(order_id, _user(request))
    if order is None:
        raise ApiError(404, "not_found", "No such payment order.")
    if order.case.applicant_id != request.user.pk:  # an official's read (docs/data-tracker.md)
        reads.payment_read(request, order, items=["payer", "amount"])
    return {**_order(order), "slip": _slip(order)}
