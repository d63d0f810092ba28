"""The officials' payment pages, under /official/payments/ (behind the second-factor gate):
an authority's fees still due, the payments that match no fee, importing a bank statement,
and one payment order with its payments and the form to confirm a payment by hand. Only the
authority's accounting, registry clerks and administrators (``PAYMENT_ROLES``) see them;
anyone else gets 404."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from salter.authorities.models import Authority
from salter.core import params
from salter.core.context import Actor
from salter.exchange import reads
from salter.identity import loa
from salter.identity.models import User
from salter.payments import queries, services
from salter.payments.forms import ConfirmForm, StatementForm
from salter.payments.models import PaymentOrder


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _authority(request: HttpRequest) -> tuple[Authority, list[Authority]]:
    mine = queries.payment_authorities(_user(request))
    if not mine:
        raise Http404
    wanted = params.optional_id(request.GET, "authority") or params.optional_id(
        request.POST, "authority"
    )
    return next((a for a in mine if a.pk == wanted), mine[0]), mine


def _order(request: HttpRequest, order_id: int) -> PaymentOrder:
    order = queries.official_order(order_id, _user(request))
    if order is None:
        raise Http404
    return order


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def due(request: HttpRequest) -> HttpResponse:
    """The fees still due, newest first, 50 a page; a reference typed from a receipt finds
    its order."""
    authority, authorities = _authority(request)
    reference = params.text(request.GET, "reference", max_length=40).strip()
    before = params.optional_id(request.GET, "before")
    rows = queries.due_orders(authority, reference=reference, before=before, limit=queries.PAGE + 1)
    shown = rows[: queries.PAGE]
    query = {"authority": authority.pk, **({"reference": reference} if reference else {})}
    next_url = ""
    if len(rows) > queries.PAGE:
        next_url = "?" + urlencode({**query, "before": shown[-1].pk})
    return render(
        request,
        "payments/official/due.html",
        {
            "authority": authority,
            "authorities": authorities,
            "orders": shown,
            "reference": reference,
            "next_url": next_url,
            "first_url": ("?" + urlencode(query)) if before is not None else "",
            "problem": services.configuration_problem(authority),
            "statements": queries.recent_statements(authority, limit=5),
        },
    )


def _cursor(text: str) -> tuple[date, int] | None:
    day, _sep, pk = text.partition(".")
    try:
        position = date.fromisoformat(day), int(pk)
    except ValueError:
        return None
    return position if 0 < position[1] <= params.MAX_ID else None


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def unmatched(request: HttpRequest) -> HttpResponse:
    """Payments that match no fee (no reference, a wrong one, another authority's): for a
    person to find out, and refund or ask about."""
    authority, authorities = _authority(request)
    after = params.cursor(request.GET, "after", _cursor)
    rows = queries.unmatched_payments(authority, after=after, limit=queries.PAGE + 1)
    shown = rows[: queries.PAGE]
    next_url = ""
    if len(rows) > queries.PAGE:
        last = shown[-1]
        next_url = "?" + urlencode(
            {"authority": authority.pk, "after": f"{last.booked_on.isoformat()}.{last.pk}"}
        )
    return render(
        request,
        "payments/official/unmatched.html",
        {
            "authority": authority,
            "authorities": authorities,
            "payments": shown,
            "next_url": next_url,
            "first_url": f"?authority={authority.pk}" if after is not None else "",
        },
    )


@loa.require_level(loa.TWO_FACTOR)
@require_http_methods(["GET", "POST"])
def import_statement(request: HttpRequest) -> HttpResponse:
    """Upload a camt.053 statement; the page shows what the import did. Sending the same file
    again (a reload, a second click) adds nothing and says when it was imported."""
    authority, authorities = _authority(request)
    form = StatementForm(request.POST or None, request.FILES or None)
    result: services.ImportResult | None = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = services.import_statement(
                    Actor.from_request(request), authority, upload.read(), upload.name
                )
            except ValidationError as exc:
                for message in exc.message_dict.get("file", []):
                    form.add_error("file", message)
            except PermissionDenied:
                raise Http404 from None
        if not form.is_valid():
            status = 400
    return render(
        request,
        "payments/official/import.html",
        {
            "authority": authority,
            "authorities": authorities,
            "form": form,
            "result": result,
        },
        status=status,
    )


@loa.require_level(loa.TWO_FACTOR)
@require_http_methods(["GET", "POST"])
def order(request: HttpRequest, order_id: int) -> HttpResponse:
    """One payment order with its payments; its POST confirms a payment by hand."""
    found = _order(request, order_id)
    form = ConfirmForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                done = services.confirm_manually(
                    Actor.from_request(request),
                    found,
                    form.cleaned_data["amount"],
                    form.cleaned_data["booked_on"],
                    form.cleaned_data["note"],
                )
            except ValidationError as exc:
                _errors_onto(form, exc)
            except services.PaymentError as exc:
                form.add_error(None, str(exc))
            except PermissionDenied:
                raise Http404 from None
            else:
                _said(request, done)
                return redirect("official:payments_order", order_id=found.pk)
        status = 400
    return _show_order(request, found, form, status)


def _errors_onto(form: ConfirmForm, exc: ValidationError) -> None:
    for name, errors in exc.message_dict.items():
        for message in errors:
            form.add_error(name if name in form.fields else None, message)


def _said(request: HttpRequest, done: services.Confirmed) -> None:
    if done.paid:
        messages.success(request, _("The payment is recorded and the fee is paid."))
    else:
        messages.success(
            request, _("The payment is recorded; the fee is not covered yet, so it stays due.")
        )
    if done.problem:
        messages.error(request, done.problem)


def _show_order(
    request: HttpRequest, found: PaymentOrder, form: ConfirmForm, status: int
) -> HttpResponse:
    payments = queries.order_payments(found)
    paid = sum((p.amount for p in payments), start=found.amount * 0)
    # The page names the applicant and what they owe and paid: a read of their data.
    reads.payment_read(request, found, items=["applicant", "amount", "payments"])
    context: dict[str, Any] = {
        "order": found,
        "case": found.case,
        "payments": payments,
        "paid": paid,
        "rest": max(found.amount - paid, found.amount * 0),
        "form": form,
    }
    return render(request, "payments/official/order.html", context, status=status)
