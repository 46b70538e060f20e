"""Takes settings: one file, every knob read from the environment.

The defaults run the whole product on one machine with nothing installed:
SQLite, django-q2 on the ORM broker, filesystem storage and the local Runway
emulator. Setting DATABASE_URL, REDIS_URL, the S3 variables or
RUNWAYML_API_SECRET moves each part to its scaled-out form.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    """Return an environment variable, or the default when unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_bool(name: str, default: bool = False) -> bool:
    """Read a yes/no environment variable."""
    value = env(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """Read an integer environment variable."""
    return int(env(name, str(default)))


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated environment variable."""
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DATA_DIR = Path(env("TAKES_DATA_DIR", str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _local_secret_key() -> str:
    # A key generated once per checkout, so sessions survive restarts on a
    # developer machine without anyone having to set SECRET_KEY.
    path = DATA_DIR / ".secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG")
SECRET_KEY = env("SECRET_KEY") or _local_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "ops.apps.OpsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_q",
    "axes",
    "audit",
    "accounts",
    "assets",
    "library",
    "notifications",
    "webhooks",
    "generations",
    "gallery",
    "presets",
    "api",
    "credits",
    "ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside everything that reads the database or the cache (sessions, auth): either out of
    # reach is a 503 page with Retry-After (core/maintenance.py). Static files still come first.
    "core.maintenance.MaintenanceMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
                "config.context_processors.top_bar",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL")
# SQLite, wherever it is named from: WAL lets the web process read while a worker writes;
# IMMEDIATE takes the write lock up front so two writers queue on the busy timeout instead
# of failing with "database is locked" (and the ledger's serialisation relies on it).
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
if DATABASE_URL:
    # Persistent connections, checked before reuse so a restarted server costs no failed request.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                             "NAME": env("SQLITE_PATH", str(DATA_DIR / "takes.sqlite3"))}}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
    # Kept open for a minute, as PostgreSQL's are: each new connection costs about 1 ms of CPU
    # (Django registers its SQL functions and runs the pragmas), a third of a status poll or seek.
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and queue ----------------------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions read from the cache first: the status card polls every 2 s per open tab.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

Q_CLUSTER = {
    "name": env("Q_NAME", "takes"),
    "workers": env_int("Q_WORKERS", 2),
    # A task that runs past `timeout` is killed; it is offered again only after
    # `retry`, so timeout must stay below retry or a slow task runs twice at once.
    # Every step's own deadline sits below `timeout` (see COPY_DEADLINE): a step gives
    # up by itself, with its claim handed back, before the queue would kill it.
    "timeout": env_int("Q_TIMEOUT", 600),
    "retry": env_int("Q_RETRY", 660),
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 3),
    "ack_failures": True,
    "save_limit": 500,
    "catch_up": False,
    "poll": 0.5,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Storage ------------------------------------------------------------------
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(DATA_DIR / "media")))
# Outputs stream here before they are stored; a copy clears what a dead attempt left.
DOWNLOADS_DIR = Path(env("DOWNLOADS_DIR", str(DATA_DIR / "downloads")))
DOWNLOADS_DIR.mkdir(parents=True, exist_ok=True)
# The longest one copy attempt may take (every output of a generation), kept below the
# queue's job timeout with room to store what was fetched and hand the claim back.
COPY_DEADLINE = env_int("COPY_DEADLINE", max(30, int(Q_CLUSTER["timeout"] * 0.7)))
MEDIA_URL = "/media-not-public/"  # media is only ever served through checked views
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env("AWS_S3_REGION_NAME") or None,
            "access_key": env("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env("AWS_SECRET_ACCESS_KEY") or None,
            "default_acl": None,  # objects inherit the bucket's private policy
            "querystring_auth": True,
            "querystring_expire": env_int("AWS_QUERYSTRING_EXPIRE", 300),
            "file_overwrite": False,
            "object_parameters": {"ACL": "private"},
        },
    }
else:
    _media_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Uploads stream to temporary files past this size; nothing is held whole in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# --- Auth ---------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
# A lock holds one account against one client address: nobody can lock someone else out, and a
# spray over many accounts from one address is stopped by the "sign-in-failures-ip" rate limit.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "core.ratelimit.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False

INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 7)
# How long a link that proves an address (finishing a sign-up, changing an address) works, seconds.
ADDRESS_LINK_MAX_AGE = env_int("ADDRESS_LINK_HOURS", 48) * 3600
# Behind nginx: the prefix of its internal location for stored media (deploy/nginx.conf), so that
# Django authorises each media request and nginx sends the bytes. Empty: Django streams them.
MEDIA_ACCEL_REDIRECT = env("MEDIA_ACCEL_REDIRECT", "")
if MEDIA_ACCEL_REDIRECT and not (MEDIA_ACCEL_REDIRECT.startswith("/") and MEDIA_ACCEL_REDIRECT.endswith("/")):
    raise ImproperlyConfigured("MEDIA_ACCEL_REDIRECT is a path that starts and ends with /, e.g. /_media/")
# Behind nginx with its secure_link module: what a page plays (video and audio, which players
# seek in with a request per seek) is answered, after the access check, with a redirect to a
# signed URL under this prefix that nginx checks itself, so the seeks that follow never reach a
# web thread. The secret is the one in nginx's `secure_link_md5` (deploy/nginx.conf); the link
# works for MEDIA_SIGNED_URL_SECONDS, as an S3 link would. Empty: every request is checked here.
MEDIA_SIGNED_URL_SECRET = env("MEDIA_SIGNED_URL_SECRET", "")
MEDIA_SIGNED_URL_PREFIX = env("MEDIA_SIGNED_URL_PREFIX", "/_signed/")
MEDIA_SIGNED_URL_SECONDS = env_int("MEDIA_SIGNED_URL_SECONDS", 3 * 3600)
if MEDIA_SIGNED_URL_SECRET and not (MEDIA_SIGNED_URL_PREFIX.startswith("/") and MEDIA_SIGNED_URL_PREFIX.endswith("/")):
    raise ImproperlyConfigured("MEDIA_SIGNED_URL_PREFIX is a path that starts and ends with /, e.g. /_signed/")
if MEDIA_SIGNED_URL_SECRET and len(MEDIA_SIGNED_URL_SECRET) < 32:
    raise ImproperlyConfigured("MEDIA_SIGNED_URL_SECRET needs at least 32 characters.")

# How often an open page asks for new notifications, for the person who wants them in the browser.
NOTICE_POLL_SECONDS = env_int("NOTICE_POLL_SECONDS", 30)

# A model's typical run time (the time left on cards in flight) is worked out at most this often
# per cache, under keys that start with the prefix (generations/eta.py).
RUN_TIME_CACHE_SECONDS = 60
RUN_TIME_CACHE_PREFIX = "run-time:"

# --- Client address and rate limits (core/ratelimit.py) ------------------------
# Proxies in front of Takes that append the address they saw to CLIENT_IP_HEADER; the client's
# address is read that many entries from the right (0: REMOTE_ADDR, for a direct connection).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if env_bool("BEHIND_PROXY") else 0)
CLIENT_IP_HEADER = env("CLIENT_IP_HEADER", "X-Forwarded-For")
# "<count>/<period>": period s, m, h or d, with an optional multiple ("20/15m"). Each scope is
# read from RATE_LIMIT_<SCOPE> (e.g. RATE_LIMIT_INVITATIONS_PERSON=20/h).
RATE_LIMITS = {
    scope: env("RATE_LIMIT_" + scope.upper().replace("-", "_"), default)
    for scope, default in {
        "invitations-person": "20/h",  # invitations one person sends
        "invitations-ip": "60/h",  # invitations sent from one address
        "sign-up-ip": "10/h",  # sign-ups (each mails a link) from one address
        "sign-up-address": "3/h",  # sign-up mails to one email address
        "sign-in-failures-ip": "20/15m",  # failed sign-ins from one address, over all accounts
        "password-reset-ip": "10/h",
        "password-reset-address": "3/h",
        "address-links-person": "5/h",  # links one person asks for to confirm or change their address
        "join-requests-person": "10/h",  # requests to join a project with someone else's invitation
        # Generations one person submits or retries: each holds credits and queues Runway work.
        "submissions-person": "30/10m",
        # Voice samples one person asks Runway for: each is a design call and a download.
        "voice-previews-person": "20/10m",
        # Live estimates one person asks for: the form polls as they type, so generous.
        "estimates-person": "240/m",
        # Uploads one person sends (each is streamed to disk and probed), refused before the body is read.
        "uploads-person": "60/10m",
        # Share pages opened from one client address, anyone holding a link.
        "share-pages-ip": "120/m",
        # Shared media and posters fetched from one address; players fetch media in byte ranges.
        "share-media-ip": "600/m",
        # Requests one personal API token makes to /v1/ (a token's own limit replaces it).
        "api-token": env("API_RATE_LIMIT", "600/m"),
    }.items()
}
# The same figure by its own name: what a token without a limit of its own may do.
API_RATE_LIMIT = RATE_LIMITS["api-token"]
# How long the output URLs Takes' API hands out stay valid (Runway's own last 24-48 h).
API_OUTPUT_URL_HOURS = env_int("API_OUTPUT_URL_HOURS", 24)
# The largest JSON body /v1/ reads: room for a few data URIs of Runway's largest (16 MB each).
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 64 * 1024 * 1024)
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "core.ratelimit.too_many_requests"

# --- Email --------------------------------------------------------------------
EMAIL_HOST = env("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Takes <takes@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Runway -------------------------------------------------------------------
# Secret stays on the server: read here, used only by generations/runway.py.
RUNWAYML_API_SECRET = env("RUNWAYML_API_SECRET")
RUNWAY_EMULATOR_URL = env("RUNWAY_EMULATOR_URL", "http://127.0.0.1:8765")
RUNWAY_USES_EMULATOR = not RUNWAYML_API_SECRET
RUNWAY_BASE_URL = env(
    "RUNWAYML_BASE_URL", RUNWAY_EMULATOR_URL if RUNWAY_USES_EMULATOR else "https://api.dev.runwayml.com"
)
# Credits granted to each new person: generous on the emulator so a first run
# works end to end, zero against the real API where ops grant credits.
STARTING_CREDITS = env_int("STARTING_CREDITS", 5000 if RUNWAY_USES_EMULATOR else 0)

# --- Webhooks -----------------------------------------------------------------
# Off in production: lets webhook endpoints be http://127.0.0.1 or localhost (tests' receivers,
# a developer's own machine); other private addresses stay refused either way.
WEBHOOKS_ALLOW_LOOPBACK = env_bool("WEBHOOKS_ALLOW_LOOPBACK")

# --- Security -----------------------------------------------------------------
HTTPS = env_bool("HTTPS")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY") else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "axes": {"level": "WARNING"}, "django.db.backends": {"level": "WARNING"}},
}
