"""Fees computed from a definition and the form data: fixed, by formula, rounded half up to
the para, and refused with a message naming the fee when they make no sense."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salter.catalog import pilots
from salter.core.accounts import make_account
from salter.payments.fees import MAX_AMOUNT, FeeError, amount_of, case_fees, round_amount
from salter.payments.ipsqr import IpsPayment, parse, payload

ACCOUNT = make_account("840", "1003")


def fee(**fields: Any) -> dict[str, Any]:
    return {"code": "tax", "label": {"sr": "Такса", "en": "Tax"}, "currency": "RSD", **fields}


def definition(*fees: dict[str, Any]) -> dict[str, Any]:
    return {"fees": list(fees)}


def test_the_pilot_asks_for_the_municipal_fee_and_the_copies() -> None:
    found = case_fees(pilots.PROPERTY_CERTIFICATE.definition(), {"copies": 3})
    assert [(f.code, f.amount, f.number, f.payment_code) for f in found] == [
        ("municipal_fee", Decimal("500.00"), 1, "253"),
        ("copies_fee", Decimal("450.00"), 2, "253"),
    ]
    assert found[0].purpose == "Општинска адм. такса за уверење"
    assert all(f.due and f.currency == "RSD" for f in found)


@given(st.integers(min_value=1, max_value=10))
def test_the_pilots_total_is_the_fee_and_150_a_copy(copies: int) -> None:
    found = case_fees(pilots.PROPERTY_CERTIFICATE.definition(), {"copies": copies})
    assert sum(f.amount for f in found) == 500 + 150 * copies


@given(st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False))
def test_formulas_round_half_up_to_the_para(value: Decimal) -> None:
    amount = amount_of(fee(formula="base * 1"), {"base": str(value)})
    assert amount == value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "rounded"),
    [("1.005", "1.01"), ("2.675", "2.68"), ("2.674999", "2.67"), ("0.004", "0.00")],
)
def test_half_up_where_binary_floats_would_go_wrong(value: str, rounded: str) -> None:
    assert round_amount(Decimal(value)) == Decimal(rounded)
    assert amount_of(fee(formula="x"), {"x": value}) == Decimal(rounded)


def test_a_fixed_amount() -> None:
    assert amount_of(fee(amount="1500.00"), {}) == Decimal("1500.00")


def test_a_fee_that_comes_to_zero_is_not_due() -> None:
    (found,) = case_fees(definition(fee(formula="(copies - 1) * 150")), {"copies": 1})
    assert found.amount == 0 and not found.due


@pytest.mark.parametrize(
    ("formula", "values", "message"),
    [
        ("copies * -150", {"copies": 2}, "The fee “Tax” comes to a negative amount (-300.00 RSD)"),
        ("copies * 1000000000", {"copies": 2}, "more than any fee can be"),
        ("copies * 150", {}, "The fee “Tax” cannot be computed: “copies” has no value."),
        ("copies * 150", {"copies": "two"}, "“copies” is not a number"),
        ("150 / (copies - copies)", {"copies": 2}, "division by zero"),
        ("__import__('os')", {}, "cannot be computed"),
    ],
)
def test_fees_that_make_no_sense_are_refused_by_name(
    formula: str, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(FeeError) as refused:
        case_fees(definition(fee(formula=formula)), values)
    assert message in str(refused.value)


@given(st.decimals(min_value=MAX_AMOUNT + Decimal("0.01"), max_value=10**15, places=2))
def test_no_amount_above_the_limit_gets_through(value: Decimal) -> None:
    with pytest.raises(FeeError):
        amount_of(fee(formula="x"), {"x": str(value)})


def test_a_payment_code_that_is_not_one_is_refused() -> None:
    with pytest.raises(FeeError, match="payment code 389"):
        case_fees(definition(fee(amount="10.00", payment_code="389")), {})


def test_the_purpose_fits_the_slip() -> None:
    long = {"sr": "Републичка административна такса за захтев за уверење", "en": "Tax"}
    (found,) = case_fees(definition(fee(amount="10.00", label=long)), {})
    assert found.purpose == "Републичка административна такса за"
    (piped,) = case_fees(definition(fee(amount="10.00", purpose="Такса | уверење")), {})
    assert piped.purpose == "Такса / уверење"


@given(st.text(min_size=1, max_size=80))
def test_any_label_gives_a_purpose_a_slip_can_carry(label: str) -> None:
    (found,) = case_fees(definition(fee(amount="10.00", label={"sr": label})), {})
    assert 0 < len(found.purpose) <= 35
    slip = IpsPayment(account=ACCOUNT, payee="Општина", amount=found.amount, purpose=found.purpose)
    assert parse(payload(slip)).purpose == found.purpose


def test_a_formula_may_read_a_calculation() -> None:
    d = {
        "fees": [fee(formula="pages_total * 10")],
        "calculations": [{"target": "pages_total", "formula": "copies * pages"}],
    }
    (found,) = case_fees(d, {"copies": 2, "pages": 3})
    assert found.amount == Decimal("60.00")


def test_no_fees() -> None:
    assert case_fees({"fees": []}, {}) == []
    assert case_fees({}, {}) == []
