"""Keep the login-session list accurate when Django itself rotates or ends a session."""

from __future__ import annotations

from typing import Any

import structlog
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

log = structlog.get_logger(__name__)


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # Failed attempts are counted by django-axes; the log line helps an operator see attacks.
    log.info("login_failed", username=str(credentials.get("username", ""))[:100])
