"""Haven's one settings module, read from the environment.

HAVEN_MODE selects the profile: ``production`` (the default; fails closed when a
secret is missing), ``demo`` (secrets generated into the data folder) or
``test``. See docs/deployment.md for every variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from haven.core.langs import DEFAULT_LANG, LANGUAGE_NAMES
from haven.env import (
    MissingSecret,
    data_dir,
    envbool,
    envint,
    envlist,
    local_secret,
    private_dir,
    recorded_site_url,
    secret,
)

BASE_DIR = Path(__file__).resolve().parent
MODE = os.environ.get("HAVEN_MODE", "production").strip().lower()
if MODE not in {"production", "demo", "test"}:
    raise ImproperlyConfigured(f"HAVEN_MODE must be production, demo or test, not {MODE!r}")
PRODUCTION = MODE == "production"
TESTING = MODE == "test"
DATA_DIR = data_dir()
try:
    private_dir(DATA_DIR)  # 0700 (L-10)
except OSError:
    pass  # not writable: haven.E004 says so


def _required_secret(name: str) -> str:
    value = secret(name)
    if value:
        return value
    if PRODUCTION:
        raise MissingSecret(
            f"{name} is not set: give it in the environment or as a file path in {name}_FILE"
        )
    return local_secret(DATA_DIR, name.lower())


SECRET_KEY = _required_secret("HAVEN_SECRET_KEY")
# Key for keyed lookups (HMAC) of identifiers: codenames, chat ids, client hashes.
HAVEN_PEPPER = _required_secret("HAVEN_PEPPER").encode("utf-8")
# Key that protects bot tokens at rest.
HAVEN_TOKEN_KEY = _required_secret("HAVEN_TOKEN_KEY").encode("utf-8")

DEBUG = envbool("HAVEN_DEBUG", False) and not PRODUCTION
ALLOWED_HOSTS = envlist(
    "HAVEN_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
# A demo records its address in its data folder, so `haven chat` and other commands
# run there name the port the demo really uses.
SITE_URL = (os.environ.get("HAVEN_SITE_URL")
            or (MODE == "demo" and recorded_site_url(DATA_DIR))
            or "http://127.0.0.1:8000").rstrip("/")
# False when SITE_URL is the local fallback: pages that hand the address to another
# server (a partner card) say it is not set.
SITE_URL_CONFIGURED = bool(os.environ.get("HAVEN_SITE_URL")
                           or (MODE == "demo" and recorded_site_url(DATA_DIR)))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "haven.core",
    "haven.accounts",
    "haven.audit",
    "haven.cases",
    "haven.desk",
    "haven.intake",
    "haven.funds",
    "haven.knowledge",
    "haven.telegram",
    "haven.notify",
    "haven.broadcast",
    "haven.network",
    "haven.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "haven.core.middleware.security_headers",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "haven.core.middleware.limit_body_size",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "haven.accounts.middleware.unlock_keys",
    "haven.accounts.middleware.activate_time_zone",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "haven.urls"
WSGI_APPLICATION = "haven.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csrf",
                "django.contrib.messages.context_processors.messages",
                "haven.core.context.haven",
                "haven.notify.context.problems",
            ],
        },
    }
]

# --- database -------------------------------------------------------------

_database_url = os.environ.get("DATABASE_URL", "").strip()
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                             "NAME": str(DATA_DIR / "haven.sqlite3"), "CONN_MAX_AGE": 60}}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The same SQLite behaviour whether the file is the default or named by
    # DATABASE_URL=sqlite:///...: WAL lets readers and one writer work at once;
    # IMMEDIATE transactions take the write lock at BEGIN, so two writers queue
    # (for up to 30 s) instead of failing with "database is locked";
    # secure_delete overwrites freed pages so purged records do not linger on disk;
    # a 32 MiB page cache per connection keeps the padded search index's hot pages
    # (bench/desk.py: common-word search at 20,000 cases 60 -> 53 ms).
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA secure_delete=ON; PRAGMA foreign_keys=ON; PRAGMA cache_size=-32768;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    })
    # Opening SQLite and running the PRAGMAs on every request cost more than a
    # small request itself.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The database file and its -wal/-shm are made 0600 when a connection opens
    # (haven.core.apps); the data folder around them is 0700 (L-10).
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache: throttling counters live here, never in the database ------------

_redis_url = os.environ.get("REDIS_URL", "").strip()
if _redis_url:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _redis_url,
            "KEY_PREFIX": os.environ.get("HAVEN_CACHE_PREFIX", "haven"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- accounts, sessions ---------------------------------------------------

AUTH_USER_MODEL = "accounts.Member"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "desk:queue"
# The first one hashes; the second still checks hashes made before the pepper
# (review M-2), which are replaced at the member's next login.
PASSWORD_HASHERS = (
    ["haven.accounts.hashers.PepperedMD5PasswordHasher",  # fast in tests only
     "django.contrib.auth.hashers.MD5PasswordHasher"]
    if TESTING
    else ["haven.accounts.hashers.PepperedArgon2PasswordHasher",
          "django.contrib.auth.hashers.Argon2PasswordHasher"]
)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "haven.accounts.passwords.StrengthValidator"},
]
# Argon2id cost for the key that wraps each member's private key (stored per key).
HAVEN_KDF_OPSLIMIT = envint("HAVEN_KDF_OPSLIMIT", 1 if TESTING else 3)
HAVEN_KDF_MEMLIMIT = envint("HAVEN_KDF_MEMLIMIT", (8 if TESTING else 128) * 1024 * 1024)
HAVEN_INVITE_DAYS = envint("HAVEN_INVITE_DAYS", 7)
HAVEN_LOGIN_LOCK_AFTER = envint("HAVEN_LOGIN_LOCK_AFTER", 10)
HAVEN_LOGIN_LOCK_MINUTES = envint("HAVEN_LOGIN_LOCK_MINUTES", 15)
HAVEN_CLIENT_ATTEMPTS = envint("HAVEN_CLIENT_ATTEMPTS", 30)
# Admin actions need the password typed within this many minutes (login counts).
HAVEN_STEP_UP_MINUTES = envint("HAVEN_STEP_UP_MINUTES", 15)
# Throttling behind a proxy or on Tor (haven.core.clients): the proxies whose
# X-Forwarded-For is believed (IPs or networks), and onion mode, where there is
# no client address and limits are per account and per codename only.
HAVEN_TRUSTED_PROXY = envlist("HAVEN_TRUSTED_PROXY", [])
HAVEN_ONION = envbool("HAVEN_ONION", False)
# Intake flood control (haven.intake.flood): new cases an hour per organization before
# further ones are held; a real surge is about 1,000 an hour. Per organization: "slug=n,...".
HAVEN_INTAKE_HOURLY_LIMIT = envint("HAVEN_INTAKE_HOURLY_LIMIT", 3000)
HAVEN_INTAKE_HOURLY_LIMITS = envlist("HAVEN_INTAKE_HOURLY_LIMITS", [])
# Telegram: empty means the real Bot API; the demo and tests point at a fake one.
HAVEN_TELEGRAM_API_URL = os.environ.get("HAVEN_TELEGRAM_API_URL", "").strip()
HAVEN_TELEGRAM_CHAT_DAYS = envint("HAVEN_TELEGRAM_CHAT_DAYS", 14)
# E-mail notifications (haven.notify): the server's SMTP server, unless an organization sets
# its own. Empty host: no e-mail. Security: "starttls" (default), "tls" or "none".
HAVEN_SMTP_HOST = os.environ.get("HAVEN_SMTP_HOST", "").strip()
HAVEN_SMTP_PORT = envint("HAVEN_SMTP_PORT", 587)
HAVEN_SMTP_SECURITY = os.environ.get("HAVEN_SMTP_SECURITY", "starttls").strip().lower()
HAVEN_SMTP_USER = os.environ.get("HAVEN_SMTP_USER", "").strip()
HAVEN_SMTP_PASSWORD = secret("HAVEN_SMTP_PASSWORD") or ""
HAVEN_SMTP_FROM = os.environ.get("HAVEN_SMTP_FROM", "").strip()

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = envint("HAVEN_SESSION_SECONDS", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_NAME = "haven_session"
HAVEN_KEY_COOKIE = "haven_key"
CSRF_COOKIE_HTTPONLY = True
# A browser-session cookie: a requester's phone keeps no year-long trace of the help desk.
CSRF_COOKIE_AGE = None
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_FAILURE_VIEW = "haven.core.views.csrf_failure"

# --- web hardening ----------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("HAVEN_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = envint("HAVEN_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("HAVEN_HSTS_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("HAVEN_HSTS_PRELOAD", True)
    if envbool("HAVEN_BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "connect-src": [SELF],
    }
}

DATA_UPLOAD_MAX_MEMORY_SIZE = envint("HAVEN_MAX_BODY_BYTES", 2 * 1024 * 1024)
HAVEN_MAX_BODY_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE + 12 * 1024 * 1024  # uploads checked later
# Envelopes between organizations (haven.network): the largest accepted, how long a partner
# server that does not answer is retried, and the longest wait between two tries.
HAVEN_NETWORK_MAX_ENVELOPE = envint("HAVEN_NETWORK_MAX_ENVELOPE", 40 * 1024 * 1024)
HAVEN_NETWORK_GIVE_UP_DAYS = envint("HAVEN_NETWORK_GIVE_UP_DAYS", 3)
HAVEN_NETWORK_RETRY_MAX_DELAY = envint("HAVEN_NETWORK_RETRY_MAX_DELAY", 3600)
# Paths whose requests may be larger than HAVEN_MAX_BODY_BYTES (path prefix, limit).
HAVEN_BODY_LIMITS = (("/network/", HAVEN_NETWORK_MAX_ENVELOPE + 1024 * 1024),)

# --- languages ------------------------------------------------------------

LANGUAGE_CODE = DEFAULT_LANG
LANGUAGES = list(LANGUAGE_NAMES.items())
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_COOKIE_NAME = "haven_lang"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = PRODUCTION

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = DATA_DIR / "files"
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- logging: never message text, identifiers or client addresses ------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Django's request, security and server records copy what was sent (exception messages,
    # the Host header, query strings), and any traceback its exception messages: the filter
    # takes those out, tracebacks keep their frames.
    # It sits on the handler (django.security.* records come from child loggers, which a
    # filter on "django.security" would not see) and on the request and server loggers,
    # so a handler added later gets their records already clean.
    "filters": {"without_input": {"()": "haven.core.logfilters.WithoutInput"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["without_input"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("HAVEN_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's request logger prints the request path and may include
        # the client's address in some handlers; keep only warnings of our own.
        "django.request": {"level": "ERROR", "propagate": True, "filters": ["without_input"]},
        "django.server": {"level": "ERROR", "propagate": True, "filters": ["without_input"]},
        "django.security.DisallowedHost": {"level": "CRITICAL", "propagate": True},
        # Even with HAVEN_LOG_LEVEL=DEBUG: Django's template logger prints a whole
        # template context (decrypted case text, search words) when a variable is
        # missing, Pillow prints every EXIF tag of an uploaded photo, and the database
        # logger prints query parameters. Found by tests/security/test_seized_disk_flows.py.
        "django.template": {"level": "INFO", "propagate": True},
        "django.db.backends": {"level": "INFO", "propagate": True},
        "PIL": {"level": "INFO", "propagate": True},
    },
}
