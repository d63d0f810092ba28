"""The payment slip (*nalog za uplatu*) of an order, on screen and as PDF, with its NBS IPS QR
code: a banking app that scans the code fills in the whole payment.

What the slip shows and what the QR code carries come from one :class:`Slip`, so the two can
never differ; the tests read the code back with a real QR reader and compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from salter.cases import workflow
from salter.core.accounts import format_account
from salter.core.translit import html_to_latin
from salter.documents.rendering import format_number, render_pdf
from salter.payments import ipsqr
from salter.payments.models import PaymentOrder
from salter.payments.services import slip_payment


def _payer(order: PaymentOrder) -> str:
    """The applicant's name as the payer, if it can stand on the slip (it is optional)."""
    name = " ".join(order.case.applicant.full_name.replace("|", "/").split())
    return name[: ipsqr.MAX_NAME].rstrip()


@dataclass(frozen=True)
class Slip:
    order: PaymentOrder
    payment: ipsqr.IpsPayment
    payload: str

    @property
    def payer(self) -> str:
        return self.payment.payer

    @property
    def payee(self) -> str:
        return self.payment.payee

    @property
    def purpose(self) -> str:
        return self.payment.purpose

    @property
    def payment_code(self) -> str:
        return self.payment.payment_code

    @property
    def account(self) -> str:
        """The payee's account written in full: ``840-0000000741000-36``."""
        return format_account(self.payment.account)

    @property
    def model(self) -> str:
        return self.order.model

    @property
    def reference(self) -> str:
        """The reference as written on a paper slip, with its dashes."""
        return self.order.reference

    @property
    def currency(self) -> str:
        return self.order.currency

    @property
    def amount(self) -> Decimal:
        return self.order.amount

    @property
    def amount_text(self) -> str:
        """``1.500,00`` in Serbian, ``1,500.00`` in English."""
        language = "en" if translation.get_language() == "en" else "sr"
        return format_number(self.order.amount, language, 2)

    @property
    def fee(self) -> str:
        return workflow.text(self.order.label) or self.order.fee_code

    @property
    def qr_title(self) -> str:
        return _(
            "NBS IPS QR code of this payment slip: %(amount)s %(currency)s to account "
            "%(account)s, reference %(model)s %(reference)s"
        ) % {
            "amount": self.amount_text,
            "currency": self.currency,
            "account": self.account,
            "model": self.model,
            "reference": self.reference,
        }

    def qr_svg(self, scale: int = 4) -> SafeString:
        """The QR code as inline SVG: an image (``role="img"``) whose accessible name says
        what the code asks for; its ``<title>`` says it too, for tooltips and PDF readers."""
        svg = ipsqr.qr_svg(self.payload, scale=scale, title=self.qr_title)
        opening = format_html('<svg role="img" aria-label="{}"', self.qr_title)
        return mark_safe(svg.replace("<svg", opening, 1))  # noqa: S308 — segno's markup, escaped

    def qr_png(self, scale: int = 8) -> bytes:
        return ipsqr.qr_png(self.payload, scale=scale)


def slip(order: PaymentOrder) -> Slip:
    """The slip of ``order``; the applicant stands on it as the payer when their name fits
    the rules of the code, and is left out (it is optional) when it does not."""
    payment = slip_payment(order, _payer(order))
    try:
        text = ipsqr.payload(payment)
    except ipsqr.IpsError:
        payment = slip_payment(order)
        text = ipsqr.payload(payment)
    return Slip(order, payment, text)


def _html_lang(latin: bool) -> str:
    if latin:
        return "sr-Latn"
    return "en" if translation.get_language() == "en" else "sr-Cyrl"


def pdf(order: PaymentOrder, *, latin: bool = False) -> bytes:
    """The slip as an A4 PDF in the active language (``latin``: Serbian in Latin script)."""
    shown = slip(order)
    html = render_to_string(
        "payments/slip_pdf.html",
        {
            "slip": shown,
            "order": order,
            "case": order.case,
            "qr_svg": shown.qr_svg(scale=3),
            "html_lang": _html_lang(latin),
        },
    )
    return render_pdf(html_to_latin(html) if latin else html)
