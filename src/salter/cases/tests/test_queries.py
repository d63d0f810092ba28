"""Reads: my cases, a case with its timeline, the work queue — visibility and flat costs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salter.cases import queries, services
from salter.cases.models import Task
from salter.catalog.models import ServiceVersion
from salter.core import calendar
from salter.identity.models import User

from .conftest import NEWBORN_FORM, OVERTIME_FORM, act, today

pytestmark = pytest.mark.django_db


def count(fn: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured)


def test_my_cases_newest_first_in_two_queries(
    newborn_aid: ServiceVersion,
    overtime: ServiceVersion,
    citizen: User,
    employee: User,
    django_assert_num_queries: Any,
) -> None:
    first, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    with django_assert_num_queries(2):
        assert [c.pk for c in queries.my_cases(citizen)] == [first.pk]
    more = [services.submit(act(citizen), newborn_aid, NEWBORN_FORM)[0] for _ in range(4)]
    services.submit(act(employee), overtime, OVERTIME_FORM)  # someone else's
    with django_assert_num_queries(2):
        mine = queries.my_cases(citizen)
        labels = [queries.state_label(c) for c in mine]
        tasks = [c.task.roles for c in mine]
    assert [c.pk for c in mine] == [c.pk for c in reversed([first, *more])]
    assert labels == ["Application submitted"] * 5
    assert tasks == [["clerk"]] * 5


def test_timeline_hides_internal_comments_from_the_applicant(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, django_assert_max_num_queries: Any
) -> None:
    case, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    services.comment(act(clerk), case, "Само за нас.")
    services.comment(act(clerk), case, "Примљено.", internal=False)

    with django_assert_max_num_queries(2):  # the applicant needs no role lookup
        mine = queries.case_with_timeline(case.pk, citizen)
    assert mine is not None and not mine.as_official
    assert [e.payload.get("text") for e in mine.events] == [None, "Примљено."]

    with django_assert_max_num_queries(3):
        theirs = queries.case_with_timeline(case.pk, clerk)
    assert theirs is not None and theirs.as_official
    assert [e.internal for e in theirs.events] == [False, True, False]


def test_nobody_else_sees_a_case(
    newborn_aid: ServiceVersion, citizen: User, make_official: Any, system: Any
) -> None:
    from salter.authorities import services as authorities

    case, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    neighbour = User.objects.create_user("komsija@example.rs", "x", full_name="Комшија")
    elsewhere = authorities.create_authority(system, code="vranje", name="Врање", kind="other")
    unit = authorities.create_unit(system, elsewhere, code="u", name="Одељење")
    foreign = make_official("strani@vranje.demo", "Страни Службеник", "clerk", in_unit=unit)
    assert queries.case_with_timeline(case.pk, neighbour) is None
    assert queries.case_with_timeline(case.pk, foreign) is None
    assert queries.case_with_timeline(case.pk + 1000, citizen) is None


def test_timeline_cost_does_not_grow_with_events(
    newborn_aid: ServiceVersion, citizen: User, clerk: User
) -> None:
    case, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    few = count(lambda: queries.case_with_timeline(case.pk, clerk))
    for i in range(10):
        services.comment(act(clerk), case, f"Белешка {i}")
    view = queries.case_with_timeline(case.pk, clerk)
    assert view is not None and len(view.events) == 11
    assert count(lambda: [(e.actor, e.unit) for e in view.events]) == 0
    assert count(lambda: queries.case_with_timeline(case.pk, clerk)) == few


def test_work_queue_by_role_with_marks(
    newborn_aid: ServiceVersion,
    overtime: ServiceVersion,
    citizen: User,
    employee: User,
    clerk: User,
    head: User,
    django_assert_num_queries: Any,
) -> None:
    aid = [services.submit(act(citizen), newborn_aid, NEWBORN_FORM)[0] for _ in range(3)]
    ot, _ = services.submit(act(employee), overtime, OVERTIME_FORM)
    Task.objects.filter(case=aid[0]).update(due_at=today() - timedelta(days=1))
    Task.objects.filter(case=aid[1]).update(due_at=calendar.add_working_days(today(), 2))

    with django_assert_num_queries(3):
        items = queries.work_queue(clerk)
        labels = [queries.state_label(i.case) for i in items]
    assert [i.case.pk for i in items] == [aid[0].pk, aid[1].pk, aid[2].pk]
    assert [(i.overdue, i.near_deadline) for i in items] == [
        (True, False),
        (False, True),
        (False, False),
    ]
    assert labels == ["Application submitted"] * 3
    # The head of unit approves overtime; clerks never see it, the head sees only that.
    assert [i.case.pk for i in queries.work_queue(head)] == [ot.pk]
    assert [i.case.pk for i in queries.work_queue(clerk, overdue=True)] == [aid[0].pk]
    assert len(queries.work_queue(clerk, overdue=False)) == 2
    assert queries.work_queue(clerk, state="in_review") == []
    assert queries.work_queue(citizen) == []

    services.claim(act(clerk), aid[2].task)
    assert [i.case.pk for i in queries.work_queue(clerk, assigned_to_me=True)] == [aid[2].pk]
    assert len(queries.work_queue(clerk, assigned_to_me=False)) == 2
    # A case waiting for the applicant leaves the officials' queue.
    services.take_transition(act(clerk), aid[2], "start_review")
    services.take_transition(
        act(clerk), aid[2], "request_supplement", inputs={"supplement_request": "Пошаљите извод."}
    )
    assert aid[2].pk not in [i.case.pk for i in queries.work_queue(clerk)]


def test_work_queue_cost_does_not_grow_with_tasks(
    newborn_aid: ServiceVersion, citizen: User, clerk: User
) -> None:
    services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    few = count(lambda: queries.work_queue(clerk))
    for _ in range(8):
        services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    assert count(lambda: queries.work_queue(clerk)) == few == 3


# --- keyset paging of the queue ----------------------------------------------------------------


def walk(user: User, size: int, **filters: Any) -> list[list[int]]:
    """Every page of ``user``'s queue, following each page's last position: task ids."""
    pages: list[list[int]] = []
    after = None
    for _page in range(100):
        items = queries.work_queue(user, after=after, limit=size, **filters)
        if not items:
            break
        pages.append([i.task.pk for i in items])
        after = queries.queue_position(items[-1])
    return pages


def queue_order(tasks: Any) -> list[int]:
    """The queue's order, computed in Python: by deadline (none last), then by id."""
    rows = [(t.due_at is None, t.due_at or date.min, t.pk) for t in tasks]
    return [pk for _none, _due, pk in sorted(rows)]


@pytest.fixture
def twelve_tasks(newborn_aid: ServiceVersion, citizen: User) -> list[int]:
    cases = [services.submit(act(citizen), newborn_aid, NEWBORN_FORM)[0] for _ in range(12)]
    return [c.task.pk for c in cases]


DUE = st.one_of(st.none(), st.integers(-3, 3).map(lambda d: today() + timedelta(days=d)))


# The tasks are shared by every example; each example only sets their deadlines.
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(dues=st.lists(DUE, min_size=12, max_size=12), size=st.integers(1, 13))
def test_walking_the_pages_yields_every_task_once_in_order(
    twelve_tasks: list[int], clerk: User, dues: list[date | None], size: int
) -> None:
    for pk, due in zip(twelve_tasks, dues, strict=True):
        Task.objects.filter(pk=pk).update(due_at=due)
    pages = walk(clerk, size)
    assert [pk for page in pages for pk in page] == queue_order(Task.objects.all())
    assert all(len(page) == size for page in pages[:-1])
    assert [i.task.pk for i in queries.work_queue(clerk, limit=size)] == (pages or [[]])[0]


def test_paging_keeps_the_filters_and_ties_on_one_day(twelve_tasks: list[int], clerk: User) -> None:
    same_day = today() - timedelta(days=1)
    Task.objects.filter(pk__in=twelve_tasks[:7]).update(due_at=same_day)
    Task.objects.filter(pk__in=twelve_tasks[7:10]).update(due_at=None)
    t = twelve_tasks  # 0–6 overdue on one day, 10–11 due in 30 days, 7–9 without a deadline
    assert walk(clerk, 3) == [t[0:3], t[3:6], [t[6], t[10], t[11]], t[7:10]]
    overdue = walk(clerk, 2, overdue=True)
    assert [pk for page in overdue for pk in page] == t[:7]
    assert walk(clerk, 4, overdue=False) == [[t[10], t[11], t[7], t[8]], [t[9]]]
    # After the last task's position, nothing is left.
    assert queries.work_queue(clerk, after=(None, t[9])) == []


def test_a_deep_page_costs_what_the_first_one_does(
    twelve_tasks: list[int], clerk: User, django_assert_num_queries: Any
) -> None:
    Task.objects.filter(pk__in=twelve_tasks[6:]).update(due_at=None)
    with django_assert_num_queries(3):
        first = queries.work_queue(clerk, limit=2)
    with django_assert_num_queries(3):
        deep = queries.work_queue(clerk, after=(None, twelve_tasks[8]), limit=2)
    assert [i.task.pk for i in first] == twelve_tasks[:2]
    assert [i.task.pk for i in deep] == twelve_tasks[9:11]
    assert all(i.case.service_version.definition for i in deep)  # loaded, no query more


def test_positions_travel_as_opaque_cursors() -> None:
    for position in [(date(2026, 12, 1), 42), (None, 7), (date(9999, 12, 31), 10**12)]:
        cursor = queries.encode_position(position)
        assert cursor.isascii() and cursor.replace("-", "").replace("_", "").isalnum()
        assert queries.decode_position(cursor) == position
    for junk in ["", "x", "!!!", "MjAyNi0xMy0wMS40Mg", "LjA", "Lg", "a" * 41, "Li01"]:
        assert queries.decode_position(junk) is None, junk
