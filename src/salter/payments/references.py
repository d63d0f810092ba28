"""Payment references (*poziv na broj*) under model 97.

A model-97 reference starts with two control digits computed over the rest of it with
ISO 7064 MOD 97-10, the same arithmetic as account numbers. The rest is read as one number:
dashes and spaces are ignored, and a letter stands for two digits (A = 10, B = 11 … Z = 35,
either case), as the National Bank of Serbia's decision on payment-order forms allows. Then

    control = 98 − (that number × 100 mod 97), written with two digits (02 … 98).

Limits enforced here: at least one character after the control digits, at most 20 digits
after them (a letter counting as two), and at most 22 characters as written, dashes included,
the width of the field on a payment order.

The model itself ("97") is not part of the reference: on a payment order and in an IPS QR code
it is written in front of it (``RO:97`` + reference).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise  # a lazy translation, in the stubs

MODEL = "97"
MAX_WRITTEN = 22
MAX_BODY_DIGITS = 20

_CHARACTERS = re.compile(r"[0-9A-Za-z -]+")
_NOT_COUNTED = re.compile(r"[ -]")

# Case references: CC-AAAAAAAA-NNNNNNNNNN (see case_reference)
CASE_ID_WIDTH = 10
MAX_AUTHORITY_DIGITS = 8
_AUTHORITY = re.compile(rf"[0-9]{{1,{MAX_AUTHORITY_DIGITS}}}")


class PaymentReferenceError(ValueError):
    """A reference that cannot be a model-97 reference; ``code`` names the reason."""

    def __init__(self, message: str | _StrPromise, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _as_number(text: str) -> str:
    """The digits that the check covers: separators dropped, letters as two digits each."""
    return "".join(
        char if char.isdigit() else str(ord(char.upper()) - ord("A") + 10)
        for char in _NOT_COUNTED.sub("", text)
    )


def _check_body(body: str) -> str:
    """The body's digits for the check, or PaymentReferenceError when the body is unusable."""
    if not body.strip(" -"):
        raise PaymentReferenceError(
            _("A reference needs at least one digit or letter after its control number."),
            code="empty",
        )
    if not _CHARACTERS.fullmatch(body):
        raise PaymentReferenceError(
            _("A reference contains only digits, Latin letters and dashes."), code="characters"
        )
    digits = _as_number(body)
    if len(digits) > MAX_BODY_DIGITS:
        raise PaymentReferenceError(
            _("A model-97 reference has at most 20 digits after its control number."),
            code="length",
        )
    return digits


def check_digits(body: str) -> str:
    """The two control digits of a model-97 reference whose remaining part is ``body``."""
    return f"{98 - int(_check_body(body)) * 100 % 97:02d}"


def model97(reference_body: str) -> str:
    """The full reference: the control digits, then ``reference_body`` in capitals.

    ``model97("2024-15")`` is ``"602024-15"``: dashes in the body stay where they were.
    """
    body = reference_body.strip().upper()
    reference = check_digits(body) + body
    if len(reference) > MAX_WRITTEN:
        raise PaymentReferenceError(
            _("A reference has at most 22 characters, dashes included."), code="length"
        )
    return reference


def _split(reference: str) -> tuple[str, str]:
    """The control digits and the body of a written reference, if it is well formed."""
    text = (reference or "").strip()
    if not text:
        raise PaymentReferenceError(_("The reference is empty."), code="empty")
    if len(text) > MAX_WRITTEN:
        raise PaymentReferenceError(
            _("A reference has at most 22 characters, dashes included."), code="length"
        )
    if not _CHARACTERS.fullmatch(text):
        raise PaymentReferenceError(
            _("A reference contains only digits, Latin letters and dashes."), code="characters"
        )
    control, body = text[:2], text[2:]  # a dash after the control digits is not counted
    if not re.fullmatch(r"[0-9]{2}", control):
        raise PaymentReferenceError(
            _("A model-97 reference starts with its two-digit control number."), code="control"
        )
    return control, body


def is_valid_model97(ref: str) -> bool:
    """Whether ``ref`` (without the model) is a model-97 reference with the right control."""
    try:
        control, body = _split(ref)
        return control == check_digits(body)
    except PaymentReferenceError:
        return False


def validate_model97(value: str) -> None:
    """Django validator: a model-97 reference whose control number is right."""
    try:
        control, body = _split(value)
        expected = check_digits(body)
    except PaymentReferenceError as error:
        raise ValidationError(error.message, code=error.code) from None
    if control != expected:
        raise ValidationError(
            _("This reference's control number is wrong: please check each character."),
            code="checksum",
        )


def case_reference(authority_code: str, case_id: int) -> str:
    """The model-97 reference that identifies a case on the payment of its fee.

    Layout: ``CC-AAAA-NNNNNNNNNN``, where CC are the control digits, AAAA the authority's
    numeric code (1 to 8 digits, e.g. its MB or JBKJS; leading zeros kept) and NNNNNNNNNN the
    case id, zero-padded to 10 digits. The fixed width of the case id makes the reference
    readable even when a bank hands it back without dashes; at most 22 characters written and
    18 digits checked, so it fits every limit above.
    """
    if not _AUTHORITY.fullmatch(authority_code):
        raise ValueError("An authority's numeric code has 1 to 8 digits.")
    if not 0 < case_id < 10**CASE_ID_WIDTH:
        raise ValueError("A case id in a reference is a positive number of at most 10 digits.")
    body = f"{authority_code}-{case_id:0{CASE_ID_WIDTH}d}"
    return f"{check_digits(body)}-{body}"


MAX_FEES = 9


def fee_reference(authority_code: str, case_id: int, fee_number: int) -> str:
    """The reference of fee ``fee_number`` (1 to 9) of a case that owes several fees.

    The case reference with the fee's number added after the case id,
    ``CC-AAAA-NNNNNNNNNN-F``, so that each of the case's payments is told apart and the case
    id still stands in one place (digits 2 to 11 from the right). With a 7- or 8-digit
    authority code the dashes would make it longer than 22 characters, so it is then written
    without them (21 characters at most).
    """
    if not 1 <= fee_number <= MAX_FEES:
        raise ValueError("A case has at most 9 fees, numbered from 1.")
    case_reference(authority_code, case_id)  # the same checks of the code and the id
    body = f"{authority_code}-{case_id:0{CASE_ID_WIDTH}d}-{fee_number}"
    written = f"{check_digits(body)}-{body}"
    if len(written) > MAX_WRITTEN:
        written = _NOT_COUNTED.sub("", written)
    return written


def digits_of(ref: str) -> str:
    """A reference as a bank hands it back: dashes and spaces dropped, letters in capitals."""
    return _NOT_COUNTED.sub("", (ref or "").strip()).upper()


def parse_case_reference(ref: str) -> int | None:
    """The case id in a reference made by ``case_reference``, or None when it is not one.

    Dashes and spaces may be missing or moved; a wrong control number gives None, never a
    guess.
    """
    if not is_valid_model97(ref):
        return None
    digits = _NOT_COUNTED.sub("", ref.strip())
    significant = len(digits) - 2 - CASE_ID_WIDTH  # the authority's code
    if not digits.isdigit() or not 1 <= significant <= MAX_AUTHORITY_DIGITS:
        return None
    case_id = int(digits[-CASE_ID_WIDTH:])
    return case_id or None
