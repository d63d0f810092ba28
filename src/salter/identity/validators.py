"""Serbian identifiers with their check digits.

* JMBG (jedinstveni matični broj građana) — the personal number: DDMMYYYRRBBBK, mod 11.
* PIB (poreski identifikacioni broj) — the tax number of a company: 9 digits, ISO 7064 mod 11,10.
* MB (matični broj) — the registration number of a company: 8 digits, mod 11.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.rs import pib as stdnum_pib

_JMBG_WEIGHTS = (7, 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_MB_WEIGHTS = (8, 7, 6, 5, 4, 3, 2)


def _digits(value: str, length: int, label: Any) -> str:
    value = (value or "").strip().replace(" ", "")
    if not value.isdigit() or not value.isascii():
        raise ValidationError(
            _("%(label)s must contain digits only.") % {"label": label}, code="digits"
        )
    if len(value) != length:
        raise ValidationError(
            _("%(label)s has %(length)d digits; you entered %(given)d.")
            % {"label": label, "length": length, "given": len(value)},
            code="length",
        )
    return value


def jmbg_check_digit(first12: str) -> int | None:
    """The control digit for the first 12 digits, or None when no valid JMBG starts so."""
    total = sum(int(d) * w for d, w in zip(first12, _JMBG_WEIGHTS, strict=True))
    control = 11 - total % 11
    if control == 11:
        return 0
    if control == 10:
        return None  # numbers whose remainder is 1 are never assigned
    return control


def jmbg_birth_date(jmbg: str) -> dt.date | None:
    day, month, year3 = int(jmbg[0:2]), int(jmbg[2:4]), int(jmbg[4:7])
    year = 1000 + year3 if year3 >= 800 else 2000 + year3
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def jmbg_gender(value: object) -> str:
    """The grammatical gender a valid JMBG gives its holder: ``"male"`` when digits 10–12 (the
    register's serial number) are 000–499, ``"female"`` for 500–999; ``""`` for anything that
    is not a valid JMBG (the words then take a neutral form)."""
    text = value.strip() if isinstance(value, str) else ""
    if len(text) != 13 or not (text.isdigit() and text.isascii()):
        return ""
    if jmbg_birth_date(text) is None or jmbg_check_digit(text[:12]) != int(text[12]):
        return ""
    return "male" if int(text[9:12]) < 500 else "female"


def validate_jmbg(value: str) -> None:
    jmbg = _digits(value, 13, _("JMBG"))
    if jmbg_birth_date(jmbg) is None:
        raise ValidationError(
            _("The first seven digits of a JMBG are the date of birth; %(date)s is not a date.")
            % {"date": f"{jmbg[0:2]}.{jmbg[2:4]}.{jmbg[4:7]}"},
            code="date",
        )
    expected = jmbg_check_digit(jmbg[:12])
    if expected is None or int(jmbg[12]) != expected:
        raise ValidationError(
            _("This JMBG's check digit is wrong: please check each digit."), code="checksum"
        )


def mb_check_digit(first7: str) -> int:
    total = sum(int(d) * w for d, w in zip(first7, _MB_WEIGHTS, strict=True))
    control = 11 - total % 11
    return 0 if control > 9 else control


def validate_mb(value: str) -> None:
    mb = _digits(value, 8, _("MB"))
    if int(mb[7]) != mb_check_digit(mb[:7]):
        raise ValidationError(
            _("This MB's check digit is wrong: please check each digit."), code="checksum"
        )


def validate_pib(value: str) -> None:
    pib = _digits(value, 9, _("PIB"))
    try:
        stdnum_pib.validate(pib)
    except StdnumError:
        raise ValidationError(
            _("This PIB's check digit is wrong: please check each digit."), code="checksum"
        ) from None


def pib_check_digit(first8: str) -> int:
    """The ISO 7064 mod 11,10 check digit, as PIB uses it."""
    product = 10
    for digit in first8:
        total = (int(digit) + product) % 10 or 10
        product = (2 * total) % 11
    return (11 - product) % 10
