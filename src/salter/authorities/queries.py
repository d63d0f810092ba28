from __future__ import annotations

from itertools import groupby

from django.db.models import QuerySet

from salter.authorities.models import Authority


def active_authorities() -> QuerySet[Authority]:
    return Authority.objects.filter(is_active=True).order_by("kind", "name")


def public_directory() -> list[tuple[str, list[Authority]]]:
    """Active authorities grouped by kind, for the home page."""
    labels = dict(Authority.Kind.choices)
    return [
        (str(labels[kind]), list(items))
        for kind, items in groupby(active_authorities(), key=lambda a: a.kind)
    ]
