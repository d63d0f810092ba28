"""Matching a bank statement's entries to payment orders: the rules of reconciliation, apart
from the use case that records what they find (:func:`salter.payments.services.import_statement`).
Nothing here writes; two functions read (one query per chunk of keys, one query for the orders).

* :func:`is_fee_credit` — which entries can pay a fee at all;
* :func:`statement_accounts` — the accounts a statement is of;
* :func:`entry_keys` — what identifies an entry across overlapping statements, and
  :func:`known_keys` — which of them an earlier import already brought;
* :func:`candidates` and :func:`case_ids_in` — the model-97 references a statement's reference
  text may carry, and where a case id stands in one; :func:`orders_by_reference` — the
  authority's orders they name; :func:`matching_order` — the order an entry pays;
* :func:`payment_note` — what an official should know about a matched payment.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from django.utils.translation import gettext as _

from salter.authorities.models import Authority
from salter.core.accounts import normalise_account
from salter.payments.camt053 import StatementEntry
from salter.payments.models import Payment, PaymentOrder
from salter.payments.references import MAX_WRITTEN, MODEL, digits_of, is_valid_model97

__all__ = [
    "LARGEST_PAYMENT",
    "account_digits",
    "candidates",
    "case_ids_in",
    "entry_keys",
    "is_fee_credit",
    "known_keys",
    "matching_order",
    "orders_by_reference",
    "payment_note",
    "statement_accounts",
]

_CASE_ID_WIDTH = 10
# A group of digits in a statement's text, dashes allowed inside ("70-103-0000001041").
_DIGIT_GROUP = re.compile(r"[0-9](?:[0-9-]*[0-9])?")
# The shortest reference the platform makes: control, a 1-digit authority code, the case id.
_SHORTEST = 2 + 1 + _CASE_ID_WIDTH
# What a payment's amount column holds (14 digits, 2 of them decimals).
LARGEST_PAYMENT = Decimal("999999999999.99")
# Keys looked up per query when finding the entries already imported.
_KEYS_PER_QUERY = 500


def is_fee_credit(entry: StatementEntry) -> bool:
    """A booked credit, not a reversal, of more than zero and at most what a payment holds:
    an entry that may pay a fee. Debits, reversals, zero or absurd amounts are not."""
    return entry.credit and not entry.reversal and 0 < entry.amount <= LARGEST_PAYMENT


# --- accounts and entry keys -----------------------------------------------------------------


def account_digits(account: str) -> str:
    """The account as 18 digits where it can be read, else as written."""
    try:
        return normalise_account(account)
    except ValueError:
        return account


def _account_of(entry: StatementEntry) -> str:
    """The entry's account as 18 digits where it can be read (an IBAN is RS, 2 check digits
    and the 18 digits), else as written."""
    account = "".join(entry.account.split()).upper()
    if account.startswith("RS") and len(account) == 22:
        account = account[4:]
    return account_digits(account) if account else ""


def statement_accounts(entries: Iterable[StatementEntry]) -> list[str]:
    """The accounts the statement is of, in the order they appear."""
    found: list[str] = []
    for entry in entries:
        account = _account_of(entry)
        if account and account not in found:
            found.append(account)
    return found


def entry_keys(entries: Sequence[StatementEntry]) -> list[str]:
    """What identifies each entry across statements: its account, the bank's references,
    date, amount, reference and payer — and, for entries alike in all of these within one
    file, their order of appearance (the same in any statement that repeats them)."""
    seen: Counter[str] = Counter()
    keys = []
    for entry in entries:
        base = "|".join(
            [
                _account_of(entry),
                entry.entry_ref,
                entry.end_to_end_id,
                entry.booked_on.isoformat(),
                f"{entry.amount:.2f}",
                entry.currency,
                entry.reference,
                entry.debtor_name,
            ]
        )
        seen[base] += 1
        keys.append(hashlib.sha256(f"{base}#{seen[base]}".encode()).hexdigest())
    return keys


def known_keys(authority: Authority, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` the authority's payments already carry (an earlier import)."""
    known: set[str] = set()
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        chunk = keys[start : start + _KEYS_PER_QUERY]
        rows = Payment.objects.filter(authority=authority, entry_key__in=chunk)
        known.update(key for key in rows.values_list("entry_key", flat=True) if key)
    return known


# --- references and orders -------------------------------------------------------------------


def candidates(text: str) -> list[str]:
    """The model-97 references (as digits) that a statement's reference text may carry, with
    a right control number: each group of digits in it (dashes inside a group are dropped)
    and each run of up to four neighbouring groups written with spaces between them, with or
    without the model written in front ("97 70-103-0000001041", "poziv na broj 70 103 …")."""
    groups = _DIGIT_GROUP.findall(text or "")
    found: list[str] = []
    for start in range(len(groups)):
        for end in range(start + 1, min(start + 4, len(groups)) + 1):
            digits = digits_of("".join(groups[start:end]))
            if len(digits) > len(MODEL) + MAX_WRITTEN:
                break
            for option in (digits, digits[len(MODEL) :] if digits.startswith(MODEL) else ""):
                if len(option) >= _SHORTEST and option not in found and is_valid_model97(option):
                    found.append(option)
    return found


def case_ids_in(reference_digits: str) -> set[int]:
    """Where a case id may stand in a reference the platform made: the last ten digits (one
    fee), or the ten before the fee's number (several fees)."""
    ids = set()
    for tail in (reference_digits[-_CASE_ID_WIDTH:], reference_digits[-_CASE_ID_WIDTH - 1 : -1]):
        if len(tail) == _CASE_ID_WIDTH and tail.isdigit() and int(tail):
            ids.add(int(tail))
    return ids


def orders_by_reference(authority: Authority, texts: Iterable[str]) -> dict[str, PaymentOrder]:
    """The authority's orders that the reference ``texts`` name, by the text: one query."""
    wanted = {text: candidates(text) for text in set(texts) if text}
    case_ids = {i for options in wanted.values() for option in options for i in case_ids_in(option)}
    if not case_ids:
        return {}
    by_digits: dict[str, PaymentOrder] = {}
    rows = PaymentOrder.objects.filter(authority=authority, case_id__in=sorted(case_ids))
    for order in rows:
        by_digits[digits_of(order.reference)] = order
    found = {}
    for text, options in wanted.items():
        match = next((by_digits[o] for o in options if o in by_digits), None)
        if match is not None:
            found[text] = match
    return found


def matching_order(
    entry: StatementEntry, orders: Mapping[str, PaymentOrder]
) -> PaymentOrder | None:
    """The order ``entry`` pays: the one its reference names (``orders``, from
    :func:`orders_by_reference`), if it is in the entry's currency."""
    order = orders.get(entry.reference)
    if order is not None and order.currency != entry.currency:
        return None
    return order


def payment_note(order: PaymentOrder, amount: Decimal, before: Decimal) -> str:
    """What an official should know about a payment of ``amount`` matched to ``order``, of
    which ``before`` was paid already; or ""."""
    if order.state == PaymentOrder.State.PAID:
        return _("The fee was already paid: this payment may have to be refunded.")
    if order.state == PaymentOrder.State.CANCELLED:
        return _("The payment order is cancelled: this payment may have to be refunded.")
    owed = order.amount - before
    if amount < owed:
        return _("Less than due: %(paid)s of %(owed)s %(currency)s; %(rest)s still due.") % {
            "paid": f"{amount:.2f}",
            "owed": f"{owed:.2f}",
            "currency": order.currency,
            "rest": f"{owed - amount:.2f}",
        }
    if amount > owed:
        return _("More than due by %(over)s %(currency)s: it may have to be refunded.") % {
            "over": f"{amount - owed:.2f}",
            "currency": order.currency,
        }
    return ""
