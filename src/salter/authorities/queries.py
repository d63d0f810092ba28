from __future__ import annotations

from itertools import groupby
from typing import Any

from django.db.models import Prefetch, QuerySet

from salter.authorities.models import Authority


def active_authorities() -> QuerySet[Authority]:
    return Authority.objects.filter(is_active=True).order_by("kind", "name")


def public_directory(*prefetch: Prefetch[Any]) -> list[tuple[str, list[Authority]]]:
    """Active authorities grouped by kind, for the home page. ``prefetch`` adds what other
    apps show beside each authority (e.g. its services), one query each, whatever the number
    of authorities."""
    labels = dict(Authority.Kind.choices)
    authorities = active_authorities().prefetch_related(*prefetch)
    return [
        (str(labels[kind]), list(items))
        for kind, items in groupby(authorities, key=lambda a: a.kind)
    ]
