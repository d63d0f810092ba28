"""Working days and legal deadlines (rokovi) in Serbia.

A working day is a day that is neither a Saturday, a Sunday nor a public holiday that is a
non-working day (neradni dan) for everyone. The holidays come from the Law on State and Other
Holidays in the Republic of Serbia (Zakon o državnim i drugim praznicima u Republici Srbiji,
"Sl. glasnik RS" 43/2001, 101/2007 and 92/2011), as follows:

- čl. 1 and 1a, state holidays (državni praznici): New Year, 1 and 2 January; Statehood Day
  (Sretenje — Dan državnosti Srbije), 15 and 16 February; Labour Day, 1 and 2 May; Armistice
  Day, 11 November. Victory Day (9 May) is also a state holiday, but čl. 3 makes it a working
  day, so it is not in this calendar.
- čl. 2, religious holidays observed by everyone (verski praznici): the first day of Orthodox
  Christmas, 7 January, and Orthodox Easter from Good Friday to the second day of Easter
  (Easter Monday), Holy Saturday included.
- čl. 3a, the Sunday rule: "if one of the dates on which state holidays are observed falls on a
  Sunday, the first following working day is a non-working day". The rule names *state*
  holidays only, so here it applies to New Year, Statehood Day, Labour Day and Armistice Day,
  and never to Christmas or Easter. When 7 January 2018 fell on a Sunday, the labour ministry
  confirmed that religious holidays do not move, so Monday 8 January was a working day.
  "First following working day" means the first day that is not already off: a Saturday,
  Sunday or another holiday is skipped. So 1 January 2023 (a Sunday, with 2 January already a
  holiday) makes Tuesday 3 January non-working. In 2016, 2021 and 2027, Labour Day's second day
  is Easter Sunday and Easter Monday is already off, so the extra day is Tuesday 4 May (3 May in
  2016).
- čl. 4, holidays of other confessions (Catholic Christmas and Easter, Bajram, Yom Kippur,
  krsna slava), are non-working only for their adherents, so they are left out. So are
  Government recommendations and one-off decisions that are not in the law, for example the
  recommendation that Christmas Eve (Badnji dan, 6 January) be a day off. Add such days, or an
  authority's local holiday, with ``Calendar(extra_holidays=...)``. Extra days do not move the
  čl. 3a carry-over days, which the law fixes by itself.

The law's current text is applied to every year. Earlier versions (before Armistice Day was
added in 2011) are not modelled. Orthodox Easter is computed with Meeus's Julian algorithm and
then moved 13 days to the Gregorian calendar. That offset only holds from 1900 to 2099, so
other years raise ``ValueError``.

Deadlines follow the Law on General Administrative Procedure (ZUP, section "Računanje rokova"):
a time limit counts from the day after the event that starts it (delivery, submission), and a
time limit whose last day falls on a day the authority does not work ends on the next working
day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType

FIRST_YEAR = 1900
LAST_YEAR = 2099

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5
_SUNDAY = 6

# (English, Serbian Cyrillic) name of a holiday day.
_Names = tuple[str, str]

# State holidays (čl. 1 and 1a): their names and the (month, day) dates they are observed on.
_STATE_HOLIDAYS: tuple[tuple[_Names, tuple[tuple[int, int], ...]], ...] = (
    (("New Year's Day", "Нова година"), ((1, 1), (1, 2))),
    (("Statehood Day", "Сретење — Дан државности Србије"), ((2, 15), (2, 16))),
    (("Labour Day", "Празник рада"), ((5, 1), (5, 2))),
    (("Armistice Day", "Дан примирја у Првом светском рату"), ((11, 11),)),
)
_CHRISTMAS: _Names = ("Orthodox Christmas", "Божић")
# Days of the Easter holidays (čl. 2), as offsets from Easter Sunday.
_EASTER_DAYS: tuple[tuple[int, _Names], ...] = (
    (-2, ("Good Friday", "Велики петак")),
    (-1, ("Holy Saturday", "Велика субота")),
    (0, ("Easter Sunday", "Васкрс")),
    (1, ("Easter Monday", "Васкрсни понедељак")),
)
_SECOND_DAY: _Names = (" (second day)", " (други дан)")
_CARRIED_OVER: _Names = (" (carried over from Sunday)", " (пренето са недеље)")


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"The calendar covers {FIRST_YEAR}–{LAST_YEAR}, not {year}.")


def orthodox_easter(year: int) -> date:
    """Return the Gregorian date of Orthodox Easter Sunday (Vaskrs) in ``year``, 1900–2099."""
    _check_year(year)
    # Meeus, "Astronomical Algorithms", Julian Easter.
    a, b, c = year % 4, year % 7, year % 19
    d = (19 * c + 15) % 30
    e = (2 * a + 4 * b - d + 34) % 7
    month, day = divmod(d + e + 114, 31)
    # The Julian calendar runs 13 days behind the Gregorian one from 1900 to 2099.
    return date(year, month, day + 1) + timedelta(days=13)


def _suffixed(names: _Names, suffix: _Names) -> _Names:
    return (names[0] + suffix[0], names[1] + suffix[1])


@lru_cache(maxsize=256)
def _statutory_holidays(year: int) -> Mapping[date, _Names]:
    """Non-working days that the holidays law gives everyone in ``year``, cached per year."""
    _check_year(year)
    days: dict[date, _Names] = {}

    def add(day: date, names: _Names) -> None:
        # Holidays can overlap (Labour Day and Easter in 2016, 2021 and 2027): keep both names.
        if day in days:
            names = (f"{days[day][0]} / {names[0]}", f"{days[day][1]} / {names[1]}")
        days[day] = names

    for names, dates in _STATE_HOLIDAYS:
        for index, (month, day) in enumerate(dates):
            add(date(year, month, day), _suffixed(names, _SECOND_DAY) if index else names)
    add(date(year, 1, 7), _CHRISTMAS)
    easter = orthodox_easter(year)
    for offset, names in _EASTER_DAYS:
        add(easter + timedelta(days=offset), names)

    # čl. 3a, applied once all the holidays are known, because the carried-over day must skip
    # them (1 January 2023 on a Sunday → 3 January, since 2 January is already off).
    for names, dates in _STATE_HOLIDAYS:
        for month, day in dates:
            if date(year, month, day).weekday() == _SUNDAY:
                carried = date(year, month, day) + _ONE_DAY
                while carried.weekday() >= _SATURDAY or carried in days:
                    carried += _ONE_DAY
                add(carried, _suffixed(names, _CARRIED_OVER))
    return MappingProxyType(dict(sorted(days.items())))


@lru_cache(maxsize=256)
def _statutory_days_off(year: int) -> frozenset[date]:
    return frozenset(_statutory_holidays(year))


def _weekdays_through(day: date) -> int:
    """Count the Mondays to Fridays from 1 January of year 1 (a Monday) through ``day``."""
    weeks, rest = divmod(day.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


class Calendar:
    """Serbian working days, optionally with extra non-working days.

    ``extra_holidays`` maps a date to its name, for days off that are not in the law, such as an
    authority's local holiday or a one-off Government decision. Each date applies only to its own
    year, so a recurring local holiday has to be listed for every year needed.
    """

    def __init__(self, extra_holidays: Mapping[date, str] | None = None) -> None:
        self._extra: dict[date, str] = dict(extra_holidays or {})
        by_year: dict[int, set[date]] = {}
        for day in self._extra:
            _check_year(day.year)
            by_year.setdefault(day.year, set()).add(day)
        self._extra_days = frozenset(self._extra)
        self._extra_by_year = {year: frozenset(days) for year, days in by_year.items()}

    def is_working_day(self, day: date) -> bool:
        """Return whether ``day`` is a working day: not a weekend, holiday or extra day off."""
        return (
            day.weekday() < _SATURDAY
            and day not in _statutory_days_off(day.year)
            and day not in self._extra_days
        )

    def holidays(self, year: int) -> dict[date, str]:
        """Return the non-working holidays of ``year``, with English names, in date order.

        Weekend days are included when a holiday falls on them. Days carried over under čl. 3a
        and extra holidays are included too.
        """
        return {day: names[0] for day, names in self._holidays(year).items()}

    def holidays_sr(self, year: int) -> dict[date, str]:
        """Return the same days as :meth:`holidays`, with Serbian Cyrillic names."""
        return {day: names[1] for day, names in self._holidays(year).items()}

    def _holidays(self, year: int) -> dict[date, _Names]:
        days = dict(_statutory_holidays(year))
        for day in self._extra_by_year.get(year, ()):
            name = self._extra[day]
            if day in days:
                days[day] = (f"{days[day][0]} / {name}", f"{days[day][1]} / {name}")
            else:
                days[day] = (name, name)
        return dict(sorted(days.items()))

    def working_day_on_or_after(self, day: date) -> date:
        """Return ``day`` if it is a working day, else the next working day."""
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def add_working_days(self, start: date, n: int) -> date:
        """Return the date ``n`` working days after ``start``.

        Counting starts the day after ``start``, so the result is the n-th working day after it.
        For ``n == 0`` the result is ``start`` itself, moved on to the next working day if
        ``start`` is not one.
        """
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}.")
        if n == 0:
            return self.working_day_on_or_after(start)
        day = start
        while n:
            day += _ONE_DAY
            if self.is_working_day(day):
                n -= 1
        return day

    def add_calendar_days(self, start: date, n: int) -> date:
        """Return the last day of a time limit of ``n`` calendar days that starts at ``start``.

        That is ``start + n`` (counting starts the day after ``start``). Under ZUP, a limit whose
        last day is not a working day ends on the next working day.
        """
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}.")
        return self.working_day_on_or_after(start + timedelta(days=n))

    def working_days_between(self, a: date, b: date) -> int:
        """Count the working days after ``a`` up to and including ``b``.

        This is the inverse of :meth:`add_working_days`: for a working day ``d``,
        ``working_days_between(d, add_working_days(d, n)) == n``. The count is negative when
        ``b`` comes before ``a``.
        """
        if b < a:
            return -self.working_days_between(b, a)
        count = _weekdays_through(b) - _weekdays_through(a)
        for year in range(a.year, b.year + 1):
            days_off = _statutory_days_off(year) | self._extra_by_year.get(year, frozenset())
            count -= sum(1 for day in days_off if a < day <= b and day.weekday() < _SATURDAY)
        return count


SERBIA = Calendar()
"""The calendar of the law alone, with no extra days off."""

is_working_day = SERBIA.is_working_day
holidays = SERBIA.holidays
holidays_sr = SERBIA.holidays_sr
working_day_on_or_after = SERBIA.working_day_on_or_after
add_working_days = SERBIA.add_working_days
add_calendar_days = SERBIA.add_calendar_days
working_days_between = SERBIA.working_days_between
