"""Use cases of fees and payments. Each runs in one transaction, checks permission and writes
the audit event.

* :func:`open_orders` — at submission, one payment order per fee of the case (called by
  :func:`salter.cases.services.submit` inside its transaction);
* :func:`confirm_manually` — an official confirms a payment seen elsewhere (a receipt at the
  counter, the bank's confirmation);
* :func:`import_statement` — a bank statement (camt.053) of the authority's fee account: each
  credit becomes a :class:`~salter.payments.models.Payment`, matched to its order by the
  model-97 reference (the rules of matching: :mod:`salter.payments.matching`).

An order is paid when its payments add up to its amount; when every order of a case is paid,
the case takes the step of its workflow that waits for payment (``"auto": "paid"``) in the
same transaction, and the applicant is notified.

Locks: an import locks the authority's row (``FOR NO KEY UPDATE``, so submissions that only
reference the authority are not held up): imports of one authority run one at a time, which
with the unique ``entry_key`` makes overlapping statements count each entry once. Settling an
order locks every order of its case, in id order, so two payments of one case (an import and a
manual confirmation at once) see each other and exactly one of them moves the case.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.authorities.models import Authority
from salter.cases import services as cases
from salter.cases import workflow
from salter.cases.errors import CaseError
from salter.cases.models import Case
from salter.core.accounts import is_valid_account, normalise_account
from salter.core.context import Actor
from salter.identity.models import Membership, Role
from salter.identity.permissions import require_user
from salter.mailbox import outbox
from salter.payments import camt053, ipsqr, matching
from salter.payments.fees import MAX_AMOUNT, FeeError, case_fees, round_amount
from salter.payments.models import Payment, PaymentOrder, Statement
from salter.payments.references import (
    MAX_AUTHORITY_DIGITS,
    MAX_FEES,
    MODEL,
    case_reference,
    digits_of,
    fee_reference,
)

log = structlog.get_logger(__name__)

__all__ = [
    "PAYMENT_ROLES",
    "Confirmed",
    "ImportResult",
    "PaymentError",
    "confirm_manually",
    "configuration_problem",
    "import_statement",
    "open_orders",
    "slip_payment",
]

# Who handles an authority's money: accounting (approver in a finance unit), the registry clerk
# at the counter who sees the citizen's receipt, and the authority's administrator.
PAYMENT_ROLES = (Role.APPROVER, Role.REGISTRY_CLERK, Role.AUTHORITY_ADMIN)
MAX_NOTE = 300


class PaymentError(CaseError):
    """A payment use case cannot go on; the message is for the person who tried. A subclass
    of :class:`~salter.cases.services.CaseError`, so a submission refused for a fee reads
    like any other refusal."""


# --- configuration and the orders of a case --------------------------------------------------


def configuration_problem(authority: Authority) -> str:
    """Why fees cannot be paid to ``authority`` yet, or "" when its account and numeric code
    are in order."""
    if not authority.account or not is_valid_account(authority.account):
        return _(
            "%(authority)s cannot take fees online yet: its account for fees is not set up. "
            "Please contact the authority."
        ) % {"authority": authority.display_name}
    code = authority.payment_code
    if code is None or not 0 < code < 10**MAX_AUTHORITY_DIGITS:
        return _(
            "%(authority)s cannot take fees online yet: its code for payment references is "
            "not set up. Please contact the authority."
        ) % {"authority": authority.display_name}
    return ""


def _payee(authority: Authority) -> str:
    """The payee on the slip: the authority's name, on one line of at most 70 characters."""
    name = " ".join(authority.name.replace("|", "/").split())
    return name[: ipsqr.MAX_NAME].rstrip()


def open_orders(actor: Actor, case: Case) -> list[PaymentOrder]:
    """One payment order per fee of the case's definition that comes to more than zero, made
    at submission in the submission's transaction. A fee that cannot be computed, or an
    authority without an account for fees, refuses the submission (:class:`PaymentError`).

    A case that owes one fee pays it with the case reference; a case that owes several gets
    one reference per fee (the fee's number added). If every fee comes to zero, nothing is
    owed: once the submission commits, the case takes its ``paid`` step at once."""
    definition = case.service_version.definition
    declared = definition.get("fees") or []
    if not declared:
        return []
    authority = case.authority
    problem = configuration_problem(authority)
    if problem:
        raise PaymentError(problem)
    if len(declared) > MAX_FEES:
        raise PaymentError(_("A service can ask for at most 9 fees."))
    try:
        fees = case_fees(definition, case.data)
    except FeeError as exc:
        raise PaymentError(str(exc)) from exc
    code = str(authority.payment_code)
    account = normalise_account(authority.account)
    payee = _payee(authority)
    now = timezone.now()
    orders = []
    for fee in fees:
        if not fee.due:
            continue
        reference = (
            fee_reference(code, case.pk, fee.number)
            if len(declared) > 1
            else case_reference(code, case.pk)
        )
        order = PaymentOrder(
            case=case,
            authority=authority,
            fee_code=fee.code,
            label=dict(fee.label),
            amount=fee.amount,
            currency=fee.currency,
            payee_name=payee,
            payee_account=account,
            payment_code=fee.payment_code,
            purpose=fee.purpose,
            model=MODEL,
            reference=reference,
            created_at=now,
        )
        try:  # what a slip could not carry is refused now, not when the slip is shown
            ipsqr.payload(slip_payment(order))
        except ipsqr.IpsError as exc:
            raise PaymentError(
                _("The payment slip for “%(fee)s” cannot be made: %(problem)s")
                % {"fee": workflow.text(fee.label) or fee.code, "problem": exc}
            ) from exc
        order.save(force_insert=True)
        orders.append(order)
    audit.record(
        actor,
        "payment.orders_opened",
        case,
        authority_id=authority.pk,
        payload={
            "orders": [
                {"fee": o.fee_code, "amount": str(o.amount), "reference": o.reference}
                for o in orders
            ]
        },
    )
    if not orders:
        case_id = case.pk
        transaction.on_commit(lambda: _nothing_to_pay(case_id))
    return orders


def _nothing_to_pay(case_id: int) -> None:
    """Every fee of the case came to zero: it takes the step that waits for payment. Runs
    after the submission committed (the case must be registered, with its task, first); a
    failure is logged, not shown to the applicant, whose application is in."""
    case = Case.objects.only("pk", "registry_number").get(pk=case_id)
    problem = _move_case(case)
    if problem:
        log.error("payment.nothing_to_pay_not_moved", case=case_id, problem=problem)


def cancel_due(case: Case) -> int:
    """The case closed (withdrawn, refused) before its fees were paid: its due orders are
    cancelled, so no slip invites a payment any more. Part of the closing step's transaction."""
    return PaymentOrder.objects.filter(case=case, state=PaymentOrder.State.DUE).update(
        state=PaymentOrder.State.CANCELLED
    )


def slip_payment(order: PaymentOrder, payer: str = "") -> ipsqr.IpsPayment:
    """What the order's payment slip and its NBS IPS QR code ask for."""
    return ipsqr.IpsPayment(
        account=order.payee_account,
        payee=order.payee_name,
        amount=order.amount,
        payment_code=order.payment_code,
        payer=payer,
        purpose=order.purpose,
        reference=digits_of(order.reference),
        model=order.model,
    )


# --- permission and settling -----------------------------------------------------------------


def _require_payment_role(actor: Actor, authority_id: int) -> None:
    require_user(actor)
    allowed = (
        Membership.objects.in_force()
        .filter(user=actor.user, unit__authority_id=authority_id, role__in=PAYMENT_ROLES)
        .exists()
    )
    if not allowed:
        raise PermissionDenied(
            _("Only the authority's accounting, registry clerks and administrators handle fees.")
        )


def _lock_case_orders(case_id: int) -> list[PaymentOrder]:
    """Every order of the case, locked, in id order (the same order for every caller)."""
    # of=("self",): only the orders, never the joined case, applicant and authority rows (a
    # lock on the authority would hold up every submission to it).
    return list(
        PaymentOrder.objects.select_for_update(of=("self",))
        .filter(case_id=case_id)
        .select_related("case__applicant", "authority")
        .order_by("id")
    )


def _paid_so_far(order: PaymentOrder) -> Decimal:
    total = Payment.objects.filter(order=order).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")


@dataclass(frozen=True)
class Settled:
    """What settling an order did: ``paid`` it now; ``problem``: why its case, all paid,
    could not take its step (the payment stands; the case waits for a person)."""

    paid: bool = False
    problem: str = ""


def _settle(actor: Actor, order: PaymentOrder, orders: Sequence[PaymentOrder]) -> Settled:
    """Mark ``order`` paid if its payments cover it; then, if every order of its case is
    settled, the case takes its ``paid`` step. ``orders``: the case's orders, locked."""
    if order.state != PaymentOrder.State.DUE or _paid_so_far(order) < order.amount:
        return Settled()
    order.state = PaymentOrder.State.PAID
    order.paid_at = timezone.now()
    order.save(update_fields=["state", "paid_at"])
    audit.record(
        actor,
        "payment.order_paid",
        order,
        authority_id=order.authority_id,
        payload={"case": order.case_id, "reference": order.reference, "amount": str(order.amount)},
    )
    settled = all(o.state != PaymentOrder.State.DUE for o in orders)
    _notify_paid(order, all_paid=settled)
    if not settled:
        return Settled(paid=True)
    return Settled(paid=True, problem=_move_case(order.case))


def _move_case(case: Case) -> str:
    """The case takes the step that waits for payment, if it is in a state that has one; ""
    or what stopped it. The step runs in a savepoint: if it fails (its act cannot be sealed,
    say), the payment is still recorded and the failure is reported, not the import lost."""
    try:
        with transaction.atomic():
            moved = cases.take_automatic_step(case.pk, "paid")
    except (CaseError, PermissionDenied, ValidationError) as exc:
        log.error("payment.case_not_moved", case=case.pk, error=str(exc))
        return _("Case %(number)s is paid but could not move on: %(problem)s") % {
            "number": case.registry_number,
            "problem": exc,
        }
    log.info("payment.case_paid", case=case.pk, moved=moved is not None)
    return ""


def _notify_paid(order: PaymentOrder, *, all_paid: bool) -> None:
    """The applicant learns that the payment arrived (once per order, however often the
    payment is imported)."""
    case = order.case
    label = order.label
    outbox.notify(
        case.applicant,
        outbox.PAYMENT,
        "payments/notifications/paid.txt",
        {
            "registry_number": case.registry_number,
            # Evaluated when rendered, in the reader's language.
            "fee": lazy(lambda: workflow.text(label) or order.fee_code, str)(),
            "amount": f"{order.amount:.2f}",
            "currency": order.currency,
            "reference": f"{order.model} {order.reference}",
            "all_paid": all_paid,
            "path": reverse("cases:detail", kwargs={"case_id": case.pk}),
        },
        case=case,
        dedupe_key=f"payment-paid:{order.pk}",
    )


# --- manual confirmation ---------------------------------------------------------------------


@dataclass(frozen=True)
class Confirmed:
    """A manual confirmation: the payment recorded, its order (``paid`` now or still due for
    the rest), and ``problem`` if the case, all paid, could not take its step."""

    payment: Payment
    order: PaymentOrder
    paid: bool
    problem: str = ""


def _amount(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


@transaction.atomic
def confirm_manually(
    actor: Actor,
    order: PaymentOrder | int,
    amount: Decimal | str,
    booked_on: date | None,
    note: str,
) -> Confirmed:
    """An official of the authority confirms a payment of ``order`` seen elsewhere (the
    receipt of a payment at a post office, the bank's confirmation): ``amount`` paid on
    ``booked_on``, and ``note`` saying what showed it. Less than due leaves the order due for
    the rest; the order is paid when its payments cover it."""
    require_user(actor)
    order_id = order.pk if isinstance(order, PaymentOrder) else order
    case_id = PaymentOrder.objects.values_list("case_id", flat=True).get(pk=order_id)
    orders = _lock_case_orders(case_id)
    locked = next(o for o in orders if o.pk == order_id)
    _require_payment_role(actor, locked.authority_id)
    if locked.state == PaymentOrder.State.PAID:
        assert locked.paid_at is not None
        raise PaymentError(
            _("This fee was already paid on %(date)s.")
            % {"date": timezone.localtime(locked.paid_at).strftime("%d.%m.%Y.")}
        )
    if locked.state == PaymentOrder.State.CANCELLED:
        raise PaymentError(_("This payment order is cancelled."))
    errors: dict[str, str] = {}
    value = _amount(amount)
    if value is None:
        errors["amount"] = _("Enter the amount paid, e.g. 1500.00.")
    elif value <= 0:
        errors["amount"] = _("The amount paid is more than zero.")
    elif value > MAX_AMOUNT:
        errors["amount"] = _("The amount is too large.")
    elif value != round_amount(value):
        errors["amount"] = _("An amount has at most two decimal places.")
    today = timezone.localdate()
    if booked_on is None:
        errors["booked_on"] = _("Enter the date of the payment.")
    elif booked_on > today:
        errors["booked_on"] = _("The date of the payment cannot be in the future.")
    elif booked_on < timezone.localdate(locked.created_at):
        errors["booked_on"] = _(
            "The payment cannot be older than the payment order (%(date)s)."
        ) % {"date": timezone.localtime(locked.created_at).strftime("%d.%m.%Y.")}
    note = " ".join((note or "").split())
    if not note:
        errors["note"] = _("Say what shows the payment, e.g. the receipt's number.")
    elif len(note) > MAX_NOTE:
        errors["note"] = _("Write at most %(n)d characters.") % {"n": MAX_NOTE}
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    assert value is not None and booked_on is not None
    payment = Payment.objects.create(
        authority_id=locked.authority_id,
        order=locked,
        source=Payment.Source.MANUAL,
        amount=value,
        currency=locked.currency,
        booked_on=booked_on,
        reference=locked.reference,
        confirmed_by=actor.user,
        note=note,
        created_at=timezone.now(),
    )
    audit.record(
        actor,
        "payment.confirmed",
        locked,
        authority_id=locked.authority_id,
        payload={
            "payment": payment.pk,
            "amount": str(value),
            "booked_on": booked_on.isoformat(),
            "note": note,
        },
    )
    settled = _settle(actor, locked, orders)
    return Confirmed(payment, locked, settled.paid, settled.problem)


# --- bank statements -------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import did. ``earlier`` is the import of the very same file before (then
    nothing was added)."""

    statement: Statement | None = None
    earlier: Statement | None = None
    entries: int = 0  # credits read from the file
    matched: int = 0  # new payments matched to an order
    unmatched: int = 0  # new payments kept for a person to look at
    duplicates: int = 0  # entries already imported from another statement
    ignored: int = 0  # debits, reversals, zero or absurd amounts: not payments of fees
    short: int = 0  # matched, but the order is not covered yet
    paid: list[PaymentOrder] = field(default_factory=list)  # orders paid by this import
    problems: list[str] = field(default_factory=list)  # paid cases that could not move on


@transaction.atomic
def import_statement(
    actor: Actor, authority: Authority, file_bytes: bytes, name: str
) -> ImportResult:
    """Import a camt.053 statement of the authority's fee account. Importing the same file
    again adds nothing; an entry that an earlier, overlapping statement brought is not counted
    twice. Each booked credit becomes a payment, matched to the authority's order whose
    reference it carries (control number checked) in the same currency; the others are kept
    unmatched for a person to look at. Debits and reversals are left out."""
    require_user(actor)
    _require_payment_role(actor, authority.pk)
    # One import of this authority at a time (see the module's docstring).
    authority = Authority.objects.select_for_update(no_key=True).get(pk=authority.pk)
    digest = hashlib.sha256(file_bytes).hexdigest()
    earlier = (
        Statement.objects.select_related("imported_by")
        .filter(authority=authority, sha256=digest)
        .first()
    )
    if earlier is not None:
        return ImportResult(earlier=earlier)
    try:
        entries = camt053.parse_statement(file_bytes)
    except camt053.StatementError as exc:
        raise ValidationError(
            {
                "file": [
                    _("This file cannot be read as a camt.053 bank statement: %(problem)s")
                    % {"problem": exc}
                ]
            }
        ) from exc
    own = matching.account_digits(authority.account)
    accounts = matching.statement_accounts(entries)
    account = next((a for a in accounts if a != own), "")
    if account:
        raise ValidationError(
            {
                "file": [
                    _(
                        "This is a statement of account %(account)s; the fees of %(authority)s "
                        "are paid to %(own)s."
                    )
                    % {
                        "account": account,
                        "authority": authority.display_name,
                        "own": authority.account or "—",
                    }
                ]
            }
        )
    result = ImportResult()
    credits = [e for e in entries if matching.is_fee_credit(e)]
    result.ignored = len(entries) - len(credits)
    result.entries = len(credits)
    keys = matching.entry_keys(credits)
    known = matching.known_keys(authority, keys)
    fresh = sorted(
        ((key, entry) for key, entry in zip(keys, credits, strict=True) if key not in known),
        key=lambda pair: pair[0],
    )
    result.duplicates = len(credits) - len(fresh)
    now = timezone.now()
    statement = Statement.objects.create(
        authority=authority,
        sha256=digest,
        original_name=(name or "statement.xml")[:255],
        account=own if accounts else "",
        imported_at=now,
        imported_by=actor.user,
        entries=result.entries,
    )
    result.statement = statement
    orders = matching.orders_by_reference(authority, (e.reference for _k, e in fresh))
    for key, entry in fresh:
        order = matching.matching_order(entry, orders)
        case_orders: list[PaymentOrder] = []
        note = ""
        if order is not None:
            case_orders = _lock_case_orders(order.case_id)
            order = next(o for o in case_orders if o.pk == order.pk)
            note = matching.payment_note(order, entry.amount, _paid_so_far(order))
        try:
            with transaction.atomic():
                Payment.objects.create(
                    authority=authority,
                    order=order,
                    source=Payment.Source.STATEMENT,
                    statement=statement,
                    amount=round_amount(entry.amount),
                    currency=entry.currency,
                    booked_on=entry.booked_on,
                    reference=entry.reference[:35],
                    debtor_name=entry.debtor_name[:140],
                    entry_key=key,
                    note=note[:MAX_NOTE],
                    created_at=now,
                )
        except IntegrityError:  # the same entry, brought in meanwhile by another import
            result.duplicates += 1
            continue
        if order is None:
            result.unmatched += 1
            continue
        result.matched += 1
        settled = _settle(actor, order, case_orders)
        if settled.paid:
            result.paid.append(order)
        elif order.state == PaymentOrder.State.DUE:
            result.short += 1
        if settled.problem:
            result.problems.append(settled.problem)
    statement.matched = result.matched
    statement.save(update_fields=["matched"])
    audit.record(
        actor,
        "payment.statement_imported",
        statement,
        authority_id=authority.pk,
        payload={
            "name": statement.original_name,
            "sha256": digest,
            "entries": result.entries,
            "matched": result.matched,
            "unmatched": result.unmatched,
            "duplicates": result.duplicates,
            "ignored": result.ignored,
            "paid_orders": [o.pk for o in result.paid],
        },
    )
    log.info(
        "payment.statement_imported",
        authority=authority.pk,
        statement=statement.pk,
        matched=result.matched,
        unmatched=result.unmatched,
        duplicates=result.duplicates,
    )
    return result
