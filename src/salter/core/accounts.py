"""Serbian bank account numbers (*broj računa*; a citizen's is a *tekući račun*).

An account number has 18 digits: the bank's 3-digit code, the 13-digit number of the account
within the bank, and 2 control digits, ISO 7064 MOD 97-10 over the first 16:

    control = 98 − (first 16 digits × 100 mod 97), written with two digits (02 … 98).

People write it in three parts joined by dashes and leave out the zeros that pad the middle
part on the left: ``840-742221843-57`` is ``840`` + ``0000742221843`` + ``57``.

A pure validator, kept in ``core`` because authorities (their fee account) and payments both
read account numbers, and authorities sit below payments.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise  # a lazy translation, in the stubs

ACCOUNT_LENGTH = 18
BANK_LENGTH = 3
MIDDLE_LENGTH = 13

_DIGITS = re.compile(r"[0-9]+")  # str.isdigit() would also take Arabic-Indic and other digits
_DASHES = re.compile(r"[-\u2013]")  # the hyphen, and the en dash word processors put instead


class AccountError(ValueError):
    """An account number that cannot be read; ``code`` names the reason, as in Django."""

    def __init__(self, message: str | _StrPromise, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def account_check_digits(first16: str) -> str:
    """The two control digits for a bank code followed by the 13-digit middle part."""
    if len(first16) != BANK_LENGTH + MIDDLE_LENGTH or not _DIGITS.fullmatch(first16):
        raise ValueError("The control digits are computed over exactly 16 digits.")
    return f"{98 - int(first16) * 100 % 97:02d}"


def make_account(bank_code: str, number: str) -> str:
    """The 18 digits of the account ``number`` (up to 13 digits) at the bank ``bank_code``."""
    if len(bank_code) != BANK_LENGTH or not _DIGITS.fullmatch(bank_code):
        raise ValueError("A bank code has exactly 3 digits.")
    if not 1 <= len(number) <= MIDDLE_LENGTH or not _DIGITS.fullmatch(number):
        raise ValueError("An account number within a bank has 1 to 13 digits.")
    first16 = bank_code + number.zfill(MIDDLE_LENGTH)
    return first16 + account_check_digits(first16)


def _parts(text: str) -> list[str]:
    if _DASHES.search(text):
        return ["".join(part.split()) for part in _DASHES.split(text)]
    words = text.split()
    if len(words) == 3 and len("".join(words)) != ACCOUNT_LENGTH:
        return words  # "160 51 76": the short form, with spaces for dashes
    return ["".join(words)]


def normalise_account(text: str) -> str:
    """The 18 digits of an account number written in full, in short form, or with spaces.

    Raises ``AccountError`` when the text cannot be an account number; the control digits
    are not checked here (``is_valid_account`` does).
    """
    if not (text or "").strip():
        raise AccountError(_("The account number is empty."), code="empty")
    parts = _parts(text)
    if not all(_DIGITS.fullmatch(part) for part in parts):
        raise AccountError(
            _("An account number contains only digits, separated by dashes."), code="characters"
        )
    if len(parts) == 1:
        length = len(parts[0])
        if length != ACCOUNT_LENGTH:
            raise AccountError(
                _("Written without dashes, an account number has 18 digits; this one has %(n)d.")
                % {"n": length},
                code="length",
            )
        return parts[0]
    if len(parts) != 3:
        raise AccountError(
            _("An account number has three parts: bank, account and control number."),
            code="parts",
        )
    bank, middle, control = parts
    if len(bank) != BANK_LENGTH:
        raise AccountError(
            _("The first part of an account number, the bank's code, has 3 digits."), code="bank"
        )
    if len(middle) > MIDDLE_LENGTH:
        raise AccountError(
            _("The middle part of an account number has at most 13 digits."), code="middle"
        )
    if len(control) != 2:
        raise AccountError(
            _("The last part of an account number, the control number, has 2 digits."),
            code="control",
        )
    return bank + middle.zfill(MIDDLE_LENGTH) + control


def is_valid_account(text: str) -> bool:
    """Whether ``text`` is an account number, in any accepted writing, with correct control."""
    try:
        digits = normalise_account(text)
    except AccountError:
        return False
    return digits[16:] == account_check_digits(digits[:16])


def format_account(text: str) -> str:
    """The full written form, ``160-0000000000051-76``: bank, 13 digits, control."""
    digits = normalise_account(text)
    return f"{digits[:3]}-{digits[3:16]}-{digits[16:]}"


def validate_account(value: str) -> None:
    """Django validator: an account number whose control digits are right."""
    try:
        digits = normalise_account(value)
    except AccountError as error:
        raise ValidationError(error.message, code=error.code) from None
    if digits[16:] != account_check_digits(digits[:16]):
        raise ValidationError(
            _("This account number's control number is wrong: please check each digit."),
            code="checksum",
        )
