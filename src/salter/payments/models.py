"""Fees of cases and the payments that settle them.

* :class:`PaymentOrder` — one fee a case owes: amount, payee, and the model-97 reference that
  identifies the case (:func:`salter.payments.references.case_reference`); the payment slip
  and its NBS IPS QR code are made from it.
* :class:`Statement` — a bank statement (ISO 20022 camt.053) imported by an official; importing
  the same file again adds nothing.
* :class:`Payment` — money received: a statement entry or an official's manual confirmation,
  matched to an order by its reference (unmatched entries are kept for a person to look at).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from salter.authorities.models import Authority
from salter.cases.workflow import text


class PaymentOrder(models.Model):
    class State(models.TextChoices):
        DUE = "due", _("Waiting for payment")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="payment_orders")
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="+")
    fee_code = models.CharField(max_length=64)
    label = models.JSONField()  # {"sr": …, "en": …} from the definition
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="RSD")
    payee_name = models.CharField(max_length=70)
    payee_account = models.CharField(max_length=18)  # 18 digits, check digits valid
    payment_code = models.CharField(max_length=3, default="253")  # šifra plaćanja
    purpose = models.CharField(max_length=35)
    model = models.CharField(max_length=2, default="97")
    reference = models.CharField(max_length=25, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DUE)
    created_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("payment order")
        constraints = [
            models.UniqueConstraint(fields=["case", "fee_code"], name="payment_order_case_fee")
        ]
        indexes = [
            # The officials' list of an authority's orders still due, newest first.
            models.Index(
                fields=["authority", "-id"],
                condition=Q(state="due"),
                name="payment_order_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.reference} {self.amount} {self.currency}"

    @property
    def display_label(self) -> str:
        """The fee's label in the active language."""
        return text(self.label) or self.fee_code


class Statement(models.Model):
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="statements")
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=255)
    account = models.CharField(max_length=34, blank=True)
    imported_at = models.DateTimeField()
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    entries = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["authority", "sha256"], name="statement_once")
        ]

    def __str__(self) -> str:
        return self.original_name


class Payment(models.Model):
    class Source(models.TextChoices):
        STATEMENT = "statement", _("Bank statement")
        MANUAL = "manual", _("Confirmed by an official")

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(
        PaymentOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    statement = models.ForeignKey(
        Statement, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="RSD")
    booked_on = models.DateField()
    reference = models.CharField(max_length=35, blank=True)
    debtor_name = models.CharField(max_length=140, blank=True)
    # What identifies a statement entry across imports (account, entry reference or end-to-end
    # id, date, amount): the same entry in a second, overlapping statement is not counted twice.
    entry_key = models.CharField(max_length=200, null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "entry_key"],
                condition=Q(entry_key__isnull=False),
                name="payment_entry_once",
            )
        ]
        indexes = [
            models.Index(
                fields=["authority", "-booked_on"],
                condition=Q(order__isnull=True),
                name="payment_unmatched_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} {self.reference}"
