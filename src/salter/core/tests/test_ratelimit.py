"""The per-client rate limit: parsing the setting, counting in a window, per client."""

from __future__ import annotations

import pytest

from salter.core import ratelimit


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("30/minute", (30, 60)),
        ("5/s", (5, 1)),
        (" 100 / hour ", (100, 3600)),
        ("1000/day", (1000, 86400)),
        ("", None),
        ("off", None),
    ],
)
def test_rates_are_parsed(rate: str, parsed: tuple[int, int] | None) -> None:
    assert ratelimit.parse(rate) == parsed


@pytest.mark.parametrize("rate", ["30", "30/fortnight", "many/minute", "-1/minute"])
def test_a_mistyped_rate_fails_loudly(rate: str) -> None:
    with pytest.raises(ValueError, match="a rate is"):
        ratelimit.parse(rate)


def test_each_client_has_its_own_count_within_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit.time, "time", lambda: 999_999_970.0)  # 10 s into a minute
    assert [ratelimit.hit("t", "10.0.0.1", "2/minute").allowed for _ in range(3)] == [
        True,
        True,
        False,
    ]
    refused = ratelimit.hit("t", "10.0.0.1", "2/minute")
    assert not refused.allowed and refused.retry_after == 50
    assert ratelimit.hit("t", "10.0.0.2", "2/minute").allowed  # another client
    assert ratelimit.hit("other", "10.0.0.1", "2/minute").allowed  # another scope
    assert ratelimit.hit("t", "10.0.0.1", "off").allowed

    monkeypatch.setattr(ratelimit.time, "time", lambda: 1_000_000_020.0)  # the next minute
    assert ratelimit.hit("t", "10.0.0.1", "2/minute").allowed
