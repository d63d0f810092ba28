"""/account/notifications/: the user chooses which notifications they get. Thin: parse the
checkboxes, call :func:`salter.mailbox.preferences.set`, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from salter.core.context import Actor
from salter.identity.models import User
from salter.mailbox import outbox, preferences
from salter.mailbox.models import Notification


def _field(kind: str, channel: str) -> str:
    return f"{kind}.{channel}"


@login_required
def edit(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    current = preferences.get(user)
    # Cells the user cannot change here keep their value: the locked ones and SMS without a
    # phone number (a disabled checkbox is never submitted).
    fixed = {key for key in current if key in outbox.LOCKED}
    if not user.phone:
        fixed |= {key for key in current if key[1] == Notification.Channel.SMS}
    if request.method == "POST":
        choices = {key: _field(*key) in request.POST for key in current if key not in fixed}
        try:
            preferences.set(Actor.from_request(request), user, choices)
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("Your choices are saved."))
        return redirect("notifications:preferences")
    channels = list(Notification.Channel)
    rows = [
        {
            "label": outbox.KINDS[kind],
            "cells": [
                {
                    "name": _field(kind, channel.value),
                    "label": channel.label,
                    "offered": (kind, channel.value) in current,
                    "checked": current.get((kind, channel.value), False),
                    "disabled": (kind, channel.value) in fixed,
                }
                for channel in channels
            ],
        }
        for kind in preferences.kinds(user)
    ]
    return render(
        request,
        "mailbox/preferences.html",
        {"rows": rows, "channels": channels, "has_phone": bool(user.phone)},
    )
