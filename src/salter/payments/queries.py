"""Reads of fees and payments for the pages and the API (each a fixed number of queries)."""

from __future__ import annotations

from datetime import date

from django.db.models import Q

from salter.authorities.models import Authority
from salter.cases.access import may_read
from salter.cases.models import Case
from salter.identity.models import Membership, User
from salter.payments.matching import candidates, case_ids_in
from salter.payments.models import Payment, PaymentOrder, Statement
from salter.payments.references import digits_of
from salter.payments.services import PAYMENT_ROLES

PAGE = 50


def case_orders(case: Case) -> list[PaymentOrder]:
    """The case's payment orders, in the order of the definition's fees (one query)."""
    return list(PaymentOrder.objects.filter(case=case).order_by("id"))


def _order(order_id: int) -> PaymentOrder | None:
    return (
        PaymentOrder.objects.select_related(
            "case__applicant", "case__service_version__service", "authority"
        )
        .defer("case__service_version__definition")
        .filter(pk=order_id)
        .first()
    )


def applicants_order(order_id: int, user: User) -> PaymentOrder | None:
    """The order if ``user`` applied in its case, else None (the caller answers 404)."""
    order = _order(order_id)
    if order is None or order.case.applicant_id != user.pk:
        return None
    return order


def visible_order(order_id: int, user: User) -> PaymentOrder | None:
    """The order if ``user`` may see its case: its applicant, or an official of its
    authority who reads the case (as :func:`salter.cases.access.visible_case`)."""
    order = _order(order_id)
    if order is None:
        return None
    if may_read(order.case, user):
        return order
    return None


def visible_case_orders(case_id: int, user: User) -> list[PaymentOrder] | None:
    """The orders of a case ``user`` may see, or None when they may not see the case."""
    case = (
        Case.objects.filter(pk=case_id)
        .only("pk", "applicant_id", "authority_id", "unit_id", "confidentiality")
        .first()
    )
    if case is None or not may_read(case, user):
        return None
    return list(PaymentOrder.objects.filter(case_id=case_id).order_by("id"))


# --- the officials' side ---------------------------------------------------------------------


def payment_authorities(user: User) -> list[Authority]:
    """The authorities whose fees ``user`` handles (accounting, registry, administrator)."""
    ids = (
        Membership.objects.in_force()
        .filter(user=user, role__in=PAYMENT_ROLES)
        .values("unit__authority_id")
    )
    return list(Authority.objects.filter(pk__in=ids).order_by("name"))


def due_orders(
    authority: Authority, *, reference: str = "", before: int | None = None, limit: int = PAGE
) -> list[PaymentOrder]:
    """The authority's orders still due, newest first, from ``before`` (an order id) on; with
    ``reference``, only the orders that a model-97 reference names (typed from a receipt)."""
    rows = PaymentOrder.objects.filter(authority=authority, state=PaymentOrder.State.DUE)
    rows = rows.select_related("case").defer("case__data", "case__inputs").order_by("-id")
    if reference:  # the few orders of the cases it names, then the one(s) it names exactly
        wanted = candidates(reference)
        ids = {i for option in wanted for i in case_ids_in(option)}
        return [o for o in rows.filter(case_id__in=sorted(ids)) if digits_of(o.reference) in wanted]
    if before is not None:
        rows = rows.filter(pk__lt=before)
    return list(rows[:limit])


def unmatched_payments(
    authority: Authority, *, after: tuple[date, int] | None = None, limit: int = PAGE
) -> list[Payment]:
    """The authority's payments that match no order, latest booking first, from ``after``
    (the booking date and id of the last one shown) on."""
    rows = Payment.objects.filter(authority=authority, order__isnull=True)
    if after is not None:
        day, last = after
        rows = rows.filter(Q(booked_on__lt=day) | Q(booked_on=day, pk__lt=last))
    return list(rows.select_related("statement").order_by("-booked_on", "-id")[:limit])


def official_order(order_id: int, user: User) -> PaymentOrder | None:
    """The order if ``user`` handles the fees of its authority, else None."""
    allowed = {a.pk for a in payment_authorities(user)}
    order = _order(order_id)
    if order is None or order.authority_id not in allowed:
        return None
    return order


def order_payments(order: PaymentOrder) -> list[Payment]:
    return list(
        order.payments.select_related("confirmed_by", "statement").order_by("booked_on", "id")
    )


def recent_statements(authority: Authority, limit: int = 10) -> list[Statement]:
    return list(
        Statement.objects.filter(authority=authority)
        .select_related("imported_by")
        .order_by("-imported_at")[:limit]
    )
