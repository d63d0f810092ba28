"""pytest: the same stack as production, fast hashing, SMTP to a local test server."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import CACHES, REDIS_URL, os

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
# The site's addresses are fixed: a shell's PORT (which `make run` follows) or SALTER_PUBLIC_URL
# must not change the links and URLs that tests expect.
SALTER_PUBLIC_URL = "http://127.0.0.1:8000"
SALTER_PKI_BASE_URL = SALTER_PUBLIC_URL
SALTER_REGISTERS_URL = SALTER_PUBLIC_URL + "/registers"
OTP_WEBAUTHN_ALLOWED_ORIGINS = ["http://localhost:8000"]
# Each test process writes its files and its development PKI (made once, by conftest.py) in a
# directory of its own, never in var/.
_scratch = Path(tempfile.mkdtemp(prefix="salter-test-"))
MEDIA_ROOT = _scratch / "media"
SALTER_PKI_DIR = _scratch / "pki"
# Long enough that no test sees an entry expire mid-way (query counts stay exact); every test
# starts with an empty memory (conftest.py).
SALTER_API_AUTH_CACHE_SECONDS = 3600
# The suite logs in and calls the API from one address far more often than any client may;
# tests of the limits set their own rates (salter/core/tests/test_backpressure.py).
SALTER_API_RATE_PER_IP = "off"
SALTER_API_RATE_PER_TOKEN = "off"
SALTER_LOGIN_RATE_PER_IP = "off"
SALTER_LOGIN_RATE_PER_USERNAME = "off"

# Each pytest-xdist worker gets its own Redis database: tests clear the cache (FLUSHDB), and one
# worker's clear must not empty the sessions of the other's running test.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and _worker.startswith("gw"):
    _base, _sep, _db = REDIS_URL.rpartition("/")
    _db_index = (int(_db) if _db.isdigit() else 0) - int(_worker[2:])
    CACHES["default"]["LOCATION"] = f"{_base}/{_db_index % 16}"
