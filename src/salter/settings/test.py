"""pytest: the same stack as production, fast hashing, SMTP to a local test server."""

from .base import *  # noqa: F403
from .base import os

SECRET_KEY = "test-only-" + "t" * 50
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("SALTER_TEST_SMTP_PORT", "2525"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SALTER_ENVIRONMENT = "test"
