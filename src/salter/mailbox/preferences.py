"""Which notifications a user gets: on or off per kind and channel.

A user who never chose gets e-mail and no SMS or push (:data:`salter.mailbox.outbox.DEFAULTS`);
a :class:`~salter.mailbox.models.NotificationPreference` row is written only for a choice that
differs from what they had. The e-mail notice of a delivery cannot be turned off (the law
requires it). The officials' daily digest is offered to officials only, by e-mail.
:func:`salter.mailbox.outbox.notify` reads the choices when it queues a notification.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.core.context import Actor
from salter.identity.models import User
from salter.identity.permissions import require_user
from salter.mailbox import outbox
from salter.mailbox.models import NotificationPreference

Key = tuple[str, str]  # (kind, channel)


def kinds(user: User) -> list[str]:
    """The kinds offered to ``user``: the digest only to officials."""
    return [k for k in outbox.KINDS if k != outbox.DIGEST or user.is_official]


def get(user: User) -> dict[Key, bool]:
    """Every (kind, channel) offered to ``user`` → whether they get it. One query."""
    stored = {
        (kind, channel): enabled
        for kind, channel, enabled in NotificationPreference.objects.filter(user=user).values_list(
            "kind", "channel", "enabled"
        )
    }
    return {
        (kind, channel): (kind, channel) in outbox.LOCKED
        or stored.get((kind, channel), outbox.DEFAULTS[channel])
        for kind in kinds(user)
        for channel in outbox.CHANNELS_OF[kind]
    }


@transaction.atomic
def set(actor: Actor, user: User, choices: Mapping[Key, bool]) -> dict[Key, bool]:
    """Record ``user``'s choices (only the user may make them). Pairs not named keep their
    value; a locked pair cannot be turned off. Returns the choices now in force."""
    require_user(actor)
    assert actor.user is not None
    if actor.user.pk != user.pk:
        raise PermissionDenied(_("Only you can choose which notifications you get."))
    current = get(user)
    unknown = builtins.set(choices) - builtins.set(current)
    if unknown:
        raise ValidationError(
            _("There is no such notification: %(names)s.")
            % {"names": ", ".join(sorted(f"{k}/{c}" for k, c in unknown))}
        )
    changed = {
        key: bool(enabled)
        for key, enabled in choices.items()
        if key not in outbox.LOCKED and current[key] != bool(enabled)
    }
    if not changed:
        return current
    NotificationPreference.objects.bulk_create(
        [
            NotificationPreference(user=user, kind=kind, channel=channel, enabled=enabled)
            for (kind, channel), enabled in changed.items()
        ],
        update_conflicts=True,
        unique_fields=["user", "kind", "channel"],
        update_fields=["enabled"],
    )
    audit.record(
        actor,
        "notifications.preferences_changed",
        user,
        payload={f"{kind}/{channel}": enabled for (kind, channel), enabled in changed.items()},
    )
    return {**current, **changed}
