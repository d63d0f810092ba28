"""The NBS IPS QR code on a payment slip: scanned by a banking app, it fills in the order.

The payload is text, fields ``tag:value`` joined by ``|``::

    K:PR|V:01|C:1|R:840000074222184357|N:Gradska uprava\\r\\nNiš|I:RSD1500,00|SF:253|RO:97…

The rules kept here come from the National Bank of Serbia's specification of the NBS IPS QR
code and its recommendations for writing the payload:

* ``K:PR`` (a payment slip or invoice), ``V:01``, ``C:1`` (UTF-8) come first, in that order;
* ``R`` the payee's account, 18 digits with right control digits;
* ``N`` the payee's name and seat, at most 70 characters in up to three lines joined by CR LF
  (the CR LF counted in the 70);
* ``I`` the currency and amount, ``RSD`` and the amount with a decimal comma and no
  thousands separator (``RSD1500,00``), at most 18 characters;
* ``P`` the payer (optional), written like ``N``;
* ``SF`` the payment code (*šifra plaćanja*), 3 digits starting with 1 (cash) or 2 (non-cash);
* ``S`` the purpose (optional), at most 35 characters on one line;
* ``RO`` the model and reference (optional), at most 25 characters: two digits of model, then
  the reference without dashes; a model-97 reference must have its right control number;
* an optional tag without a value is left out (never ``|S:|``), nothing comes before the
  first tag or after the last, and no value contains ``|``.

Where the published texts leave room, the stricter reading is kept, so that what is written
here passes any reading: the CR LF counts towards the 70 characters, ``RO`` stops at 25
(third-party generators allow 25 or 35), a line never starts or ends with a space. ``parse``
applies the same rules, except that it also takes lines joined by a bare LF and amounts with
fewer than two decimals (``RSD1500,``), as the NBS sample payload is often reproduced.

The symbol is a QR code in byte mode, UTF-8 without an ECI header, error correction level M.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import segno

from salter.core.accounts import AccountError, is_valid_account, normalise_account
from salter.payments.references import MODEL, is_valid_model97

FEE_PAYMENT_CODE = "253"  # "uplata javnih prihoda izuzev poreza i doprinosa po odbitku", non-cash

MAX_NAME = 70
MAX_LINES = 3
MAX_PURPOSE = 35
MAX_AMOUNT_FIELD = 18
MAX_REFERENCE_FIELD = 25
CURRENCY = "RSD"
ERROR_LEVEL = "M"

_HEADER = (("K", "PR"), ("V", "01"), ("C", "1"))
_TAGS = frozenset({"K", "V", "C", "R", "N", "I", "P", "SF", "S", "RO"})
_PAYMENT_CODE = re.compile(r"[12][0-9]{2}")
_MODEL = re.compile(r"[0-9]{2}")
_REFERENCE = re.compile(r"[0-9A-Za-z]+")
_AMOUNT = re.compile(r"([0-9]+),([0-9]{0,2})")
# control characters, and the Unicode line and paragraph separators a reader may break on
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_CENT = Decimal("0.01")
# "RSD", the whole part, "," and two decimals fit in MAX_AMOUNT_FIELD characters
_TOO_MUCH = Decimal(10) ** (MAX_AMOUNT_FIELD - len(CURRENCY) - 3)


class IpsError(ValueError):
    """A payment that cannot be written as, or a text that is not, an NBS IPS QR payload."""


@dataclass(frozen=True)
class IpsPayment:
    """What a payment slip asks for. ``payee`` and ``payer`` separate lines with "\\n"."""

    account: str
    payee: str
    amount: Decimal
    payment_code: str = FEE_PAYMENT_CODE
    payer: str = ""
    purpose: str = ""
    reference: str = ""
    model: str = MODEL


def _text(tag: str, value: str) -> None:
    for char in value:
        if char == "|" or unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise IpsError(f"{tag}: the character {char!r} is not allowed in a payload.")


def _lines(tag: str, value: str) -> str:
    """The value of N or P as written in the payload: its lines joined by CR LF."""
    lines = value.replace("\r\n", "\n").split("\n")
    if len(lines) > MAX_LINES:
        raise IpsError(f"{tag}: at most {MAX_LINES} lines; this has {len(lines)}.")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise IpsError(f"{tag}: line {number} is empty.")
        if line != line.strip():
            raise IpsError(f"{tag}: line {number} starts or ends with a space.")
        _text(tag, line)
    written = "\r\n".join(lines)
    if len(written) > MAX_NAME:
        raise IpsError(
            f"{tag}: at most {MAX_NAME} characters, line breaks (CR LF) included; "
            f"this has {len(written)}."
        )
    return written


def _account(value: str) -> str:
    try:
        digits = normalise_account(value)
    except AccountError as error:
        raise IpsError(f"R: {error}") from None
    if not is_valid_account(digits):
        raise IpsError(f"R: the control digits of account {digits} are wrong.")
    return digits


def _amount(value: Decimal) -> str:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise IpsError("I: the amount must be a finite Decimal.")
    if value <= 0:
        raise IpsError("I: the amount must be more than zero.")
    if value >= _TOO_MUCH:
        raise IpsError(f"I: at most {MAX_AMOUNT_FIELD} characters; RSD{value:.2f} is too long.")
    if value != value.quantize(_CENT):
        raise IpsError(f"I: the amount {value} has more than two decimal places.")
    return CURRENCY + f"{value:.2f}".replace(".", ",")


def _payment_code(value: str) -> str:
    if not _PAYMENT_CODE.fullmatch(value):
        raise IpsError(f"SF: a payment code has 3 digits, the first 1 or 2; not {value!r}.")
    return value


def _purpose(value: str) -> str:
    if value != value.strip():
        raise IpsError("S: the purpose starts or ends with a space.")
    _text("S", value)
    if len(value) > MAX_PURPOSE:
        raise IpsError(f"S: at most {MAX_PURPOSE} characters; this has {len(value)}.")
    return value


def _model_and_reference(model: str, reference: str) -> str:
    if not _MODEL.fullmatch(model):
        raise IpsError(f"RO: a model has two digits; not {model!r}.")
    compact = reference.replace("-", "")
    if not _REFERENCE.fullmatch(compact):
        raise IpsError("RO: a reference has only digits, Latin letters and dashes.")
    if model == MODEL and not is_valid_model97(compact):
        raise IpsError(f"RO: {reference!r} is not a model-97 reference with a right control.")
    written = model + compact
    if len(written) > MAX_REFERENCE_FIELD:
        raise IpsError(
            f"RO: model and reference have at most {MAX_REFERENCE_FIELD} characters; "
            f"this has {len(written)}."
        )
    return written


def payload(p: IpsPayment) -> str:
    """The text to encode in the QR code; IpsError names the first field that breaks a rule."""
    fields = [
        *_HEADER,
        ("R", _account(p.account)),
        ("N", _lines("N", p.payee)),
        ("I", _amount(p.amount)),
    ]
    if p.payer:
        fields.append(("P", _lines("P", p.payer)))
    fields.append(("SF", _payment_code(p.payment_code)))
    if p.purpose:
        fields.append(("S", _purpose(p.purpose)))
    if p.reference:
        fields.append(("RO", _model_and_reference(p.model, p.reference)))
    return "|".join(f"{tag}:{value}" for tag, value in fields)


def _fields(text: str) -> dict[str, str]:
    if not text:
        raise IpsError("The payload is empty.")
    if text != text.strip() or text.startswith("|") or text.endswith("|"):
        raise IpsError("Nothing may come before the first tag or after the last value.")
    kind = text.partition("|")[0]
    if kind.startswith("K:") and kind != "K:PR":
        raise IpsError(f"K: only payment slips (K:PR) are read here, not {kind[:12]!r}.")
    fields: dict[str, str] = {}
    for field in text.split("|"):
        tag, colon, value = field.partition(":")
        if not colon:
            raise IpsError(f"The field {field[:20]!r} has no ':' after its tag.")
        if tag not in _TAGS:
            raise IpsError(f"The tag {tag[:10]!r} is not one of a payment slip's (K:PR).")
        if tag in fields:
            raise IpsError(f"The tag {tag} appears twice.")
        if not value:
            raise IpsError(f"The tag {tag} is empty; a tag without a value is left out.")
        fields[tag] = value
    if list(fields.items())[: len(_HEADER)] != list(_HEADER):
        raise IpsError("A payment slip's payload starts with K:PR|V:01|C:1.")
    missing = [tag for tag in ("R", "N", "I", "SF") if tag not in fields]
    if missing:
        raise IpsError(f"Required tags are missing: {', '.join(missing)}.")
    return fields


def _read_amount(value: str) -> Decimal:
    if len(value) > MAX_AMOUNT_FIELD:
        raise IpsError(f"I: at most {MAX_AMOUNT_FIELD} characters; this has {len(value)}.")
    if not value.startswith(CURRENCY):
        raise IpsError(f"I: the amount must be in {CURRENCY}.")
    match = _AMOUNT.fullmatch(value.removeprefix(CURRENCY))
    if match is None:
        raise IpsError(f"I: {value!r} is not RSD and an amount with a decimal comma.")
    whole, cents = match.groups()
    try:
        return Decimal(f"{whole}.{cents or '0'}").quantize(_CENT)
    except InvalidOperation:  # pragma: no cover -- the pattern admits only decimal numbers
        raise IpsError(f"I: {value!r} is not an amount.") from None


def parse(text: str) -> IpsPayment:
    """The payment in a payload, checked against every rule that ``payload`` keeps."""
    fields = _fields(text)
    model, reference = MODEL, ""
    if "RO" in fields:
        model, reference = fields["RO"][:2], fields["RO"][2:]
        if not reference:
            raise IpsError("RO: a model without a reference.")
    p = IpsPayment(
        account=fields["R"],
        payee=fields["N"].replace("\r\n", "\n"),
        amount=_read_amount(fields["I"]),
        payment_code=fields["SF"],
        payer=fields.get("P", "").replace("\r\n", "\n"),
        purpose=fields.get("S", ""),
        reference=reference,
        model=model,
    )
    if not re.fullmatch(r"[0-9]{18}", p.account):
        raise IpsError("R: the account is written as 18 digits, without dashes.")
    payload(p)  # every other rule, in one place
    return p


def qr_code(text: str) -> segno.QRCode:
    """The QR symbol of a payload, which is checked first."""
    parse(text)
    return segno.make_qr(text, error=ERROR_LEVEL, mode="byte", encoding="utf-8", boost_error=False)


def qr_svg(text: str, *, scale: int = 4, title: str = "") -> str:
    """An inline ``<svg>`` of the QR code, with the 4-module quiet zone around it."""
    return qr_code(text).svg_inline(scale=scale, border=4, title=title or None)


def qr_png(text: str, *, scale: int = 8) -> bytes:
    """A PNG of the QR code, with the 4-module quiet zone around it."""
    buffer = io.BytesIO()
    qr_code(text).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
