"""References of several fees of a case, and finding a reference in what a bank statement
carries: dashes, spaces, the model in front, free text around it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salter.payments.matching import candidates, case_ids_in
from salter.payments.references import (
    MAX_WRITTEN,
    case_reference,
    digits_of,
    fee_reference,
    is_valid_model97,
)

codes = st.integers(min_value=1, max_value=99_999_999).map(str)
case_ids = st.integers(min_value=1, max_value=9_999_999_999)
numbers = st.integers(min_value=1, max_value=9)


@given(codes, case_ids, numbers)
def test_a_fee_reference_is_valid_fits_and_names_its_case(code: str, case: int, n: int) -> None:
    reference = fee_reference(code, case, n)
    assert is_valid_model97(reference)
    assert len(reference) <= MAX_WRITTEN
    assert len("97" + digits_of(reference)) <= 25  # the RO field of the QR code
    assert case in case_ids_in(digits_of(reference))
    assert candidates(reference) == [digits_of(reference)]


@given(codes, case_ids)
def test_the_fees_of_one_case_have_references_of_their_own(code: str, case: int) -> None:
    references = {digits_of(fee_reference(code, case, n)) for n in range(1, 10)}
    references.add(digits_of(case_reference(code, case)))
    assert len(references) == 10


def test_the_layout() -> None:
    assert fee_reference("103", 1041, 2).endswith("-103-0000001041-2")
    assert "-" not in fee_reference("12345678", 1041, 2)  # with dashes it would not fit
    with pytest.raises(ValueError):
        fee_reference("103", 1041, 10)


@given(codes, case_ids)
def test_a_case_reference_is_found_however_it_is_written(code: str, case: int) -> None:
    reference = case_reference(code, case)
    digits = digits_of(reference)
    for written in (
        reference,
        digits,
        "97" + digits,
        "97 " + reference,
        reference.replace("-", " "),
        f"Taksa, poziv na broj {reference} hvala",
        f"Uplata 2026 {reference}",
    ):
        assert digits in candidates(written), written
    assert case in case_ids_in(digits)


def test_a_wrong_control_number_finds_nothing() -> None:
    reference = case_reference("103", 1041)
    wrong = ("71" if reference[:2] != "71" else "72") + reference[2:]
    assert candidates(wrong) == []
    assert candidates("Taksa za uverenje") == []
    assert candidates("") == []
