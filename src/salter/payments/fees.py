"""The fees of a case, computed from its service definition and its form data.

A definition's ``fees`` list each fee with a ``code``, a ``label``, the currency (RSD) and
either a fixed ``amount`` (``"1500.00"``) or a ``formula`` over the form's fields and the
definition's calculations (``copies * 150``, see :mod:`salter.catalog.formulas`). Amounts are
:class:`~decimal.Decimal` and rounded half up to the para (0.01), as a payment slip shows them.

A fee that comes to zero is owed by nobody and gets no payment slip; a negative one, or one
above :data:`MAX_AMOUNT`, means the definition is wrong or the data absurd, and is refused with
a message that names the fee.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from salter.cases import workflow
from salter.catalog import formulas
from salter.payments.ipsqr import FEE_PAYMENT_CODE, MAX_PURPOSE

CENT = Decimal("0.01")
# No administrative fee comes near this (100 million dinars); a formula that reaches it is
# wrong, or was fed a number nobody meant. The slip itself could carry up to 10^12 − 0.01.
MAX_AMOUNT = Decimal("100000000.00")
# Šifra plaćanja: 1xx for cash, 2xx non-cash (253: public revenue other than taxes withheld).
_PAYMENT_CODE = re.compile(r"[12][0-9]{2}")


class FeeError(ValueError):
    """A fee that cannot be computed; the message names the fee and says why."""


@dataclass(frozen=True)
class Fee:
    """One fee a case owes, as the payment slip will ask for it."""

    code: str
    label: Mapping[str, str]  # {"sr": …, "en": …}
    amount: Decimal  # rounded to 0.01; may be zero (nothing to pay)
    currency: str
    payment_code: str  # šifra plaćanja
    purpose: str  # svrha plaćanja, at most 35 characters
    number: int  # the fee's place in the definition, from 1

    @property
    def due(self) -> bool:
        return self.amount > 0


def round_amount(value: Decimal) -> Decimal:
    """Half up to the para: 1.005 → 1.01, 2.675 → 2.68 (Decimal, so no binary surprises)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _label(fee: Mapping[str, Any]) -> str:
    return workflow.text(fee.get("label")) or str(fee.get("code", ""))


def _purpose(fee: Mapping[str, Any]) -> str:
    """What the slip says the payment is for: the definition's ``purpose``, else the fee's
    Serbian label, cut to the 35 characters the field holds."""
    purpose = str(fee.get("purpose") or "").strip()
    if not purpose:
        label = fee.get("label")
        if isinstance(label, Mapping):
            purpose = str(label.get("sr") or label.get("en") or "")
    readable = "".join(c for c in purpose if unicodedata.category(c) not in ("Cc", "Cs"))
    purpose = " ".join(readable.replace("|", "/").split()) or str(fee.get("code", ""))
    if len(purpose) > MAX_PURPOSE:  # cut at the last whole word that fits, if there is one
        cut = purpose[: MAX_PURPOSE + 1]
        purpose = cut.rsplit(" ", 1)[0] if " " in cut else cut[:MAX_PURPOSE]
    return purpose.rstrip()


def _payment_code(fee: Mapping[str, Any]) -> str:
    code = str(fee.get("payment_code") or FEE_PAYMENT_CODE)
    if not _PAYMENT_CODE.fullmatch(code):
        raise FeeError(
            _(
                "The fee “%(fee)s” has the payment code %(code)s; a payment code has 3 digits "
                "and starts with 1 (cash) or 2 (non-cash)."
            )
            % {"fee": _label(fee), "code": code}
        )
    return code


def amount_of(fee: Mapping[str, Any], values: Mapping[str, Any]) -> Decimal:
    """The amount of one fee of a definition for ``values`` (form data and calculations)."""
    name = _label(fee)
    try:
        if "formula" in fee:
            raw = formulas.evaluate(str(fee["formula"]), values)
        else:
            raw = Decimal(str(fee["amount"]))
    except formulas.FormulaError as exc:
        raise FeeError(
            _("The fee “%(fee)s” cannot be computed: %(problem)s.") % {"fee": name, "problem": exc}
        ) from exc
    except (InvalidOperation, KeyError) as exc:
        raise FeeError(_("The fee “%(fee)s” has no valid amount.") % {"fee": name}) from exc
    if not raw.is_finite():
        raise FeeError(_("The fee “%(fee)s” has no valid amount.") % {"fee": name})
    amount = round_amount(raw)
    if amount < 0:
        raise FeeError(
            _("The fee “%(fee)s” comes to a negative amount (%(amount)s RSD).")
            % {"fee": name, "amount": amount}
        )
    if amount > MAX_AMOUNT:
        raise FeeError(
            _(
                "The fee “%(fee)s” comes to %(amount)s RSD, more than any fee can be "
                "(%(max)s RSD): please check the numbers you entered."
            )
            % {"fee": name, "amount": amount, "max": MAX_AMOUNT}
        )
    return amount


def fee_values(definition: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """What a fee formula may read: the form's fields and the definition's calculations that
    can be made from them."""
    try:
        return {**data, **workflow.calculate(definition, data)}
    except formulas.FormulaError as exc:
        raise FeeError(_("The fees cannot be computed: %(problem)s.") % {"problem": exc}) from exc


def case_fees(definition: Mapping[str, Any], data: Mapping[str, Any]) -> list[Fee]:
    """Every fee of ``definition`` for the form ``data``, in definition order (zero ones
    included: ``Fee.due`` tells them apart)."""
    declared: Sequence[Mapping[str, Any]] = definition.get("fees") or []
    if not declared:
        return []
    values = fee_values(definition, data)
    return [
        Fee(
            code=str(fee["code"]),
            label=dict(fee.get("label") or {}),
            amount=amount_of(fee, values),
            currency=str(fee.get("currency") or "RSD"),
            payment_code=_payment_code(fee),
            purpose=_purpose(fee),
            number=number,
        )
        for number, fee in enumerate(declared, start=1)
    ]
