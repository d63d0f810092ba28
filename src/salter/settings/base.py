"""Settings shared by every environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent  # src/salter
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("SALTER_VAR_DIR", PROJECT_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# The port `make run` serves on (scripts/run.sh). The site's own addresses — SALTER_PUBLIC_URL
# and the passkey origins, and through the former the registers' and the PKI's — follow it
# unless they are set themselves, so a second instance on another port talks to itself.
_port = os.environ.get("PORT") or "8000"

SECRET_KEY = os.environ.get("SALTER_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("SALTER_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "salter.core",
    "salter.audit",
    "salter.authorities",
    "salter.catalog",
    "salter.cases",
    "salter.documents",
    "salter.mailbox",
    "salter.payments",
    "salter.exchange",
    "salter.registers",
    "salter.identity",
]

# Background work (DESIGN.md): the Django Tasks API, queued in the database and run by
# `salter db_worker`; `salter clock` enqueues the periodic jobs (timers, escalation).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
SALTER_CLOCK_SECONDS = int(os.environ.get("SALTER_CLOCK_SECONDS", "300"))

MIDDLEWARE = [
    "salter.core.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "salter.core.middleware.TransliterationMiddleware",
    "salter.core.middleware.ApiErrorMiddleware",  # /api/, /registers/: every error in JSON
    "salter.core.middleware.ApiRateLimitMiddleware",  # /api/: 429 per address and per token
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "salter.identity.middleware.OTPMiddleware",  # django-otp's, the device loaded lazily
    "django.contrib.messages.middleware.MessageMiddleware",
    "salter.core.params.BadParameterMiddleware",  # a parameter that does not read: 400
    "salter.identity.middleware.SessionPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "salter.core.middleware.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "salter.urls"
WSGI_APPLICATION = "salter.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "salter.core.context_processors.salter",
            ],
        },
    }
]

# --- Database: SQLite (WAL) under var/ unless DATABASE_URL says otherwise -----------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'salter.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
            " PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: Redis when REDIS_URL is set, else local memory --------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Identity -----------------------------------------------------------------------------
AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "salter.identity.backends.CachedModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "identity:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:home"

# Sessions: server-side, an absolute lifetime and (for officials) an idle timeout.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else ("django.contrib.sessions.backends.db")
)
SALTER_SESSION_ABSOLUTE = timedelta(hours=int(os.environ.get("SALTER_SESSION_HOURS", "12")))
SALTER_OFFICIAL_IDLE = timedelta(minutes=int(os.environ.get("SALTER_OFFICIAL_IDLE_MINUTES", "30")))
SALTER_CITIZEN_IDLE = timedelta(hours=2)
SESSION_COOKIE_AGE = int(SALTER_SESSION_ABSOLUTE.total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "salter_session"
CSRF_COOKIE_NAME = "salter_csrf"
LANGUAGE_COOKIE_NAME = "salter_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Lockout keyed on username + IP with a cool-off: a known username never locks a citizen out
# for good, and a stranger elsewhere cannot lock them out at all.
AXES_FAILURE_LIMIT = int(os.environ.get("SALTER_LOCKOUT_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("SALTER_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "salter.identity.views.locked_out"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# Back-pressure (salter.core.ratelimit): fixed windows counted in the cache, so shared by every
# worker and server when REDIS_URL is set. A rate is "<count>/<second|minute|hour|day>" or "off";
# SALTER_RATE_LIMITS=0 turns every one of them off (the benchmarks measure without them).
_RATE_LIMITS = env_bool("SALTER_RATE_LIMITS", True)


def env_rate(name: str, default: str) -> str:
    return os.environ.get(name, default) if _RATE_LIMITS else "off"


SALTER_API_RATE_PER_IP = env_rate("SALTER_API_RATE_PER_IP", "1200/minute")
SALTER_API_RATE_PER_TOKEN = env_rate("SALTER_API_RATE_PER_TOKEN", "600/minute")
SALTER_LOGIN_RATE_PER_IP = env_rate("SALTER_LOGIN_RATE_PER_IP", "60/minute")
SALTER_LOGIN_RATE_PER_USERNAME = env_rate("SALTER_LOGIN_RATE_PER_USERNAME", "30/hour")

# Uploads (salter.core.upload_limits): the largest file, and the largest JSON body of the one
# API route that takes files in base64 (unset: room for one file at the limit).
SALTER_UPLOAD_MAX_BYTES = int(os.environ.get("SALTER_UPLOAD_MAX_BYTES", str(20 * 1024 * 1024)))
if os.environ.get("SALTER_API_JSON_MAX_BYTES"):
    SALTER_API_JSON_MAX_BYTES = int(os.environ["SALTER_API_JSON_MAX_BYTES"])

OTP_TOTP_ISSUER = "Šalter"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

OTP_WEBAUTHN_RP_ID = os.environ.get("SALTER_WEBAUTHN_RP_ID", "localhost")
OTP_WEBAUTHN_RP_NAME = "Šalter"
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list("SALTER_WEBAUTHN_ORIGINS", f"http://localhost:{_port}")
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

# OpenID Connect client (national eID). Disabled unless an issuer is configured.
SALTER_OIDC = {
    "issuer": os.environ.get("SALTER_OIDC_ISSUER", ""),
    "client_id": os.environ.get("SALTER_OIDC_CLIENT_ID", ""),
    "client_secret": os.environ.get("SALTER_OIDC_CLIENT_SECRET", ""),
    "scope": os.environ.get("SALTER_OIDC_SCOPE", "openid email profile"),
    # Maps the provider's `acr` claim to Šalter's level of assurance.
    "acr_map": {
        "http://eidas.europa.eu/LoA/low": 1,
        "http://eidas.europa.eu/LoA/substantial": 2,
        "http://eidas.europa.eu/LoA/high": 3,
        "low": 1,
        "substantial": 2,
        "basic": 1,
        "medium": 2,
        "high": 3,
    },
    "default_loa": 1,
    "label": os.environ.get("SALTER_OIDC_LABEL", "eID"),
}

# API tokens
SALTER_API_TOKEN_MAX_DAYS = 365
# How long a process remembers a verified token and a user's memberships (see
# salter/identity/authcache.py): a revoked token may work on other workers that long.
SALTER_API_AUTH_CACHE_SECONDS = float(os.environ.get("SALTER_API_AUTH_CACHE_SECONDS", "5"))

# --- Internationalisation: sr-Cyrl (default), sr-Latn, en ---------------------------------
LANGUAGE_CODE = "sr"
LANGUAGES = [
    ("sr", _("Serbian (Cyrillic)")),
    ("sr-latn", _("Serbian (Latin)")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Europe/Belgrade"

# --- Static and media ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", PROJECT_DIR / "node_modules" / "htmx.org" / "dist"),
]
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Email --------------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("SALTER_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("SALTER_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("SALTER_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("SALTER_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("SALTER_EMAIL_TLS")
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("SALTER_EMAIL_FROM", "Šalter <no-reply@salter.localhost>")
# Where people write for help and feedback (the help, accessibility and privacy pages).
SALTER_CONTACT_EMAIL = os.environ.get("SALTER_CONTACT_EMAIL", "pomoc@salter.localhost")

# --- Security headers ---------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Logging: structured only -------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SALTER_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_PER_PAGE = 50

# --- Documents: the public address printed in documents -----------------------------------
# The QR code and the verification code under it point to SALTER_PUBLIC_URL + /verify/<code>/,
# so this must be the address citizens reach the site at (no trailing slash needed).
SALTER_PUBLIC_URL = os.environ.get("SALTER_PUBLIC_URL") or f"http://127.0.0.1:{_port}"
# WeasyPrint logs every rendering step at INFO ("Step 2 - Fetching and parsing CSS"): keep
# its progress out of the logs, its warnings (a refused URL, say) in.
LOGGING["loggers"]["weasyprint.progress"] = {"level": "WARNING"}  # type: ignore[index]

# --- Documents: signatures, seals, timestamps (issue 4; see docs/signatures.md) ----------
# The development PKI made by `salter pki init` (root CA, issuing CA, TSA, seals, signers).
SALTER_PKI_DIR = Path(os.environ.get("SALTER_PKI_DIR", VAR_DIR / "pki"))
# Encrypts the PKCS#8 keys of the development PKI on disk. The default is public: dev only.
SALTER_PKI_PASSPHRASE = os.environ.get("SALTER_PKI_PASSPHRASE", "salter-development-only")
# Where the certificates of the development PKI say their CRLs and CA certificates are served.
SALTER_PKI_BASE_URL = os.environ.get("SALTER_PKI_BASE_URL", SALTER_PUBLIC_URL)
# Trust the development root when verifying (never in production, whatever this says).
SALTER_TRUST_DEV_ROOT = env_bool("SALTER_TRUST_DEV_ROOT", True)
# Production trust roots: PEM or DER files (comma-separated paths).
SALTER_TRUST_ROOTS = env_list("SALTER_TRUST_ROOTS")
# RFC 3161 timestamp authority; empty = the in-process development TSA.
SALTER_TSA_URL = os.environ.get("SALTER_TSA_URL", "")
# Serve the development TSA at /pki/tsa (RFC 3161 over HTTP).
SALTER_TSA_SERVE = env_bool("SALTER_TSA_SERVE", True)
# Production keys as PKCS#12 files: <dir>/<authority code>.p12 and <dir>/<user id>.p12.
SALTER_SEAL_PKCS12_DIR = os.environ.get("SALTER_SEAL_PKCS12_DIR", "")
SALTER_SIGNER_PKCS12_DIR = os.environ.get("SALTER_SIGNER_PKCS12_DIR", "")
SALTER_PKCS12_PASSPHRASE = os.environ.get("SALTER_PKCS12_PASSPHRASE", "")
# Production keys on a PKCS#11 token (HSM): the module (.so), the token label and the PIN;
# keys are found by label "seal-<authority code>" / "signer-<user id>".
SALTER_PKCS11_MODULE = os.environ.get("SALTER_PKCS11_MODULE", "")
SALTER_PKCS11_TOKEN = os.environ.get("SALTER_PKCS11_TOKEN", "")
SALTER_PKCS11_PIN = os.environ.get("SALTER_PKCS11_PIN", "")
# pyHanko logs each failed check of a signature with a traceback; a tampered upload is an
# expected outcome, reported by verification itself (documents.verify.* events).
LOGGING["loggers"]["pyhanko"] = {"level": "ERROR"}  # type: ignore[index]
LOGGING["loggers"]["pyhanko_certvalidator"] = {"level": "ERROR"}  # type: ignore[index]

# --- E-mailbox, delivery and notifications (salter.mailbox) ---
# The platform's name on its e-seal, which seals the evidence of deliveries.
SALTER_PLATFORM_NAME = os.environ.get("SALTER_PLATFORM_NAME", "Šalter")
# Unopened electronic deliveries are deemed delivered after this many days (ZUP: 15).
SALTER_DEEMED_DELIVERY_DAYS = int(os.environ.get("SALTER_DEEMED_DELIVERY_DAYS", "15"))
# The host part of notification Message-IDs.
SALTER_MAIL_DOMAIN = os.environ.get("SALTER_MAIL_DOMAIN", "salter.localhost")
# The outbox worker (salter notify_worker): how many rows it claims at once, how long a claim
# lasts before another worker may take the rows over, how often it looks for new rows, and how
# many attempts it makes (with exponential backoff from SALTER_OUTBOX_BACKOFF seconds).
SALTER_OUTBOX_BATCH = int(os.environ.get("SALTER_OUTBOX_BATCH", "50"))
SALTER_OUTBOX_LEASE_SECONDS = int(os.environ.get("SALTER_OUTBOX_LEASE_SECONDS", "60"))
SALTER_OUTBOX_POLL_SECONDS = float(os.environ.get("SALTER_OUTBOX_POLL_SECONDS", "1"))
SALTER_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("SALTER_OUTBOX_MAX_ATTEMPTS", "8"))
SALTER_OUTBOX_BACKOFF = float(os.environ.get("SALTER_OUTBOX_BACKOFF", "30"))
# SMS and push adapters: dotted paths of a class with send(notification) (salter.mailbox.channels).
SALTER_SMS_ADAPTER = os.environ.get("SALTER_SMS_ADAPTER", "salter.mailbox.channels.StoringAdapter")
SALTER_PUSH_ADAPTER = os.environ.get(
    "SALTER_PUSH_ADAPTER", "salter.mailbox.channels.StoringAdapter"
)
# Officials' daily digest of their queue is enqueued by the clock after this hour (local time).
SALTER_DIGEST_HOUR = int(os.environ.get("SALTER_DIGEST_HOUR", "7"))

# --- Data exchange, the access log, personal identifiers at rest (salter.exchange) ---
# Keys that encrypt personal identifiers at rest and key their lookup hashes (salter.core.pii):
# "<id>:<32 random bytes, base64url>", comma-separated, the current key first. Required in
# production; development and tests use a fixed public key. Rotate with `salter rotate_pii_keys`.
SALTER_PII_KEYS = os.environ.get(
    "SALTER_PII_KEYS", "dev:ZGV2ZWxvcG1lbnQtb25seS1ub3Qtc2VjcmV0LXBpaS1rZXk"
)
# How long a register has to answer an ex officio query before the case is escalated to its
# official (ZUP art. 103: 15 days), and how the platform retries in the meantime.
SALTER_REGISTER_ANSWER_DAYS = float(os.environ.get("SALTER_REGISTER_ANSWER_DAYS", "15"))
SALTER_REGISTER_TIMEOUT_SECONDS = float(os.environ.get("SALTER_REGISTER_TIMEOUT_SECONDS", "10"))
SALTER_REGISTER_RETRY_SECONDS = float(os.environ.get("SALTER_REGISTER_RETRY_SECONDS", "60"))
# A worker's claim on a request lasts twice the query's timeout plus this margin for saving the
# outcome; a request whose worker died (or lost the database) is asked again after it.
SALTER_REGISTER_LEASE_MARGIN_SECONDS = float(
    os.environ.get("SALTER_REGISTER_LEASE_MARGIN_SECONDS", "30")
)
# Where the platform reaches the demo registers (salter.registers), which it calls over HTTP
# like any other register even though they run in the same deployment.
SALTER_REGISTERS_URL = os.environ.get("SALTER_REGISTERS_URL", SALTER_PUBLIC_URL + "/registers")
# Reads of personal data are recorded in the access log (the Data Tracker). Never turned off
# in a deployment; the benchmark turns it off to measure its cost.
SALTER_ACCESS_LOG = env_bool("SALTER_ACCESS_LOG", True)
# httpx logs every request at INFO; the exchange's own message log records each one already.
LOGGING["loggers"]["httpx"] = {"level": "WARNING"}  # type: ignore[index]
