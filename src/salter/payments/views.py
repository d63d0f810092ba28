"""The applicant's payment slip: on screen with its NBS IPS QR code, as PDF, and the code as a
PNG (to save on a phone and open in a banking app). Only the applicant of the case sees it;
anyone else gets 404, as if the order did not exist."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from salter.identity.models import User
from salter.payments import queries, slips
from salter.payments.models import PaymentOrder


def _own_order(request: HttpRequest, order_id: int) -> PaymentOrder:
    user = request.user
    assert isinstance(user, User)
    order = queries.applicants_order(order_id, user)
    if order is None:
        raise Http404
    return order


def _file_name(order: PaymentOrder, extension: str) -> str:
    return f"uplatnica-{order.model}-{order.reference}.{extension}"


def _private(response: HttpResponse, name: str, *, attachment: bool) -> HttpResponse:
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@login_required
def slip(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _own_order(request, order_id)
    return render(
        request,
        "payments/slip.html",
        {"slip": slips.slip(order), "order": order, "case": order.case},
    )


@require_GET
@login_required
def slip_pdf(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _own_order(request, order_id)
    pdf = slips.pdf(order, latin=getattr(request, "latin_script", False))
    response = HttpResponse(pdf, content_type="application/pdf")
    return _private(response, _file_name(order, "pdf"), attachment=True)


@require_GET
@login_required
def qr_png(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _own_order(request, order_id)
    response = HttpResponse(slips.slip(order).qr_png(), content_type="image/png")
    return _private(response, _file_name(order, "png"), attachment=False)
