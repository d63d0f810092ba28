"""Signals: log failed logins, and forget remembered users when they or their roles change."""

from __future__ import annotations

from typing import Any

import structlog
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from salter.identity import authcache

log = structlog.get_logger(__name__)


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # Failed attempts are counted by django-axes; the log line helps an operator see attacks.
    log.info("login_failed", username=str(credentials.get("username", ""))[:100])


@receiver(post_save, sender="identity.User")
@receiver(post_delete, sender="identity.User")
@receiver(post_save, sender="identity.Membership")
@receiver(post_delete, sender="identity.Membership")
def forget_cached_user(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Any change to a user or their roles clears this process's memory of them at once."""
    authcache.forget_user(instance.user_id if hasattr(instance, "user_id") else instance.pk)
