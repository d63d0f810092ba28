"""Production: everything secret or site-specific comes from the environment."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, env_bool, os

if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SALTER_SECRET_KEY must be set to at least 50 random characters.")

if not os.environ.get("SALTER_PII_KEYS"):
    raise ImproperlyConfigured(
        "SALTER_PII_KEYS must be set: the keys that encrypt personal identifiers at rest."
    )

DEBUG = False
SALTER_ENVIRONMENT = "production"
SECURE_SSL_REDIRECT = env_bool("SALTER_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SALTER_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = [
    origin for origin in os.environ.get("SALTER_CSRF_TRUSTED_ORIGINS", "").split(",") if origin
]
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
