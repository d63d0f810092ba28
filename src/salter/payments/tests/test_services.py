"""Use cases of fees: orders opened at submission, manual confirmation, statement import, and
the case moving on when everything is paid."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone, translation

from salter.audit.models import AuditEvent
from salter.authorities import services as authorities
from salter.authorities.models import Authority
from salter.cases import services as cases
from salter.cases.errors import CaseError
from salter.cases.models import Case, CaseEvent
from salter.catalog import pilots
from salter.catalog import services as catalog
from salter.catalog.models import ServiceVersion
from salter.core.accounts import make_account
from salter.core.context import Actor
from salter.identity.models import User
from salter.mailbox.models import Notification
from salter.payments import services
from salter.payments.models import Payment, PaymentOrder, Statement
from salter.payments.references import case_reference, digits_of, fee_reference

from .conftest import ACCOUNT, CERTIFICATE_FORM, Entry, act, statement

pytestmark = pytest.mark.django_db


def offer(system: Actor, authority: Authority, code: str, definition: dict[str, Any]) -> Any:
    service = catalog.create_service(system, authority, code=code, name=code, kind="administrative")
    return catalog.publish_version(
        system, catalog.create_draft_version(system, service, definition)
    )


def one_fee(formula: str = "", amount: str = "") -> dict[str, Any]:
    """The pilot with one fee only: the municipal fee, or a formula of the copies."""
    d = pilots.PROPERTY_CERTIFICATE.definition()
    fee = d["fees"][0]
    if formula:
        del fee["amount"]
        fee["formula"] = formula
    if amount:
        fee["amount"] = amount
    d["fees"] = [fee]
    return d


def apply(citizen: User, version: ServiceVersion, **data: Any) -> tuple[Case, list[PaymentOrder]]:
    case, _ = cases.submit(act(citizen), version, {**CERTIFICATE_FORM, **data})
    return case, list(PaymentOrder.objects.filter(case=case).order_by("id"))


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


# --- orders at submission --------------------------------------------------------------------


def test_submission_opens_one_order_per_fee(certificate: ServiceVersion, citizen: User) -> None:
    case, orders = apply(citizen, certificate, copies=2)
    assert case.state == "awaiting_payment"
    assert [(o.fee_code, o.amount, o.state) for o in orders] == [
        ("municipal_fee", Decimal("500.00"), "due"),
        ("copies_fee", Decimal("300.00"), "due"),
    ]
    assert [o.reference for o in orders] == [fee_reference("103", case.pk, n) for n in (1, 2)]
    first = orders[0]
    assert (first.payee_name, first.payee_account) == ("Општина Сурдулица", ACCOUNT)
    assert (first.model, first.payment_code, first.purpose) == (
        "97",
        "253",
        "Општинска адм. такса за уверење",
    )
    assert first.label["en"] == "Municipal administrative fee for the certificate"
    assert "payment.orders_opened" in actions()
    assert case.task.roles == []  # nobody's work: the platform waits for the money


def test_the_legal_deadline_waits_for_the_payment(
    certificate: ServiceVersion, citizen: User, accountant: User
) -> None:
    case, orders = apply(citizen, certificate, copies=1)
    assert case.paused_at is not None  # the application is complete when the fees are paid
    today = timezone.localdate()
    for order in orders:
        services.confirm_manually(act(accountant), order, str(order.amount), today, "уплатница")
    case.refresh_from_db()
    assert case.state == "submitted" and case.paused_at is None


def test_withdrawing_cancels_the_fees_still_due(certificate: ServiceVersion, citizen: User) -> None:
    case, orders = apply(citizen, certificate, copies=1)
    cases.withdraw(act(citizen), case)
    assert {o.state for o in PaymentOrder.objects.filter(case=case)} == {"cancelled"}


def test_one_fee_is_paid_with_the_case_reference(
    paying: Authority, system: Actor, citizen: User
) -> None:
    version = offer(system, paying, "one-fee", one_fee())
    case, (order,) = apply(citizen, version)
    assert order.reference == case_reference("103", case.pk)


def test_an_authority_without_an_account_takes_no_applications_with_fees(
    authority: Authority, system: Actor, citizen: User
) -> None:
    version = catalog.offer_pilot(system, authority, pilots.PROPERTY_CERTIFICATE)
    with pytest.raises(CaseError, match="its account for fees is not set up"):
        cases.submit(act(citizen), version, CERTIFICATE_FORM)
    assert not Case.objects.exists() and not PaymentOrder.objects.exists()
    authorities.set_fee_account(system, authority, account=ACCOUNT, payment_code=None)
    with pytest.raises(services.PaymentError, match="code for payment references"):
        cases.submit(act(citizen), version, CERTIFICATE_FORM)


def test_a_fee_that_cannot_be_computed_refuses_the_submission(
    paying: Authority, system: Actor, citizen: User
) -> None:
    d = one_fee(formula="copies * pages")
    d["form"]["schema"]["properties"]["pages"] = {"type": "integer", "minimum": 1}
    d["form"]["ui"]["steps"][0]["fields"].append("pages")  # optional, and left empty
    version = offer(system, paying, "pages", d)
    with pytest.raises(CaseError, match="“pages” has no value"):
        cases.submit(act(citizen), version, CERTIFICATE_FORM)
    assert not Case.objects.exists()


def test_fees_that_come_to_zero_let_the_case_move_on(
    paying: Authority, system: Actor, citizen: User, django_capture_on_commit_callbacks: Any
) -> None:
    version = offer(system, paying, "free-copy", one_fee(formula="(copies - 1) * 150"))
    with django_capture_on_commit_callbacks(execute=True):
        case, orders = apply(citizen, version, copies=1)
    assert orders == []
    case.refresh_from_db()
    assert case.state == "submitted"


def test_setting_the_fee_account_checks_it(paying: Authority, system: Actor) -> None:
    other = authorities.create_authority(system, code="apr", name="АПР", kind="agency")
    with pytest.raises(ValidationError) as refused:
        authorities.set_fee_account(
            system, other, account="840-1003-00", payment_code=paying.payment_code
        )
    assert set(refused.value.message_dict) == {"account", "payment_code"}
    done = authorities.set_fee_account(
        system, other, account="840-1002-" + make_account("840", "1002")[-2:], payment_code=102
    )
    assert done.account == make_account("840", "1002")


# --- manual confirmation ---------------------------------------------------------------------


def test_only_the_authoritys_money_people_confirm_payments(
    certificate: ServiceVersion, citizen: User, clerk: User, stranger: User, accountant: User
) -> None:
    _case, (order, _copies) = apply(citizen, certificate)
    today = timezone.localdate()
    for who in (citizen, clerk, stranger):
        with pytest.raises(PermissionDenied):
            services.confirm_manually(act(who), order, "500", today, "признаница")
    with pytest.raises(PermissionDenied):
        services.confirm_manually(Actor.system("test"), order, "500", today, "признаница")
    assert not Payment.objects.exists()
    done = services.confirm_manually(act(accountant), order, "500.00", today, "признаница 12")
    assert done.paid and done.payment.confirmed_by == accountant
    assert done.payment.source == Payment.Source.MANUAL
    assert actions()[-2:] == ["payment.confirmed", "payment.order_paid"]
    event = AuditEvent.objects.get(action="payment.confirmed")
    assert event.actor_id == accountant.pk and event.payload["note"] == "признаница 12"


def test_when_every_fee_is_paid_the_case_moves_on(
    certificate: ServiceVersion, citizen: User, accountant: User, clerk: User
) -> None:
    User.objects.filter(pk=citizen.pk).update(language="en")  # notices asserted in English
    case, (fee, copies) = apply(citizen, certificate, copies=1)
    today = timezone.localdate()
    services.confirm_manually(act(accountant), fee, "500", today, "признаница 1")
    case.refresh_from_db()
    assert case.state == "awaiting_payment"  # the copies are not paid yet
    services.confirm_manually(act(accountant), copies, "150,00", today, "признаница 2")
    case.refresh_from_db()
    assert case.state == "submitted"
    moved = CaseEvent.objects.get(case=case, transition_id="paid")
    assert moved.actor is None and moved.to_state == "submitted"
    assert case.task.roles == ["clerk"]
    kinds = Notification.objects.filter(recipient=citizen, kind="payment")
    assert kinds.count() == 2  # one per fee (e-mail)
    body = kinds.order_by("id").last().body  # type: ignore[union-attr]
    assert "Every fee of the case is now paid" in body
    assert "Fee for the copies of the certificate" in body  # the fee's label, in English
    # …and on to the certificate, issued under the authority's seal.
    cases.take_transition(act(clerk), case, "start_review")
    issued = cases.take_transition(
        act(clerk), case, "issue", inputs={"property_status": "Стан, 54 m², Сурдулица."}
    )
    assert issued.state == "issued" and issued.closed_at is not None


def test_a_partial_payment_leaves_the_rest_due(
    certificate: ServiceVersion, citizen: User, accountant: User
) -> None:
    _case, (_fee, copies) = apply(citizen, certificate, copies=2)
    today = timezone.localdate()
    first = services.confirm_manually(act(accountant), copies, "200", today, "уплата 1")
    assert not first.paid
    copies.refresh_from_db()
    assert copies.state == "due"
    second = services.confirm_manually(act(accountant), copies, "100", today, "уплата 2")
    assert second.paid
    with pytest.raises(services.PaymentError, match="already paid on"):
        services.confirm_manually(act(accountant), copies, "100", today, "уплата 3")


@pytest.mark.parametrize(
    ("amount", "day", "note", "field", "message"),
    [
        ("abc", 0, "ok", "amount", "Enter the amount paid"),
        ("0", 0, "ok", "amount", "more than zero"),
        ("1.001", 0, "ok", "amount", "at most two decimal places"),
        ("500", 1, "ok", "booked_on", "cannot be in the future"),
        ("500", -1, "ok", "booked_on", "cannot be older than the payment order"),
        ("500", 0, "   ", "note", "Say what shows the payment"),
    ],
)
def test_a_confirmation_names_what_is_wrong(
    certificate: ServiceVersion,
    citizen: User,
    accountant: User,
    amount: str,
    day: int,
    note: str,
    field: str,
    message: str,
) -> None:
    _case, (order, _copies) = apply(citizen, certificate)
    on = timezone.localdate() + timedelta(days=day)
    with pytest.raises(ValidationError) as refused:
        services.confirm_manually(act(accountant), order, amount, on, note)
    assert message in refused.value.message_dict[field][0]
    assert not Payment.objects.exists()


# --- statements ------------------------------------------------------------------------------


def test_a_statement_is_reconciled(
    certificate: ServiceVersion, citizen: User, accountant: User
) -> None:
    case, (fee, copies) = apply(citizen, certificate, copies=2)
    day = statement(
        Entry(fee.reference, "500.00", ref="1", e2e="A"),  # as on the slip
        Entry("97" + digits_of(copies.reference), "200.00", ref="2"),  # short, model in front
        Entry("", "1000.00", ref="3", debtor="Непознати"),  # no reference
        Entry("97-" + fee.reference, "50.00", ref="4", credit=False),  # a debit
    )
    result = services.import_statement(act(accountant), certificate.service.authority, day, "d.xml")
    assert (result.entries, result.matched, result.unmatched, result.ignored) == (3, 2, 1, 1)
    assert (result.duplicates, result.short, [o.pk for o in result.paid]) == (0, 1, [fee.pk])
    fee.refresh_from_db()
    copies.refresh_from_db()
    assert (fee.state, copies.state) == ("paid", "due")
    short = Payment.objects.get(order=copies)
    assert short.note == "Less than due: 200.00 of 300.00 RSD; 100.00 still due."
    stray = Payment.objects.get(order__isnull=True)
    assert (stray.debtor_name, stray.amount) == ("Непознати", Decimal("1000.00"))
    assert Statement.objects.get().matched == 2
    assert "payment.statement_imported" in actions()

    again = services.import_statement(act(accountant), fee.authority, day, "d-again.xml")
    assert again.earlier == result.statement and again.statement is None
    assert Payment.objects.count() == 3

    # The next day's statement repeats entry 2 (overlapping periods) and brings the rest.
    overlap = statement(
        Entry("97" + digits_of(copies.reference), "200.00", ref="2"),
        Entry(copies.reference, "100.00", ref="5"),
        statement_id="S2",
    )
    more = services.import_statement(act(accountant), fee.authority, overlap, "d2.xml")
    assert (more.entries, more.duplicates, more.matched) == (2, 1, 1)
    copies.refresh_from_db()
    case.refresh_from_db()
    assert copies.state == "paid" and case.state == "submitted"
    assert Payment.objects.filter(order=copies).count() == 2


def test_a_payment_to_an_order_already_paid_is_flagged(
    certificate: ServiceVersion, citizen: User, accountant: User
) -> None:
    _case, (fee, _copies) = apply(citizen, certificate)
    services.confirm_manually(act(accountant), fee, "500", timezone.localdate(), "на шалтеру")
    result = services.import_statement(
        act(accountant), fee.authority, statement(Entry(fee.reference, "500.00", ref="9")), "x"
    )
    assert result.matched == 1 and result.paid == []
    late = Payment.objects.get(source=Payment.Source.STATEMENT)
    assert late.note == "The fee was already paid: this payment may have to be refunded."


def test_another_authoritys_reference_matches_nothing(
    certificate: ServiceVersion, citizen: User, stranger: User, system: Actor
) -> None:
    _case, (fee, _copies) = apply(citizen, certificate)
    other = Authority.objects.get(code="apr")
    authorities.set_fee_account(
        system, other, account=make_account("840", "1002"), payment_code=102
    )
    theirs = statement(Entry(fee.reference, "500.00", ref="1"), account=other.account)
    result = services.import_statement(act(stranger), other, theirs, "apr.xml")
    assert (result.matched, result.unmatched) == (0, 1)
    fee.refresh_from_db()
    assert fee.state == "due"


def test_only_a_statement_of_the_fee_account_by_its_people(
    paying: Authority, accountant: User, clerk: User
) -> None:
    with pytest.raises(PermissionDenied):
        services.import_statement(act(clerk), paying, statement(), "s.xml")
    with pytest.raises(ValidationError) as wrong:
        services.import_statement(
            act(accountant),
            paying,
            statement(Entry("", "1.00"), account=make_account("160", "5")),
            "s.xml",
        )
    assert "This is a statement of account 160" in wrong.value.message_dict["file"][0]
    with pytest.raises(ValidationError) as broken:
        services.import_statement(act(accountant), paying, b"<Document><x>", "s.xml")
    assert "cannot be read as a camt.053 bank statement" in broken.value.message_dict["file"][0]
    assert not Statement.objects.exists()


def test_a_case_that_cannot_move_on_keeps_its_payment(
    certificate: ServiceVersion, citizen: User, accountant: User, monkeypatch: Any
) -> None:
    _case, (fee, copies) = apply(citizen, certificate, copies=1)

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise CaseError("the seal is not available")

    monkeypatch.setattr(cases, "take_automatic_step", refuse)
    day = statement(Entry(fee.reference, "500", ref="1"), Entry(copies.reference, "150", ref="2"))
    result = services.import_statement(act(accountant), fee.authority, day, "d.xml")
    assert len(result.paid) == 2
    assert result.problems == [
        f"Case {fee.case.registry_number} is paid but could not move on: the seal is not available"
    ]


# --- at the same time (PostgreSQL: row locks from two connections) ---------------------------


def _together(*jobs: Any) -> list[Any]:
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int) -> None:
        from django.db import connection as own

        translation.activate("en")
        try:
            barrier.wait()
            results[i] = jobs[i]()
        except Exception as exc:  # noqa: BLE001 — handed back to the test
            results[i] = exc
        finally:
            own.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_statements_at_once_count_each_payment_once(
    certificate: ServiceVersion, citizen: User, accountant: User
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks from two connections; SQLite serialises whole transactions")
    case, (fee, copies) = apply(citizen, certificate, copies=1)
    authority = fee.authority
    both = Entry(fee.reference, "500", ref="1")
    first = statement(both, Entry(copies.reference, "150", ref="2"), statement_id="A")
    second = statement(both, Entry(copies.reference, "150", ref="2"), statement_id="B")
    results = _together(
        lambda: services.import_statement(act(accountant), authority, first, "a.xml"),
        lambda: services.import_statement(act(accountant), authority, second, "b.xml"),
    )
    assert all(isinstance(r, services.ImportResult) for r in results), results
    assert sorted((r.matched, r.duplicates) for r in results) == [(0, 2), (2, 0)]
    assert Payment.objects.count() == 2
    case.refresh_from_db()
    assert case.state == "submitted"
    assert CaseEvent.objects.filter(case=case, transition_id="paid").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_last_two_fees_paid_at_once_move_the_case_exactly_once(
    certificate: ServiceVersion, citizen: User, accountant: User
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks from two connections; SQLite serialises whole transactions")
    case, (fee, copies) = apply(citizen, certificate, copies=1)
    today = timezone.localdate()
    results = _together(
        lambda: services.import_statement(
            act(accountant), fee.authority, statement(Entry(fee.reference, "500", ref="1")), "a"
        ),
        lambda: services.confirm_manually(act(accountant), copies.pk, "150", today, "шалтер"),
    )
    assert not any(isinstance(r, Exception) for r in results), results
    case.refresh_from_db()
    assert case.state == "submitted"
    assert CaseEvent.objects.filter(case=case, transition_id="paid").count() == 1


def test_the_account_is_read_as_an_iban_too_and_every_statement_in_the_file_counts(
    certificate: ServiceVersion, citizen: User, accountant: User
) -> None:
    _case, (fee, copies) = apply(citizen, certificate, copies=1)
    authority = fee.authority
    plain = f"<Othr><Id>{ACCOUNT}</Id></Othr>".encode()
    iban = statement(Entry(fee.reference, "500", ref="1")).replace(
        plain, f"<IBAN>RS35{ACCOUNT}</IBAN>".encode()
    )
    assert services.import_statement(act(accountant), authority, iban, "iban.xml").matched == 1
    # The same entry with the account written the other way is the same entry.
    again = statement(Entry(fee.reference, "500", ref="1"), statement_id="S9")
    assert services.import_statement(act(accountant), authority, again, "x.xml").duplicates == 1

    other = make_account("160", "5")
    second = statement(Entry(copies.reference, "150", ref="2"), account=other, statement_id="S2")
    stmt = second[second.index(b"<Stmt>") : second.index(b"</BkToCstmrStmt>")]
    mixed = statement(Entry(copies.reference, "150", ref="3")).replace(
        b"</BkToCstmrStmt>", stmt + b"</BkToCstmrStmt>"
    )
    with pytest.raises(ValidationError, match="statement of account 160"):
        services.import_statement(act(accountant), authority, mixed, "mixed.xml")
    copies.refresh_from_db()
    assert copies.state == "due"
