from __future__ import annotations

import pytest

from salter.authorities.models import Authority
from salter.catalog.models import Service, ServiceVersion
from salter.core import demo
from salter.core.accounts import is_valid_account


def versions() -> list[tuple[str, str, int, str]]:
    rows = ServiceVersion.objects.values_list(
        "service__authority__code", "service__code", "number", "status"
    )
    return sorted(rows)


@pytest.mark.django_db
def test_seed_publishes_the_pilots_and_runs_twice_without_duplicates() -> None:
    demo.seed()
    first = versions()
    demo.seed()
    assert (
        versions()
        == first
        == [
            ("apr", "overtime", 1, "published"),
            ("surdulica", "newborn-aid", 1, "published"),
            ("surdulica", "overtime", 1, "published"),
            ("surdulica", "property-certificate", 1, "published"),
        ]
    )
    assert Service.objects.count() == 4
    # Every demo authority takes fees: a valid account and its own reference code.
    for authority in Authority.objects.all():
        assert is_valid_account(authority.account), authority.code
        assert authority.payment_code is not None
