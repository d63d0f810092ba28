"""Account numbers: every valid one passes, every one-digit slip and every swap is caught."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from salter.core import accounts
from salter.core.accounts import (
    AccountError,
    format_account,
    is_valid_account,
    make_account,
    normalise_account,
    validate_account,
)

# Published account numbers, each with control digits checked below, not taken on trust.
KNOWN_GOOD = [
    "840-742221843-57",  # Republic administrative fees (republička administrativna taksa)
    "840-955845-10",  # the NBS IPS QR recommendations' first example
    "165-55-74",  # … their short-form example
    "310-1234567891211-86",  # … their example with all 13 middle digits
    "845-404849-87",  # the payee in the NBS IPS QR specification's sample payload
]

digit = st.sampled_from("0123456789")


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are asserted in English; their Serbian translations live in the catalogue."""
    with translation.override("en"):
        yield


@st.composite
def account_numbers(draw: st.DrawFn) -> str:
    bank = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    middle = draw(st.text(alphabet="0123456789", min_size=1, max_size=13))
    return make_account(bank, middle)


@pytest.mark.parametrize("written", KNOWN_GOOD)
def test_published_accounts_are_valid(written: str) -> None:
    digits = normalise_account(written)
    assert len(digits) == 18
    # the rule spelled out once more, independently of the module
    assert int(digits[16:]) == 98 - int(digits[:16]) * 100 % 97
    assert is_valid_account(written)
    validate_account(written)


def test_the_administrative_fee_account_in_full() -> None:
    assert normalise_account("840-742221843-57") == "840000074222184357"
    assert format_account("840-742221843-57") == "840-0000742221843-57"


@pytest.mark.parametrize(
    ("written", "digits"),
    [
        ("160-5100000000000-76", "160510000000000076"),
        ("160-51-76", "160000000000005176"),
        ("  160 - 51 - 76 ", "160000000000005176"),
        ("160 51 76", "160000000000005176"),
        ("160 5100000000000 76", "160510000000000076"),
        ("160510000000000076", "160510000000000076"),
        ("160–51–76", "160000000000005176"),  # en dashes, as a word processor writes them
    ],
)
def test_normalise_accepts_the_usual_writings(written: str, digits: str) -> None:
    assert normalise_account(written) == digits


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("", "empty"),
        ("  ", "empty"),
        ("160-51", "parts"),
        ("160-5-1-76", "parts"),
        ("16-51-76", "bank"),
        ("160-51234567890123-76", "middle"),
        ("160-51-7", "control"),
        ("160-5a-76", "characters"),
        ("١٦٠-51-76", "characters"),  # Arabic-Indic digits are digits to str.isdigit()
        ("16051000000000007", "length"),
    ],
)
def test_unreadable_numbers_say_why(written: str, code: str) -> None:
    with pytest.raises(AccountError) as caught:
        normalise_account(written)
    assert caught.value.code == code
    assert not is_valid_account(written)
    with pytest.raises(ValidationError) as refused:
        validate_account(written)
    assert refused.value.code == code


def test_wrong_control_digits_are_refused_in_words() -> None:
    # "160-51-76" reads well but its control number would be 20
    assert normalise_account("160-51-76")
    assert not is_valid_account("160-51-76")
    with pytest.raises(ValidationError, match="control number is wrong") as refused:
        validate_account("160-51-76")
    assert refused.value.code == "checksum"
    assert is_valid_account("160-51-20")


def test_check_digits_range_from_02_to_98() -> None:
    assert accounts.account_check_digits("0" * 16) == "98"
    with pytest.raises(ValueError, match="16 digits"):
        accounts.account_check_digits("123")


@given(account_numbers())
def test_every_single_digit_substitution_is_caught(account: str) -> None:
    assert is_valid_account(account)
    for position, original in enumerate(account):
        for replacement in "0123456789":
            if replacement != original:
                changed = account[:position] + replacement + account[position + 1 :]
                assert not is_valid_account(changed), (account, changed)


@given(account_numbers())
def test_every_adjacent_transposition_is_caught(account: str) -> None:
    for position in range(len(account) - 1):
        first, second = account[position], account[position + 1]
        if first != second:
            swapped = account[:position] + second + first + account[position + 2 :]
            assert not is_valid_account(swapped), (account, swapped)


@given(account_numbers())
def test_normalise_and_format_round_trip(account: str) -> None:
    written = format_account(account)
    bank, middle, control = written.split("-")
    assert (len(bank), len(middle), len(control)) == (3, 13, 2)
    assert normalise_account(written) == account
    short = f"{bank}-{middle.lstrip('0') or '0'}-{control}"
    assert normalise_account(short) == account
    assert format_account(short) == written
    assert normalise_account(" ".join([bank, middle, control])) == account


@given(st.text(max_size=25))
def test_any_text_is_either_an_account_or_an_account_error(text: str) -> None:
    try:
        digits = normalise_account(text)
    except AccountError:
        return
    assert len(digits) == 18 and digits.isascii() and digits.isdigit()


def test_make_account_refuses_malformed_parts() -> None:
    with pytest.raises(ValueError, match="3 digits"):
        make_account("16", "51")
    with pytest.raises(ValueError, match="1 to 13 digits"):
        make_account("160", "")
