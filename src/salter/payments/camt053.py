"""Bank statements in ISO 20022 camt.053 (BankToCustomerStatement), read for reconciliation.

Only what matching payments to fees needs is read: each booked credit or debit with its
amount, booking date, the creditor reference the payer gave (the model-97 *poziv na broj*),
the payer's name and the end-to-end id. Versions 001.02 to 001.13 differ in where some of
these sit (``Sts`` became ``Sts/Cd``, ``Dbtr/Nm`` became ``Dbtr/Pty/Nm``, a transaction got its
own ``Amt``); both places are read, and namespaces are ignored.

A statement comes from outside, so the XML is read defensively: a document type declaration
is refused outright, which leaves no way to declare an entity, expand one a billion times or
fetch one from elsewhere. The reader drives expat itself (defusedxml is not a dependency).
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET  # noqa: S405 — Element and TreeBuilder only; expat parses
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from xml.parsers import expat

MAX_BYTES = 64 * 1024 * 1024

_AMOUNT = re.compile(r"[0-9]{1,18}(\.[0-9]{1,5})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NOT_PROVIDED = "NOTPROVIDED"  # ISO 20022's word for an end-to-end id the payer did not give


class StatementError(ValueError):
    """A file that is not a camt.053 statement this reader can trust."""


@dataclass(frozen=True)
class StatementEntry:
    """One payment on a statement: a booked entry, or one transaction of a batched entry."""

    amount: Decimal
    currency: str
    booked_on: dt.date
    credit: bool
    reference: str  # creditor reference (Strd/CdtrRefInf/Ref), else the unstructured text
    debtor_name: str
    end_to_end_id: str
    entry_ref: str  # the bank's reference of the entry (NtryRef, else AcctSvcrRef)
    account: str = ""  # the statement's account: IBAN or the domestic 18 digits
    reversal: bool = False  # the bank reverses an earlier entry (RvslInd)


def _local(name: str) -> str:
    return name.rpartition(" ")[2]  # expat writes a namespaced name as "uri local"


def _refuse_doctype(*_: object) -> None:
    raise StatementError(
        "The statement declares a document type (DTD). A camt.053 statement never needs one, "
        "and it could declare entities, so the file is refused."
    )


def _tree(data: bytes) -> tuple[str, ET.Element]:
    """The root's namespace and the document as elements named without namespaces."""
    if len(data) > MAX_BYTES:
        raise StatementError(f"The statement is larger than {MAX_BYTES // 2**20} MB.")
    builder = ET.TreeBuilder()
    namespaces: list[str] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        if not namespaces:
            namespaces.append(name.rpartition(" ")[0])
        builder.start(_local(name), {_local(key): value for key, value in attributes.items()})

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: builder.end(_local(name))
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise StatementError(
            f"The statement is not well-formed XML: {expat.ErrorString(error.code)} "
            f"(line {error.lineno}, column {error.offset + 1})."
        ) from None
    return namespaces[0], builder.close()


def _text(element: ET.Element, *paths: str) -> str:
    """The stripped text at the first of ``paths`` that has some, or ""."""
    for path in paths:
        found = element.findtext(path)
        if found and found.strip():
            return found.strip()
    return ""


def _money(element: ET.Element | None, where: str) -> tuple[Decimal, str]:
    if element is None:
        raise StatementError(f"{where}: the amount is missing.")
    text = (element.text or "").strip()
    if not _AMOUNT.fullmatch(text):
        raise StatementError(f"{where}: {text[:30]!r} is not an amount.")
    currency = element.get("Ccy", "")
    if not _CURRENCY.fullmatch(currency):
        raise StatementError(f"{where}: the amount has no currency code (Ccy).")
    return Decimal(text), currency


def _side(text: str, where: str) -> bool:
    if text not in ("CRDT", "DBIT"):
        raise StatementError(f"{where}: CdtDbtInd is {text[:10]!r}, not CRDT or DBIT.")
    return text == "CRDT"


def _booked_on(entry: ET.Element, where: str) -> dt.date:
    text = _text(entry, "BookgDt/Dt", "BookgDt/DtTm")[:10]
    if not _DATE.fullmatch(text):
        raise StatementError(f"{where}: the booking date (BookgDt) is missing or malformed.")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise StatementError(f"{where}: the booking date {text} is not a date.") from None


def _reference(transaction: ET.Element) -> str:
    structured = _text(transaction, "RmtInf/Strd/CdtrRefInf/Ref")
    if structured:
        return structured
    lines = ((line.text or "").strip() for line in transaction.iterfind("RmtInf/Ustrd"))
    return " ".join(line for line in lines if line)


def _entries(entry: ET.Element, account: str, where: str) -> Iterator[StatementEntry]:
    amount, currency = _money(entry.find("Amt"), where)
    credit = _side(_text(entry, "CdtDbtInd"), where)
    booked_on = _booked_on(entry, where)
    entry_ref = _text(entry, "NtryRef", "AcctSvcrRef")
    reversal = _text(entry, "RvslInd").lower() in ("true", "1")
    transactions = entry.findall("NtryDtls/TxDtls")
    if not transactions:
        yield StatementEntry(
            amount, currency, booked_on, credit, "", "", "", entry_ref, account, reversal
        )
        return
    for number, transaction in enumerate(transactions, start=1):
        here = f"{where}, transaction {number}"
        own = transaction.find("Amt")
        if own is None:
            own = transaction.find("AmtDtls/TxAmt/Amt")
        if own is not None:
            tx_amount, tx_currency = _money(own, here)
        elif len(transactions) == 1:
            tx_amount, tx_currency = amount, currency
        else:
            raise StatementError(f"{here}: a batched transaction has no amount of its own.")
        side = _text(transaction, "CdtDbtInd")
        end_to_end = _text(transaction, "Refs/EndToEndId")
        yield StatementEntry(
            amount=tx_amount,
            currency=tx_currency,
            booked_on=booked_on,
            credit=_side(side, here) if side else credit,
            reference=_reference(transaction),
            debtor_name=_text(transaction, "RltdPties/Dbtr/Nm", "RltdPties/Dbtr/Pty/Nm"),
            end_to_end_id="" if end_to_end == _NOT_PROVIDED else end_to_end,
            entry_ref=entry_ref,
            account=account,
            reversal=reversal,
        )


def parse_statement(data: bytes) -> list[StatementEntry]:
    """Every booked payment in a camt.053 file; pending and informational entries are left out.

    An entry that batches several transactions gives one ``StatementEntry`` each. Raises
    ``StatementError``, saying where, for anything that is not a sound statement.
    """
    namespace, root = _tree(data)
    if root.tag != "Document" or (namespace and "camt.053" not in namespace):
        raise StatementError(
            f"This is not a camt.053 statement: the document is {namespace or 'without namespace'}"
            f" {root.tag}."
        )
    statements = root.find("BkToCstmrStmt")
    if statements is None:
        raise StatementError("This is not a camt.053 statement: BkToCstmrStmt is missing.")
    found: list[StatementEntry] = []
    for statement in statements.iterfind("Stmt"):
        statement_id = _text(statement, "Id") or "?"
        account = _text(statement, "Acct/Id/IBAN", "Acct/Id/Othr/Id")
        for number, entry in enumerate(statement.iterfind("Ntry"), start=1):
            where = f"Statement {statement_id!r}, entry {number}"
            status = _text(entry, "Sts/Cd", "Sts")
            if not status:
                raise StatementError(f"{where}: the status (Sts) is missing.")
            if status == "BOOK":
                found.extend(_entries(entry, account, where))
    return found
