"""A fresh second-factor confirmation: what releases an official's signing key.

Logging in with two factors is not enough to sign: the platform holds the key ("signature in the
cloud"), so each signature needs the person to confirm again, just before it is made. A
confirmation is either a one-time code typed into the signing form, or a second factor completed
on the step-up page (a passkey, or a code) within the last ``SALTER_SIGNING_MAX_AGE`` seconds.
Each confirmation releases the key for one signature: taking it removes it from the session.

Views turn what they got into a :class:`Confirmation` and hand it to the service, which checks
that it belongs to the acting person and is fresh (:func:`is_fresh`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django_otp import match_token

from salter.identity.models import User


class SecondFactorRequired(PermissionDenied):
    """The step needs a fresh second-factor confirmation by the person taking it (signing an
    act releases the signer's key only with one)."""


SESSION_KEY = "salter_fresh_2fa"


@dataclass(frozen=True)
class Confirmation:
    """The person ``user_id`` confirmed a second factor (``method``) at ``at``."""

    user_id: int
    at: datetime
    method: str


def max_age() -> int:
    return int(getattr(settings, "SALTER_SIGNING_MAX_AGE", 120))


def is_fresh(confirmation: Confirmation | None, user: User | None) -> bool:
    if confirmation is None or user is None or confirmation.user_id != user.pk:
        return False
    age = (timezone.now() - confirmation.at).total_seconds()
    return 0 <= age <= max_age()


def mark(request: HttpRequest, method: str) -> None:
    """Remember that the session's user has just completed a second factor."""
    request.session[SESSION_KEY] = {
        "user": request.user.pk,
        "at": timezone.now().isoformat(),
        "method": method,
    }


def from_code(user: User, code: str) -> Confirmation | None:
    """Check a one-time code typed with the step (TOTP or a recovery code). django-otp refuses
    a code used before and slows down guessing."""
    cleaned = code.strip().replace(" ", "")
    if not cleaned:
        return None
    device = match_token(user, cleaned)
    if device is None:
        return None
    return Confirmation(user.pk, timezone.now(), device.__class__.__name__.lower())


def _stored(request: HttpRequest, *, remove: bool) -> Confirmation | None:
    """The session's confirmation if it belongs to the session's user and is still fresh."""
    stored = request.session.pop(SESSION_KEY, None) if remove else request.session.get(SESSION_KEY)
    if not isinstance(stored, dict) or stored.get("user") != request.user.pk:
        return None
    try:
        at = datetime.fromisoformat(str(stored["at"]))
    except (KeyError, ValueError):
        return None
    confirmation = Confirmation(int(stored["user"]), at, str(stored.get("method", "")))
    return confirmation if is_fresh(confirmation, request.user) else None  # type: ignore[arg-type]


def take(request: HttpRequest) -> Confirmation | None:
    """The session's recent confirmation, removed so it serves one signature only."""
    return _stored(request, remove=True)


def waiting(request: HttpRequest) -> bool:
    """Whether the session holds a confirmation still fresh (for the signing form's wording)."""
    return _stored(request, remove=False) is not None


def confirmation_for(request: HttpRequest, code: str) -> Confirmation | None:
    """A typed code if there is one, else the session's recent step-up."""
    user = request.user
    if not isinstance(user, User):
        return None
    if code.strip():
        return from_code(user, code)
    return take(request)
