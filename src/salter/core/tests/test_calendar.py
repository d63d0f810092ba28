"""Working-day calendar: the holidays law, the čl. 3a Sunday rule and ZUP deadline arithmetic."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from salter.core.calendar import (
    Calendar,
    add_calendar_days,
    add_working_days,
    holidays,
    holidays_sr,
    is_working_day,
    orthodox_easter,
    working_day_on_or_after,
    working_days_between,
)

# Leave room for moving a few years either way without leaving the supported 1900–2099.
dates = st.dates(min_value=date(1903, 1, 1), max_value=date(2096, 12, 31))
day_counts = st.integers(min_value=0, max_value=400)


def _brute_force_between(a: date, b: date) -> int:
    return sum(is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2016, date(2016, 5, 1)),
        (2021, date(2021, 5, 2)),
        (2023, date(2023, 4, 16)),
        (2024, date(2024, 5, 5)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 12)),
        (2027, date(2027, 5, 2)),
    ],
)
def test_orthodox_easter_known_dates(year: int, easter: date) -> None:
    assert orthodox_easter(year) == easter


def test_orthodox_easter_is_a_sunday_between_4_april_and_8_may() -> None:
    wrong = [
        easter
        for easter in map(orthodox_easter, range(1900, 2100))
        if easter.weekday() != 6 or not date(easter.year, 4, 4) <= easter <= date(easter.year, 5, 8)
    ]
    assert wrong == [], "Easter dates that are not a Sunday from 4 April to 8 May"


@pytest.mark.parametrize("year", [1899, 2100])
def test_years_outside_the_easter_offset_are_refused(year: int) -> None:
    with pytest.raises(ValueError, match="1900–2099"):
        orthodox_easter(year)
    with pytest.raises(ValueError, match="1900–2099"):
        is_working_day(date(year, 6, 1))


def test_holidays_2026() -> None:
    # 15 February 2026 is a Sunday and the 16th is already off, so Tuesday the 17th is too.
    assert holidays(2026) == {
        date(2026, 1, 1): "New Year's Day",
        date(2026, 1, 2): "New Year's Day (second day)",
        date(2026, 1, 7): "Orthodox Christmas",
        date(2026, 2, 15): "Statehood Day",
        date(2026, 2, 16): "Statehood Day (second day)",
        date(2026, 2, 17): "Statehood Day (carried over from Sunday)",
        date(2026, 4, 10): "Good Friday",
        date(2026, 4, 11): "Holy Saturday",
        date(2026, 4, 12): "Easter Sunday",
        date(2026, 4, 13): "Easter Monday",
        date(2026, 5, 1): "Labour Day",
        date(2026, 5, 2): "Labour Day (second day)",
        date(2026, 11, 11): "Armistice Day",
    }


def test_serbian_names_are_cyrillic_and_cover_the_same_days() -> None:
    names = holidays_sr(2026)
    assert names.keys() == holidays(2026).keys()
    assert names[date(2026, 1, 1)] == "Нова година"
    assert names[date(2026, 1, 7)] == "Божић"
    assert names[date(2026, 2, 15)] == "Сретење — Дан државности Србије"
    assert names[date(2026, 2, 17)] == "Сретење — Дан државности Србије (пренето са недеље)"
    assert names[date(2026, 4, 10)] == "Велики петак"
    assert names[date(2026, 4, 12)] == "Васкрс"
    assert names[date(2026, 5, 1)] == "Празник рада"
    assert names[date(2026, 11, 11)] == "Дан примирја у Првом светском рату"


@pytest.mark.parametrize(
    ("day", "working", "why"),
    [
        (date(2026, 4, 10), False, "Good Friday 2026"),
        (date(2025, 11, 11), False, "Armistice Day on a Tuesday"),
        (date(2025, 11, 10), True, "no bridge day before Armistice Day"),
        (date(2025, 11, 12), True, "no day after Armistice Day"),
        (date(2023, 1, 3), False, "1 Jan 2023 Sunday, 2 Jan already off → 3 Jan (čl. 3a)"),
        (date(2023, 1, 4), True, "only one day is carried over"),
        (date(2022, 1, 3), False, "2 Jan 2022 Sunday → Monday 3 Jan (čl. 3a)"),
        (date(2025, 2, 17), False, "16 Feb 2025 Sunday → Monday 17 Feb (čl. 3a)"),
        (date(2018, 11, 12), False, "11 Nov 2018 Sunday → Monday 12 Nov (čl. 3a)"),
        (date(2018, 1, 8), True, "Christmas is religious: not carried over from Sunday"),
        (date(2029, 1, 8), True, "Christmas is religious: not carried over from Sunday"),
        (date(2025, 4, 22), True, "Easter is religious: Easter Sunday is not carried over"),
        (date(2025, 5, 9), True, "Victory Day is worked (čl. 3)"),
        (date(2026, 1, 6), True, "Christmas Eve is only a Government recommendation"),
        (date(2016, 5, 3), False, "Labour Day 1 May 2016 = Easter Sunday, 2 May = Easter Monday"),
        (date(2016, 5, 4), True, "only one day is carried over"),
        (date(2021, 5, 4), False, "2 May 2021 Sunday, 3 May Easter Monday → 4 May"),
        (date(2027, 5, 4), False, "2 May 2027 Sunday, 3 May Easter Monday → 4 May"),
        (date(2027, 5, 5), True, "only one day is carried over"),
        (date(2026, 3, 14), False, "Saturday"),
        (date(2026, 3, 15), False, "Sunday"),
        (date(2026, 3, 16), True, "ordinary Monday"),
    ],
)
def test_is_working_day(day: date, working: bool, why: str) -> None:
    assert is_working_day(day) is working, why


def test_labour_day_2027_overlaps_easter() -> None:
    # 1 May is Holy Saturday and 2 May (a Sunday) is Easter Sunday; Monday 3 May is Easter
    # Monday, so the day carried over for Labour Day's Sunday is Tuesday 4 May.
    assert {
        d: n for d, n in holidays(2027).items() if date(2027, 4, 30) <= d <= date(2027, 5, 5)
    } == {
        date(2027, 4, 30): "Good Friday",
        date(2027, 5, 1): "Labour Day / Holy Saturday",
        date(2027, 5, 2): "Labour Day (second day) / Easter Sunday",
        date(2027, 5, 3): "Easter Monday",
        date(2027, 5, 4): "Labour Day (carried over from Sunday)",
    }
    assert add_working_days(date(2027, 4, 29), 1) == date(2027, 5, 5)


def test_holidays_returns_a_copy() -> None:
    holidays(2026).clear()
    assert date(2026, 1, 1) in holidays(2026)


def test_extra_holidays_apply_only_to_their_calendar() -> None:
    local = Calendar(extra_holidays={date(2026, 1, 6): "Бадњи дан", date(2026, 1, 7): "Local"})
    assert not local.is_working_day(date(2026, 1, 6))
    assert is_working_day(date(2026, 1, 6))
    assert local.holidays(2026)[date(2026, 1, 6)] == "Бадњи дан"
    assert local.holidays_sr(2026)[date(2026, 1, 7)] == "Божић / Local"
    assert date(2026, 1, 6) not in local.holidays(2025)
    # Monday 5 Jan → Thursday 8 Jan: 6 and 7 January are both off.
    assert local.add_working_days(date(2026, 1, 5), 1) == date(2026, 1, 8)
    assert local.working_days_between(date(2025, 12, 31), date(2026, 1, 8)) == 2


def test_extra_holidays_outside_the_supported_years_are_refused() -> None:
    with pytest.raises(ValueError, match="1900–2099"):
        Calendar(extra_holidays={date(2100, 1, 1): "Too late"})


@pytest.mark.parametrize(
    ("start", "n", "end"),
    [
        (date(2026, 4, 9), 1, date(2026, 4, 14)),  # Thursday before Easter → Tuesday after
        (date(2026, 3, 16), 5, date(2026, 3, 23)),  # a plain week
        (date(2026, 3, 14), 0, date(2026, 3, 16)),  # Saturday, n = 0 → Monday
        (date(2026, 3, 16), 0, date(2026, 3, 16)),  # working day, n = 0 → itself
        (date(2025, 12, 31), 1, date(2026, 1, 5)),  # across New Year
        (date(2026, 1, 1), 15, date(2026, 1, 26)),  # Christmas on Wednesday 7 Jan
    ],
)
def test_add_working_days(start: date, n: int, end: date) -> None:
    assert add_working_days(start, n) == end


@pytest.mark.parametrize(
    ("start", "n", "end"),
    [
        (date(2026, 3, 27), 15, date(2026, 4, 14)),  # ends on Holy Saturday → after Easter
        (date(2025, 12, 8), 30, date(2026, 1, 8)),  # ends on Christmas → next day
        (date(2026, 3, 2), 15, date(2026, 3, 17)),  # ends on a Tuesday → unchanged
        (date(2026, 3, 6), 8, date(2026, 3, 16)),  # ends on Saturday → Monday
    ],
)
def test_add_calendar_days_moves_a_deadline_off_non_working_days(
    start: date, n: int, end: date
) -> None:
    assert add_calendar_days(start, n) == end


def test_negative_day_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 1, 1), -1)
    with pytest.raises(ValueError, match="negative"):
        add_calendar_days(date(2026, 1, 1), -1)


@pytest.mark.parametrize(
    ("a", "b", "count"),
    [
        (date(2026, 4, 9), date(2026, 4, 14), 1),
        (date(2026, 4, 14), date(2026, 4, 9), -1),
        (date(2026, 4, 9), date(2026, 4, 9), 0),
        (date(2025, 12, 31), date(2026, 1, 5), 1),
        (date(2025, 12, 31), date(2026, 12, 31), 252),  # 261 weekdays, 9 holidays on them
    ],
)
def test_working_days_between(a: date, b: date, count: int) -> None:
    assert working_days_between(a, b) == count


@given(dates, st.integers(min_value=1, max_value=400))
def test_add_working_days_lands_on_a_working_day(start: date, n: int) -> None:
    end = add_working_days(start, n)
    assert end > start
    assert is_working_day(end)


@given(dates, day_counts)
def test_add_working_days_is_monotonic(start: date, n: int) -> None:
    assert add_working_days(start, n) <= add_working_days(start, n + 1)
    if n >= 1:
        assert add_working_days(start, n) < add_working_days(start, n + 1)


@given(dates, day_counts)
def test_working_days_between_inverts_add_working_days(start: date, n: int) -> None:
    assume(is_working_day(start))
    assert working_days_between(start, add_working_days(start, n)) == n


@given(dates, st.integers(min_value=-800, max_value=800))
def test_working_days_between_matches_counting_day_by_day(a: date, offset: int) -> None:
    b = a + timedelta(days=offset)
    expected = _brute_force_between(a, b) if b >= a else -_brute_force_between(b, a)
    assert working_days_between(a, b) == expected


@given(dates, day_counts)
def test_add_calendar_days_ends_on_the_first_working_day_from_start_plus_n(
    start: date, n: int
) -> None:
    end = add_calendar_days(start, n)
    assert end >= start + timedelta(days=n)
    assert is_working_day(end)
    # Nothing between start + n and the result is a working day: the move is minimal.
    assert end == working_day_on_or_after(start + timedelta(days=n))
    day = start + timedelta(days=n)
    while day < end:
        assert not is_working_day(day)
        day += timedelta(days=1)


@given(st.integers(min_value=1900, max_value=2099))
def test_every_holiday_is_a_non_working_day_of_its_year(year: int) -> None:
    days = holidays(year)
    assert all(d.year == year and not is_working_day(d) for d in days)
    assert orthodox_easter(year) in days
    # Victory Day is worked; 9 May is off only when it is Easter Monday (Easter on 8 May).
    assert days.get(date(year, 5, 9), "Easter Monday") == "Easter Monday"
