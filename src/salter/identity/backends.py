"""The authentication backend: Django's, with the session's user read through ``authcache``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from salter.identity import authcache
from salter.identity.models import User

_FIELDS = [field.attname for field in User._meta.concrete_fields]


class CachedModelBackend(ModelBackend):
    """Each request of a session needs its user; a busy official's pages should not each pay a
    query for it. A fresh instance is built from the remembered row every time."""

    def get_user(self, user_id: Any) -> Any:
        try:
            key = int(user_id)
        except (TypeError, ValueError):
            return None
        row = authcache.get_user_row(key)
        user: User | None
        if row is not None:
            user = User.from_db("default", _FIELDS, row)
        else:
            user = super().get_user(user_id)
            if user is not None:
                authcache.put_user_row(key, tuple(getattr(user, f) for f in _FIELDS))
        return user if self.user_can_authenticate(user) else None
