"""Model-97 references: the control number catches every slip and swap of one digit."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from salter.payments.references import (
    case_reference,
    check_digits,
    is_valid_model97,
    model97,
    parse_case_reference,
    validate_model97,
)

bodies = st.text(alphabet="0123456789", min_size=1, max_size=20)


def test_the_nbs_sample_reference_is_valid() -> None:
    # RO:97163220000111111111000 in the sample payload of the NBS IPS QR specification
    assert is_valid_model97("163220000111111111000")
    assert model97("3220000111111111000") == "163220000111111111000"


def test_the_rule_spelled_out() -> None:
    assert check_digits("794") == "44"  # ISO 7064's own worked example: 79400 mod 97 = 54
    assert model97("2024-15") == f"{98 - 202415 * 100 % 97:02d}2024-15"


def test_letters_count_as_two_digits_in_either_case() -> None:
    assert check_digits("A1") == check_digits("101")
    assert check_digits("z-9") == check_digits("359")
    reference = model97("ab-12")
    assert reference.endswith("AB-12")
    assert is_valid_model97(reference)
    assert is_valid_model97(reference.lower())


def test_dashes_and_spaces_do_not_count() -> None:
    reference = model97("2024-0015")
    assert is_valid_model97(reference)
    assert is_valid_model97(reference.replace("-", ""))
    assert is_valid_model97(reference[:2] + "-" + reference[2:])
    assert is_valid_model97(reference[:2] + " " + reference[2:].replace("-", " "))


@given(bodies)
def test_every_single_digit_substitution_is_caught(body: str) -> None:
    reference = model97(body)
    assert is_valid_model97(reference)
    for position, original in enumerate(reference):
        for replacement in "0123456789":
            if replacement != original:
                changed = reference[:position] + replacement + reference[position + 1 :]
                assert not is_valid_model97(changed), (reference, changed)


@given(bodies)
def test_every_adjacent_transposition_is_caught(body: str) -> None:
    reference = model97(body)
    for position in range(len(reference) - 1):
        first, second = reference[position], reference[position + 1]
        if first != second:
            swapped = reference[:position] + second + first + reference[position + 2 :]
            assert not is_valid_model97(swapped), (reference, swapped)


@pytest.mark.parametrize(
    ("reference", "code"),
    [
        ("", "empty"),
        ("4", "control"),
        ("44", "empty"),
        ("4x794", "control"),
        ("44-79/4", "characters"),
        ("44 794 ž", "characters"),
        ("44" + "1" * 21, "length"),
        ("12ZZZZZZZZZZZ", "length"),  # 13 characters, but 22 digits after the control number
    ],
)
def test_malformed_references_say_why(reference: str, code: str) -> None:
    assert not is_valid_model97(reference)
    with pytest.raises(ValidationError) as refused:
        validate_model97(reference)
    assert refused.value.code == code


def test_a_wrong_control_number_is_refused_in_words() -> None:
    validate_model97("44794")
    with pytest.raises(ValidationError, match="control number is wrong") as refused:
        validate_model97("45794")
    assert refused.value.code == "checksum"


def test_model97_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValueError, match="at most 20 digits"):
        model97("1" * 21)
    with pytest.raises(ValueError, match="at most 22 characters"):
        model97("1-2-3-4-5-6-7-8-9-10-1")
    with pytest.raises(ValueError, match="only digits"):
        model97("12/2024")


def test_case_reference_layout() -> None:
    reference = case_reference("103", 1041)
    assert reference == "70-103-0000001041"
    assert is_valid_model97(reference)
    assert parse_case_reference(reference) == 1041


@given(
    st.text(alphabet="0123456789", min_size=1, max_size=8),
    st.integers(min_value=1, max_value=10**10 - 1),
)
def test_case_references_round_trip_with_or_without_dashes(authority: str, case_id: int) -> None:
    reference = case_reference(authority, case_id)
    assert len(reference) <= 22
    assert is_valid_model97(reference)
    compact = reference.replace("-", "")
    for written in (reference, compact, " ".join([compact[:2], compact[2:]])):
        assert parse_case_reference(written) == case_id


@pytest.mark.parametrize(
    "reference",
    [
        "71-103-0000001041",  # wrong control number
        model97("0000001041"),  # no authority's code: too few digits
        model97("103-00000001041X"),  # a letter
        model97("123456789-0000001041"),  # a nine-digit authority code
        model97("103-0000000000"),  # case id zero
        "",
    ],
)
def test_parse_case_reference_never_guesses(reference: str) -> None:
    assert parse_case_reference(reference) is None


@pytest.mark.parametrize(
    ("authority", "case_id", "message"),
    [
        ("", 1, "1 to 8 digits"),
        ("123456789", 1, "1 to 8 digits"),
        ("10a", 1, "1 to 8 digits"),
        ("103", 0, "positive"),
        ("103", 10**10, "at most 10 digits"),
    ],
)
def test_case_reference_refuses_what_it_cannot_encode(
    authority: str, case_id: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        case_reference(authority, case_id)
