"""Registry numbers (delovodni broj): 1, 2, 3, … per book and year, no gaps, no duplicates."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salter.audit import services as audit
from salter.audit.models import AuditEvent
from salter.authorities import services
from salter.authorities.models import Authority, RegistryBook, RegistryCounter
from salter.authorities.numbering import NumberingError, YearClosed, current_year
from salter.core.context import Actor
from salter.identity.models import User

ALLOCATED = "registry.number_allocated"


class Rollback(Exception):
    """Raised inside a submission's transaction to make it fail after taking a number."""


def allocate(actor: Actor, book: RegistryBook, *, commit: bool = True, **kwargs: Any) -> int:
    """Allocate as a submission does: in its own transaction (a savepoint inside a test)."""
    try:
        with transaction.atomic():
            number = services.allocate_number(actor, book, **kwargs).number
            if not commit:
                raise Rollback
    except Rollback:
        pass
    return number


def last_number(book: RegistryBook, year: int) -> int:
    return RegistryCounter.objects.get(book=book, year=year).last_number


@pytest.fixture
def book(authority: Authority) -> RegistryBook:
    return RegistryBook.objects.get(authority=authority, is_default=True)


def test_numbers_start_at_one_and_follow_the_template(system: Actor, book: RegistryBook) -> None:
    with transaction.atomic():
        first = services.allocate_number(system, book, year=2026)
        second = services.allocate_number(system, book, year=2026)
    assert (first.number, first.formatted) == (1, "01-1/2026")
    assert (second.number, second.formatted) == (2, "01-2/2026")
    assert second.book == book and second.year == 2026
    event = AuditEvent.objects.filter(action=ALLOCATED).latest("id")
    assert event.payload == {"book": "01", "year": 2026, "number": 2, "formatted": "01-2/2026"}
    assert (event.object_type, event.object_id) == ("authorities.registrybook", str(book.pk))
    assert event.authority_id == book.authority_id


def test_a_failed_submission_gives_its_number_to_the_next(
    system: Actor, book: RegistryBook
) -> None:
    assert allocate(system, book, year=2026) == 1
    assert allocate(system, book, year=2026, commit=False) == 2
    assert allocate(system, book, year=2026) == 2
    assert last_number(book, 2026) == 2
    numbers = [e.payload["number"] for e in AuditEvent.objects.filter(action=ALLOCATED)]
    assert numbers == [1, 2], "the audit event of the failed submission is rolled back too"


def test_a_new_year_starts_again_at_one(system: Actor, book: RegistryBook) -> None:
    assert [allocate(system, book, year=2026) for _ in range(3)] == [1, 2, 3]
    assert allocate(system, book, year=2027) == 1
    assert allocate(system, book, year=2026) == 4
    assert allocate(system, book, year=2027) == 2


def test_books_count_separately(system: Actor, authority: Authority, book: RegistryBook) -> None:
    other = RegistryBook.objects.create(authority=authority, code="02", name="Пописник")
    assert allocate(system, book, year=2026) == 1
    assert allocate(system, other, year=2026) == 1
    assert allocate(system, book, year=2026) == 2


def test_template_with_unit(system: Actor, authority: Authority) -> None:
    book = RegistryBook.objects.create(
        authority=authority,
        code="351",
        name="Урбанизам",
        number_template="{book}-{number}/{year}-{unit}",
    )
    with transaction.atomic():
        allocation = services.allocate_number(system, book, year=2026, unit_code="04")
        assert allocation.formatted == "351-1/2026-04"
        with pytest.raises(ValueError, match="needs a unit code"):
            services.allocate_number(system, book, year=2026)
    assert last_number(book, 2026) == 1, "a refused allocation does not move the counter"


def test_year_defaults_to_the_current_year_in_belgrade(system: Actor, book: RegistryBook) -> None:
    with transaction.atomic():
        allocation = services.allocate_number(system, book)
    assert allocation.year == timezone.localtime(timezone=timezone.get_default_timezone()).year


def test_the_year_turns_at_midnight_in_belgrade_not_in_utc() -> None:
    new_years_eve_utc = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January here
    assert current_year(new_years_eve_utc) == 2027
    with timezone.override("America/New_York"):  # a time zone activated for display
        assert current_year(new_years_eve_utc) == 2027
    assert current_year(datetime(2026, 12, 31, 22, 30, tzinfo=UTC)) == 2026


def test_a_closed_year_refuses_numbers(system: Actor, book: RegistryBook) -> None:
    assert allocate(system, book, year=2025) == 1
    counter = services.close_year(system, book, 2025)
    assert counter.closed_at is not None and counter.last_number == 1
    with transaction.atomic(), pytest.raises(YearClosed, match="closed for 2025"):
        services.allocate_number(system, book, year=2025)
    assert last_number(book, 2025) == 1
    assert allocate(system, book, year=2026) == 1, "other years stay open"


def test_closing_is_audited_once_and_idempotent(system: Actor, book: RegistryBook) -> None:
    first = services.close_year(system, book, 2024)
    again = services.close_year(system, book, 2024)
    assert again.closed_at == first.closed_at
    events = AuditEvent.objects.filter(action="registry.year_closed")
    assert [e.payload for e in events] == [{"book": "01", "year": 2024, "last_number": 0}]
    with transaction.atomic(), pytest.raises(YearClosed):
        services.allocate_number(system, book, year=2024)


def test_a_year_cannot_be_closed_before_31_december(system: Actor, book: RegistryBook) -> None:
    next_year = current_year() + 1
    with pytest.raises(NumberingError, match="before 31 December"):
        services.close_year(system, book, next_year)
    assert not RegistryCounter.objects.filter(book=book, year=next_year).exists()


def test_only_an_administrator_closes_a_year(official: User, book: RegistryBook) -> None:
    with pytest.raises(PermissionDenied):
        services.close_year(Actor(user=official), book, 2025)
    assert not RegistryCounter.objects.filter(book=book, year=2025).exists()


def test_allocation_in_an_existing_year_costs_five_queries(
    system: Actor, book: RegistryBook, django_assert_max_num_queries: Any
) -> None:
    allocate(system, book, year=2026)
    with transaction.atomic():
        # lock the counter, save it; audit: lock the chain head, insert the event, move the head
        with django_assert_max_num_queries(5):
            services.allocate_number(system, book, year=2026)


@pytest.mark.django_db(transaction=True)
def test_allocation_outside_a_transaction_is_refused(system: Actor, book: RegistryBook) -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        services.allocate_number(system, book, year=2026)
    assert not RegistryCounter.objects.exists()


TEMPLATES = ["{book}-{number}/{year}", "{number}/{year}", "{year}-{book}-{number}"]


def expected_format(template: str, code: str, number: int, year: int) -> str:
    return {
        "{book}-{number}/{year}": f"{code}-{number}/{year}",
        "{number}/{year}": f"{number}/{year}",
        "{year}-{book}-{number}": f"{year}-{code}-{number}",
    }[template]


@pytest.fixture
def three_books(authority: Authority, book: RegistryBook) -> list[RegistryBook]:
    book.number_template = TEMPLATES[0]
    book.save()
    others = [
        RegistryBook.objects.create(
            authority=authority, code=f"0{i + 1}", name="Књига", number_template=TEMPLATES[i]
        )
        for i in (1, 2)
    ]
    return [book, *others]


# The books fixture is shared by every example on purpose; each example runs in a savepoint
# that is rolled back at its end, so it starts from empty counters and an unchanged audit log.
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_committed_numbers_are_one_to_k_without_gaps(
    system: Actor, three_books: list[RegistryBook], data: st.DataObject
) -> None:
    books = three_books[: data.draw(st.integers(1, 3), label="books")]
    years = data.draw(st.lists(st.integers(2000, 2100), min_size=1, max_size=3, unique=True))
    steps = data.draw(
        st.lists(
            st.tuples(st.sampled_from(books), st.sampled_from(years), st.booleans()), max_size=40
        ),
        label="steps (book, year, commit)",
    )
    with transaction.atomic():
        committed: dict[tuple[str, int], list[str]] = defaultdict(list)
        for book, year, commit in steps:
            key = (book.code, year)
            try:
                with transaction.atomic():
                    allocation = services.allocate_number(system, book, year=year)
                    assert allocation.number == len(committed[key]) + 1
                    assert allocation.formatted == expected_format(
                        book.number_template, book.code, allocation.number, year
                    )
                    if not commit:
                        raise Rollback
            except Rollback:
                continue
            committed[key].append(allocation.formatted)

        for book in books:
            for year in years:
                formatted = committed[(book.code, year)]
                expected = [
                    expected_format(book.number_template, book.code, n, year)
                    for n in range(1, len(formatted) + 1)
                ]
                assert formatted == expected
                counter = RegistryCounter.objects.filter(book=book, year=year).first()
                assert (counter.last_number if counter else 0) == len(formatted)
        audited = sorted(
            (e.payload["book"], e.payload["year"], e.payload["number"])
            for e in AuditEvent.objects.filter(action=ALLOCATED)
        )
        assert audited == sorted(
            (code, year, n) for (code, year), f in committed.items() for n in range(1, len(f) + 1)
        )
        transaction.set_rollback(True)


THREADS = 8
PER_THREAD = 25


@pytest.mark.postgres_only
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs concurrent writers; SQLite serialises them with BEGIN IMMEDIATE instead",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_have_no_gaps_or_duplicates(
    system: Actor, book: RegistryBook
) -> None:
    start = threading.Barrier(THREADS)
    committed: list[int] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def submit(thread: int) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                commit = (thread + i) % 4 != 0  # about a quarter of the submissions fail
                number = allocate(system, book, year=2026, commit=commit)
                if commit:
                    with lock:
                        committed.append(number)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not failures, failures
    total = len(committed)
    assert total == sum((t + i) % 4 != 0 for t in range(THREADS) for i in range(PER_THREAD))
    assert sorted(committed) == list(range(1, total + 1))
    assert last_number(book, 2026) == total
    assert AuditEvent.objects.filter(action=ALLOCATED).count() == total
    assert audit.verify().ok
