"""System check ``salter.cases.E001``: every key a service definition uses is handled.

The engine reads some keys itself (:data:`salter.cases.listeners.ENGINE_KEYS`); every other
key — ``fees``, ``document``, ``deliver``, ``requires_evidence``, ``notifications``… — and every
``auto`` event must be claimed by an installed app (:mod:`salter.cases.listeners`). A
definition with a key nobody handles would run, silently skipping what the key asks for: an
act never issued, a fee never ordered. The pilots are checked on every ``check``; the published
versions in the database when the check is given a database (``migrate``, ``check
--database default``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import Error, Tags, register
from django.db import DatabaseError

from salter.cases import listeners
from salter.catalog import pilots
from salter.catalog.models import ServiceVersion


def definition_errors(where: str, definition: Mapping[str, Any]) -> list[Error]:
    missing = listeners.unhandled_keys(definition)
    if not missing:
        return []
    return [
        Error(
            f"{where} uses {', '.join(missing)}, which no installed app handles.",
            hint="Install the app that handles it (INSTALLED_APPS), or remove the key from "
            "the definition. Apps claim keys in salter.cases.listeners.",
            obj=where,
            id="salter.cases.E001",
        )
    ]


@register()
def pilots_are_handled(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    for pilot in pilots.ALL:
        errors += definition_errors(f"The pilot {pilot.code}", pilot.definition())
    return errors


@register(Tags.database)
def published_are_handled(
    app_configs: Sequence[AppConfig] | None, databases: Iterable[str] | None = None, **kwargs: Any
) -> list[Error]:
    errors: list[Error] = []
    for alias in databases or ():
        published = ServiceVersion.objects.using(alias).filter(
            status=ServiceVersion.Status.PUBLISHED
        )
        try:
            rows = list(published.values_list("service__code", "number", "definition"))
        except DatabaseError:  # not migrated yet: nothing is published
            continue
        for code, number, definition in rows:
            errors += definition_errors(f"Service {code}, version {number}", definition)
    return errors
