"""System check ``salter.core.E001``: every rate limit setting reads.

A mistyped rate would otherwise surface as a server error on the first request it guards
(``salter.core.ratelimit.parse`` refuses it), long after the deployment looked fine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import Error, register

from salter.core import ratelimit

RATE_SETTINGS = (
    "SALTER_API_RATE_PER_IP",
    "SALTER_API_RATE_PER_TOKEN",
    "SALTER_LOGIN_RATE_PER_IP",
    "SALTER_LOGIN_RATE_PER_USERNAME",
)


@register()
def rates_read(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    for name in RATE_SETTINGS:
        value = getattr(settings, name, "")
        try:
            ratelimit.parse(str(value))
        except ValueError as exc:
            errors.append(
                Error(
                    f"{name} = {value!r} is not a rate: {exc}.",
                    hint="Write '<count>/<second|minute|hour|day>', e.g. '60/minute', or 'off'.",
                    obj=name,
                    id="salter.core.E001",
                )
            )
    return errors
