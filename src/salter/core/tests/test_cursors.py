"""Keyset cursors: a position comes back as it went out, the wire form is the one the lists
have always used, and nothing a client sends makes the decoder raise."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from salter.core.cursors import BY_DUE_DATE, BY_TIMESTAMP

ids = st.integers(min_value=1, max_value=2**63 - 1)  # a bigint primary key
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
# A timestamp the database can compare: one that can be moved to UTC (not year 1 at +01:00).
aware = st.datetimes(
    min_value=datetime.min + timedelta(days=1), max_value=datetime.max - timedelta(days=1)
).flatmap(lambda at: offsets.map(lambda offset: at.replace(tzinfo=offset)))
URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _wrapped(raw: bytes) -> str:
    """``raw`` as a cursor wraps it, whatever it holds."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _is_position(found: Any, value_type: type | tuple[type, ...]) -> bool:
    value, pk = found
    return isinstance(value, value_type) and isinstance(pk, int) and pk > 0


@given(aware, ids)
def test_a_timestamp_position_comes_back_as_it_went_out(at: datetime, pk: int) -> None:
    cursor = BY_TIMESTAMP.encode((at, pk))
    assert set(cursor) <= set(URL_SAFE)
    assert BY_TIMESTAMP.decode(cursor) == (at, pk)


@given(st.none() | st.dates(), ids)
def test_a_due_date_position_comes_back_as_it_went_out(due: date | None, pk: int) -> None:
    cursor = BY_DUE_DATE.encode((due, pk))
    assert set(cursor) <= set(URL_SAFE)
    assert BY_DUE_DATE.decode(cursor) == (due, pk)


def test_the_wire_form_is_unchanged() -> None:
    at = datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)
    assert BY_TIMESTAMP.encode((at, 12)) == _wrapped(b"2026-11-22T10:00:00.123456+00:00|12")
    assert BY_DUE_DATE.encode((date(2026, 12, 1), 42)) == _wrapped(b"2026-12-01.42")
    assert BY_DUE_DATE.encode((None, 7)) == _wrapped(b".7")


def test_what_is_not_a_cursor_is_none() -> None:
    for junk in ("", None, "x", "!!!", "a" * 81, _wrapped(b"2026-11-22T10:00:00|5")):
        assert BY_TIMESTAMP.decode(junk) is None, junk  # the last: a timestamp without offset
    for junk in ("", "x", "a" * 41, _wrapped(b"2026-13-01.42"), _wrapped(b".0"), _wrapped(b".-1")):
        assert BY_DUE_DATE.decode(junk) is None, junk


def test_a_position_out_of_the_databases_range_is_none() -> None:
    """An id no table holds, a timestamp with no UTC form: a client's invention, not a page."""
    assert BY_DUE_DATE.decode(_wrapped(f".{2**63}".encode())) is None
    assert BY_DUE_DATE.decode(_wrapped(f".{2**63 - 1}".encode())) == (None, 2**63 - 1)
    assert BY_TIMESTAMP.decode(_wrapped(b"0001-01-01T00:00:00+01:00|1")) is None
    assert BY_TIMESTAMP.decode(_wrapped(b"9999-12-31T23:59:59-01:00|1")) is None


garbage = (
    st.text()
    | st.text(alphabet=URL_SAFE)
    | st.binary().map(_wrapped)
    | st.tuples(st.text(), st.sampled_from(["|", "."]), st.text())
    .map(lambda t: "".join(t).encode())
    .map(_wrapped)
)


@given(garbage)
@example("=")
@example("====")
@example(_wrapped(b"\xff|1"))
@example(_wrapped(b"2026-11-22T10:00:00+01:00| 12 "))
def test_any_string_decodes_to_none_or_a_position(cursor: str) -> None:
    for found, value_type in (
        (BY_TIMESTAMP.decode(cursor), datetime),
        (BY_DUE_DATE.decode(cursor), (date, type(None))),
    ):
        assert found is None or _is_position(found, value_type)
    timestamp = BY_TIMESTAMP.decode(cursor)
    assert timestamp is None or timestamp[0].tzinfo is not None
