"""``make run``: embedded SQLite, local disk, mail printed to the console."""

from .base import *  # noqa: F403
from .base import VAR_DIR, os

VAR_DIR.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/ yet
DEBUG = os.environ.get("SALTER_DEBUG", "") == "1"
SECRET_KEY = os.environ.get("SALTER_SECRET_KEY") or "dev-only-not-secret-" + "x" * 40
EMAIL_BACKEND = os.environ.get(
    "SALTER_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
SALTER_ENVIRONMENT = "development"
