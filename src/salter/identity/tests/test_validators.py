"""JMBG, PIB and MB: every valid number passes, every single-digit change is caught."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.rs import pib as stdnum_pib

from salter.identity import validators

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@st.composite
def jmbgs(draw: st.DrawFn) -> str:
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)))
    year3 = f"{born.year % 1000:03d}"
    first12 = f"{born.day:02d}{born.month:02d}{year3}" + draw(
        st.text(alphabet="0123456789", min_size=5, max_size=5)
    )
    control = validators.jmbg_check_digit(first12)
    assume(control is not None)
    return first12 + str(control)


@st.composite
def mbs(draw: st.DrawFn) -> str:
    first7 = draw(st.text(alphabet="0123456789", min_size=7, max_size=7))
    return first7 + str(validators.mb_check_digit(first7))


@st.composite
def pibs(draw: st.DrawFn) -> str:
    first8 = draw(
        st.text(alphabet="0123456789", min_size=8, max_size=8).filter(lambda s: s[0] != "0")
    )
    return first8 + str(validators.pib_check_digit(first8))


def _one_digit_changed(value: str, position: int, delta: int) -> str:
    position %= len(value)
    changed = (int(value[position]) + delta) % 10
    return value[:position] + str(changed) + value[position + 1 :]


@given(jmbgs())
def test_valid_jmbg_passes(jmbg: str) -> None:
    validators.validate_jmbg(jmbg)
    assert validators.jmbg_birth_date(jmbg) is not None


@given(jmbgs(), st.integers(min_value=0, max_value=12), st.integers(min_value=1, max_value=9))
def test_jmbg_with_one_wrong_digit_is_refused(jmbg: str, position: int, delta: int) -> None:
    wrong = _one_digit_changed(jmbg, position, delta)
    with pytest.raises(ValidationError):
        validators.validate_jmbg(wrong)


@given(mbs())
def test_valid_mb_passes(mb: str) -> None:
    validators.validate_mb(mb)


@given(mbs(), st.integers(min_value=0, max_value=7), st.integers(min_value=1, max_value=9))
def test_mb_with_one_wrong_digit_is_refused(mb: str, position: int, delta: int) -> None:
    wrong = _one_digit_changed(mb, position, delta)
    # mod 11 with weights 2..8 catches every single-digit error except where the check digit
    # folds 10 into 0: only then can two numbers share a check digit.
    first7 = wrong[:7]
    assume(validators.mb_check_digit(first7) != int(wrong[7]))
    with pytest.raises(ValidationError):
        validators.validate_mb(wrong)


@given(pibs())
def test_valid_pib_passes_and_agrees_with_stdnum(pib: str) -> None:
    validators.validate_pib(pib)
    assert stdnum_pib.is_valid(pib)


@given(pibs(), st.integers(min_value=0, max_value=8), st.integers(min_value=1, max_value=9))
def test_pib_with_one_wrong_digit_is_refused(pib: str, position: int, delta: int) -> None:
    with pytest.raises(ValidationError):
        validators.validate_pib(_one_digit_changed(pib, position, delta))


@given(st.text(max_size=20))
def test_arbitrary_text_never_crashes(text: str) -> None:
    for validate in (validators.validate_jmbg, validators.validate_mb, validators.validate_pib):
        try:
            validate(text)
        except ValidationError as exc:
            assert exc.messages  # a message a person can read


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("12345", "length"),
        ("01019907100O8", "digits"),
        ("3102990710008", "date"),
        ("0101990710007", "checksum"),
    ],
)
def test_jmbg_errors_say_what_is_wrong(value: str, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validators.validate_jmbg(value)
    assert caught.value.code == code


def test_known_numbers() -> None:
    validators.validate_pib("101134702")
    validators.validate_mb("07023014")
    validators.validate_jmbg("0101990710008")


@given(jmbgs())
def test_a_valid_jmbg_gives_its_holders_gender_by_the_serial_number(jmbg: str) -> None:
    expected = "male" if int(jmbg[9:12]) < 500 else "female"
    assert validators.jmbg_gender(jmbg) == expected


@given(st.one_of(st.text(max_size=20), st.none(), st.integers()))
def test_anything_but_a_valid_jmbg_has_no_gender(value: object) -> None:
    if isinstance(value, str):
        try:
            validators.validate_jmbg(value.strip())
        except ValidationError:
            pass
        else:
            return
    assert validators.jmbg_gender(value) == ""


def test_known_genders() -> None:
    assert validators.jmbg_gender("0101990710008") == "male"  # serial 100
    assert validators.jmbg_gender("0101990715018") == "female"  # serial 501
    assert validators.jmbg_gender("0101990710007") == ""  # wrong check digit
